"""Quality control of a located wrist: confidences and ``QC_FLAGS`` per region and per image.

Region flags: ``cropped`` (more than ``CROP_FRACTION`` of the region lies outside the image),
``low_confidence`` (region confidence under ``locate.MIN_REGION_CONFIDENCE``), plus every image-level flag
that makes the whole image unscorable (``IMAGE_WIDE``). Image flags: those found while reading, plus
``not_pa_view``, ``strongly_rotated``, ``not_identifiable``, ``skeletally_immature``, ``cast_or_metal``,
``uncalibrated`` and, when any region is flagged, ``cropped`` / ``low_confidence``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from wristbme.anatomy.types import LANDMARKS, Region, WristAnatomy
from wristbme.bones import CARPALS, Bone

CROP_FRACTION = 0.10
MIN_CARPAL_CONTRAST = 0.30
"""Mean band-passed brightness inside the carpal regions of the fit (local-RMS units). A fit on real carpal
bones gives 0.39-0.79 (18 adult RA wrists, 3 adolescent hands, phantoms ≥ 0.48); fits that landed on fingers
or soft tissue (infant, child hands) gave 0.11-0.23. Below this the wrist is ``not_identifiable``."""
MAX_WEAK_REGIONS = 3
"""The image is ``low_confidence`` when this many regions (not counting ``UNRELIABLE_BONES``) are."""
UNRELIABLE_BONES = {Bone.PISIFORM: 0.3}
"""Confidence caps: the pisiform projects over the triquetrum on a PA view and could not be outlined by the
RAM-W600 annotators in 12 of 18 wrists, so its region is always reported as low confidence."""
NEIGHBOUR_LIMITS: dict[tuple[Bone, Bone], tuple[float, float]] = {
    **{(Bone(f"mc{i}"), Bone(f"mc{i + 1}")): (0.78, 1.5) for i in range(1, 5)},
    (Bone.ULNA, Bone.TRIQUETRUM): (0.6, 1.08),
}
"""Allowed ratio of the distance between two neighbouring anchors (found, divided by the fitted scale) to
the atlas distance. Outside it both regions get ``low_confidence``: one of them sits on the wrong bone.
On the 18 RAM-W600 wrists (leave-one-out) the adjacent MC-base ratios were 0.83-1.32 where the bases were
right and 0.61-0.75 where MC5 had collapsed onto MC4 (4 wrists); ulna-triquetrum 0.74-0.96, and 1.11
where the ulnar carpal row was fitted one bone distal (0149). On 60 phantoms correct fits gave MC ratios
0.85-1.31 and ulna-triquetrum 0.83-1.17 (3 of 60 above 1.08 are flagged although right: the phantoms' ulna
varies more than the real one); the upper ulna-triquetrum limit rests on one real failure."""
MIN_REGION_CONTRAST = {Bone.ULNA: 0.45}
"""Mean band-passed value inside a long-bone region below which it is not on the bone's head (local-RMS
units). Distal ulna on RAM-W600: 0.57-1.03 where right; 0.37 where the region slid into soft tissue
(0072) and 0.32 on a cropped ulna (0016)."""
MIN_CARPAL_MATCH = 0.15
"""Local NCC of a carpal centre's patch below which the bone does not look like a carpal bone (destroyed,
fused or hidden): that region gets ``low_confidence``. RAM-W600: the destroyed lunate of 0143 0.14; 5 other
carpals of the 18 wrists 0.01-0.14 (1 wrong, 4 right but weak, RA-changed); phantoms ≥ 0.2 on every
identifiable image. The threshold rests on one destroyed wrist."""
MIN_THUMB_BASE_MATCH = 0.40
"""Local NCC of the MC1 base patch below which that region gets ``low_confidence``. The thumb ray moves
more relative to the carpus than the other rays, so the shape model places its base least surely. Real
images (shipped atlas): RAM-W600 0.59-0.84, the DHA child 0.45 (whole image not identifiable), SHS_NET
adolescents 0.62, 0.75 and 0.32 — the last with the MC1 region on the thumb shaft, 1 cm past the base
(visual review); 48 phantoms 0.47-0.99 (median 0.93). The threshold rests on that one case."""
RADIOCARPAL_PARTNERS = (Bone.SCAPHOID, Bone.LUNATE)
"""The carpal bones that sit in the distal radius's articular fossae. The radius region ends at that joint,
and its articular landmarks are fitted together with theirs: when one of them does not look like a carpal
bone (``MIN_CARPAL_MATCH``), the radius region gets ``low_confidence`` too. RAM-W600 (leave-one-out): the
one radius region that missed its bone point unflagged (0210, tilted into the scaphoid) had a scaphoid match
of 0.009; the rule also flags the (right) radius regions of 0124 and 0143, whose lunates are weak or
destroyed; on phantoms no scaphoid or lunate falls below the threshold."""
SMALL_HAND_SCALE = 0.84
"""Fitted size of the wrist relative to the adult atlas below which a calibrated image is flagged
``skeletally_immature`` (adult RA wrists 0.96-1.20, adult phantoms 0.85-1.17 by construction; the
adolescent SHS_NET hands 0.72-0.91 and the infant 0.76 at their assumed spacings). A size cue only: an
adult with a very small hand is flagged too, an older adolescent with an adult-sized hand is not."""
MIN_METAL_MM2 = 20.0
"""Area (mm², at adult atlas size) of the largest metal-like blob (``_metal_area``: white point, ≥ 1.5 mm
thick, far above its surroundings, on the limb over the forearm, wrist or fingers 2-5) from which the image
is ``cast_or_metal``. ``benchmarks/anatomy_eval.py --foreign 48`` (2026-11-27): clean phantoms 0-3 (48),
RAM-W600 wrists, SHS_NET, DHA and infant hands 0 (23 real images); rings found 43-113, plates 229-905
(rings missed 5/48: 3 on hands not identified, 2 at site S07; plates missed 2/48)."""
MIN_METAL_STEP = 0.45
"""Metal stands far above what lies 0.5-1 mm beside it: (white point − median there) / image range must
reach this. Bone that merely reaches the white point (phantom forearms saturate by auto-ranging) gave
0.04-0.31, rings and plates 0.64-1.0 (first 16 phantoms of the benchmark)."""
MIN_CAST_RIM = 0.15
"""Height of a ridge beside the forearm (``_cast_rim``: a cast wall seen edge-on), relative to the image
range, from which the image is ``cast_or_metal``; only looked at when the wrist was identified.
``--foreign 48``: clean phantoms 0.000-0.097, the 18 RAM-W600 wrists 0.002-0.102 (the skin line's
edge-enhancement overshoot), SHS_NET and infant hands ≤ 0.018; plaster casts median 0.48, fibreglass 0.28.
Casts whose walls lie outside the field are missed (the rim is the only cast cue)."""
IMAGE_WIDE = ("not_pa_view", "strongly_rotated", "not_identifiable", "cast_or_metal", "skeletally_immature")
"""Image-level flags copied onto every region."""

BONE_LANDMARKS: dict[Bone, tuple[str, ...]] = {
    Bone.RADIUS: ("radius_articular_mid", "radial_styloid_tip"),
    Bone.ULNA: ("ulna_articular_mid", "ulnar_styloid_tip"),
    **{b: (f"{b.value}_centre",) for b in CARPALS},
    **{Bone(f"mc{i}"): (f"mc{i}_base_centre",) for i in range(1, 6)},
}


def region_confidence(landmark_conf: np.ndarray, image_conf: float) -> dict[Bone, float]:
    """Per-bone confidence in [0, 1] from the local match of its landmarks and the whole-wrist match."""
    out = {}
    for bone, names in BONE_LANDMARKS.items():
        local = float(np.mean([landmark_conf[LANDMARKS.index(n)] for n in names]))
        local = float(np.clip(local / 0.6, 0.0, 1.0))
        out[bone] = float(np.clip(np.sqrt(local * image_conf), 0.0, UNRELIABLE_BONES.get(bone, 1.0)))
    return out


def image_cues(enh: np.ndarray, origin: tuple[float, float], res: float, pts: np.ndarray,
               polys: dict[Bone, np.ndarray], conf: np.ndarray, pose, atlas,
               residual_mm: np.ndarray | None = None, image=None) -> dict:
    """Numbers QC decides on, from the canonical 0.5 mm enhanced image of the chosen fit and, when
    ``image`` (the locator's multi-resolution ``_Image``) is given, from its cached 0.5 mm level resampled
    into the canonical frame (foreign material, growth plates)."""
    from wristbme.anatomy.types import polygon_mask

    def inside_mean(poly: np.ndarray) -> float:
        px = (poly - np.asarray(origin)) / res
        m = polygon_mask(px, enh.shape)
        return float(enh[m].mean()) if m.any() else 0.0

    carp = [inside_mean(polys[b]) for b in CARPALS if b in polys]
    mcs = [inside_mean(polys[b]) for b in polys if b.value.startswith("mc")]
    cues: dict[str, object] = {"pose_ncc": float(pose.score), "landmark_ncc": float(np.mean(conf)),
            "landmark_ncc_min": float(np.min(conf)), "carpal_contrast": float(np.mean(carp)) if carp else 0.0,
            "mc_contrast": float(np.mean(mcs)) if mcs else 0.0, "angle_deg": float(pose.angle_deg),
            "scale": float(pose.scale)}
    cues["regions"] = region_cues(enh, origin, res, pts, polys, conf, atlas, residual_mm)
    if image is not None:
        cues.update(foreign_cues(image, pose, pts))
    return cues


RIM_SMOOTH_MM = 0.5
"""Smoothing (Gaussian sigma) of the forearm profiles the cast rim is looked for in: a thin fibreglass wall
is a ridge of ~1 mm."""
FOREIGN_RES_MM = 0.5
"""Grid of the canonical raw image the foreign-material cues work on."""
MARGIN_BAND_MIN_CONTACT_MM = 8.0
MARGIN_BAND_DEPTH = 0.5
"""A white blob that touches the margin (outside the image or unexposed) along at least
``MARGIN_BAND_MIN_CONTACT_MM`` and reaches less than ``MARGIN_BAND_DEPTH`` x that length into the field
(mean depth = area / contact) is a piece of collimated margin, not metal. All 15 ``cast_or_metal`` flags
of the demo cohort (8 sites x 20 patients, seed 0; sites S02, S04, S06) were white margin bands 2-6 mm
deep and 12-33 mm long that ``_unexposed`` had left in the field beside or below a burned-in label (see
``UNEXPOSED_LABEL_GAP_MM``, which alone removes them); this rule alone removed 13 of them (the other two
were separated from the margin by the label) and stays as a second guard. A plate running out of the field
touches the margin over its width (~10-15 mm) and reaches 35-55 mm into the field."""
METAL_MIN_WIDTH_MM = 1.5
"""White structures thinner than this (bone-overlap crescents, lead letters) are not counted as metal."""


def _canonical_raw(image, pose, pts: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The original pixels in the canonical frame at ``FOREIGN_RES_MM`` over the forearm, wrist and
    proximal phalanges around the fitted landmarks; NaN outside the image and on unexposed (collimated)
    margins. Returns (image, origin mm of its pixel (0, 0))."""
    from wristbme.anatomy import _geometry as geo

    k = pose.scale
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    box = (lo[0] - 40.0 * k, lo[1] - 120.0 * k, hi[0] + 40.0 * k, hi[1] + 60.0 * k)
    res = FOREIGN_RES_MM
    px, sp, to_orig = image.level(res)
    px = np.where(_unexposed(px, float(np.mean(sp))), np.float32(np.nan), px)
    m = geo.canonical_matrix(image.shape, image.spacing, mirror=pose.mirror, angle_deg=pose.angle_deg)
    shape = (max(2, int(np.ceil((box[3] - box[1]) / res)) + 1), max(2, int(np.ceil((box[2] - box[0]) / res)) + 1))
    return geo.resample(px, sp, m @ to_orig, (box[0], box[1]), shape, res), (box[0], box[1])


UNEXPOSED_TOLERANCE = 0.06
"""White (for the margins) = within this share of the range below the 99.9th percentile of the 3×3-median
filtered image. With 3 % and no median filter, noise of 1 % of the range broke the white runs of a margin
and the margin's speckle was taken for metal."""
UNEXPOSED_MIN_DEPTH_PX = 2
"""A side of the image has a collimated margin when the median run of white pixels from that border is at
least this long."""


UNEXPOSED_LABEL_GAP_MM = 6.0
"""A dark gap of at most this height inside a white run from the border (a burned-in text box drawn on the
margin, 3-5 mm tall, and the white letters in it) does not end the run. Without it, a label over most of a
side cut the runs at its top edge, and the margin beside and below it was taken for metal (all 15
``cast_or_metal`` flags of the demo cohort, sites S02/S04/S06)."""
UNEXPOSED_LABEL_DEPTH_MM = 25.0
"""Gaps are bridged only this close to the border (margins are 2-9 mm, labels sit on them)."""


def _white_runs(white: np.ndarray, gap_px: int = 0, depth_px: int = 0) -> np.ndarray:
    """Length of the run of white pixels from the top border, per column; with ``gap_px``, a run that starts
    at the border continues across dark gaps of at most ``gap_px`` pixels that end within ``depth_px``."""
    n = white.shape[0]
    first_dark = np.argmax(~white, axis=0)
    end = np.where(white.all(axis=0), n, first_dark)
    if gap_px <= 0 or depth_px <= 0:
        return end
    w = white[:min(n, depth_px)]
    rows = np.arange(w.shape[0])[:, None]

    def first(mask: np.ndarray, start: np.ndarray) -> np.ndarray:
        m = mask & (rows >= start[None, :])
        return np.where(m.any(axis=0), np.argmax(m, axis=0), n)

    active = (end > 0) & (end < w.shape[0])  # white at the border (a margin a label may interrupt)
    for _ in range(6):  # the label's top edge, then the strokes of its letters
        resume = first(w, end)
        ok = active & (resume - end <= gap_px) & (resume < w.shape[0])
        if not ok.any():
            break
        end = np.where(ok, np.minimum(first(~w, resume), w.shape[0]), end)  # capped at the depth
        active = ok & (end < w.shape[0])
    return end


def _unexposed(px: np.ndarray, spacing_mm: float | None = None) -> np.ndarray:
    """Collimated margins shown white, at any blade angle.

    Per image side, the run of white pixels from the border is measured along every line; the blade's edge
    is the Theil–Sen line through those depths (robust: metal or bone that runs into the margin, such as a
    plate on a shaft leaving the field, lengthens the runs of a minority of lines and is ignored), and the
    margin is everything outside it. Whole white rows/columns missed a tilted blade, whose oblique white
    band then looked like metal. White: ``UNEXPOSED_TOLERANCE`` (percentile, not the maximum: noise and
    interpolation overshoot push single pixels above the plateau). With ``spacing_mm`` (of ``px``), a label
    burned in on the margin does not end the runs (``UNEXPOSED_LABEL_GAP_MM``)."""
    from scipy import ndimage as ndi
    from scipy.stats import theilslopes

    out = np.zeros(px.shape, dtype=bool)
    smooth = ndi.median_filter(np.nan_to_num(px, nan=-np.inf), size=3)  # quantum noise must not break the runs
    sample = smooth[::4, ::4]
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        return out
    floor, top = (float(v) for v in np.percentile(finite, [1, 99.9]))
    if top <= floor:
        return out
    white = smooth >= top - UNEXPOSED_TOLERANCE * (top - floor)
    views = (lambda a: a, lambda a: a[::-1], lambda a: a.T, lambda a: a.T[::-1])
    label_px = (0, 0)
    if spacing_mm:
        label_px = (int(round(UNEXPOSED_LABEL_GAP_MM / spacing_mm)), int(round(UNEXPOSED_LABEL_DEPTH_MM / spacing_mm)))
    for view in views:
        w = view(white)
        runs = _white_runs(w, *label_px).astype(np.float64)
        if np.median(runs) < UNEXPOSED_MIN_DEPTH_PX:
            continue
        pos = np.arange(runs.size, dtype=np.float64)
        step = max(1, runs.size // 200)
        slope, intercept, _, _ = theilslopes(runs[::step], pos[::step])
        edge = intercept + slope * pos + 1.0  # one more line: a blade edge is blurred over a pixel
        rows = np.arange(w.shape[0])[:, None]
        view(out)[...] |= rows < edge[None, :]
    return out


def foreign_cues(image, pose, pts: np.ndarray) -> dict[str, float]:
    """Cues for ``cast_or_metal`` (see ``MIN_METAL_MM2`` and ``MIN_CAST_RIM``), scale-normalised."""
    raw, origin = _canonical_raw(image, pose, pts)
    res = FOREIGN_RES_MM
    white, margin = _white_and_margin(raw)
    cap = pts[LANDMARKS.index("capitate_centre")]
    centre_px = (int(round((cap[1] - origin[1]) / res)), int(round((cap[0] - origin[0]) / res)))
    zone = _metal_zone(raw.shape, origin, res, pts, pose.scale)
    metal, marker = 0.0, 0.0
    blobs = _metal_blobs(raw, white, margin, res, centre_px, zone)
    if blobs:
        from wristbme.anatomy import _geometry as geo

        m = geo.canonical_matrix(image.shape, image.spacing, mirror=pose.mirror, angle_deg=pose.angle_deg)
        vals = raw[np.isfinite(raw)]
        top, floor = float(vals.max()), float(np.percentile(vals, 1))
        for sl, area in blobs:
            if area >= MARKER_CHECK_MM2 and _is_marker(image, m, origin, res, sl, top, floor):
                marker = max(marker, area)
            else:
                metal = max(metal, area)
    return {"metal_mm2": metal / pose.scale ** 2, "marker_mm2": marker / pose.scale ** 2,
            "cast_rim": _cast_rim(raw, origin, res, pts, pose.scale)}


MARKER_CHECK_MM2 = 4.0
"""Metal-like blobs of at least this area (mm², canonical grid) are checked for a lead marker
(``_is_marker``); smaller ones cannot reach ``MIN_METAL_MM2`` anyway."""
MARKER_PAD_MM = 3.0
"""The full-resolution box around a blob reaches this far beyond it (a glyph's thin strokes that did not
survive the opening on the 0.5 mm grid lie within it)."""
MARKER_MAX_PX = 320
"""Largest side (pixels) of that box: coarser than the original spacing beyond it."""
MARKER_SIZE_MM = (3.0, 17.0)
"""Largest extent (Feret diameter, mm) of a lead letter: markers are 5-15 mm tall (nominal letter size), the
glyph's ink 3.5-11 mm, up to ~16 mm across its diagonal."""
MARKER_STROKE_MM = (0.5, 3.5)
"""Median stroke width (mm) of a letter (phantom glyphs of 10-15 mm: 2.0-3.1 mm; a 5 mm glyph's ~1 mm strokes
do not survive the 0.5 mm grid's opening and never reach this check)."""
MARKER_MIN_SLENDER = 3.0
"""Extent / stroke width from which the object is drawn with strokes (a ring band, a screw head or a plate
end is a solid shape: extent / width 1-4)."""
MARKER_MAX_SOLIDITY = {0: 0.75, 1: 0.88}
"""By the number of holes: area / convex-hull area up to which the object is letter-like. Phantom markers:
L (no hole) 0.64-0.69, R (one hole, a bold glyph) 0.78-0.81; ring bands 0.92-0.96 and screw heads are convex
with no hole (first 8 phantoms of ``anatomy_eval.py --foreign``)."""
MARKER_MIN_CONSTANT = 0.6
"""Share of the skeleton whose local width is within ±35 % of the median width: strokes of constant width."""


def _is_marker(image, matrix: np.ndarray, origin: tuple[float, float], res: float, sl: tuple[slice, slice],
               top: float, floor: float) -> bool:
    """Whether the metal-like blob at ``sl`` (canonical grid at ``res`` from ``origin``) is a lead letter.

    Looked at in a small box around the blob at (up to) the original resolution: the white object that
    contains the blob (pixels above half-way between the white point and the box's median) must be one
    letter-like shape: 1 or 0 holes (L or R, mirrored or rotated alike), ``MARKER_SIZE_MM`` across, drawn
    with strokes (``MARKER_STROKE_MM`` wide, ``MARKER_MIN_SLENDER``) of constant width
    (``MARKER_MIN_CONSTANT``) and concave for its holes (``MARKER_MAX_SOLIDITY``). Metal that passes: a thin bent wire or
    staple of letter size (not modelled)."""
    feats = marker_features(image, matrix, origin, res, sl, top, floor)
    if feats is None:
        return False
    return (MARKER_SIZE_MM[0] <= feats["extent_mm"] <= MARKER_SIZE_MM[1]
            and MARKER_STROKE_MM[0] <= feats["stroke_mm"] <= MARKER_STROKE_MM[1]
            and feats["extent_mm"] / feats["stroke_mm"] >= MARKER_MIN_SLENDER
            and feats["solidity"] <= MARKER_MAX_SOLIDITY.get(int(feats["holes"]), -1.0)
            and feats["constant"] >= MARKER_MIN_CONSTANT and feats["parts"] == 1)


def marker_features(image, matrix: np.ndarray, origin: tuple[float, float], res: float,
                    sl: tuple[slice, slice], top: float, floor: float) -> dict[str, float] | None:
    """Shape of the white object at the blob ``sl`` at full resolution (see ``_is_marker``): extent_mm,
    stroke_mm (median width on the skeleton), constant, solidity, holes, parts; ``None`` if nothing."""
    from scipy import ndimage as ndi
    from skimage.measure import euler_number, regionprops
    from skimage.morphology import skeletonize

    from wristbme.anatomy import _geometry as geo

    x0 = origin[0] + sl[1].start * res - MARKER_PAD_MM
    y0 = origin[1] + sl[0].start * res - MARKER_PAD_MM
    x1 = origin[0] + sl[1].stop * res + MARKER_PAD_MM
    y1 = origin[1] + sl[0].stop * res + MARKER_PAD_MM
    fine = max(min(image.spacing), max(x1 - x0, y1 - y0) / MARKER_MAX_PX)
    px, sp, to_orig = image.level(2.0 * min(image.spacing))  # the original pixels
    shape = (int(np.ceil((y1 - y0) / fine)) + 1, int(np.ceil((x1 - x0) / fine)) + 1)
    patch = geo.resample(px, sp, matrix @ to_orig, (x0, y0), shape, fine)
    ok = np.isfinite(patch)
    if ok.mean() < 0.5:
        return None
    bg = float(np.median(patch[ok]))
    obj = ok & (patch >= top - 0.5 * (top - max(bg, floor)))
    core = ok & (patch >= top - 0.03 * (top - floor))  # at the white point, as the blob
    b = int(round(MARKER_PAD_MM / fine))
    inner = np.zeros_like(obj)
    inner[b:shape[0] - b, b:shape[1] - b] = True
    lab, _ = ndi.label(obj, structure=np.ones((3, 3)))
    keep = np.unique(lab[core & inner])
    keep = keep[keep > 0]
    if keep.size == 0:
        return None
    mask = np.isin(lab, keep)
    if mask[[0, -1], :].any() or mask[:, [0, -1]].any():
        return {"extent_mm": np.inf, "stroke_mm": 0.0, "constant": 0.0, "solidity": 1.0, "holes": -1,
                "parts": int(keep.size)}  # runs out of the box: larger than a letter
    props = regionprops(mask.astype(np.uint8))[0]
    dt = ndi.distance_transform_edt(mask)
    sk = skeletonize(mask)
    widths = 2.0 * dt[sk] * fine
    w_med = float(np.median(widths)) if widths.size else 0.0
    const = float(np.mean(np.abs(widths - w_med) <= 0.35 * w_med)) if widths.size else 0.0
    return {"extent_mm": float(props.feret_diameter_max) * fine, "stroke_mm": w_med, "constant": const,
            "solidity": float(props.solidity), "holes": int(keep.size - euler_number(mask, connectivity=2)),
            "parts": int(keep.size)}


def _white_and_margin(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pixels at the white point, the margin: outside the image or unexposed, and the grid border)."""
    valid = np.isfinite(raw)
    white = np.zeros(raw.shape, dtype=bool)
    margin = ~valid
    margin[[0, -1], :] = True
    margin[:, [0, -1]] = True
    if valid.sum() < 100:
        return white, margin
    vals = raw[valid]
    top = float(vals.max())
    floor = float(np.percentile(vals, 1))
    if top > floor:
        white = valid & (raw >= top - 0.03 * (top - floor))
    return white, margin


def _limb(raw: np.ndarray, tissue: float, centre_px: tuple[int, int]) -> np.ndarray:
    """The connected region brighter than ``tissue`` (air excluded) that holds the wrist at ``centre_px``
    (row, col), closed over 1.5 mm so a dark processing halo does not cut it."""
    from scipy import ndimage as ndi

    body = np.isfinite(raw) & (raw > tissue)
    body = ndi.binary_closing(body, iterations=3)
    lab, n = ndi.label(body)
    if n == 0:
        return body
    r, c = np.clip(centre_px[0], 0, raw.shape[0] - 1), np.clip(centre_px[1], 0, raw.shape[1] - 1)
    keep = lab[r, c]
    if keep == 0:
        keep = int(np.argmax(np.bincount(lab.ravel())[1:])) + 1
    return lab == keep


def _metal_zone(shape: tuple[int, int], origin: tuple[float, float], res: float, pts: np.ndarray,
                k: float) -> np.ndarray:
    """Where metal counts (canonical grid): the forearm and wrist up to the metacarpal bases (15 mm beyond
    the outermost landmarks on each side), and distal of the bases a trapezoid over fingers 2-5 (10 mm
    beyond the MC2 and MC5 bases, widening by 0.3 mm per mm: spread fingers). Lead side markers beside the hand fall
    outside it."""
    yy = origin[1] + np.arange(shape[0])[:, None] * res
    xx = origin[0] + np.arange(shape[1])[None, :] * res
    bases = np.array([pts[LANDMARKS.index(f"mc{i}_base_centre")] for i in range(2, 6)])
    y_base = float(bases[:, 1].min())
    wrist = (yy >= y_base) & (xx >= pts[:, 0].min() - 15.0 * k) & (xx <= pts[:, 0].max() + 15.0 * k)
    d = np.clip(y_base - yy, 0.0, None)
    fingers = (yy < y_base) & (xx >= bases[:, 0].min() - 10.0 * k - 0.3 * d) & \
        (xx <= bases[:, 0].max() + 10.0 * k + 0.3 * d)
    return wrist | fingers


def _metal_area(raw: np.ndarray, white: np.ndarray, margin: np.ndarray, res: float,
                centre_px: tuple[int, int], zone: np.ndarray) -> float:
    """Area (mm²) of the largest thick blob (``METAL_MIN_WIDTH_MM``: survives an opening) at the white point that
    lies in the limb within ``zone`` (not on air, not on a marker holder, not part of an unexposed margin).
    """
    return max((area for _, area in _metal_blobs(raw, white, margin, res, centre_px, zone)), default=0.0)


def _metal_blobs(raw: np.ndarray, white: np.ndarray, margin: np.ndarray, res: float,
                 centre_px: tuple[int, int], zone: np.ndarray) -> list[tuple[tuple[slice, slice], float]]:
    """The metal-like blobs of ``_metal_area``: (bounding box on the grid, area mm²) each."""
    from scipy import ndimage as ndi

    bright = white & ~margin
    if not bright.any():
        return []
    vals = raw[np.isfinite(raw)]
    floor, mid = np.percentile(vals, [1, 50])
    top = float(vals.max())
    r = METAL_MIN_WIDTH_MM / 2.0 / res
    n = int(np.ceil(r))
    disk = np.hypot(*np.mgrid[-n:n + 1, -n:n + 1]) <= r + 0.01
    thick = ndi.binary_opening(bright, structure=disk)
    lab, _ = ndi.label(thick)
    rim = ndi.binary_dilation(margin, iterations=2) & ~margin  # a band 2 pixels wide
    # the limb, widened by 3 mm so the dark processing halo around metal on a thin finger still counts
    limb = ndi.binary_dilation(_limb(raw, floor + 0.15 * (mid - floor), centre_px),
                               iterations=int(round(3.0 / res))) & zone
    out: list[tuple[tuple[slice, slice], float]] = []
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        if sl is None:
            continue
        pad = int(round(2.0 / res))
        r0, r1 = max(sl[0].start - 2 * pad - 1, 0), sl[0].stop + 2 * pad + 1
        c0, c1 = max(sl[1].start - 2 * pad - 1, 0), sl[1].stop + 2 * pad + 1
        comp = lab[r0:r1, c0:c1] == i
        grown = ndi.binary_dilation(comp, iterations=3)
        area = float(comp.sum()) * res * res
        contact_mm = float((grown & rim[r0:r1, c0:c1]).sum()) * res / 2.0
        if contact_mm > 30.0:
            continue  # runs along the border over > 30 mm: a wide unexposed margin
        if contact_mm >= MARGIN_BAND_MIN_CONTACT_MM and area / contact_mm < MARGIN_BAND_DEPTH * contact_mm:
            continue  # a shallow band flush with the margin: margin that ``_unexposed`` missed
        # 2-4 mm around it at least 30 % is (near) the limb: not a lead marker or text on air
        ring = ndi.binary_dilation(comp, iterations=2 * pad) & ~ndi.binary_dilation(comp, iterations=pad)
        ring &= ~margin[r0:r1, c0:c1]
        if not ring.any() or np.mean(limb[r0:r1, c0:c1][ring]) < 0.3:
            continue
        # metal stands far above whatever is next to it; bone that merely reaches the white point does not
        edge = ndi.binary_dilation(comp, iterations=2) & ~ndi.binary_dilation(comp, iterations=1)
        edge &= np.isfinite(raw[r0:r1, c0:c1])
        if not edge.any() or (top - np.median(raw[r0:r1, c0:c1][edge])) / (top - floor) < MIN_METAL_STEP:
            continue
        out.append((sl, area))
    return out


def _cast_rim(raw: np.ndarray, origin: tuple[float, float], res: float, pts: np.ndarray, k: float) -> float:
    """Height of a bright rim lateral to the forearm bones (a cast wall seen tangentially), relative to the
    image's range. Rows 0-60 mm proximal of the radial articular surface (forearm vertical) are averaged in
    1 mm groups and smoothed over 1 mm; each group's profile, walked outwards from the styloids until the
    image ends, should fall monotonically to the air. The cue is, for the worse side, the median over groups
    of the largest ridge (``_ridge_height``: a rise that falls again within 15 mm, as a cast wall does)."""
    from scipy import ndimage as ndi

    ra = pts[LANDMARKS.index("radius_articular_mid")]
    rs = pts[LANDMARKS.index("radial_styloid_tip")]
    us = pts[LANDMARKS.index("ulnar_styloid_tip")]
    vals = raw[np.isfinite(raw)]
    if vals.size < 100:
        return 0.0
    lo, hi = np.percentile(vals, [1, 99])
    x = origin[0] + np.arange(raw.shape[1]) * res
    sides = (x < min(rs[0], us[0]) - 2.0 * k, x > max(rs[0], us[0]) + 2.0 * k)
    g = int(round(1.0 / res))
    r_start = max(int(round((ra[1] - origin[1]) / res)), 0)
    r_stop = min(int(round((ra[1] + 60.0 * k - origin[1]) / res)), raw.shape[0])
    bumps: list[list[float]] = [[], []]
    for r0 in range(r_start, r_stop - g + 1, g):
        band = raw[r0:r0 + g]
        ok = np.isfinite(band)
        w = ndi.gaussian_filter1d(ok.mean(axis=0), RIM_SMOOTH_MM / res)
        prof = ndi.gaussian_filter1d(np.where(ok, band, 0.0).mean(axis=0), RIM_SMOOTH_MM / res) / np.maximum(w, 1e-6)
        prof[w < 0.9] = np.nan  # near the image border
        for j, side in enumerate(sides):
            p = prof[side][::-1] if j == 0 else prof[side]  # outwards from the bones
            bad = ~np.isfinite(p)
            if bad.any():
                p = p[:int(np.argmax(bad))]
            if p.size < 4:
                continue
            bumps[j].append(_ridge_height(p, int(round(15.0 / res))))
    best = max((float(np.median(b)) for b in bumps if len(b) >= 2), default=0.0)
    return best / max(hi - lo, 1e-6)


def _ridge_height(p: np.ndarray, width: int) -> float:
    """Largest ridge in a profile walked outwards: min(rise above the running minimum before it, drop to the
    minimum within ``width`` samples after it)."""
    from scipy import ndimage as ndi

    rise = p - np.minimum.accumulate(p)
    width = width + (width % 2 == 1)  # the origin shift below needs an even window
    after = ndi.minimum_filter1d(p, width, mode="nearest", origin=-(width // 2))  # min of p[i:i + width]
    return float(np.max(np.minimum(rise, p - after)))


def region_cues(enh, origin, res, pts, polys, conf, atlas, residual_mm) -> dict[str, dict[str, float]]:
    """Per-region evidence: mean band-passed value inside, landmark match, shape-model residual (atlas mm),
    deviation of the anchor from the similarity-fitted mean shape (atlas mm)."""
    from wristbme.anatomy import _geometry as geo
    from wristbme.anatomy.atlas import similarity_fit
    from wristbme.anatomy.types import polygon_mask

    s = similarity_fit(atlas.mean_shape, pts, np.ones(len(pts)))
    k = float(np.sqrt(abs(np.linalg.det(s[:2, :2]))))
    dev = np.linalg.norm(geo.apply(s, atlas.mean_shape) - pts, axis=1) / k
    anchors = {b: LANDMARKS.index(n[0]) for b, n in BONE_LANDMARKS.items()}
    ratios = {}
    for a, b in NEIGHBOUR_LIMITS:
        i, j = anchors[a], anchors[b]
        ratios[(a, b)] = float(np.linalg.norm(pts[i] - pts[j])
                               / (k * np.linalg.norm(atlas.mean_shape[i] - atlas.mean_shape[j]) + 1e-9))
    out = {}
    for bone, poly in polys.items():
        px = (poly - np.asarray(origin)) / res
        m = polygon_mask(px, enh.shape)
        vals = enh[m] if m.any() else np.zeros(1)
        idx = [LANDMARKS.index(n) for n in BONE_LANDMARKS[bone]]
        out[bone.value] = {"contrast": float(vals.mean()), "contrast_p75": float(np.percentile(vals, 75)),
                           "landmark_ncc": float(np.mean(conf[idx])),
                           "residual_mm": float(np.max(residual_mm[idx])) if residual_mm is not None else 0.0,
                           "shape_dev_mm": float(np.max(dev[idx]))}
        for (a, b), r in ratios.items():
            if bone in (a, b):
                other = b if bone is a else a
                out[bone.value][f"spacing_{other.value}"] = r
    return out


def apply_qc(anatomy: WristAnatomy, radiograph, *, pose, flags: set[str], cues: dict,
             corrected: set[Bone], corrections: dict | None) -> WristAnatomy:
    from wristbme.anatomy.locator import (
        LOW_IMAGE_NCC,
        MIN_IMAGE_NCC,
        MIN_REGION_CONFIDENCE,
        ROTATION_LIMIT_DEG,
    )

    flags = set(flags)
    if abs(pose.angle_deg) > ROTATION_LIMIT_DEG:
        flags.add("strongly_rotated")
    if pose.score < MIN_IMAGE_NCC:
        flags.add("not_identifiable")
    elif pose.score < LOW_IMAGE_NCC:
        flags.add("low_confidence")
    if cues.get("carpal_contrast", 1.0) < MIN_CARPAL_CONTRAST:
        flags.add("not_identifiable")
    if "uncalibrated" not in flags and cues.get("scale", 1.0) < SMALL_HAND_SCALE:
        flags.add("skeletally_immature")
    # the cast rim is looked for beside the fitted forearm: meaningless when the wrist was not found
    rim = cues.get("cast_rim", 0.0) if "not_identifiable" not in flags else 0.0
    if cues.get("metal_mm2", 0.0) >= MIN_METAL_MM2 or rim >= MIN_CAST_RIM:
        flags.add("cast_or_metal")
    implausible = implausible_regions(cues.get("regions", {}))
    regions = {}
    for bone, reg in anatomy.regions.items():
        if bone in corrected:
            regions[bone] = reg
            continue
        rf = {f for f in flags if f in IMAGE_WIDE}
        if _outside_fraction(anatomy, reg) > CROP_FRACTION:
            rf.add("cropped")
        if reg.confidence < MIN_REGION_CONFIDENCE or bone in implausible:
            rf.add("low_confidence")
        regions[bone] = replace(reg, qc_flags=tuple(sorted(rf)))
    if any("cropped" in r.qc_flags for r in regions.values()):
        flags.add("cropped")
    weak = [b for b, r in regions.items() if "low_confidence" in r.qc_flags and b not in UNRELIABLE_BONES]
    if len(weak) >= MAX_WEAK_REGIONS:
        flags.add("low_confidence")
    from wristbme.anatomy.types import QC_FLAGS

    ordered = tuple(f for f in QC_FLAGS if f in flags)
    return replace(anatomy, regions=regions, qc_flags=ordered, corrections=corrections or None)


def implausible_regions(region_cues: dict[str, dict[str, float]]) -> set[Bone]:
    """Regions whose evidence contradicts the atlas: neighbour spacing outside ``NEIGHBOUR_LIMITS`` (both
    bones of the pair), too little bone signal inside (``MIN_REGION_CONTRAST``) or a carpal centre that does
    not look like one (``MIN_CARPAL_MATCH``; for the scaphoid and lunate the radius too,
    ``RADIOCARPAL_PARTNERS``), or a thumb base that does not look like one (``MIN_THUMB_BASE_MATCH``)."""
    out: set[Bone] = set()
    for (a, b), (lo, hi) in NEIGHBOUR_LIMITS.items():
        r = region_cues.get(a.value, {}).get(f"spacing_{b.value}")
        if r is not None and not lo <= r <= hi:
            out |= {a, b}
    for bone, lo in MIN_REGION_CONTRAST.items():
        c = region_cues.get(bone.value, {}).get("contrast")
        if c is not None and c < lo:
            out.add(bone)
    for bone in CARPALS:
        m = region_cues.get(bone.value, {}).get("landmark_ncc")
        if m is not None and m < MIN_CARPAL_MATCH:
            out.add(bone)
            if bone in RADIOCARPAL_PARTNERS:
                out.add(Bone.RADIUS)
    m = region_cues.get(Bone.MC1.value, {}).get("landmark_ncc")
    if m is not None and m < MIN_THUMB_BASE_MATCH:
        out.add(Bone.MC1)
    return out


def _outside_fraction(anatomy: WristAnatomy, reg: Region) -> float:
    from wristbme.anatomy.types import polygon_mask

    px = anatomy.to_pixels(reg.polygon_mm)
    lo = np.floor(px.min(axis=0)).astype(int) - 1
    hi = np.ceil(px.max(axis=0)).astype(int) + 2
    shape = (int(hi[1] - lo[1]), int(hi[0] - lo[0]))
    if shape[0] <= 0 or shape[1] <= 0:
        return 1.0
    m = polygon_mask(px - lo, shape)
    total = m.sum()
    if total == 0:
        return 1.0
    rr, cc = np.nonzero(m)
    rr, cc = rr + lo[1], cc + lo[0]
    inside = (rr >= 0) & (cc >= 0) & (rr < anatomy.image_shape[0]) & (cc < anatomy.image_shape[1])
    return float(1.0 - inside.sum() / total)
