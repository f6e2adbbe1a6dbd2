"""Collimated margins at any blade angle, so an oblique white band is not taken for metal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from wristbme.anatomy import _qc, locate

from .conftest import phantom


def field(angle_deg: float) -> np.ndarray:
    img = np.full((200, 160), 10.0)
    img[:, 60:80] = 50.0  # a 'bone'
    img[170:, :] = 100.0  # bottom blade
    return ndi.rotate(img, angle_deg, reshape=False, order=1, mode="nearest")


@pytest.mark.parametrize("angle", [0.0, 8.0, -15.0])
def test_a_tilted_blade_margin_is_found_and_the_field_is_not(angle):
    img = field(angle)
    out = _qc._unexposed(img)
    white = img >= 97.0
    assert out[white].mean() > 0.9
    assert not out[20:140, 20:140].any()


def test_metal_that_runs_into_the_margin_stays_outside_it():
    img = field(0.0)
    img[120:171, 64:76] = 100.0  # a plate along the shaft, into the bottom margin
    out = _qc._unexposed(img)
    assert not out[120:165, 64:76].any()
    assert out[175:, :].all()


@pytest.mark.parametrize("order", [1, 3])
def test_rotated_copies_of_a_collimated_phantom_are_not_flagged_cast_or_metal(order):
    ph = phantom("R", 0.0, 0.2, 31, "wrist", "S01")
    rg = ph.radiograph
    for angle in (5.0, -5.0):
        rotated = rg.with_pixels(ndi.rotate(rg.pixels, angle, reshape=False, order=order, mode="nearest"))
        assert "cast_or_metal" not in locate(rotated).qc_flags


def test_quantum_noise_on_the_margin_does_not_break_it():
    img = field(6.0)
    noisy = img + np.random.default_rng(0).normal(scale=1.0, size=img.shape)  # 1 % of the range
    out = _qc._unexposed(noisy)
    assert out[img >= 97.0].mean() > 0.9
    assert not out[20:140, 20:140].any()
