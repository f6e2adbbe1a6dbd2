"""``extract``: one radiograph + its anatomy → ``BoneFeatures`` (a named feature vector per bone).

Steps, in order: (1) crop the wrist (all regions + reference, 4 mm margin) and resample it to the
isotropic analysis spacing with a Gaussian anti-alias prefilter when downsampling; (2) rasterise each
region polygon directly on the new grid; (3) normalise densities to the reference region (see
``density``); (4) per bone, compute density, fractal, GLCM, LBP, wavelet, subchondral and focal features on a
window around the region. Regions that are missing, flagged or too small keep a reason in ``exclusions``;
their features are still computed when possible (for review) but scores must not use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from wristbme.anatomy.types import WristAnatomy, polygon_mask
from wristbme.bones import RAMRIS_BONES, Bone
from wristbme.errors import InputError
from wristbme.features import schema as S
from wristbme.features.density import Normalisation, density_features, normalisation, subchondral_features
from wristbme.features.focal import focal_features
from wristbme.features.texture import fractal_features, glcm_features, lbp_features, wavelet_features
from wristbme.imaging.radiograph import Radiograph

METHOD = "wristbme.features/1"

BLOCKING_IMAGE_FLAGS = frozenset({"not_pa_view", "cast_or_metal", "skeletally_immature", "not_identifiable",
                                  "uncalibrated", "strongly_rotated"})
"""Image-level QC flags under which no bone is scored."""

MIN_REGION_AREA_MM2 = 6.0
"""Regions smaller than this (after resampling) are too small for texture and are not scored."""

MARGIN_MM = 4.0


@dataclass(frozen=True)
class BoneFeatures:
    """Features of the located bones of one radiograph.

    Attributes
    ----------
    schema : FeatureSchema
        Names, units and definitions (``schema.names`` orders every vector); ``schema.hash`` identifies it.
    values : dict Bone → ndarray of float64, shape (n_features,)
        NaN where a feature could not be computed (e.g. no core in a tiny region).
    exclusions : dict Bone → str
        Bones that must not be scored and why (``not_located``, ``region_flagged:<flags>``, ``too_small``,
        ``image_flagged:<flag>``, ``no_normalisation``, ``blanked_pixels``).
    normalisation : Normalisation or None
    qc_flags : tuple of str
        Image-level notes (e.g. ``reference_from_bone_regions``).
    """

    schema: S.FeatureSchema
    values: dict[Bone, np.ndarray]
    exclusions: dict[Bone, str] = field(default_factory=dict)
    normalisation: Normalisation | None = None
    qc_flags: tuple[str, ...] = ()
    method: str = METHOD

    def __post_init__(self) -> None:
        n = len(self.schema.features)
        for bone, vec in self.values.items():
            if np.shape(vec) != (n,):
                raise ValueError(f"BoneFeatures: {bone.value} vector has shape {np.shape(vec)}, schema has {n}")

    @property
    def scorable(self) -> tuple[Bone, ...]:
        """Bones with features and no exclusion, in RAMRIS order."""
        return tuple(b for b in RAMRIS_BONES if b in self.values and b not in self.exclusions)

    def get(self, bone: Bone, name: str) -> float:
        return float(self.values[bone][self.schema.names.index(name)])

    def frame(self) -> pd.DataFrame:
        """One row per bone with values: columns ``bone``, ``excluded`` (reason or ''), then the features."""
        rows = []
        for bone in RAMRIS_BONES:
            if bone in self.values:
                rows.append([bone.value, self.exclusions.get(bone, ""), *self.values[bone].tolist()])
        return pd.DataFrame(rows, columns=["bone", "excluded", *self.schema.names])


REFERENCE_GAP_MM = 5.0
REFERENCE_LENGTH_MM = 12.0
REFERENCE_HALF_WIDTH_MM = 2.5


def reference_polygon(anatomy: WristAnatomy) -> tuple[np.ndarray | None, str]:
    """The density reference region (N, 2) in mm and where it came from.

    A band on the radial shaft when the anatomy has a ``radius_axis`` and a radius region: along the axis,
    starting ``REFERENCE_GAP_MM`` proximal to the scored radius region, ``REFERENCE_LENGTH_MM`` long and
    ``2 * REFERENCE_HALF_WIDTH_MM`` wide, cut to the image. Defined here, not by the localiser, so features
    mean the same whatever produced the anatomy (ground truth, atlas, a correction). Otherwise the
    anatomy's own ``reference_region``; otherwise None (the bone regions then serve, flagged
    ``reference_from_bone_regions``).
    """
    axis = anatomy.axes.get("radius_axis")
    region = anatomy.regions.get(Bone.RADIUS)
    fallback = ((np.asarray(anatomy.reference_region, dtype=np.float64), "anatomy")
                if anatomy.reference_region is not None else (None, "none"))
    if axis is None or region is None:
        return fallback
    prox, dist = np.asarray(axis[0], dtype=np.float64), np.asarray(axis[1], dtype=np.float64)
    length = float(np.linalg.norm(dist - prox))
    if length < 1e-6:
        return fallback
    u = (prox - dist) / length  # pointing proximally
    v = np.array([-u[1], u[0]])
    t_region = (region.polygon_mm - dist) @ u
    t0 = float(t_region.max()) + REFERENCE_GAP_MM
    t1 = t0 + REFERENCE_LENGTH_MM
    h_mm = (anatomy.image_shape[0] - 1) * anatomy.spacing_mm[0]
    w_mm = (anatomy.image_shape[1] - 1) * anatomy.spacing_mm[1]
    # shorten the band to stay inside the image
    for _ in range(24):
        corners = np.array([dist + u * t + v * w for t in (t0, t1) for w in (-REFERENCE_HALF_WIDTH_MM,
                                                                           REFERENCE_HALF_WIDTH_MM)])
        if (corners[:, 0].min() >= 0 and corners[:, 1].min() >= 0 and corners[:, 0].max() <= w_mm
                and corners[:, 1].max() <= h_mm):
            break
        t1 -= 0.5
    if t1 - t0 < 4.0:
        return fallback
    poly = np.array([dist + u * t0 - v * REFERENCE_HALF_WIDTH_MM, dist + u * t1 - v * REFERENCE_HALF_WIDTH_MM,
                     dist + u * t1 + v * REFERENCE_HALF_WIDTH_MM, dist + u * t0 + v * REFERENCE_HALF_WIDTH_MM])
    return poly, "radial_shaft"


WHITE_PLATEAU_FRACTION = 0.03
"""Share of the image that a white plateau must cover: pixels within ±3 % of the range around the white
level, connected to the image border (an unexposed collimated margin shown white). Without one nothing
is treated as white: the brightest bone of an image is bone, even when it is uniform."""


def white_point(pixels: np.ndarray) -> float | None:
    """The level of the image's white collimation plateau, or None when it has none.

    The level is the 99.5th percentile of every 4th pixel: not the maximum, which noise, or the overshoot of
    an interpolation at a collimator's hard edge, pushes above the plateau."""
    sample = np.asarray(pixels[::4, ::4], dtype=np.float64)
    low, top = np.percentile(sample, [1.0, 99.5])
    if not top > low:
        return None
    white = np.abs(sample - top) <= 0.03 * (top - low)
    labels, _ = ndi.label(white)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    plateau = float(np.isin(labels, edge[edge > 0]).mean())
    return float(top) if plateau >= WHITE_PLATEAU_FRACTION else None


BLANK_MIN_AREA_MM2 = 2.0
"""Smallest blanked patch: an axis-aligned rectangle (``BLANK_MIN_FILL`` of its bounding box, both sides at least
``BLANK_MIN_SIDE_MM``) of exactly one pixel value other than the image's extreme values. Detector pixels always
carry quantum noise, so such a patch is not anatomy but, e.g., a burned-in annotation masked by
de-identification (``deid`` fills the text box with the mid-range grey). Patches at the minimum or maximum value
are clipping (dense bone above the processing's output range, collimated margins), left to the white-plateau
logic; irregular plateaus are the grey-level steps of smooth 8-bit images (seen in bones of a real 8-bit
radiograph, ``radinformatics/9.png``)."""
BLANK_MIN_SIDE_MM = 1.0
BLANK_MIN_FILL = 0.9
BLANK_MAX_REGION_FRACTION = 0.01
"""A bone region with more than this share of blanked pixels (after resampling) is not scored."""


def blank_pixels(pixels: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the blanked patches (see ``BLANK_MIN_AREA_MM2``) of ``pixels``.

    A pixel is uniform when its four neighbours have exactly its value. The test is on the stored values, so
    it is unchanged by any exposure or display mapping.
    """
    p = np.asarray(pixels)
    flat = np.zeros(p.shape, dtype=bool)
    if min(p.shape) < 3:
        return flat
    centre = p[1:-1, 1:-1]
    flat[1:-1, 1:-1] = ((p[:-2, 1:-1] == centre) & (p[2:, 1:-1] == centre) & (p[1:-1, :-2] == centre)
                        & (p[1:-1, 2:] == centre) & (centre != p.min()) & (centre != p.max()))
    labels, n = ndi.label(flat)
    blank = np.zeros(p.shape, dtype=bool)
    if n == 0:
        return blank
    sr, sc = pixel_spacing_mm
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    objects = ndi.find_objects(labels)
    for i in np.nonzero(sizes * sr * sc >= BLANK_MIN_AREA_MM2)[0]:
        sl = objects[i - 1]
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if h * sr >= BLANK_MIN_SIDE_MM and w * sc >= BLANK_MIN_SIDE_MM and sizes[i] >= BLANK_MIN_FILL * h * w:
            blank[sl] |= labels[sl] == i
    return blank


def _blank_in_box(pixels: np.ndarray, pixel_spacing_mm: tuple[float, float],
                  box_mm: tuple[float, float, float, float]) -> np.ndarray | None:
    """``blank_pixels`` of the part of the image that the (x0, y0, x1, y1) mm box reaches (1 mm margin), as a
    full-size mask; None when there are none. Only that part is ever resampled; searching the whole image
    took 24 ms on a 2650 x 2000 phantom, its box 2.6 ms (median of 7 runs)."""
    sr, sc = pixel_spacing_mm
    x0, y0, x1, y1 = box_mm
    r0, r1 = max(0, int(np.floor((y0 - 1.0) / sr))), min(pixels.shape[0], int(np.ceil((y1 + 1.0) / sr)) + 1)
    c0, c1 = max(0, int(np.floor((x0 - 1.0) / sc))), min(pixels.shape[1], int(np.ceil((x1 + 1.0) / sc)) + 1)
    if r1 <= r0 or c1 <= c0:
        return None
    window = blank_pixels(pixels[r0:r1, c0:c1], pixel_spacing_mm)
    if not window.any():
        return None
    blank = np.zeros(pixels.shape, dtype=bool)
    blank[r0:r1, c0:c1] = window
    return blank


def forearm_direction(anatomy: WristAnatomy) -> np.ndarray:
    """Unit (x, y) vector of the radius axis pointing distally; straight up the image without one."""
    axis = anatomy.axes.get("radius_axis")
    if axis is not None:
        d = np.asarray(axis[1], dtype=np.float64) - np.asarray(axis[0], dtype=np.float64)
        n = float(np.hypot(*d))
        if n > 1e-6:
            return d / n
    return np.array([0.0, -1.0])


def _crop_box_mm(anatomy: WristAnatomy, reference: np.ndarray | None) -> tuple[float, float, float, float]:
    polys = [r.polygon_mm for r in anatomy.regions.values()]
    if reference is not None:
        polys.append(reference)
    pts = np.concatenate(polys, axis=0)
    x0, y0 = pts.min(axis=0) - MARGIN_MM
    x1, y1 = pts.max(axis=0) + MARGIN_MM
    h_mm = (anatomy.image_shape[0] - 1) * anatomy.spacing_mm[0]
    w_mm = (anatomy.image_shape[1] - 1) * anatomy.spacing_mm[1]
    return max(0.0, x0), max(0.0, y0), min(w_mm, x1), min(h_mm, y1)


def resample_box(pixels: np.ndarray, pixel_spacing_mm: tuple[float, float], box_mm: tuple[float, float, float, float],
                 spacing_mm: float, *, blur_mm: float = S.PRESMOOTH_MM) -> np.ndarray:
    """Resample the (x0, y0, x1, y1) mm box of ``pixels`` to an isotropic ``spacing_mm`` grid.

    Output pixel (i, j) sits at (x0 + j*spacing, y0 + i*spacing) mm. First a Gaussian of fixed physical
    width ``blur_mm`` (sigma, mm) — at least the anti-alias width (factor - 1)/2 input pixels — then
    linear interpolation. The fixed physical blur gives every input pixel size the same effective
    resolution and, for quantum noise (constant power per mm^2), the same noise level.
    """
    sr, sc = pixel_spacing_mm
    x0, y0, x1, y1 = box_mm
    n_rows = int(np.floor((y1 - y0) / spacing_mm)) + 1
    n_cols = int(np.floor((x1 - x0) / spacing_mm)) + 1
    pad = 4 + int(np.ceil(3 * blur_mm / min(sr, sc)))
    r0 = max(0, int(np.floor(y0 / sr)) - pad)
    r1 = min(pixels.shape[0], int(np.ceil(y1 / sr)) + pad + 1)
    c0 = max(0, int(np.floor(x0 / sc)) - pad)
    c1 = min(pixels.shape[1], int(np.ceil(x1 / sc)) + pad + 1)
    window = pixels[r0:r1, c0:c1].astype(np.float64)
    sigma = (max(blur_mm / sr, (spacing_mm / sr - 1) / 2, 0.0), max(blur_mm / sc, (spacing_mm / sc - 1) / 2, 0.0))
    if sigma[0] > 0 or sigma[1] > 0:
        window = ndi.gaussian_filter(window, sigma, mode="nearest")
    rows = (y0 + np.arange(n_rows) * spacing_mm) / sr - r0
    cols = (x0 + np.arange(n_cols) * spacing_mm) / sc - c0
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    out = ndi.map_coordinates(window, [rr, cc], order=1, mode="nearest", prefilter=False)
    return out.astype(np.float32)


def _mask_on_grid(polygon_mm: np.ndarray, box_mm, spacing_mm: float, shape) -> np.ndarray:
    poly = (np.asarray(polygon_mm, dtype=np.float64) - np.array([box_mm[0], box_mm[1]])) / spacing_mm
    return polygon_mask(poly, shape)


def extract(radiograph: Radiograph, anatomy: WristAnatomy, *, spacing_mm: float = S.DEFAULT_SPACING_MM,
            bones: tuple[Bone, ...] = RAMRIS_BONES) -> BoneFeatures:
    """Features of every located bone of ``radiograph``.

    Parameters
    ----------
    radiograph : Radiograph
        Bone bright; its pixel grid is the one ``anatomy`` refers to.
    anatomy : WristAnatomy
        Regions in mm of the original image frame (``anatomy.spacing_mm`` converts them to pixels).
    spacing_mm : float, default 0.2
        Isotropic analysis spacing in mm; part of the feature schema (and its hash).
    bones : tuple of Bone
        Bones to compute; default all RAMRIS wrist bones.

    Returns
    -------
    BoneFeatures

    Raises
    ------
    InputError
        ``spacing_mm`` is not a positive number, or the anatomy's image shape differs from the radiograph's.
    """
    if not (np.isfinite(spacing_mm) and 0.02 <= spacing_mm <= 2.0):
        raise InputError(f"features.extract: spacing_mm={spacing_mm!r} is outside 0.02–2 mm; use e.g. 0.2")
    if tuple(anatomy.image_shape) != tuple(radiograph.shape):
        raise InputError(f"features.extract: anatomy image_shape {tuple(anatomy.image_shape)} differs from the "
                         f"radiograph's {tuple(radiograph.shape)}; locate the anatomy on this radiograph")
    schema = S.feature_schema(spacing_mm)
    n_feat = len(schema.features)
    exclusions: dict[Bone, str] = {}
    qc: list[str] = []
    for bone in bones:
        if bone not in anatomy.regions:
            exclusions[bone] = "not_located"
    if not anatomy.regions:
        return BoneFeatures(schema, {}, exclusions, None, ("no_regions",))
    blocking = [f for f in anatomy.qc_flags if f in BLOCKING_IMAGE_FLAGS]
    if radiograph.spacing_mm is None and "uncalibrated" not in blocking:
        blocking.append("uncalibrated")

    reference, ref_source = reference_polygon(anatomy)
    qc.append(f"reference_{ref_source}")
    box = _crop_box_mm(anatomy, reference)
    img = resample_box(radiograph.pixels, anatomy.spacing_mm, box, spacing_mm)
    shape = img.shape
    masks = {b: _mask_on_grid(r.polygon_mm, box, spacing_mm, shape) for b, r in anatomy.regions.items()}
    union = np.zeros(shape, dtype=bool)
    for m in masks.values():
        union |= m
    ref_mask = _mask_on_grid(reference, box, spacing_mm, shape) if reference is not None else None
    blank = _blank_in_box(radiograph.pixels, anatomy.spacing_mm, box)
    blank_grid = None
    if blank is not None:
        # on the analysis grid with the same pre-smoothing: every pixel the blanked patch reaches counts
        blank_grid = resample_box(blank.astype(np.float32), anatomy.spacing_mm, box, spacing_mm) > 0.01
        if blank_grid.any():
            qc.append("blanked_pixels")
        else:
            blank_grid = None
    norm = normalisation(img, ref_mask, union, spacing_mm, white_point=white_point(radiograph.pixels),
                         blank=blank_grid)
    if norm is not None and norm.source == "bone_regions":
        qc.append("reference_from_bone_regions")
    values: dict[Bone, np.ndarray] = {}
    margin_px = int(np.ceil(3.0 / spacing_mm))
    axis_dir = forearm_direction(anatomy)
    normed = norm.apply(img) if norm is not None else None
    for bone in bones:
        if bone not in anatomy.regions:
            continue
        region = anatomy.regions[bone]
        mask = masks[bone]
        if blocking:
            exclusions[bone] = f"image_flagged:{blocking[0]}"
        elif region.qc_flags:
            exclusions[bone] = "region_flagged:" + ",".join(region.qc_flags)
        elif mask.sum() * spacing_mm ** 2 < MIN_REGION_AREA_MM2:
            exclusions[bone] = "too_small"
        elif blank_grid is not None and (mask & blank_grid).sum() > BLANK_MAX_REGION_FRACTION * mask.sum():
            exclusions[bone] = "blanked_pixels"
        elif normed is None:
            exclusions[bone] = "no_normalisation"
        if normed is None or mask.sum() < 10:
            continue
        rows, cols = np.nonzero(mask)
        r0, r1 = max(0, rows.min() - margin_px), min(shape[0], rows.max() + margin_px + 1)
        c0, c1 = max(0, cols.min() - margin_px), min(shape[1], cols.max() + margin_px + 1)
        win = normed[r0:r1, c0:c1]
        m = mask[r0:r1, c0:c1]
        others = union[r0:r1, c0:c1] & ~m
        depth = ndi.distance_transform_edt(m) * spacing_mm
        outside = ndi.distance_transform_edt(~m) * spacing_mm
        feats: dict[str, float] = {}
        feats.update(density_features(win, m, depth))
        trabecular = m & (depth >= S.TEXTURE_MIN_DEPTH_MM)
        if trabecular.sum() * spacing_mm ** 2 < MIN_REGION_AREA_MM2:
            trabecular = m
        feats.update(fractal_features(win, trabecular, spacing_mm))
        feats.update(glcm_features(win, trabecular, spacing_mm))
        feats.update(lbp_features(win, trabecular, spacing_mm))
        feats.update(lbp_features(win, trabecular, spacing_mm, S.LBP_FINE_RADIUS_MM, suffix="_0p4mm"))
        feats.update(wavelet_features(win, trabecular, spacing_mm))
        feats.update(subchondral_features(win, m, others, depth, outside, spacing_mm))
        feats.update(focal_features(win, m, depth, spacing_mm, axis_dir))
        vec = np.array([feats[name] for name in schema.names], dtype=np.float64)
        assert vec.shape == (n_feat,)
        values[bone] = vec
    return BoneFeatures(schema, values, exclusions, norm, tuple(qc))
