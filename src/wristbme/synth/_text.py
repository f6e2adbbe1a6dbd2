"""Text rendered into pixel masks with Pillow (lead markers, burned-in annotations)."""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont


@cache
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size_px)
    except TypeError:  # Pillow without FreeType support
        return ImageFont.load_default()


def text_mask(text: str, size_px: int) -> np.ndarray:
    """A tight boolean mask of ``text`` drawn with Pillow's default font at ``size_px`` pixels (bold-ish)."""
    font = _font(int(size_px))
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    w, h = right - left + 4, bottom - top + 4
    img = Image.new("L", (max(w, 1), max(h, 1)), 0)
    draw = ImageDraw.Draw(img)
    stroke = max(0, size_px // 14)
    draw.text((2 - left, 2 - top), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    m = np.asarray(img) > 127
    ys, xs = np.nonzero(m)
    if len(ys) == 0:
        return np.zeros((1, 1), dtype=bool)
    return m[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
