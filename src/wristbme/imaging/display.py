"""8-bit renderings of a ``Radiograph`` for people (previews, overlays). Never used for measurement."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wristbme.imaging.radiograph import Radiograph


def display_window(radiograph: Radiograph) -> tuple[float, float]:
    """(low, high) pixel values mapped to black and white.

    The file's first VOI window when it has one (moved onto the bone-bright scale when the reader inverted
    the pixels), else the 0.5th-99.5th percentiles.
    """
    src = radiograph.source
    if src.voi_window is not None:
        centre, width = src.voi_window
        if src.inverted and src.inversion_pivot is not None:
            centre = src.inversion_pivot - centre
        return centre - width / 2.0, centre + width / 2.0
    lo, hi = np.percentile(radiograph.pixels, (0.5, 99.5))
    return float(lo), float(hi) if hi > lo else float(lo) + 1.0


def to_uint8(radiograph: Radiograph) -> np.ndarray:
    """Bone-bright uint8 image (rows, cols) through ``display_window``."""
    lo, hi = display_window(radiograph)
    scaled = (radiograph.pixels - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def save_png(radiograph: Radiograph, path: str | Path) -> Path:
    """Write the ``to_uint8`` rendering as a PNG; return the path."""
    from PIL import Image

    path = Path(path)
    Image.fromarray(to_uint8(radiograph)).save(path)
    return path
