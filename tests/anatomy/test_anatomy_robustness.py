"""Property tests: the same wrist rotated, mirrored, rescaled or re-exposed gives the same landmarks.

Target (issue 4): landmarks move by ≤ 1 mm median, compared in the original frame.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from wristbme.anatomy import _geometry as geo
from wristbme.anatomy import locate
from wristbme.imaging.radiograph import Laterality, Radiograph, SpacingSource

from .conftest import located, phantom

MEDIAN_TOLERANCE_MM = 1.0


def _moved(a, b, to_a=None) -> float:
    """Median distance (mm) between the landmarks of anatomies ``a`` and ``b`` (b mapped by ``to_a``)."""
    d = []
    for n, p in a.landmarks.items():
        if n in b.landmarks:
            q = np.asarray(b.landmarks[n], dtype=float)
            if to_a is not None:
                q = geo.apply(to_a, q[None])[0]
            d.append(np.hypot(*(np.asarray(p) - q)))
    return float(np.median(d))


def _rotated(rg: Radiograph, angle_deg: float) -> tuple[Radiograph, np.ndarray]:
    """``rg`` rotated about its centre into a canvas large enough to hold it; returns new→old mm matrix."""
    sp = rg.spacing_mm
    rows, cols = rg.shape
    c_old = np.array([(cols - 1) * sp[1] / 2, (rows - 1) * sp[0] / 2])
    a = np.deg2rad(abs(angle_deg))
    new_cols = int(np.ceil(cols * np.cos(a) + rows * np.sin(a) * sp[0] / sp[1]))
    new_rows = int(np.ceil(rows * np.cos(a) + cols * np.sin(a) * sp[1] / sp[0]))
    c_new = np.array([(new_cols - 1) * sp[1] / 2, (new_rows - 1) * sp[0] / 2])
    m = geo.translation(*c_new) @ geo.rotation(angle_deg) @ geo.translation(*-c_old)
    bg = float(np.percentile(rg.pixels, 1))
    px = geo.resample(rg.pixels, sp, m, (0.0, 0.0), (new_rows, new_cols), sp[0], cval=bg)
    return rg.with_pixels(px.astype(np.float32)), np.linalg.inv(m)


@pytest.mark.parametrize("angle", [-10.0, 10.0])
def test_rotation_by_10_degrees(angle):
    ph, base = located("R", 0.0)
    rg, back = _rotated(ph.radiograph, angle)
    assert _moved(base, locate(rg), back) <= MEDIAN_TOLERANCE_MM


def test_mirroring_with_the_laterality_swapped():
    ph, base = located("R", 0.0)
    rg = ph.radiograph
    width_mm = (rg.shape[1] - 1) * rg.spacing_mm[1]
    mirrored = replace(rg, pixels=np.ascontiguousarray(rg.pixels[:, ::-1]), laterality=Laterality.LEFT)
    back = geo.translation(width_mm, 0.0) @ geo.mirror_x()
    assert _moved(base, locate(mirrored), back) <= MEDIAN_TOLERANCE_MM


def test_rescaling_from_0_1_to_0_2_mm():
    ph = phantom("R", 0.0, 0.1)
    fine = locate(ph.radiograph)
    px = ph.radiograph.pixels
    r, c = px.shape[0] // 2 * 2, px.shape[1] // 2 * 2
    coarse_px = px[:r, :c].reshape(r // 2, 2, c // 2, 2).mean(axis=(1, 3))
    coarse = Radiograph(coarse_px, (0.2, 0.2), SpacingSource.USER, laterality=ph.radiograph.laterality)
    back = geo.translation(0.05, 0.05)  # a 2x2 block's centre sits half a fine pixel in
    assert _moved(fine, locate(coarse), back) <= MEDIAN_TOLERANCE_MM


@pytest.mark.parametrize("gamma,noise", [(0.6, 0.0), (1.6, 0.03)])
def test_re_exposure_gamma_and_noise(gamma, noise):
    ph, base = located("R", 0.0)
    px = ph.radiograph.pixels
    lo, hi = float(px.min()), float(px.max())
    unit = (px - lo) / (hi - lo)
    rng = np.random.default_rng(5)
    out = unit ** gamma + rng.normal(0.0, noise, px.shape) if noise else unit ** gamma
    rg = ph.radiograph.with_pixels((out * 4000).astype(np.float32))
    assert _moved(base, locate(rg)) <= MEDIAN_TOLERANCE_MM


def test_real_wrist_is_stable_under_rotation_and_exposure(shared_dir):
    from PIL import Image

    path = shared_dir / "data" / "radiographs" / "ramw600" / "0023_0001_L.bmp"
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    rg = Radiograph(img, (0.16, 0.16), SpacingSource.USER, laterality="L")
    base = locate(rg)
    rot, back = _rotated(rg, 10.0)
    assert _moved(base, locate(rot), back) <= MEDIAN_TOLERANCE_MM
    dark = rg.with_pixels((img / 255.0) ** 1.5 * 255.0)
    assert _moved(base, locate(dark)) <= MEDIAN_TOLERANCE_MM
