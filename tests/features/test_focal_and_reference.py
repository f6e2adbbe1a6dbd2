"""Focal (sector) features and the white-point-robust density reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from toy import toy

from wristbme.bones import Bone
from wristbme.features import extract
from wristbme.features.density import normalisation
from wristbme.features.focal import focal_features


def disc(radius_px=30, size=80):
    yy, xx = np.mgrid[0:size, 0:size]
    c = (size - 1) / 2
    mask = (yy - c) ** 2 + (xx - c) ** 2 <= radius_px ** 2
    depth = ndi.distance_transform_edt(mask) * 0.2
    return yy - c, xx - c, mask, depth


def textured(seed=0, size=80):
    rng = np.random.default_rng(seed)
    return 1.0 + 0.3 * ndi.gaussian_filter(rng.normal(size=(size, size)), 1.5)


def test_a_focal_density_loss_is_seen_whatever_its_direction():
    dy, dx, mask, depth = disc()
    base = textured()
    quiet = focal_features(base, mask, depth, 0.2)
    for angle in np.deg2rad([0, 72, 150, 250]):
        img = base.copy()
        pole = (dx * np.cos(angle) + dy * np.sin(angle)) > 12  # one pole of the bone
        img[pole] -= 0.15
        f = focal_features(img, mask, depth, 0.2)
        assert f["focal_density_drop"] > quiet["focal_density_drop"] + 0.03


def test_a_smoothed_pole_loses_texture_and_a_uniform_change_is_not_focal():
    dy, dx, mask, depth = disc()
    base = textured(1)
    pole = dx > 10
    smoothed = base.copy()
    smoothed[pole] = ndi.gaussian_filter(base, 3)[pole]
    assert (focal_features(smoothed, mask, depth, 0.2)["focal_texture_loss"]
            > focal_features(base, mask, depth, 0.2)["focal_texture_loss"] + 0.5)
    # the whole bone darker by the same amount: nothing focal changes
    a = focal_features(base, mask, depth, 0.2)
    b = focal_features(base - 0.2, mask, depth, 0.2)
    for k in a:
        assert b[k] == pytest.approx(a[k], abs=1e-9)


def test_too_small_a_core_gives_nan():
    _, _, mask, depth = disc(radius_px=3, size=12)
    f = focal_features(np.ones((12, 12)), mask, depth, 0.2)
    assert all(np.isnan(v) for v in f.values())


def test_white_reference_pixels_do_not_move_the_scale():
    rg, anat = toy()
    img = rg.pixels.astype(np.float64)
    bones = np.zeros(img.shape, bool)
    for b in anat.regions:
        bones |= anat.mask(b)
    ref = anat.reference_mask()
    clean = normalisation(img, ref, bones, 0.3, white_point=float(img.max()))
    rows = np.nonzero(ref.any(axis=1))[0]

    def margin(share):  # the last ``share`` of the reference band lies on a white (unexposed) margin
        white = img.copy()
        white[rows[int(len(rows) * (1 - share))]:, :] = 5.0
        return white

    moved = normalisation(margin(0.6), ref, bones, 0.3, white_point=5.0)
    assert moved.source == "reference_region"
    assert moved.reference == pytest.approx(clean.reference, rel=0.01)
    naive = normalisation(margin(0.6), ref, bones, 0.3)  # without the white point the margin counts
    assert naive.reference > clean.reference * 1.5
    mostly_white = normalisation(margin(0.85), ref, bones, 0.3, white_point=5.0)
    assert mostly_white.source == "bone_regions" and mostly_white.reference < 1.0


def test_features_include_the_focal_family_and_follow_simulated_edema():
    rg0, anat = toy(seed=3)
    f0 = extract(rg0, anat)
    assert {"focal_density_drop", "focal_texture_loss"} <= set(f0.schema.names)
    assert np.isfinite(f0.get(Bone.LUNATE, "focal_density_drop"))


def test_white_point_is_a_border_plateau_not_the_brightest_bone():
    from scipy import ndimage as ndi

    from wristbme.features.extract import white_point

    rng = np.random.default_rng(0)
    img = 1000 + 50 * rng.normal(size=(400, 300))
    img[150:250, 100:200] = 3000  # a uniform bright bone inside the field: not white
    assert white_point(img) is None
    img[350:, :] = 4095  # a collimated margin along the bottom border
    assert white_point(img) == pytest.approx(4095, abs=1)
    # rotated with cubic splines (overshoot at the hard edge) or with added noise: still found
    rotated = ndi.rotate(img, 5, reshape=False, order=3, mode="nearest")
    assert white_point(rotated) == pytest.approx(4095, abs=40)
    noisy = img + rng.normal(scale=30, size=img.shape)
    assert white_point(noisy) == pytest.approx(4095, abs=120)



def test_blank_pixels_are_uniform_grey_patches_not_noise_or_clipping():
    rng = np.random.default_rng(0)
    px = rng.integers(100, 4000, size=(120, 120)).astype(np.uint16)
    px[:20, :] = 4095  # clipped at the maximum: left to the white-plateau logic
    px[60:80, 30:90] = 2048  # a masked annotation: 20 x 60 pixels of one grey
    px[100:103, 10:13] = 2048  # too small to matter
    from wristbme.features.extract import blank_pixels

    blank = blank_pixels(px, (0.15, 0.15))
    assert blank[61:79, 31:89].all()
    assert not blank[:20].any() and not blank[100:103, 10:13].any()
    assert blank.sum() < 20 * 60


def test_a_masked_annotation_over_the_forearm_does_not_move_the_density_scale():
    """De-identification fills burned-in text with one mid-range grey (``deid``). Where that box lies over the
    reference region (site S04 writes its text bottom left, over the forearm), the old normalisation took the
    grey for bone and every density shifted by 2.8 ref units; blanked pixels now count for nothing."""
    from dataclasses import replace

    from wristbme.deid.burnedin import detect_text, mask_text
    from wristbme.synth.cohort import burn_text
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.sites import profile_for

    site = profile_for("S04")
    spec = HandSpec.sample(np.random.default_rng(2), laterality="R", field="wrist", spacing_mm=0.15)
    ph = render_phantom(spec, seed=2, site=site)
    anatomy = ph.truth_anatomy()
    px = ph.radiograph.pixels.copy()
    burn_text(px, "K T  ID:K-12345  2015/10/04", "bl", site.max_value, 0.15)
    masked = mask_text(px, detect_text(px), (int(px.min()) + int(px.max())) // 2)
    clean = extract(ph.radiograph, anatomy)
    blanked = extract(replace(ph.radiograph, pixels=masked), anatomy)
    assert "blanked_pixels" in blanked.qc_flags and "blanked_pixels" not in clean.qc_flags
    i = list(clean.schema.names).index("density_mean")
    shifts = [abs(clean.values[b][i] - blanked.values[b][i]) for b in clean.values if b in blanked.values]
    assert len(shifts) >= 12 and max(shifts) < 0.02
