"""Frames and resampling used by the locator.

Three frames, each with physical units (mm):

- *original*: ``(x_mm, y_mm) = (col * col_spacing, row * row_spacing)`` of the input radiograph;
- *canonical*: the original mirrored (left hands) and rotated so the forearm points down and the fingers up,
  origin at the original image centre; a right hand, PA, fingers up;
- *grid*: a resampled canonical image at ``res_mm``; ``(x_mm, y_mm) = (col * res_mm, row * res_mm)``.

Transforms are 3x3 homogeneous matrices acting on column vectors ``(x, y, 1)``; ``apply`` maps (N, 2) arrays.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def apply(matrix: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homogeneous transform to points of shape (..., 2)."""
    pts = np.asarray(xy, dtype=np.float64)
    flat = pts.reshape(-1, 2)
    out = flat @ matrix[:2, :2].T + matrix[:2, 2]
    return out.reshape(pts.shape)


def translation(dx: float, dy: float) -> np.ndarray:
    m = np.eye(3)
    m[0, 2], m[1, 2] = dx, dy
    return m


def rotation(angle_deg: float) -> np.ndarray:
    """Rotation by ``angle_deg`` (positive: counter-clockwise on screen, i.e. y down)."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    m = np.eye(3)
    m[:2, :2] = [[c, s], [-s, c]]
    return m


def scaling(k: float) -> np.ndarray:
    m = np.eye(3)
    m[0, 0] = m[1, 1] = k
    return m


def mirror_x() -> np.ndarray:
    m = np.eye(3)
    m[0, 0] = -1.0
    return m


def canonical_matrix(shape: tuple[int, int], spacing_mm: tuple[float, float], *, mirror: bool,
                     angle_deg: float) -> np.ndarray:
    """Original mm → canonical mm: centre the image, mirror (left hand), rotate by ``angle_deg``."""
    rows, cols = shape
    centre = np.array([(cols - 1) * spacing_mm[1] / 2.0, (rows - 1) * spacing_mm[0] / 2.0])
    m = translation(-centre[0], -centre[1])
    if mirror:
        m = mirror_x() @ m
    return rotation(angle_deg) @ m


def canonical_bounds(shape: tuple[int, int], spacing_mm: tuple[float, float], matrix: np.ndarray,
                     margin_mm: float = 0.0) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in canonical mm of the original image's corners."""
    rows, cols = shape
    corners = np.array([[0, 0], [cols - 1, 0], [0, rows - 1], [cols - 1, rows - 1]], dtype=float)
    corners *= [spacing_mm[1], spacing_mm[0]]
    c = apply(matrix, corners)
    return (c[:, 0].min() - margin_mm, c[:, 1].min() - margin_mm, c[:, 0].max() + margin_mm,
            c[:, 1].max() + margin_mm)


EXACT_FLOAT32_INT = 2 ** 24
"""Integers below this (in magnitude) and their sums below it are exact in float32, in any order."""


def integer_bound(pixels: np.ndarray) -> float | None:
    """max |pixel| when every pixel is an integer (as stored values of a DICOM file are), else None."""
    sample = pixels[::97, ::89]
    if not np.array_equal(sample, np.rint(sample)) or not np.array_equal(pixels, np.rint(pixels)):
        return None
    return float(max(-float(pixels.min()), float(pixels.max()))) if pixels.size else 0.0


def downsample(pixels: np.ndarray, spacing_mm: tuple[float, float], target_mm: float, *,
               integer_max: float | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Block-average by integer factors so the spacing stays ≤ ``target_mm`` (anti-aliased, fast).

    ``integer_max`` (``integer_bound(pixels)``, when known) allows summing the blocks slice by slice, which
    is faster and, as every partial sum is an integer below ``EXACT_FLOAT32_INT``, gives the same float32
    bits as ``mean``."""
    fr = max(1, int(np.floor(target_mm / spacing_mm[0] + 1e-6)))
    fc = max(1, int(np.floor(target_mm / spacing_mm[1] + 1e-6)))
    if fr == 1 and fc == 1:
        return pixels.astype(np.float32, copy=False), spacing_mm
    r = pixels.shape[0] // fr * fr
    c = pixels.shape[1] // fc * fc
    blocks = pixels[:r, :c].astype(np.float32, copy=False).reshape(r // fr, fr, c // fc, fc)
    if integer_max is not None and integer_max * fr * fc < EXACT_FLOAT32_INT:
        total = blocks[:, 0, :, 0].copy()
        for i in range(fr):
            for j in range(fc):
                if i or j:
                    total += blocks[:, i, :, j]
        # the division exactly as ndarray.mean does it (by an intp count, into float32)
        block = np.true_divide(total, np.intp(fr * fc), out=total, casting="unsafe")
    else:
        block = blocks.mean(axis=(1, 3))
    return block, (spacing_mm[0] * fr, spacing_mm[1] * fc)


def resample(pixels: np.ndarray, spacing_mm: tuple[float, float], orig_to_frame: np.ndarray,
             origin_mm: tuple[float, float], out_shape: tuple[int, int], res_mm: float,
             cval: float = np.nan, order: int = 1) -> np.ndarray:
    """Sample ``pixels`` on a grid of ``out_shape`` at ``res_mm`` whose (0, 0) pixel is ``origin_mm``.

    ``orig_to_frame`` maps the *original* mm of ``pixels`` (with spacing ``spacing_mm``) to the frame mm.
    Pixels falling outside the input get ``cval``.
    """
    inv = np.linalg.inv(orig_to_frame)
    # grid index (row, col) -> frame mm (x, y) -> original mm -> input index (row, col)
    g = np.array([[0.0, res_mm, origin_mm[0]], [res_mm, 0.0, origin_mm[1]], [0, 0, 1]])  # (r,c)->(x,y)
    to_idx = np.array([[0.0, 1.0 / spacing_mm[0], 0.0], [1.0 / spacing_mm[1], 0.0, 0.0], [0, 0, 1]])
    full = to_idx @ inv @ g
    return ndimage.affine_transform(pixels, full[:2, :2], offset=full[:2, 2], output_shape=out_shape,
                                    order=order, cval=cval, prefilter=False)
