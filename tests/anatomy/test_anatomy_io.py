"""JSON round trip, the pixel/mm record, and operator corrections."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wristbme.anatomy import anatomy_from_json, anatomy_record, anatomy_to_json, locate
from wristbme.bones import Bone
from wristbme.errors import AnatomyError


def test_json_round_trip_is_lossless_to_the_rounding(right_phantom):
    _, an = right_phantom
    text = json.dumps(anatomy_to_json(an))
    back = anatomy_from_json(json.loads(text))
    assert back.qc_flags == an.qc_flags and back.method == an.method
    assert set(back.regions) == set(an.regions)
    for b, r in an.regions.items():
        np.testing.assert_allclose(back.regions[b].polygon_mm, r.polygon_mm, atol=1e-3)
        assert back.regions[b].qc_flags == r.qc_flags
    for n, p in an.landmarks.items():
        np.testing.assert_allclose(back.landmarks[n], p, atol=1e-3)
    assert np.array_equal(back.mask(Bone.LUNATE), an.mask(Bone.LUNATE))


@pytest.mark.parametrize("mutate,match", [
    (lambda o: o.update(version=99), "version"),
    (lambda o: o["landmarks"].update(elbow=[1, 2]), "unknown names"),
    (lambda o: o["regions"]["lunate"].update(polygon_mm=[[0, 0], [1, 1]]), "malformed"),
])
def test_bad_json_is_refused_with_a_reason(right_phantom, mutate, match):
    obj = anatomy_to_json(right_phantom[1])
    mutate(obj)
    with pytest.raises(AnatomyError, match=match):
        anatomy_from_json(obj)


def test_record_gives_pixels_and_mm_that_agree(right_phantom):
    ph, an = right_phantom
    rec = anatomy_record(an)
    json.dumps(rec)
    sp = an.spacing_mm
    lm = rec["landmarks"]["lunate_centre"]
    assert lm["x_mm"] == pytest.approx(lm["x"] * sp[1], abs=0.01)
    assert lm["y_mm"] == pytest.approx(lm["y"] * sp[0], abs=0.01)
    reg = rec["regions"]["capitate"]
    assert np.allclose(np.asarray(reg["polygon_px"]) * [sp[1], sp[0]], reg["polygon_mm"], atol=0.02)
    assert reg["area_mm2"] == pytest.approx(an.regions[Bone.CAPITATE].area_mm2, rel=1e-3)
    assert set(rec) >= {"landmarks", "regions", "qc_flags", "confidence", "reference_region"}


def test_moving_a_landmark_fixes_it_and_moves_its_region(right_phantom):
    ph, an = right_phantom
    old = np.asarray(an.landmarks["lunate_centre"])
    new = old + [2.5, -1.5]
    corrected = locate(ph.radiograph, corrections={"landmarks": {"lunate_centre": new.tolist()}})
    np.testing.assert_allclose(corrected.landmarks["lunate_centre"], new)
    shift = corrected.regions[Bone.LUNATE].polygon_mm.mean(0) - an.regions[Bone.LUNATE].polygon_mm.mean(0)
    assert np.hypot(*(shift - [2.5, -1.5])) < 1.2
    far = corrected.regions[Bone.MC5].polygon_mm.mean(0) - an.regions[Bone.MC5].polygon_mm.mean(0)
    assert np.hypot(*far) < 1.0
    assert corrected.corrections == {"landmarks": {"lunate_centre": new.tolist()}}
    assert corrected.method.endswith("+corrected")


def test_replaced_polygon_is_kept_exactly_and_unflagged(right_phantom):
    ph, an = right_phantom
    poly = (an.regions[Bone.HAMATE].polygon_mm[::3] + [0.5, 0.0]).tolist()
    corrected = locate(ph.radiograph, corrections={"regions": {"hamate": poly}})
    reg = corrected.regions[Bone.HAMATE]
    np.testing.assert_allclose(reg.polygon_mm, poly)
    assert reg.confidence == 1.0 and reg.qc_flags == ()
    np.testing.assert_allclose(corrected.landmarks["hamate_centre"], np.mean(poly, axis=0))
    again = anatomy_from_json(anatomy_to_json(corrected))
    assert again.corrections["regions"]["hamate"] == poly


@pytest.mark.parametrize("bad,match", [
    ({"landmarks": {"nose_tip": [1, 2]}}, "unknown landmark"),
    ({"landmarks": {"lunate_centre": [1]}}, "must be"),
    ({"regions": {"femur": [[0, 0], [1, 0], [0, 1]]}}, "unknown bone"),
    ({"regions": {"lunate": [[0, 0]]}}, "at least 3"),
    ({"moves": {}}, "unknown keys"),
])
def test_malformed_corrections_are_refused(right_phantom, bad, match):
    with pytest.raises(AnatomyError, match=match):
        locate(right_phantom[0].radiograph, corrections=bad)
