"""Focal features: how much one part of a bone differs from the rest of the same bone.

Bone marrow edema rarely fills a whole bone: it starts under an articular surface or in one pole of a
carpal bone. A whole-region mean dilutes such a change by the unaffected part; comparing the parts of one
bone does not, and it cancels what the whole bone shares (its size, its mineral density, the exposure).

The trabecular core of the region (pixels at least ``FOCAL_MIN_DEPTH_MM`` inside the outline, so the
cortex does not count) is split into ``FOCAL_SECTORS`` angular sectors about the core's centroid, starting
from the forearm axis so that the sectors turn with the wrist and not with the detector. Sectors are soft
(each pixel's weight falls smoothly with its angle from the sector centre), so a region placed 0.1 mm
differently changes the sector values smoothly instead of moving pixels across a hard boundary.
Per sector: the mean normalised density, and the mean energy of the band-pass (difference of Gaussians,
``FOCAL_DOG_MM``) image, i.e. the contrast of the trabeculae at that scale.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from wristbme.features import schema as S


def _sector_weights(mask: np.ndarray, axis_dir: np.ndarray) -> np.ndarray | None:
    """(n_sectors, n_pixels) weights of the pixels of ``mask``, rows summing over sectors to 1 per pixel."""
    rows, cols = np.nonzero(mask)
    if rows.size < 3 * S.FOCAL_SECTORS:
        return None
    dx, dy = cols - cols.mean(), rows - rows.mean()
    u = axis_dir / max(float(np.hypot(*axis_dir)), 1e-12)
    angle = np.arctan2(dx * -u[1] + dy * u[0], dx * u[0] + dy * u[1])
    centres = 2 * np.pi * np.arange(S.FOCAL_SECTORS) / S.FOCAL_SECTORS
    w = ((1.0 + np.cos(angle[None, :] - centres[:, None])) / 2.0) ** S.FOCAL_SHARPNESS
    return w / w.sum(axis=0, keepdims=True)


def focal_features(norm: np.ndarray, mask: np.ndarray, depth_mm: np.ndarray, spacing_mm: float,
                   axis_dir: tuple[float, float] | np.ndarray = (0.0, -1.0)) -> dict[str, float]:
    """``focal_*`` features of one region.

    Parameters
    ----------
    norm : ndarray
        Normalised density (ref units) of a window around the region, isotropic ``spacing_mm``.
    mask, depth_mm : ndarray
        The region and each pixel's distance to its outline (mm), on the same window.
    spacing_mm : float
    axis_dir : (x, y)
        Direction of the forearm axis in the window (pointing distally); the sectors start there.
    """
    nan = float("nan")
    out = dict.fromkeys(("focal_density_drop", "focal_texture_loss"), nan)
    core = mask & (depth_mm >= S.FOCAL_MIN_DEPTH_MM)
    w = _sector_weights(core, np.asarray(axis_dir, dtype=np.float64))
    if w is None:
        return out
    img = norm.astype(np.float64)
    s1, s2 = (s / spacing_mm for s in S.FOCAL_DOG_MM)
    band = ndi.gaussian_filter(img, s1, mode="nearest") - ndi.gaussian_filter(img, s2, mode="nearest")
    dens = img[core]
    energy = band[core] ** 2
    mass = w.sum(axis=1)
    if mass.min() < 5.0:
        return out
    d = (w @ dens) / mass
    e = np.log((w @ energy) / mass + 1e-12)
    d_drop = np.median(d) - d
    e_loss = np.median(e) - e
    out["focal_density_drop"] = float(d_drop.max())
    out["focal_texture_loss"] = float(e_loss.max())
    return out


__all__ = ["focal_features"]
