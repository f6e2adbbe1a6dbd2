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
               polys: dict[Bone, np.ndarray], conf: np.ndarray, pose, atlas) -> dict[str, float]:
    """Numbers QC decides on, all from the canonical 0.5 mm enhanced image of the chosen fit."""
    from wristbme.anatomy.types import polygon_mask

    def inside_mean(poly: np.ndarray) -> float:
        px = (poly - np.asarray(origin)) / res
        m = polygon_mask(px, enh.shape)
        return float(enh[m].mean()) if m.any() else 0.0

    carp = [inside_mean(polys[b]) for b in CARPALS if b in polys]
    mcs = [inside_mean(polys[b]) for b in polys if b.value.startswith("mc")]
    cues = {"pose_ncc": float(pose.score), "landmark_ncc": float(np.mean(conf)),
            "landmark_ncc_min": float(np.min(conf)), "carpal_contrast": float(np.mean(carp)) if carp else 0.0,
            "mc_contrast": float(np.mean(mcs)) if mcs else 0.0, "angle_deg": float(pose.angle_deg),
            "scale": float(pose.scale)}
    return cues


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
    regions = {}
    for bone, reg in anatomy.regions.items():
        if bone in corrected:
            regions[bone] = reg
            continue
        rf = {f for f in flags if f in IMAGE_WIDE}
        if _outside_fraction(anatomy, reg) > CROP_FRACTION:
            rf.add("cropped")
        if reg.confidence < MIN_REGION_CONFIDENCE:
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
