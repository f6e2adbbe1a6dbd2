"""The ``Radiograph`` type: pixels in a known orientation and physical scale, and nothing that identifies anyone.

Conventions (stated once, here):

- ``pixels`` is a 2-D float32 array indexed ``[row, col]``; (0, 0) is the centre of the top-left pixel.
  Higher values mean more attenuation: bone is bright, air is dark, whatever the source photometric.
- ``spacing_mm`` is ``(row_spacing, col_spacing)`` in millimetres at the detector plane corrected for
  magnification where the source says how (see ``SpacingSource``), or ``None`` when uncalibrated.
- Coordinates a user sees are ``(x, y) = (col, row)`` in the *original* image; ``to_canonical`` returns the
  transform that maps canonical coordinates back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np


class Laterality(str, Enum):
    """Which hand (DICOM ImageLaterality values R / L; U unknown)."""

    RIGHT = "R"
    LEFT = "L"
    UNKNOWN = "U"

    @classmethod
    def parse(cls, value: object) -> Laterality:
        text = str(value or "").strip().upper()
        if text in ("R", "RIGHT", "RT", "右"):
            return cls.RIGHT
        if text in ("L", "LEFT", "LT", "左"):
            return cls.LEFT
        return cls.UNKNOWN


class View(str, Enum):
    """Projection (DICOM ViewPosition)."""

    PA = "PA"
    AP = "AP"
    LATERAL = "LAT"
    OBLIQUE = "OBL"
    UNKNOWN = "UNKNOWN"


class SpacingSource(str, Enum):
    """Where ``spacing_mm`` came from, most trusted first."""

    PIXEL_SPACING = "PixelSpacing"
    """(0028,0030): calibrated to the patient plane by the modality."""
    IMAGER_CORRECTED = "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor"
    """(0018,1164) divided by (0018,1114)."""
    IMAGER = "ImagerPixelSpacing"
    """(0018,1164) at the detector, no magnification correction available."""
    NOMINAL_SCANNED = "NominalScannedPixelSpacing"
    """(0018,2010): digitised film."""
    USER = "user"
    """Given by the caller (argument or sidecar JSON)."""
    UNCALIBRATED = "uncalibrated"
    """Nothing says; ``spacing_mm`` is None and QC flags it."""


@dataclass(frozen=True)
class SourceInfo:
    """Non-identifying facts about where the pixels came from. Never a name, ID, date or UID."""

    format: str = "DICOM"
    transfer_syntax: str | None = None
    photometric: str | None = None
    modality: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    detector_type: str | None = None
    body_part: str | None = None
    bits_stored: int | None = None
    lossy: bool = False
    voi_window: tuple[float, float] | None = None
    """(center, width) in output units of the modality LUT, when the file has one. Kept, not applied."""
    burned_in_annotation: str | None = None
    inverted: bool = False
    """True when the reader inverted the modality-LUT output (MONOCHROME1 or Presentation LUT Shape INVERSE)."""
    inversion_pivot: float | None = None
    """When ``inverted``: ``pixels = inversion_pivot - modality_output``; map ``voi_window`` centres the same way."""
    voi_lut_sequence: bool = False
    """The file carries a VOI LUT Sequence (0028,3010); it is not applied (nor stored)."""
    frames: int = 1
    """Number of frames in the file; ``frame`` says which one was read (0-based) when more than one."""
    frame: int | None = None


@dataclass(frozen=True)
class Radiograph:
    """A projection radiograph ready for analysis.

    Attributes
    ----------
    pixels : ndarray of float32, shape (rows, cols)
        Bone bright (see module docstring). Modality LUT applied; VOI LUT not applied.
    spacing_mm : (float, float) or None
        (row, col) spacing in mm; None when uncalibrated.
    spacing_source : SpacingSource
    laterality : Laterality
    view : View
    source : SourceInfo
    qc_flags : tuple of str
        Recoverable problems found while reading (e.g. ``"uncalibrated"``, ``"lossy"``).
    """

    pixels: np.ndarray
    spacing_mm: tuple[float, float] | None
    spacing_source: SpacingSource = SpacingSource.UNCALIBRATED
    laterality: Laterality = Laterality.UNKNOWN
    view: View = View.UNKNOWN
    source: SourceInfo = field(default_factory=SourceInfo)
    qc_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        px = self.pixels
        if not isinstance(px, np.ndarray) or px.ndim != 2:
            raise ValueError(f"Radiograph.pixels must be a 2-D array, got shape {getattr(px, 'shape', None)}")
        if px.dtype != np.float32:
            object.__setattr__(self, "pixels", px.astype(np.float32))
        if self.spacing_mm is not None:
            sr, sc = (float(v) for v in self.spacing_mm)
            if not (np.isfinite(sr) and np.isfinite(sc) and sr > 0 and sc > 0):
                raise ValueError(f"Radiograph.spacing_mm must be two positive finite numbers, got {self.spacing_mm!r}")
            object.__setattr__(self, "spacing_mm", (sr, sc))
        elif self.spacing_source is not SpacingSource.UNCALIBRATED:
            raise ValueError("Radiograph.spacing_mm is None but spacing_source says it is calibrated")
        object.__setattr__(self, "laterality", Laterality.parse(self.laterality.value
                                                                if isinstance(self.laterality, Laterality)
                                                                else self.laterality))
        object.__setattr__(self, "view", View(self.view))
        object.__setattr__(self, "spacing_source", SpacingSource(self.spacing_source))

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def calibrated(self) -> bool:
        return self.spacing_mm is not None

    def with_pixels(self, pixels: np.ndarray, spacing_mm: tuple[float, float] | None = None) -> Radiograph:
        """A copy with new pixels (and spacing, when resampled); everything else kept."""
        return replace(self, pixels=pixels, spacing_mm=spacing_mm if spacing_mm is not None else self.spacing_mm)
