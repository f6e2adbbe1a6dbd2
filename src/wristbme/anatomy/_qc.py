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
SMALL_HAND_SCALE = 0.84
"""Fitted size of the wrist relative to the adult atlas below which a calibrated image is flagged
``skeletally_immature`` (adult RA wrists 0.96-1.20, adult phantoms 0.85-1.17 by construction; the
adolescent SHS_NET hands 0.72-0.91 and the infant 0.76 at their assumed spacings). A size cue only: an
adult with a very small hand is flagged too, an older adolescent with an adult-sized hand is not."""
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
               residual_mm: np.ndarray | None = None) -> dict:
    """Numbers QC decides on, all from the canonical 0.5 mm enhanced image of the chosen fit."""
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
    return cues


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
    not look like one (``MIN_CARPAL_MATCH``)."""
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
