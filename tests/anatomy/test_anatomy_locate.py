"""``locate`` on small phantoms: landmarks, regions, sides, rotation, QC."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from wristbme.anatomy import LANDMARKS, QC_FLAGS, locate
from wristbme.anatomy.evaluate import landmark_errors, region_dice
from wristbme.bones import CARPALS, Bone
from wristbme.errors import AnatomyError
from wristbme.imaging.radiograph import Laterality, Radiograph

from .conftest import located, phantom


def _truth_mm(ph):
    sp = ph.radiograph.spacing_mm
    return {k: (x * sp[1], y * sp[0]) for k, (x, y) in ph.landmarks_px.items()}


@pytest.mark.parametrize("laterality,rotation", [("R", 0.0), ("L", 0.0), ("R", 30.0), ("L", -40.0)])
def test_landmarks_and_regions_on_phantoms(laterality, rotation):
    ph, an = located(laterality, rotation)
    err = landmark_errors(an, _truth_mm(ph))
    assert len(err) >= 15
    assert np.median(list(err.values())) < 1.5
    assert max(err.values()) < 6.0
    dice = region_dice(an, ph.region_masks)
    carpal = [dice[b] for b in CARPALS if b in dice]
    assert np.mean(carpal) > 0.75
    assert dice[Bone.RADIUS] > 0.7 and dice[Bone.MC3] > 0.7
    assert "strongly_rotated" not in an.qc_flags


def test_every_scored_bone_has_a_region_in_mm_of_the_original_frame(right_phantom):
    ph, an = right_phantom
    assert set(an.regions) == set(Bone)
    assert set(an.landmarks) == set(LANDMARKS)
    assert an.image_shape == ph.radiograph.shape
    rows, cols = an.image_shape
    for reg in an.regions.values():
        px = an.to_pixels(reg.polygon_mm)
        assert px[:, 0].max() > 0 and px[:, 0].min() < cols and px[:, 1].min() < rows
        assert 10.0 < reg.area_mm2 < 600.0
        assert 0.0 <= reg.confidence <= 1.0
    assert an.reference_mask() is not None and an.reference_mask().sum() > 100
    assert set(an.qc_flags) <= set(QC_FLAGS)
    # the MC3 axis points distally (fingers up in a right hand at rotation 0 means decreasing y)
    (x0, y0), (x1, y1) = an.axes["mc3_axis"]
    assert y1 < y0


def test_unknown_laterality_is_found_from_the_image():
    ph = phantom("L", 0.0)
    hidden = replace(ph.radiograph, laterality=Laterality.UNKNOWN)
    an = locate(hidden)
    err = landmark_errors(an, _truth_mm(ph))
    assert np.median(list(err.values())) < 1.5


def test_uncalibrated_image_is_flagged_and_still_located():
    ph = phantom("R", 0.0)
    rg = ph.radiograph
    bare = Radiograph(rg.pixels, None, laterality=rg.laterality)
    an = locate(bare)
    assert "uncalibrated" in an.qc_flags
    # sizes are in nominal mm; the layout (relative to the lunate) must still be right
    k = 0.15 / rg.spacing_mm[0]
    truth = {n: np.asarray(p) * k for n, p in _truth_mm(ph).items()}
    err = landmark_errors(an, truth)
    assert np.median(list(err.values())) < 2.0 * k


def test_cropped_radius_is_flagged_not_silently_scored():
    ph = phantom("R", 0.0)
    rg = ph.radiograph
    y_art = ph.landmarks_px["radius_articular_mid"][1]
    cut = int(y_art + 3.0 / rg.spacing_mm[0])  # keep only 3 mm of the radius below its joint
    an = locate(rg.with_pixels(rg.pixels[:cut].copy()))
    assert "cropped" in an.regions[Bone.RADIUS].qc_flags
    assert "cropped" in an.qc_flags


def test_noise_image_is_not_identifiable_and_every_region_is_flagged():
    rng = np.random.default_rng(0)
    noise = Radiograph(rng.normal(100, 10, (400, 400)).astype(np.float32), (0.2, 0.2))
    an = locate(noise)
    assert "not_identifiable" in an.qc_flags
    assert all(r.qc_flags for r in an.regions.values())


def test_tiny_image_is_refused_with_the_size_in_the_message():
    with pytest.raises(AnatomyError, match="too small"):
        locate(Radiograph(np.zeros((50, 50), np.float32), (0.2, 0.2)))
