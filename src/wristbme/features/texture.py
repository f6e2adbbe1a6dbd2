"""Trabecular texture of one region: co-occurrence, fractal (variogram/Hurst), LBP and wavelet energies.

Every function takes a normalised density image (float, ref units, see ``density``), a boolean mask of the
region at the same isotropic spacing, and the spacing in mm; offsets and scales are given in mm and
converted here, once. Only pixel pairs with *both* pixels inside the mask count.
"""

from __future__ import annotations

import numpy as np

from wristbme.features import schema as S

DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1))
"""Unit (row, col) steps for 0, 45, 90 and 135 degrees; a distance d uses (d*dr, d*dc) (Chebyshev, IBSI)."""


def _pairs(a: np.ndarray, dr: int, dc: int) -> tuple[np.ndarray, np.ndarray]:
    """Views of ``a`` at x and x + (dr, dc) over the overlap (same shape)."""
    rows, cols = a.shape
    r0, r1 = max(0, -dr), rows - max(0, dr)
    c0, c1 = max(0, -dc), cols - max(0, dc)
    return a[r0:r1, c0:c1], a[r0 + dr:r1 + dr, c0 + dc:c1 + dc]


def quantize(image: np.ndarray, mask: np.ndarray, *, bin_width: float = S.GLCM_BIN_WIDTH_REF,
             value_range: tuple[float, float] = S.GLCM_RANGE_REF) -> tuple[np.ndarray, int]:
    """Fixed-bin-size discretisation (IBSI): bins 1..n inside the mask, 0 outside.

    ``bin = floor((x - lo) / bin_width) + 1``, values outside ``value_range`` clipped to the end bins.
    Returns the integer image and n.
    """
    lo, hi = value_range
    n_bins = int(round((hi - lo) / bin_width))
    q = np.floor((np.clip(image, lo, hi - 1e-9) - lo) / bin_width).astype(np.int64) + 1
    q = np.clip(q, 1, n_bins)
    q[~mask] = 0
    return q, n_bins


def glcm(q: np.ndarray, n_bins: int, offset: tuple[int, int]) -> np.ndarray:
    """Symmetric co-occurrence counts (n_bins, n_bins) of ``q`` (0 = outside) at one (row, col) offset."""
    a, b = _pairs(q, *offset)
    keep = (a > 0) & (b > 0)
    idx = (a[keep] - 1) * n_bins + (b[keep] - 1)
    counts = np.bincount(idx, minlength=n_bins * n_bins).reshape(n_bins, n_bins).astype(np.float64)
    return counts + counts.T


def glcm_props(counts: np.ndarray) -> dict[str, float]:
    """IBSI GLCM features of one matrix: contrast, joint_entropy, idm, correlation, asm (NaN if empty).

    Definitions follow IBSI (Zwanenburg et al. 2020, doi:10.1148/radiol.2020191145) with grey levels
    1..n; contrast, idm (skimage 'homogeneity'), correlation and asm (skimage 'ASM') equal
    ``skimage.feature.graycoprops`` on the same matrix (tests check this).
    """
    total = counts.sum()
    if total <= 0:
        return dict.fromkeys(("contrast", "joint_entropy", "idm", "correlation", "asm"), float("nan"))
    p = counts / total
    n = p.shape[0]
    i, j = np.meshgrid(np.arange(1, n + 1), np.arange(1, n + 1), indexing="ij")
    diff2 = (i - j) ** 2
    mu_i = float((i * p).sum())
    mu_j = float((j * p).sum())
    sd_i = float(np.sqrt(((i - mu_i) ** 2 * p).sum()))
    sd_j = float(np.sqrt(((j - mu_j) ** 2 * p).sum()))
    nz = p[p > 0]
    corr = float(((i - mu_i) * (j - mu_j) * p).sum() / (sd_i * sd_j)) if sd_i > 0 and sd_j > 0 else 1.0
    return {
        "contrast": float((diff2 * p).sum()),
        "joint_entropy": float(-(nz * np.log2(nz)).sum()),
        "idm": float((p / (1.0 + diff2)).sum()),
        "correlation": corr,
        "asm": float((p ** 2).sum()),
    }


def glcm_features(image: np.ndarray, mask: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """``texture_glcm_*`` at every distance in ``schema.GLCM_DISTANCES_MM``, averaged over 4 directions."""
    q, n_bins = quantize(image, mask)
    out: dict[str, float] = {}
    for d_mm in S.GLCM_DISTANCES_MM:
        d = max(1, int(round(d_mm / spacing_mm)))
        per_dir = [glcm_props(glcm(q, n_bins, (d * dr, d * dc))) for dr, dc in DIRECTIONS]
        tag = f"{d_mm:.1f}mm".replace(".", "p")
        for key in ("contrast", "joint_entropy", "idm", "correlation", "asm"):
            vals = [v[key] for v in per_dir if np.isfinite(v[key])]
            out[f"texture_glcm_{key}_{tag}"] = float(np.mean(vals)) if vals else float("nan")
    return out


def semivariogram(image: np.ndarray, mask: np.ndarray, offset: tuple[int, int]) -> float:
    """Half the mean squared difference over in-mask pairs at a (row, col) pixel offset (NaN if < 10 pairs)."""
    a, b = _pairs(image, *offset)
    ma, mb = _pairs(mask, *offset)
    keep = ma & mb
    if keep.sum() < 10:
        return float("nan")
    d = a[keep].astype(np.float64) - b[keep]
    return float(0.5 * np.mean(d * d))


def fractal_features(image: np.ndarray, mask: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """Variogram-based Hurst exponent over 0.2–2 mm, its anisotropy and fine/coarse roughness.

    Axis directions use lags of k pixels, diagonals k steps of sqrt(2) pixels; each direction's lags are
    chosen nearest to ``schema.VARIOGRAM_LAGS_MM`` (duplicates dropped), and the log-log fit uses the true
    Euclidean lag in mm. H = slope / 2 (fractional Brownian model, gamma(h) ~ h^(2H)).
    """
    lags_mm = np.asarray(S.VARIOGRAM_LAGS_MM)
    per_dir_h, g02, g10 = [], [], []
    pooled_logs: dict[int, list[float]] = {}
    for dr, dc in DIRECTIONS:
        step_mm = spacing_mm * (np.sqrt(2.0) if dr and dc else 1.0)
        ks = sorted({max(1, int(round(h / step_mm))) for h in lags_mm})
        hs, gs = [], []
        for k in ks:
            g = semivariogram(image, mask, (k * dr, k * dc))
            if np.isfinite(g) and g > 0:
                hs.append(k * step_mm)
                gs.append(g)
        if len(hs) >= 3:
            slope = np.polyfit(np.log(hs), np.log(gs), 1)[0]
            per_dir_h.append(slope / 2.0)
        # interpolate the variogram at 0.2 and 1.0 mm in log-log for the roughness features
        if len(hs) >= 2:
            lh, lg = np.log(hs), np.log(gs)
            g02.append(float(np.exp(np.interp(np.log(0.2), lh, lg))))
            g10.append(float(np.exp(np.interp(np.log(1.0), lh, lg))))
            for lag_index, h in enumerate(lags_mm):
                pooled_logs.setdefault(lag_index, []).append(float(np.interp(np.log(h), lh, lg)))
    nan = float("nan")
    if len(pooled_logs) >= 3 and g02:
        xs = np.log(lags_mm[sorted(pooled_logs)])
        ys = np.array([np.mean(pooled_logs[i]) for i in sorted(pooled_logs)])
        hurst = float(np.polyfit(xs, ys, 1)[0] / 2.0)
    else:
        hurst = nan
    return {
        "texture_variogram_0p2mm": float(np.mean(g02)) if g02 else nan,
        "texture_variogram_1p0mm": float(np.mean(g10)) if g10 else nan,
        "texture_hurst": hurst,
        "texture_hurst_anisotropy": float(np.max(per_dir_h) - np.min(per_dir_h)) if len(per_dir_h) >= 2 else nan,
        "texture_variogram_anisotropy": float(np.log(np.max(g10) / np.min(g10))) if len(g10) >= 2 else nan,
    }


def lbp_code_map(image: np.ndarray, mask: np.ndarray, spacing_mm: float,
                 radius_mm: float = S.LBP_RADIUS_MM) -> tuple[np.ndarray, np.ndarray]:
    """Rotation-invariant uniform LBP codes (skimage ``method='uniform'``, P = ``schema.LBP_POINTS``) at
    ``radius_mm``, and the pixels of ``mask`` whose whole sampling circle lies inside it.

    Codes 0..P are the uniform patterns (number of brighter neighbours), P + 1 the non-uniform ones. The
    image is first cut into integer grey levels of ``schema.LBP_QUANTUM_REF`` so that ties are exact and noise
    below that step is ignored.
    """
    from scipy.ndimage import binary_erosion
    from skimage.feature import local_binary_pattern

    radius_px = max(1.0, radius_mm / spacing_mm)
    levels = np.floor(image.astype(np.float64) / S.LBP_QUANTUM_REF).astype(np.int32)
    codes = local_binary_pattern(levels, S.LBP_POINTS, radius_px, method="uniform")
    inner = binary_erosion(mask, iterations=int(np.ceil(radius_px)))
    return codes.astype(np.int64), inner


def lbp_features(image: np.ndarray, mask: np.ndarray, spacing_mm: float, radius_mm: float = S.LBP_RADIUS_MM,
                 suffix: str = "") -> dict[str, float]:
    """LBP histogram summaries inside the mask (``lbp_code_map`` at ``radius_mm``), keys ending in ``suffix``."""
    P = S.LBP_POINTS
    code_map, inner = lbp_code_map(image, mask, spacing_mm, radius_mm)
    vals = code_map[inner]
    keys = [k + suffix for k in ("texture_lbp_entropy", "texture_lbp_flat_fraction", "texture_lbp_edge_fraction",
                                 "texture_lbp_nonuniform_fraction")]
    if vals.size < 10:
        return dict.fromkeys(keys, float("nan"))
    hist = np.bincount(vals, minlength=P + 2).astype(np.float64) / vals.size
    nz = hist[hist > 0]
    return dict(zip(keys, (float(-(nz * np.log2(nz)).sum()), float(hist[0] + hist[P]),
                           float(hist[P // 2 - 1:P // 2 + 2].sum()), float(hist[P + 1])), strict=True))


def wavelet_features(image: np.ndarray, mask: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """Detail energies of a stationary (undecimated) ``schema.WAVELET`` transform inside the mask.

    The window is padded (symmetric) to a multiple of 2^levels; outside-mask pixels are set to the in-mask
    mean first. At level j, only coefficients at least 1.5 * 2^j pixels inside the outline count, so the
    bone edge does not leak into the texture energy. ``norm=True`` keeps the transform energy-preserving.
    """
    import pywt
    from scipy.ndimage import distance_transform_edt

    nan = float("nan")
    levels = S.WAVELET_LEVELS
    names = [f"texture_wavelet_energy_l{j}" for j in range(1, levels + 1)]
    rel_names = [f"texture_wavelet_relenergy_l{j}" for j in range(1, levels + 1)]
    if mask.sum() < 16:
        return dict.fromkeys(names + rel_names, nan)
    filled = np.where(mask, image, float(image[mask].mean())).astype(np.float64)
    f = 2 ** levels
    pr, pc = (-filled.shape[0]) % f, (-filled.shape[1]) % f
    padded = np.pad(filled, ((0, pr), (0, pc)), mode="symmetric")
    coeffs = pywt.swt2(padded, S.WAVELET, level=levels, trim_approx=True, norm=True)
    depth = distance_transform_edt(mask)
    energies = []
    for j in range(1, levels + 1):
        cH, cV, cD = coeffs[-j]
        keep = depth >= 1.5 * 2 ** j
        if keep.sum() < 4:
            energies.append(nan)
            continue
        sl = (slice(0, mask.shape[0]), slice(0, mask.shape[1]))
        e = (cH[sl][keep] ** 2 + cV[sl][keep] ** 2 + cD[sl][keep] ** 2).mean()
        energies.append(float(e))
    out = dict(zip(names, energies, strict=True))
    finite = [e for e in energies if np.isfinite(e)]
    total = sum(finite) if len(finite) == levels else 0.0
    for name, e in zip(rel_names, energies, strict=True):
        out[name] = e / total if total > 0 else nan
    return out
