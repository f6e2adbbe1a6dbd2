"""The phantom: determinism, the pure null at effect size 0, masks/landmarks consistency, mirroring."""

from __future__ import annotations

import numpy as np
import pytest

from wristbme.anatomy.types import LANDMARKS
from wristbme.bones import CARPALS, RAMRIS_BONES, Bone
from wristbme.errors import ConfigError
from wristbme.synth.phantom import HandSpec, RaChanges, render_phantom

SP = 0.3  # small images keep the tests fast


def _spec(seed: int = 3, **kw) -> HandSpec:
    return HandSpec.sample(np.random.default_rng(seed), spacing_mm=SP, **kw)


@pytest.fixture(scope="module")
def ph():
    return render_phantom(_spec(bme_grades={Bone.RADIUS: 2, Bone.CAPITATE: 3, Bone.MC2: 1}), seed=5, site="S01")


def test_same_seed_same_image_and_truth():
    spec = _spec()
    a, b = render_phantom(spec, seed=1, site="S04"), render_phantom(spec, seed=1, site="S04")
    assert np.array_equal(a.radiograph.pixels, b.radiograph.pixels)
    assert a.landmarks_px == b.landmarks_px
    assert all(np.array_equal(a.bone_masks[k], b.bone_masks[k]) for k in RAMRIS_BONES)
    c = render_phantom(spec, seed=2, site="S04")
    assert not np.array_equal(a.radiograph.pixels, c.radiograph.pixels)


def test_effect_size_zero_images_identical_whatever_the_grades():
    base = _spec(effect_size=0.0)
    graded = base.with_(bme_grades={b: 3 for b in RAMRIS_BONES})
    none = base.with_(bme_grades={})
    a, b = render_phantom(graded, seed=7), render_phantom(none, seed=7)
    assert np.array_equal(a.radiograph.pixels, b.radiograph.pixels)
    assert a.bme_grades[Bone.LUNATE] == 3 and b.bme_grades[Bone.LUNATE] == 0


def test_bme_changes_pixels_only_near_the_affected_bone():
    base = _spec(effect_size=1.0, ra_changes=RaChanges())
    a = render_phantom(base.with_(bme_grades={Bone.CAPITATE: 3}), seed=7, site="S05")
    b = render_phantom(base.with_(bme_grades={}), seed=7, site="S05")
    diff = np.abs(a.radiograph.pixels - b.radiograph.pixels)
    # processing and auto-ranging spread a little; the bulk of the change sits inside the capitate
    from scipy import ndimage as ndi

    near = ndi.binary_dilation(a.bone_masks[Bone.CAPITATE], iterations=int(8 / SP))
    assert diff[a.bme_masks[Bone.CAPITATE]].mean() > 5 * max(diff[~near].mean(), 1e-3)


def test_bme_fraction_matches_the_ramris_grade(ph):
    for bone, grade in ph.bme_grades.items():
        f = ph.bme_fraction[bone]
        if grade == 0:
            assert f == 0.0 and not ph.bme_masks[bone].any()
        else:
            assert (grade - 1) / 3 - 0.02 < f <= grade / 3 + 0.02, (bone, grade, f)
            assert not (ph.bme_masks[bone] & ~ph.region_masks[bone]).any()


def test_regions_inside_bones_and_long_bones_cut_at_10_mm(ph):
    for bone in RAMRIS_BONES:
        region, whole = ph.region_masks[bone], ph.bone_masks[bone]
        assert region.any(), bone
        assert not (region & ~whole).any(), bone
        if bone in CARPALS:
            assert region.sum() == pytest.approx(whole.sum(), rel=0.05)
    # the radius region spans ~10 mm (+ the styloid / curvature) along the forearm axis, not more
    (p, d) = ph.axes_px["radius_axis"]
    u = np.subtract(d, p) / np.hypot(*np.subtract(d, p))
    ys, xs = np.nonzero(ph.region_masks[Bone.RADIUS])
    s = (xs * u[0] + ys * u[1]) * SP
    assert 9.0 < s.max() - s.min() < 24.0


def test_landmarks_inside_their_bone(ph):
    owner = {"radial_styloid_tip": Bone.RADIUS, "ulnar_styloid_tip": Bone.ULNA,
             "radius_articular_mid": Bone.RADIUS, "ulna_articular_mid": Bone.ULNA}
    assert set(ph.landmarks_px) <= set(LANDMARKS)
    assert len(ph.landmarks_px) >= 15
    for name, (x, y) in ph.landmarks_px.items():
        bone = owner.get(name) or Bone(name.replace("_base_centre", "").replace("_centre", ""))
        r, c = int(round(y)), int(round(x))
        window = ph.bone_masks[bone][max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        assert window.any(), name


def test_left_hand_is_the_mirrored_right_hand():
    spec = _spec(seed=11)
    right = render_phantom(spec, seed=1)
    left = render_phantom(spec.with_(laterality="L"), seed=1)
    assert left.radiograph.laterality.value == "L"
    cols = right.radiograph.shape[1]
    for bone in RAMRIS_BONES:
        assert np.array_equal(right.bone_masks[bone], left.bone_masks[bone][:, ::-1]), bone
        assert np.array_equal(right.region_masks[bone], left.region_masks[bone][:, ::-1]), bone
    for name, (x, y) in right.landmarks_px.items():
        xl, yl = left.landmarks_px[name]
        assert xl == pytest.approx(cols - 1 - x, abs=1e-6) and yl == pytest.approx(y, abs=1e-6)


def test_truth_anatomy_polygons_reproduce_the_region_masks(ph):
    anat = ph.truth_anatomy()
    assert anat.method == "synth-truth" and anat.confidence == 1.0
    assert set(anat.regions) == set(RAMRIS_BONES)
    for bone in (Bone.LUNATE, Bone.RADIUS, Bone.MC3):
        m = anat.mask(bone)
        ref = ph.region_masks[bone]
        assert (m & ref).sum() / (m | ref).sum() > 0.85
    x, y = anat.landmarks["capitate_centre"]
    assert (x / SP, y / SP) == pytest.approx(ph.landmarks_px["capitate_centre"])


def test_sampling_draw_count_does_not_depend_on_arguments():
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    HandSpec.sample(r1)
    HandSpec.sample(r2, sex="M", age_years=30, rotation_deg=4, bme_grades={Bone.ULNA: 1}, ra_changes=RaChanges())
    assert r1.random() == r2.random()


@pytest.mark.parametrize("kw, match", [
    ({"bme_grades": {Bone.RADIUS: 4}}, "0..3"),
    ({"field": "elbow"}, "field"),
    ({"spacing_mm": 2.0}, "spacing_mm"),
    ({"laterality": "X"}, "laterality"),
    ({"effect_size": -1.0}, "effect_size"),
])
def test_bad_specs_are_refused_with_the_argument_named(kw, match):
    with pytest.raises(ConfigError, match=match):
        HandSpec(**kw)


def test_full_field_includes_phalanges_and_is_larger():
    spec = _spec(field="full")
    full = render_phantom(spec.with_(spacing_mm=0.5), seed=0)
    assert full.radiograph.shape[0] > 400
    assert full.landmarks_px.keys() >= {"capitate_centre", "mc3_base_centre"}


def test_unknown_site_is_refused():
    with pytest.raises(ConfigError, match="S99"):
        render_phantom(_spec(), seed=0, site="S99")


def test_ra_changes_show_where_they_should():
    base = _spec(seed=21, ra_changes=RaChanges(), bme_grades={})
    plain = render_phantom(base, seed=3, site="S05")
    porotic = render_phantom(base.with_(ra_changes=RaChanges(osteopenia=1.0)), seed=3, site="S05")
    m = plain.bone_masks[Bone.CAPITATE]
    assert porotic.radiograph.pixels[m].mean() < plain.radiograph.pixels[m].mean()
    narrowed = render_phantom(base.with_(ra_changes=RaChanges(jsn_mm=1.5)), seed=3, site="S05")

    def gap(ph):
        (x1, y1), (x2, y2) = ph.landmarks_px["capitate_centre"], ph.landmarks_px["lunate_centre"]
        return np.hypot(x1 - x2, y1 - y2)

    assert gap(narrowed) < gap(plain) - 0.5 / SP
    eroded = render_phantom(base.with_(ra_changes=RaChanges(erosions=(("lunate", 0.3, 1.5),))), seed=3,
                            site="S05")
    diff = np.abs(eroded.radiograph.pixels - plain.radiograph.pixels)
    from scipy import ndimage as ndi

    near = ndi.binary_dilation(plain.bone_masks[Bone.LUNATE], iterations=int(6 / SP))
    assert diff[near].sum() > 4 * diff[~near].sum()
