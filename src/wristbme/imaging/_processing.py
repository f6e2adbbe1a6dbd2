"""Pure pixel steps, in the order of the DICOM grayscale pipeline (PS3.4 N.2.1, PS3.3 C.11).

stored values → **Modality LUT** (C.11.1: Rescale Slope/Intercept or Modality LUT Sequence)
→ *VOI LUT* (C.11.2: kept as metadata, never applied here)
→ **Presentation / photometric** (C.7.6.3.1.2 MONOCHROME1, C.11.6 Presentation LUT Shape): inverted so that
more attenuation is brighter.

Each step takes arrays and plain parameters (never a pydicom Dataset) and returns its input untouched when
its module is absent. The reader (``wristbme.imaging.dicom``) extracts the parameters from the header.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def stored_value_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value representable in ``bits_stored`` bits (two's complement when ``signed``).

    >>> stored_value_range(12, False), stored_value_range(12, True)
    ((0, 4095), (-2048, 2047))
    """
    if signed:
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


@dataclass(frozen=True)
class ModalityLut:
    """A Modality LUT: either a linear rescale or a lookup table (PS3.3 C.11.1).

    Attributes
    ----------
    slope, intercept : float
        Rescale Slope (0028,1053) and Rescale Intercept (0028,1052); used when ``table`` is None.
    first_mapped : int
        LUT Descriptor value 2: the stored value mapped to ``table[0]``.
    table : ndarray of int or None
        LUT Data (0028,3006). Stored values below ``first_mapped`` map to ``table[0]``; above the last
        entry to ``table[-1]`` (C.11.1.1.1).
    """

    slope: float = 1.0
    intercept: float = 0.0
    first_mapped: int = 0
    table: np.ndarray | None = None

    @property
    def is_identity(self) -> bool:
        return self.table is None and self.slope == 1.0 and self.intercept == 0.0


def apply_modality_lut(stored: np.ndarray, lut: ModalityLut | None) -> np.ndarray:
    """Stored values → modality output values as float32 (a new array; ``stored`` is not modified).

    Parameters
    ----------
    stored : ndarray of int, any shape
        Stored pixel values, already sign-extended and masked to Bits Stored.
    lut : ModalityLut or None
        None (or identity) only converts to float32.
    """
    if lut is not None and lut.table is not None:
        index = stored.astype(np.int64, copy=False) - lut.first_mapped
        np.clip(index, 0, len(lut.table) - 1, out=index)
        return lut.table.astype(np.float32)[index]
    out = stored.astype(np.float32)  # then in place: a casting ufunc would be ~3x slower than astype + *=
    if lut is not None and lut.slope != 1.0:
        out *= np.float32(lut.slope)
    if lut is not None and lut.intercept != 0.0:
        out += np.float32(lut.intercept)
    return out


def modality_output_range(lut: ModalityLut | None, stored_range: tuple[int, int]) -> tuple[float, float]:
    """The range of the Modality LUT's output over the whole *representable* stored range.

    For a rescale this maps the Bits Stored range through the line; for a LUT it is the smallest and largest
    entry. Inversion pivots on this range (not on the image's own min/max), so a MONOCHROME1 and a
    MONOCHROME2 encoding of the same image give the same result whatever the image content.
    """
    lo, hi = stored_range
    if lut is None:
        return float(lo), float(hi)
    if lut.table is not None:
        return float(lut.table.min()), float(lut.table.max())
    a, b = lut.slope * lo + lut.intercept, lut.slope * hi + lut.intercept
    return (float(a), float(b)) if a <= b else (float(b), float(a))


def needs_inversion(photometric: str, presentation_lut_shape: str | None) -> bool:
    """True when low output values are meant to be displayed bright.

    MONOCHROME1 means "minimum is white" (C.7.6.3.1.2). Presentation LUT Shape INVERSE (2050,0020) says the
    same for the output of the VOI stage; the DX IOD requires INVERSE exactly when the image is MONOCHROME1
    (C.8.11.7), so the two are one inversion, not two: invert when either says so.
    """
    return photometric.strip().upper() == "MONOCHROME1" or (presentation_lut_shape or "").strip().upper() == "INVERSE"


def invert_in_place(pixels: np.ndarray, output_range: tuple[float, float]) -> float:
    """Mirror ``pixels`` about the middle of ``output_range`` (in place); return the pivot ``lo + hi``.

    After this, ``pixels = pivot - original``: the representable minimum becomes the maximum.
    """
    pivot = float(output_range[0] + output_range[1])
    np.subtract(np.float32(pivot), pixels, out=pixels)
    return pivot


def modality_then_presentation(stored: np.ndarray, lut: ModalityLut | None,
                               invert_range: tuple[float, float] | None) -> tuple[np.ndarray, float | None]:
    """``apply_modality_lut`` then, when ``invert_range`` is given, ``invert_in_place``; return (pixels, pivot).

    Same result as the two steps in that order, computed with fewer passes over the image (the hot path).
    For a linear Modality LUT ``m s + b`` the inversion about its output range ``[m lo + b, m hi + b]`` is
    ``(m (lo + hi) + 2 b) - (m s + b) = m (lo + hi - s) + b``: the stored values are mirrored in their own
    integer range (exact, on the smaller integer array), then rescaled. ``invert_range`` must then be the
    output range of ``lut`` over ``(lo, hi)``, as ``modality_output_range`` gives.
    """
    if invert_range is None:
        return apply_modality_lut(stored, lut), None
    pivot = float(invert_range[0] + invert_range[1])
    if (lut is not None and lut.table is not None) or stored.dtype.kind not in "ui":
        pixels = apply_modality_lut(stored, lut)
        invert_in_place(pixels, invert_range)
        return pixels, pivot
    slope = lut.slope if lut is not None else 1.0
    intercept = lut.intercept if lut is not None else 0.0
    stored_sum = (pivot - 2.0 * intercept) / slope  # = lo + hi of the stored range
    total = int(round(stored_sum))
    info = np.iinfo(stored.dtype)
    if abs(stored_sum - total) > 1e-6 or not info.min <= total <= info.max:
        pixels = apply_modality_lut(stored, lut)
        invert_in_place(pixels, invert_range)
        return pixels, pivot
    mirrored = np.subtract(stored.dtype.type(total), stored, dtype=stored.dtype)
    return apply_modality_lut(mirrored, lut), pivot


def grey_from_colour(pixels: np.ndarray, *, tolerance: int = 0) -> np.ndarray | None:
    """One channel of an (rows, cols, channels) image whose colour channels agree, else None.

    Parameters
    ----------
    pixels : ndarray, shape (rows, cols, 3) or (rows, cols, 4)
        RGB or RGBA. A fourth (alpha) channel must be fully opaque or it is treated as colour.
    tolerance : int
        Largest allowed difference between channels (0 for lossless sources).
    """
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return None
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3]
        if alpha.min() != alpha.max():
            return None
    red = pixels[..., 0]
    for channel in (1, 2):
        other = pixels[..., channel]
        if tolerance == 0:
            if not np.array_equal(red, other):
                return None
        elif np.abs(red.astype(np.int32) - other.astype(np.int32)).max() > tolerance:
            return None
    return np.ascontiguousarray(red)
