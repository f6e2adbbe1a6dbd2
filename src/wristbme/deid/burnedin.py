"""Burned-in text found in the pixels (not only from the BurnedInAnnotation attribute).

Annotation text is drawn by the modality at (or next to) the extreme stored values so it shows as pure
white or black. The detector looks, at each extreme, for *lines of glyphs*: three or more small connected
components of similar height, side by side on one baseline. A single lead marker (``L``/``R``) is one glyph
and is not text; bone, soft tissue and collimator edges are either not at the extremes or not glyph-sized.

This is a heuristic (no OCR): it is tuned to flag rather than miss; the site reviews flagged images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

EXTREME_FRACTION = 0.03
"""Pixels within this fraction of the value range from the minimum or maximum are candidate glyph pixels."""
MIN_GLYPHS = 3
"""A text line has at least this many glyph components."""
MIN_GLYPH_HEIGHT_PX = 5


@dataclass(frozen=True)
class TextBox:
    """A region holding burned-in text: rows ``row0:row1``, columns ``col0:col1`` (end exclusive)."""

    row0: int
    col0: int
    row1: int
    col1: int
    n_glyphs: int
    polarity: str
    """``high`` (text at the maximum stored value) or ``low``."""

    @property
    def area_px(self) -> int:
        return (self.row1 - self.row0) * (self.col1 - self.col0)


def detect_text(pixels: np.ndarray) -> list[TextBox]:
    """Find lines of burned-in text.

    Parameters
    ----------
    pixels : ndarray, shape (rows, cols)
        Stored values (any numeric dtype), as in the file.

    Returns
    -------
    list of TextBox
        Empty when no text line is found (or the image is constant).

    Notes
    -----
    A glyph candidate is a connected component of pixels within ``EXTREME_FRACTION`` of the minimum or
    maximum, glyph-sized (height ``MIN_GLYPH_HEIGHT_PX`` .. rows/8, width up to 15 heights for letters
    that touch), neither a speck nor a solid block, and standing out from its surroundings by at least
    ``MIN_CONTRAST`` of the value range (text on a label box or on air; not trabecular speckle in bone) on
    a surrounding that is one background (interquartile range below ``MAX_BACKGROUND_IQR`` of the range;
    not a corner where collimator, air and skin meet).
    Candidates of similar height on one baseline, at most two heights apart, form a line; a line of at
    least ``MIN_GLYPHS`` glyphs is text.
    """
    arr = np.asarray(pixels)
    if arr.ndim != 2:
        raise ValueError(f"detect_text needs a 2-D array, got shape {arr.shape}")
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return []
    span = hi - lo
    boxes: list[TextBox] = []
    for polarity, mask, value in (("high", arr >= hi - EXTREME_FRACTION * span, hi),
                                  ("low", arr <= lo + EXTREME_FRACTION * span, lo)):
        boxes.extend(_text_lines(arr, mask, polarity, value, span))
    return boxes


MIN_CONTRAST = 0.45
"""Median of a glyph's surroundings must differ from the glyph's value by this fraction of the range."""
MAX_BACKGROUND_IQR = 0.25
"""Interquartile range of a glyph's surroundings, as a fraction of the range: text sits on one background."""


def _text_lines(arr: np.ndarray, mask: np.ndarray, polarity: str, value: float, span: float) -> list[TextBox]:
    rows, cols = mask.shape
    if not mask.any():
        return []
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    max_h = max(MIN_GLYPH_HEIGHT_PX + 1, rows // 8)
    glyphs: list[tuple[int, int, int, int, int]] = []
    for idx, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        if not (MIN_GLYPH_HEIGHT_PX <= h <= max_h and 1 <= w <= 15 * h):
            continue
        own = labels[sl] == idx
        area = int(own.sum())
        fill = area / float(h * w)
        if area < 8 or (fill > 0.9 and w > 3) or (w > 2.5 * h and not 0.12 <= fill <= 0.85):
            continue  # specks, solid blocks, lines
        pad = max(2, h // 3)
        r0, r1 = max(0, sl[0].start - pad), min(rows, sl[0].stop + pad)
        c0, c1 = max(0, sl[1].start - pad), min(cols, sl[1].stop + pad)
        around = arr[r0:r1, c0:c1][~mask[r0:r1, c0:c1]]
        if around.size < 4:
            continue
        q1, med, q3 = np.percentile(around, (25, 50, 75))
        if abs(float(med) - value) < MIN_CONTRAST * span:
            continue  # does not stand out from its surroundings: texture, not text
        if q3 - q1 > MAX_BACKGROUND_IQR * span:
            continue  # surroundings not one background (an edge between regions), not a glyph on a label
        count = max(1, int(round(w / (0.75 * h)))) if w > 1.2 * h else 1
        glyphs.append((sl[0].start, sl[1].start, sl[0].stop, sl[1].stop, count))
    if not glyphs:
        return []
    glyphs.sort(key=lambda g: g[1])
    parent = list(range(len(glyphs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    max_w = max(g[3] - g[1] for g in glyphs)
    for i, a in enumerate(glyphs):
        ha = a[2] - a[0]
        cya = (a[0] + a[2]) / 2
        for j in range(i + 1, len(glyphs)):
            b = glyphs[j]
            hb = b[2] - b[0]
            h = max(ha, hb)
            if b[1] - a[3] > 2.0 * h and b[1] - a[1] > max_w + 2.0 * h:
                break  # sorted by left edge: later ones are further away
            if b[1] - a[3] > 2.0 * h:
                continue
            if abs((b[0] + b[2]) / 2 - cya) <= 0.5 * h and max(ha, hb) <= 2.5 * min(ha, hb):
                parent[find(j)] = find(i)
    groups: dict[int, list[tuple[int, int, int, int, int]]] = {}
    for i, g in enumerate(glyphs):
        groups.setdefault(find(i), []).append(g)
    boxes = []
    for members in groups.values():
        n_glyphs = sum(g[4] for g in members)
        if n_glyphs < MIN_GLYPHS:
            continue
        r0 = min(g[0] for g in members)
        c0 = min(g[1] for g in members)
        r1 = max(g[2] for g in members)
        c1 = max(g[3] for g in members)
        pad = max(2, int(round(0.3 * (r1 - r0))))
        boxes.append(TextBox(max(0, r0 - pad), max(0, c0 - pad), min(rows, r1 + pad), min(cols, c1 + pad),
                             n_glyphs, polarity))
    return boxes


def mask_text(pixels: np.ndarray, boxes: list[TextBox], fill_value: float) -> np.ndarray:
    """A copy of ``pixels`` with every box set to ``fill_value`` (same dtype)."""
    out = np.array(pixels, copy=True)
    for box in boxes:
        out[box.row0:box.row1, box.col0:box.col1] = fill_value
    return out
