"""Frames: the canonical transform and its inverse, resampling, similarity fit."""

from __future__ import annotations

import numpy as np
import pytest

from wristbme.anatomy import _geometry as geo
from wristbme.anatomy._enhance import enhance
from wristbme.anatomy.atlas import similarity_fit


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("angle", [-40.0, 0.0, 25.0])
def test_canonical_matrix_round_trip(mirror, angle):
    m = geo.canonical_matrix((300, 200), (0.2, 0.15), mirror=mirror, angle_deg=angle)
    pts = np.array([[0.0, 0.0], [12.3, 45.6], [29.85, 59.8]])
    back = geo.apply(np.linalg.inv(m), geo.apply(m, pts))
    np.testing.assert_allclose(back, pts, atol=1e-9)
    if mirror:
        assert np.linalg.det(m[:2, :2]) < 0


def test_resample_identity_reproduces_the_image():
    rng = np.random.default_rng(1)
    img = rng.random((40, 30)).astype(np.float32)
    out = geo.resample(img, (0.5, 0.5), np.eye(3), (0.0, 0.0), (40, 30), 0.5)
    np.testing.assert_allclose(out, img, atol=1e-5)


def test_similarity_fit_recovers_a_known_transform_and_ignores_nan():
    src = np.array([[0, 0], [10, 0], [0, 5], [3, 7], [np.nan, 1.0]])
    t = geo.translation(4, -2) @ geo.rotation(30) @ geo.scaling(1.3)
    dst = geo.apply(t, src)
    np.testing.assert_allclose(similarity_fit(src, dst), t, atol=1e-9)


def test_enhance_is_invariant_to_monotone_exposure_changes():
    rng = np.random.default_rng(2)
    base = rng.random((80, 80)).astype(np.float32) + np.linspace(0, 1, 80)[None].astype(np.float32)
    a = enhance(base, 0.5)
    b = enhance(base ** 2.2 * 1000.0, 0.5)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98
