"""Density normalisation (soft tissue → 0, reference bone → 1) and the density and subchondral features.

Normalised density ``n = (I - soft) / (ref - soft)`` where ``ref`` is the median pixel value of the
reference region (a metacarpal or radial shaft) and ``soft`` a low percentile of the soft-tissue band around
the bones (see ``normalisation``). Any affine change of the pixel values (exposure, gain,
offset, window) cancels, so features in ``ref`` units do not depend on exposure; the soft-tissue term
removes the tissue-thickness pedestal (the 'soft-tissue correction').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from wristbme.features import schema as S


@dataclass(frozen=True)
class Normalisation:
    """The two anchors of the normalised density scale, in input pixel units, and how they were found."""

    soft_tissue: float
    reference: float
    source: str
    """``"reference_region"`` or ``"bone_regions"`` (fallback when the anatomy has no reference region)."""

    def apply(self, image: np.ndarray) -> np.ndarray:
        return (image.astype(np.float64) - self.soft_tissue) / (self.reference - self.soft_tissue)


SOFT_BAND_MM = (1.5, 4.0)
"""Soft-tissue band: this far outside every bone region and the reference (mm)."""
SOFT_QUANTILE = 25.0
"""Percentile of the band taken as the soft-tissue level: the band also crosses unscored bone (shafts), which
is brighter, so a low percentile picks the tissue; air is rarely within 4 mm of the carpus."""


WHITE_MARGIN = 0.10
"""Pixels within this share of the (white point − soft tissue) range below the image's white plateau carry no
density (unexposed collimated margin, or bone clipped by the site's processing) and are left out of the
reference. A wrist-field radiograph often cuts the radial shaft at a white collimated margin; with those
pixels in its median the scale jumped by up to 20 % between a radiograph and the same one rotated 5°."""

MIN_INFORMATIVE_REFERENCE = 0.25
"""When less than this share of the reference region is left after removing white pixels, the bone regions
serve as the reference instead (``source="bone_regions"``)."""


def normalisation(image: np.ndarray, reference_mask: np.ndarray | None, bone_masks: np.ndarray,
                  spacing_mm: float, white_point: float | None = None,
                  blank: np.ndarray | None = None) -> Normalisation | None:
    """Estimate the anchors; None when they cannot be told apart (reference not brighter than soft tissue).

    ``reference`` = median of the reference region without its white pixels (``WHITE_MARGIN``; when
    less than ``MIN_INFORMATIVE_REFERENCE`` of it is left, the bone regions serve); ``soft`` = the ``SOFT_QUANTILE`` percentile of the band
    ``SOFT_BAND_MM`` outside the union of all bone regions and the reference. Both are order statistics, so
    any increasing affine change of the pixel values changes them in step and the normalised image not
    at all. ``bone_masks`` is the union of all bone regions; without a reference region it serves as the
    reference and ``source="bone_regions"`` says so. ``blank`` marks blanked pixels (``extract.blank_pixels``,
    e.g. a masked burned-in annotation), which count neither as soft tissue nor as reference.
    """
    everything = bone_masks | (reference_mask if reference_mask is not None else False)
    dist = ndi.distance_transform_edt(~everything) * spacing_mm
    band = (dist > SOFT_BAND_MM[0]) & (dist <= SOFT_BAND_MM[1])
    if blank is not None:
        band &= ~blank
    if band.sum() < 20:
        return None
    soft = float(np.percentile(image[band], SOFT_QUANTILE))
    informative = np.ones(image.shape, dtype=bool)
    if white_point is not None and white_point > soft:
        informative = image < white_point - WHITE_MARGIN * (white_point - soft)
    if blank is not None:
        informative = informative & ~blank
    source = "reference_region"
    ref = None
    if reference_mask is not None:
        usable = reference_mask & informative
        if usable.sum() >= max(20, MIN_INFORMATIVE_REFERENCE * reference_mask.sum()):
            ref = usable
    if ref is None:
        ref = bone_masks & informative
        source = "bone_regions"
    if ref.sum() < 20:
        return None
    ref_level = float(np.median(image[ref]))
    if not ref_level > soft:
        return None
    return Normalisation(soft, ref_level, source)


def density_features(norm: np.ndarray, mask: np.ndarray, depth_mm: np.ndarray) -> dict[str, float]:
    """``density_*``: statistics of the normalised image inside ``mask``; ``depth_mm`` = distance to outline."""
    v = norm[mask].astype(np.float64)
    core = mask & (depth_mm >= S.CORE_MIN_DEPTH_MM)
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {
        "density_mean": float(v.mean()),
        "density_median": float(p50),
        "density_sd": float(v.std()),
        "density_p10": float(p10),
        "density_p90": float(p90),
        "density_core_mean": float(norm[core].mean()) if core.sum() >= 10 else float("nan"),
    }


def subchondral_features(norm: np.ndarray, mask: np.ndarray, other_bones: np.ndarray, depth_mm: np.ndarray,
                         outside_mm: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """``subchondral_*``: plate contrast (rim vs core), edge contrast (rim vs outside band) and sharpness."""
    nan = float("nan")
    rim = mask & (depth_mm <= S.RIM_MM)
    core = mask & (depth_mm >= S.CORE_MIN_DEPTH_MM)
    outside = ~mask & ~other_bones & (outside_mm <= S.RIM_MM)
    edge = mask & (depth_mm <= 1.5 * spacing_mm)
    rim_mean = float(norm[rim].mean()) if rim.sum() >= 10 else nan
    core_mean = float(norm[core].mean()) if core.sum() >= 10 else nan
    out_mean = float(norm[outside].mean()) if outside.sum() >= 10 else nan
    grad = ndi.gaussian_gradient_magnitude(norm.astype(np.float64), S.EDGE_SIGMA_MM / spacing_mm) / spacing_mm
    edge_grad = float(np.median(grad[edge])) if edge.sum() >= 10 else nan
    edge_contrast = rim_mean - out_mean
    sharp = edge_grad / abs(edge_contrast) if np.isfinite(edge_contrast) and abs(edge_contrast) > 0.02 else nan
    return {
        "subchondral_plate_contrast": rim_mean - core_mean,
        "subchondral_edge_contrast": edge_contrast,
        "subchondral_edge_gradient": edge_grad,
        "subchondral_sharpness": float(min(sharp, 50.0)) if np.isfinite(sharp) else nan,
    }
