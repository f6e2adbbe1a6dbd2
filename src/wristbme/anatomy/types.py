"""``WristAnatomy``: where each scored bone is on one radiograph.

Coordinates are physical, in the *original* image frame: ``(x_mm, y_mm) = (col * col_spacing_mm,
row * row_spacing_mm)`` with (0, 0) at the centre of the top-left pixel. Converting to pixels is one call
(``to_pixels``), and masks are rasterised from the polygons, so a region can be corrected by moving points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wristbme.bones import Bone

LANDMARKS = (
    "radial_styloid_tip",
    "ulnar_styloid_tip",
    "radius_articular_mid",
    "ulna_articular_mid",
    *(f"{b.value}_centre" for b in (Bone.SCAPHOID, Bone.LUNATE, Bone.TRIQUETRUM, Bone.PISIFORM,
                                     Bone.TRAPEZIUM, Bone.TRAPEZOID, Bone.CAPITATE, Bone.HAMATE)),
    *(f"mc{i}_base_centre" for i in range(1, 6)),
)
"""Named landmarks, in this order everywhere (tables, JSON, overlays)."""

AXES = ("radius_axis", "mc3_axis")
"""Long axes: each is a pair of points (proximal, distal) in mm."""

QC_FLAGS = (
    "not_pa_view", "strongly_rotated", "cropped", "cast_or_metal", "skeletally_immature",
    "not_identifiable", "uncalibrated", "low_confidence",
)


@dataclass(frozen=True)
class Region:
    """One scored bone: a closed polygon of (x_mm, y_mm) vertices, shape (N, 2), N >= 3."""

    bone: Bone
    polygon_mm: np.ndarray
    confidence: float
    qc_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        poly = np.asarray(self.polygon_mm, dtype=np.float64)
        if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
            raise ValueError(f"Region {self.bone.value}: polygon_mm must have shape (N>=3, 2), got {poly.shape}")
        if not np.all(np.isfinite(poly)):
            raise ValueError(f"Region {self.bone.value}: polygon_mm has non-finite vertices")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"Region {self.bone.value}: confidence must be in [0, 1], got {self.confidence}")
        object.__setattr__(self, "bone", Bone.parse(self.bone))
        object.__setattr__(self, "polygon_mm", poly)

    @property
    def area_mm2(self) -> float:
        x, y = self.polygon_mm[:, 0], self.polygon_mm[:, 1]
        return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))

    @property
    def flagged(self) -> bool:
        return bool(self.qc_flags)


@dataclass(frozen=True)
class WristAnatomy:
    """Landmarks, axes and one region per located bone, with confidence and QC flags.

    Attributes
    ----------
    spacing_mm : (row, col) spacing used to convert mm to pixels.
    image_shape : (rows, cols) of the original image.
    landmarks : name → (x_mm, y_mm); names from ``LANDMARKS``. A landmark not found is absent.
    axes : name → ((x_mm, y_mm) proximal, (x_mm, y_mm) distal).
    regions : bone → Region; a bone not found is absent (and named in ``qc_flags``).
    reference_region : polygon (N, 2) in mm of a normalisation region (e.g. a metacarpal or radial shaft).
    qc_flags : image-level flags from ``QC_FLAGS``.
    confidence : image-level confidence in [0, 1].
    method : producer name and version, e.g. ``"wristbme.anatomy.atlas/1"``.
    corrections : the operator edits (JSON-able dict, original-frame mm) this anatomy was computed with,
        kept so scoring and the audit can see them; None when uncorrected.
    """

    spacing_mm: tuple[float, float]
    image_shape: tuple[int, int]
    landmarks: dict[str, tuple[float, float]]
    regions: dict[Bone, Region]
    axes: dict[str, tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=dict)
    reference_region: np.ndarray | None = None
    qc_flags: tuple[str, ...] = ()
    confidence: float = 1.0
    method: str = "unknown"
    corrections: dict | None = None

    def to_pixels(self, xy_mm: np.ndarray) -> np.ndarray:
        """(x_mm, y_mm) → (x = col, y = row) pixel coordinates, same shape."""
        xy = np.asarray(xy_mm, dtype=np.float64)
        return xy / np.array([self.spacing_mm[1], self.spacing_mm[0]])

    def to_mm(self, xy_px: np.ndarray) -> np.ndarray:
        """(x = col, y = row) pixels → (x_mm, y_mm); inverse of ``to_pixels``."""
        xy = np.asarray(xy_px, dtype=np.float64)
        return xy * np.array([self.spacing_mm[1], self.spacing_mm[0]])

    def mask(self, bone: Bone) -> np.ndarray:
        """Boolean mask (rows, cols) of ``bone``'s region in the original image."""
        return polygon_mask(self.to_pixels(self.regions[bone].polygon_mm), self.image_shape)

    def reference_mask(self) -> np.ndarray | None:
        if self.reference_region is None:
            return None
        return polygon_mask(self.to_pixels(self.reference_region), self.image_shape)


def polygon_mask(polygon_px: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a closed polygon of (x = col, y = row) pixel vertices into a boolean mask."""
    from skimage.draw import polygon as draw_polygon

    poly = np.asarray(polygon_px, dtype=np.float64)
    rr, cc = draw_polygon(poly[:, 1], poly[:, 0], shape=shape)
    out = np.zeros(shape, dtype=bool)
    out[rr, cc] = True
    return out
