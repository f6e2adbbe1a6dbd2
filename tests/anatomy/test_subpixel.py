"""Landmarks are not snapped to the matching grid: sub-pixel peaks, and smooth response to small shifts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from wristbme.anatomy.locator import ANCHORS, _subpixel_offset, locate

from .conftest import phantom


@pytest.mark.parametrize("true_offset", [(-0.4, 0.3), (0.0, 0.0), (0.25, -0.45)])
def test_parabola_vertex_is_recovered_exactly(true_offset):
    yy, xx = np.mgrid[0:5, 0:5].astype(float)
    score = 1.0 - 0.2 * (yy - 2 - true_offset[0]) ** 2 - 0.3 * (xx - 2 - true_offset[1]) ** 2
    assert _subpixel_offset(score, 2, 2) == pytest.approx(true_offset, abs=1e-12)


def test_peak_on_the_border_or_on_a_plateau_gets_no_offset():
    flat = np.ones((3, 3))
    assert _subpixel_offset(flat, 1, 1) == (0.0, 0.0)
    assert _subpixel_offset(np.eye(3), 0, 0) == (0.0, 0.0)


def test_a_quarter_millimetre_shift_moves_the_landmarks_by_about_that_much():
    # with integer peaks on the 0.5 mm matching grid most landmarks would not move at all (or 0.5 mm)
    ph = phantom("R", 0.0, 0.2, 11)
    rg = ph.radiograph
    shift_mm = 0.25
    shifted = rg.with_pixels(ndi.shift(rg.pixels, (0.0, shift_mm / rg.spacing_mm[1]), order=3, mode="nearest"))
    a, b = locate(rg), locate(shifted)
    names = list(ANCHORS.values())
    dx = np.array([b.landmarks[n][0] - a.landmarks[n][0] for n in names])
    dy = np.array([b.landmarks[n][1] - a.landmarks[n][1] for n in names])
    assert np.median(dx) == pytest.approx(shift_mm, abs=0.08)
    assert np.median(np.abs(dy)) < 0.08
    assert np.mean(np.abs(dx - shift_mm) < 0.15) >= 0.7
