"""Accuracy measures of the locator, on synthetic phantoms (exact truth) and on annotated real wrists.

Used by ``benchmarks/anatomy_eval.py`` (the full acceptance run) and by the tests (a few cases).
Synthetic results are synthetic: they measure the method against its own generator, not clinical accuracy.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wristbme.anatomy.types import WristAnatomy
from wristbme.bones import Bone

SITES = ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08")
RAMW_STRUCTURE_TO_BONE = {
    "distal_radius": Bone.RADIUS, "distal_ulna": Bone.ULNA,
    **{b.value: b for b in Bone if not b.is_long_bone},
    **{f"mc{i}_base": Bone(f"mc{i}") for i in range(1, 6)},
}


def landmark_errors(pred: WristAnatomy, truth_mm: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Euclidean error (mm) per landmark present in both."""
    return {n: float(np.hypot(*(np.asarray(pred.landmarks[n]) - np.asarray(p))))
            for n, p in truth_mm.items() if n in pred.landmarks}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return float(2.0 * np.logical_and(a, b).sum() / s) if s else 1.0


def region_dice(pred: WristAnatomy, truth_masks: dict[Bone, np.ndarray]) -> dict[Bone, float]:
    """Dice of each predicted region against the true mask (a missing prediction scores 0)."""
    out = {}
    for bone, mask in truth_masks.items():
        if mask.sum() == 0:
            continue
        out[bone] = dice(pred.mask(bone), mask) if bone in pred.regions else 0.0
    return out


@dataclass(frozen=True)
class SynthCase:
    index: int
    site: str
    laterality: str
    field: str
    spacing_mm: float
    rotation_deg: float
    hide_laterality: bool


def synthetic_cases(n: int, seed: int = 2026) -> list[SynthCase]:
    """``n`` cases balanced over sites, sides and fields; rotation uniform in ±45°; spacing 0.1–0.2 mm."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append(SynthCase(i, SITES[i % len(SITES)], "RL"[(i // len(SITES)) % 2],
                             ("full", "wrist")[(i // (2 * len(SITES))) % 2],
                             float(rng.choice([0.1, 0.15, 0.2])), float(rng.uniform(-45, 45)),
                             bool(i % 7 == 3)))
    return out


def render_case(case: SynthCase, seed: int = 2026):
    """The phantom of ``case`` (deterministic)."""
    from dataclasses import replace

    from wristbme.imaging.radiograph import Laterality
    from wristbme.synth.phantom import HandSpec, render_phantom

    rng = np.random.default_rng([seed, case.index])
    spec = HandSpec.sample(rng, laterality=case.laterality, field=case.field, spacing_mm=case.spacing_mm,
                           rotation_deg=case.rotation_deg)
    ph = render_phantom(spec, seed=int(rng.integers(1 << 30)), site=case.site)
    rg = ph.radiograph
    if case.hide_laterality:
        rg = replace(rg, laterality=Laterality.UNKNOWN)
    return ph, rg


def evaluate_synthetic(cases: list[SynthCase], *, locate: Callable | None = None, seed: int = 2026,
                       progress: Callable[[int], None] | None = None) -> list[dict]:
    """Rows ``{case, site, side, field, rotation_deg, kind, name, value, truth_cropped, flagged}``.

    ``kind`` is ``landmark_mm`` (error) or ``dice``; also one ``time_s`` row per case.
    """
    import time

    from wristbme.anatomy.locator import locate as default_locate

    locate = locate or default_locate
    rows = []
    for case in cases:
        ph, rg = render_case(case, seed)
        t0 = time.perf_counter()
        pred = locate(rg)
        dt = time.perf_counter() - t0
        truth = ph.truth_anatomy()
        base = {"case": case.index, "site": case.site, "side": case.laterality, "field": case.field,
                "rotation_deg": round(case.rotation_deg, 1), "spacing_mm": case.spacing_mm,
                "image_flags": ",".join(pred.qc_flags)}
        rows.append({**base, "kind": "time_s", "name": "locate", "value": dt, "truth_cropped": False,
                     "flagged": False})
        sp = rg.spacing_mm
        for n, e in landmark_errors(pred, {k: (x * sp[1], y * sp[0]) for k, (x, y) in ph.landmarks_px.items()}
                                    ).items():
            rows.append({**base, "kind": "landmark_mm", "name": n, "value": e, "truth_cropped": False,
                         "flagged": False})
        for bone, d in region_dice(pred, ph.region_masks).items():
            tr = truth.regions.get(bone)
            rows.append({**base, "kind": "dice", "name": bone.value, "value": d,
                         "truth_cropped": bool(tr is not None and tr.qc_flags),
                         "flagged": bool(bone in pred.regions and pred.regions[bone].qc_flags)})
        if progress:
            progress(1)
    return rows


# ------------------------------------------------------------------------------------------ real images
def ramw_points(root: Path) -> dict[str, list[dict]]:
    """RAM-W600 bone points by image: ``[{structure, bone, x, y, confidence}]`` (identified ones only)."""
    out: dict[str, list[dict]] = {}
    with open(Path(root) / "ramw600" / "bone_points.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if not r["x"] or r["structure"] not in RAMW_STRUCTURE_TO_BONE:
                continue
            out.setdefault(r["image"], []).append({"structure": r["structure"],
                                                   "bone": RAMW_STRUCTURE_TO_BONE[r["structure"]],
                                                   "x": float(r["x"]), "y": float(r["y"]),
                                                   "confidence": r["confidence"]})
    return out


def point_in_region_rows(image: str, pred: WristAnatomy, points: list[dict]) -> list[dict]:
    """One row per bone point: inside the right region? inside another? region flagged?"""
    rows = []
    masks = {b: pred.mask(b) for b in pred.regions}
    for p in points:
        c, r = int(round(p["x"])), int(round(p["y"]))
        bone = p["bone"]
        inside = bool(bone in masks and masks[bone][r, c])
        others = [b.value for b, m in masks.items() if b is not bone and m[r, c]]
        rows.append({"image": image, "bone": bone.value, "confidence": p["confidence"], "inside": inside,
                     "also_in": ",".join(others),
                     "flagged": bool(bone not in pred.regions or pred.regions[bone].qc_flags),
                     "region_flags": ",".join(pred.regions[bone].qc_flags) if bone in pred.regions else "missing"})
    return rows


def iter_real_images(root: Path) -> Iterator[tuple[str, Path, str]]:
    """(dataset, path, laterality) of every real radiograph under ``root``."""
    root = Path(root)
    lat = {}
    with open(root / "ramw600" / "labels.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            lat[r["filename"]] = r["laterality"]
    for f in sorted((root / "ramw600").glob("*.bmp")):
        yield "ramw600", f, lat.get(f.name, "U")
    for f in sorted((root / "shsnet").glob("*.png")):
        yield "shsnet", f, "L" if f.stem.endswith("_L") else "U"
    for f in sorted((root / "dha").glob("*.jpg")):
        yield "dha", f, "U"
    for f in sorted((root / "radinformatics").glob("*.png")):
        yield "radinformatics", f, "U"
