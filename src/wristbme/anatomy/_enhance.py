"""Exposure-independent bone-edge image used for matching the atlas.

The steps are: rank (histogram-equalise) the valid pixels, so any monotone change of exposure or gamma gives
the same image; band-pass with a difference of Gaussians (``fine_mm`` − ``coarse_mm``), which keeps cortical
outlines and joint spaces and removes soft-tissue gradients; divide by the local RMS (``norm_mm``), so bright
and faint regions weigh the same. Pixels outside the original image (NaN) become 0.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def equalise(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalise finite pixels to [0, 1]; return (image with NaN filled by 0.5, valid mask)."""
    valid = np.isfinite(img)
    out = np.full(img.shape, 0.5, dtype=np.float32)
    vals = img[valid]
    if vals.size == 0:
        return out, valid
    # rank via a 256-bin cumulative histogram: fast, monotone-invariant up to binning
    lo, hi = np.percentile(vals, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1.0
    bins = np.clip(((vals - lo) / (hi - lo) * 255.0).astype(np.int32), 0, 255)
    cdf = np.cumsum(np.bincount(bins, minlength=256)).astype(np.float32)
    cdf /= cdf[-1]
    out[valid] = cdf[bins]
    return out, valid


def enhance(img: np.ndarray, res_mm: float, *, fine_mm: float = 0.8, coarse_mm: float = 5.0,
            norm_mm: float = 10.0) -> np.ndarray:
    """Band-passed, locally normalised image (float32, same shape; 0 outside the valid area)."""
    eq, valid = equalise(img)
    # fill the invalid area with a smooth continuation so its edge does not make a false bone border
    if not valid.all():
        w = ndimage.gaussian_filter(valid.astype(np.float32), coarse_mm / res_mm)
        f = ndimage.gaussian_filter(np.where(valid, eq, 0).astype(np.float32), coarse_mm / res_mm)
        fill = np.where(w > 1e-3, f / np.maximum(w, 1e-3), 0.5)
        eq = np.where(valid, eq, fill).astype(np.float32)
    s_fine = max(fine_mm / res_mm, 0.5)
    band = ndimage.gaussian_filter(eq, s_fine) - ndimage.gaussian_filter(eq, coarse_mm / res_mm)
    rms = np.sqrt(ndimage.gaussian_filter(band * band, norm_mm / res_mm)) + 1e-3
    out = band / rms
    out[~valid] = 0.0
    return out.astype(np.float32)
