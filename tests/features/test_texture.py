"""Texture primitives: GLCM against scikit-image and hand counts, fixed-bin quantisation, Hurst recovery."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.feature import graycomatrix, graycoprops

from wristbme.features import schema as S
from wristbme.features.texture import (
    fractal_features,
    glcm,
    glcm_props,
    lbp_features,
    quantize,
    wavelet_features,
)


def test_glcm_hand_counted():
    q = np.array([[1, 1, 2],
                  [2, 2, 1]])
    counts = glcm(q, 2, (0, 1))  # horizontal pairs: (1,1) (1,2) (2,2) (2,1), symmetric
    assert counts.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    props = glcm_props(counts)
    assert props["contrast"] == pytest.approx(0.5)
    assert props["asm"] == pytest.approx(0.25)
    assert props["joint_entropy"] == pytest.approx(2.0)


def test_glcm_zero_is_outside_the_mask():
    q = np.array([[0, 1, 1, 0]])
    assert glcm(q, 1, (0, 1)).sum() == 2  # one in-mask pair, counted both ways


@pytest.mark.parametrize("offset,angle", [((0, 1), 0.0), ((1, 0), np.pi / 2), ((0, 3), 0.0)])
def test_glcm_props_match_skimage_graycoprops(offset, angle):
    rng = np.random.default_rng(3)
    img = rng.integers(0, 6, size=(24, 20))
    d = max(abs(offset[0]), abs(offset[1]))
    ref = graycomatrix(img.astype(np.uint8), [d], [angle], levels=6, symmetric=True, normed=True)
    mine = glcm_props(glcm(img + 1, 6, offset))
    for ours, theirs in (("contrast", "contrast"), ("idm", "homogeneity"), ("correlation", "correlation"),
                         ("asm", "ASM")):
        assert mine[ours] == pytest.approx(float(graycoprops(ref, theirs)[0, 0]), rel=1e-10), ours


def test_quantize_fixed_bin_width_and_clipping():
    img = np.array([[-1.0, -0.5, -0.41, 0.0, 2.49, 9.0]])
    q, n = quantize(img, np.ones_like(img, dtype=bool))
    assert n == 30
    assert q.tolist() == [[1, 1, 1, 6, 30, 30]]


def _fbm(n: int, hurst: float, seed: int) -> np.ndarray:
    """Spectral synthesis of a fractional Brownian surface: power ~ f^-(2H+2)."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(n)
    fx, fy = np.meshgrid(f, f)
    r = np.hypot(fx, fy)
    r[0, 0] = 1.0
    amp = r ** (-(hurst + 1.0))
    amp[0, 0] = 0.0
    phase = np.exp(2j * np.pi * rng.random((n, n)))
    field = np.real(np.fft.ifft2(amp * phase))
    return field / field.std()


@pytest.mark.parametrize("hurst", [0.3, 0.7])
def test_hurst_recovers_fbm_exponent(hurst):
    img = _fbm(256, hurst, seed=1)
    feats = fractal_features(img, np.ones_like(img, dtype=bool), 0.2)
    assert feats["texture_hurst"] == pytest.approx(hurst, abs=0.1)
    assert feats["texture_hurst_anisotropy"] < 0.15  # isotropic field


def test_hurst_anisotropy_sees_stretched_texture():
    img = _fbm(256, 0.5, seed=2)
    from scipy.ndimage import gaussian_filter1d

    mask = np.ones_like(img, dtype=bool)
    iso = fractal_features(img, mask, 0.2)["texture_variogram_anisotropy"]
    aniso = fractal_features(gaussian_filter1d(img, 3.0, axis=0), mask, 0.2)["texture_variogram_anisotropy"]
    assert aniso > 0.25 and aniso > 3 * iso


def test_lbp_and_wavelet_on_constant_region_are_degenerate_not_errors():
    img = np.full((60, 60), 0.8)
    mask = np.zeros_like(img, dtype=bool)
    mask[10:50, 10:50] = True
    lbp = lbp_features(img, mask, 0.2)
    assert lbp["texture_lbp_flat_fraction"] == pytest.approx(1.0)
    wav = wavelet_features(img, mask, 0.2)
    assert wav["texture_wavelet_energy_l1"] == pytest.approx(0.0, abs=1e-20)


def test_wavelet_energy_rises_with_fine_texture():
    rng = np.random.default_rng(0)
    mask = np.ones((64, 64), dtype=bool)
    smooth = wavelet_features(np.zeros((64, 64)) + 0.01 * rng.normal(size=(64, 64)), mask, 0.2)
    rough = wavelet_features(0.1 * rng.normal(size=(64, 64)), mask, 0.2)
    assert rough["texture_wavelet_energy_l1"] > 50 * smooth["texture_wavelet_energy_l1"]


def test_schema_hash_depends_on_spacing_and_is_stable():
    assert S.feature_schema(0.2).hash == S.feature_schema(0.2).hash
    assert S.feature_schema(0.2).hash != S.feature_schema(0.3).hash
    assert len(set(S.FEATURE_NAMES)) == len(S.FEATURE_NAMES)


def test_fine_lbp_sees_smoothing_and_keeps_only_pixels_whose_circle_is_inside():
    from scipy.ndimage import gaussian_filter

    from wristbme.features.texture import lbp_code_map

    rng = np.random.default_rng(5)
    rough = 1.0 + 0.2 * gaussian_filter(rng.normal(size=(80, 80)), 0.7)
    smooth = gaussian_filter(rough, 2.0)
    mask = np.ones_like(rough, dtype=bool)
    r = lbp_features(rough, mask, 0.2, S.LBP_FINE_RADIUS_MM, suffix="_0p4mm")
    s = lbp_features(smooth, mask, 0.2, S.LBP_FINE_RADIUS_MM, suffix="_0p4mm")
    assert set(r) >= {"texture_lbp_entropy_0p4mm", "texture_lbp_nonuniform_fraction_0p4mm"}
    assert s["texture_lbp_nonuniform_fraction_0p4mm"] < r["texture_lbp_nonuniform_fraction_0p4mm"] - 0.05
    codes = lbp_code_map(rough, mask, 0.2, S.LBP_FINE_RADIUS_MM)
    # 0.4 mm at 0.2 mm spacing is a 2-pixel circle: the valid pixels are the mask eroded twice
    assert codes[1].sum() == 76 * 76
