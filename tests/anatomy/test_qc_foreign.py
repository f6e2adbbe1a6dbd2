"""QC flags ``cast_or_metal`` and ``skeletally_immature``: foreign material drawn on phantoms is flagged, clean
phantoms and the real adult wrists are not, pediatric hands are not scored.

Detection and false-positive rates over many phantoms are measured by
``benchmarks/anatomy_eval.py --foreign N`` (docs/anatomy.md); these tests pin a handful of cases.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from wristbme.anatomy import _qc, locate
from wristbme.bones import Bone
from wristbme.synth import foreign

from .conftest import located, phantom


@cache
def _located_with(kind: str, laterality: str, rotation_deg: float, field: str, seed: int):
    ph = phantom(laterality, rotation_deg, 0.2, seed, field, "S01" if seed % 2 else "S05")
    f = foreign.add_foreign(ph, kind, seed=seed)
    return locate(foreign.with_pixels(ph, f.pixels))


def _assert_flagged(an) -> None:
    assert "cast_or_metal" in an.qc_flags
    assert all("cast_or_metal" in r.qc_flags for r in an.regions.values())  # image-wide: nothing is scored


@pytest.mark.parametrize(("laterality", "rotation_deg", "seed"), [("R", 0.0, 11), ("L", -20.0, 12)])
def test_ring_on_a_finger_is_flagged(laterality, rotation_deg, seed):
    _assert_flagged(_located_with("ring", laterality, rotation_deg, "wrist", seed))


@pytest.mark.parametrize(("laterality", "rotation_deg", "seed"), [("L", 10.0, 13), ("R", -25.0, 14)])
def test_plate_on_the_distal_radius_is_flagged(laterality, rotation_deg, seed):
    _assert_flagged(_located_with("plate", laterality, rotation_deg, "wrist", seed))


@pytest.mark.parametrize(("kind", "laterality", "rotation_deg", "seed"),
                         [("plaster_cast", "R", 15.0, 15), ("fibreglass_cast", "L", 0.0, 16)])
def test_cast_is_flagged(kind, laterality, rotation_deg, seed):
    # full field: the cast's walls are in view (a wrist-only field often cuts them off; see the benchmark)
    _assert_flagged(_located_with(kind, laterality, rotation_deg, "full", seed))


@pytest.mark.parametrize(("laterality", "rotation_deg", "seed"), [("R", 0.0, 7), ("L", 20.0, 21), ("R", -30.0, 22)])
def test_clean_phantoms_are_not_flagged(laterality, rotation_deg, seed):
    _, an = located(laterality, rotation_deg, 0.2, seed)
    assert "cast_or_metal" not in an.qc_flags
    assert "skeletally_immature" not in an.qc_flags


# --------------------------------------------------------------------------- the cue functions on toy images
def _toy(value_inside: float, value_around: float, blob=(slice(40, 52), slice(40, 70))) -> np.ndarray:
    img = np.full((200, 200), 5.0)  # air, 0.5 mm pixels
    img[20:100, 20:100] = value_around  # a limb
    img[blob] = value_inside
    return img


def test_metal_area_counts_a_thick_white_blob_in_the_limb():
    img = _toy(100.0, 40.0)  # 6 x 15 mm at 0.5 mm, far above its surroundings
    white, margin = _qc._white_and_margin(img)
    zone = np.ones(img.shape, dtype=bool)
    area = _qc._metal_area(img, white, margin, 0.5, (60, 60), zone)
    assert area == pytest.approx(12 * 30 * 0.25, rel=0.1)


def test_metal_area_ignores_white_that_is_barely_above_its_surroundings():
    img = _toy(100.0, 40.0)
    img[36:56, 36:74] = 95.0  # saturated bone reaches the white point gradually
    img[40:52, 40:70] = 100.0
    white, margin = _qc._white_and_margin(img)
    assert _qc._metal_area(img, white, margin, 0.5, (60, 60), np.ones(img.shape, dtype=bool)) == 0.0


def test_metal_area_ignores_a_marker_on_air_thin_strokes_and_the_zone_outside():
    zone = np.ones((200, 200), dtype=bool)
    on_air = _toy(100.0, 40.0, blob=(slice(150, 165), slice(150, 165)))  # 25 mm from the limb
    on_air[40:52, 40:70] = 40.0
    w, m = _qc._white_and_margin(on_air)
    assert _qc._metal_area(on_air, w, m, 0.5, (60, 60), zone) == 0.0
    thin = _toy(100.0, 40.0, blob=(slice(40, 42), slice(30, 90)))  # 1 mm wide: thinner than METAL_MIN_WIDTH_MM
    w, m = _qc._white_and_margin(thin)
    assert _qc._metal_area(thin, w, m, 0.5, (60, 60), zone) == 0.0
    img = _toy(100.0, 40.0)
    w, m = _qc._white_and_margin(img)
    assert _qc._metal_area(img, w, m, 0.5, (60, 60), np.zeros_like(zone)) == 0.0


def test_metal_area_ignores_a_margin_band_left_beside_burned_in_text():
    # a white band flush with the margin (NaN: outside the image or unexposed) beside a dark text box, as the
    # collimated margin next to a burned-in label that cut its white runs (demo cohort, sites S02/S04/S06)
    zone = np.ones((200, 200), dtype=bool)
    img = _toy(40.0, 40.0, blob=(slice(30, 31), slice(30, 31)))
    img[:20, :] = np.nan
    img[20:28, 20:70] = 100.0  # 4 x 25 mm band, flush with the margin
    img[20:28, 70:100] = 5.0  # the text box
    w, m = _qc._white_and_margin(img)
    assert _qc._metal_area(img, w, m, 0.5, (60, 60), zone) == 0.0
    # metal that runs out of the field (a plate on the shaft): touches the margin over its width only
    img[20:28, 20:70] = 40.0
    img[20:90, 40:60] = 100.0
    w, m = _qc._white_and_margin(img)
    assert _qc._metal_area(img, w, m, 0.5, (60, 60), zone) == pytest.approx(70 * 20 * 0.25, rel=0.1)


def test_unexposed_margins_are_white_runs_from_the_border():
    img = np.full((100, 80), 10.0)
    img[:, 30:40] = 50.0
    img[:6] = 100.0  # collimated top margin
    img[:, 74:] = 100.0  # and right margin
    img[40:60, 34:38] = 100.0  # metal inside the field stays
    out = _qc._unexposed(img)
    assert out[:6].all() and out[:, 74:].all()
    assert not out[40:60, 34:38].any()
    assert not out[10:90, :70].any()


def test_a_label_burned_in_on_the_margin_does_not_end_it():
    img = np.full((200, 160), 10.0)  # 0.25 mm pixels
    img[:, 60:80] = 50.0  # a 'bone'
    img[:24] = 100.0  # top margin, 6 mm
    img[4:20, 30:150] = 0.0  # a dark text box over 3/4 of the side (4 mm tall) ...
    img[8:16, 40:140:6] = 100.0  # ... with white letters
    img[120:140, 64:76] = 100.0  # metal in the field
    out = _qc._unexposed(img, spacing_mm=0.25)
    assert out[:24, :28].all() and out[20:24].all()  # beside and below the label
    assert not out[30:].any()
    old = _qc._unexposed(img)  # runs ending at the label's top edge: the margin beside it was missed
    assert not old[10:24, :28].any()


def test_ridge_height_needs_a_rise_and_a_fall():
    falling = np.array([9, 8, 6, 4, 2, 1, 1, 1, 1.0])
    assert _qc._ridge_height(falling, 6) == 0.0
    rim = np.array([9, 8, 6, 4, 2, 1, 3, 5, 2, 1, 1.0])
    assert _qc._ridge_height(rim, 6) == pytest.approx(4.0)
    step_to_border = np.array([9, 6, 2, 1, 4, 4, 4.0])  # a darker band, then flat to the border: no rim
    assert _qc._ridge_height(step_to_border, 6) == 0.0


def test_apply_qc_thresholds_set_cast_or_metal(right_phantom):
    from wristbme.imaging.radiograph import View

    ph, an = right_phantom
    pose = type("P", (), {"angle_deg": 0.0, "score": 0.9})()
    base = {"scale": 1.0, "carpal_contrast": 0.6}
    kw = {"pose": pose, "flags": set(), "corrected": set(), "corrections": None}
    assert ph.radiograph.view is View.PA
    clean = _qc.apply_qc(an, ph.radiograph, cues=dict(base), **kw)
    assert "cast_or_metal" not in clean.qc_flags
    metal = _qc.apply_qc(an, ph.radiograph, cues={**base, "metal_mm2": _qc.MIN_METAL_MM2}, **kw)
    cast = _qc.apply_qc(an, ph.radiograph, cues={**base, "cast_rim": _qc.MIN_CAST_RIM}, **kw)
    assert "cast_or_metal" in metal.qc_flags and "cast_or_metal" in cast.qc_flags
    # a rim beside a forearm that was not found means nothing
    lost = _qc.apply_qc(an, ph.radiograph, cues={**base, "cast_rim": 1.0, "carpal_contrast": 0.1}, **kw)
    assert "cast_or_metal" not in lost.qc_flags and "not_identifiable" in lost.qc_flags


# ------------------------------------------------------------------------------------------- real images
def _real(shared_dir, sub: str, name: str, spacing_mm: float, laterality: str = "U"):
    from dataclasses import replace

    from wristbme.imaging import read_radiograph
    from wristbme.imaging.radiograph import Laterality

    rg = read_radiograph(shared_dir / "data" / "radiographs" / sub / name, spacing_mm=spacing_mm)
    return replace(rg, laterality=Laterality.parse(laterality))


@pytest.mark.slow
def test_real_adult_wrists_are_neither_cast_or_metal_nor_immature(shared_dir):
    import csv

    root = shared_dir / "data" / "radiographs" / "ramw600"
    with open(root / "labels.csv", encoding="utf-8") as fh:
        lat = {r["filename"]: r["laterality"] for r in csv.DictReader(fh)}
    names = sorted(p.name for p in root.glob("*.bmp"))
    assert len(names) == 18
    bad = {}
    for name in names:
        an = locate(_real(shared_dir, "ramw600", name, 0.16, lat.get(name, "U")))
        wrong = {"cast_or_metal", "skeletally_immature"} & set(an.qc_flags)
        if wrong:
            bad[name] = sorted(wrong)
    assert bad == {}


@pytest.mark.slow
@pytest.mark.parametrize(("sub", "name", "spacing_mm", "laterality"), [
    ("shsnet", "test_img1_L.png", 0.2, "L"),
    pytest.param("shsnet", "test_img2_L.png", 0.2, "L", marks=pytest.mark.xfail(
        strict=True, reason="adolescent with an adult-sized wrist (fitted size 0.91): only the size cue exists; "
                            "no growth-plate cue separated the real adolescent and adult radii (docs/anatomy.md)")),
    ("shsnet", "test_img3_L.png", 0.2, "L"),
    ("dha", "3147.jpg", 0.12, "U"),
])
def test_pediatric_hands_are_not_scored(shared_dir, sub, name, spacing_mm, laterality):
    an = locate(_real(shared_dir, sub, name, spacing_mm, laterality))
    assert {"skeletally_immature", "not_identifiable"} & set(an.qc_flags)
    assert "cast_or_metal" not in an.qc_flags


@pytest.mark.slow
def test_adolescent_thumb_base_placed_on_the_shaft_is_flagged(shared_dir):
    """SHS_NET test_img2 is not recognised as immature (above), but its one clearly wrong region — MC1 on the
    thumb shaft, found in the visual review of the overlays — must not be scored silently."""
    an = locate(_real(shared_dir, "shsnet", "test_img2_L.png", 0.2, "L"))
    assert "low_confidence" in an.regions[Bone.MC1].qc_flags
