"""Build the wrist atlas (the training recipe; runs offline).

``python -m wristbme.anatomy.train [--phantoms 60] [--real ../shared/data/radiographs] [--out PATH]``

Inputs:

- synthetic phantoms from ``wristbme.synth.phantom`` (seeded; both sides, full hand and wrist crops): exact
  landmarks and region masks → mean shape, shape modes, mean outlines and appearance;
- optionally the RAM-W600 wrists (CC-BY-4.0, cite DOI 10.57967/hf/5328) with their hand-placed bone
  points → landmark positions and real appearance. Any image can be left out (``exclude``) so that an
  evaluation on it is out-of-sample.

The result is small (float16, base64 in JSON) and deterministic for given seeds.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from wristbme.anatomy import _geometry as geo
from wristbme.anatomy._enhance import enhance
from wristbme.anatomy.atlas import (
    PATCH_HALF_MM,
    PATCH_RES_MM,
    TEMPLATE_RES_MM,
    Atlas,
    landmark_array,
    similarity_fit,
)
from wristbme.anatomy.types import LANDMARKS
from wristbme.bones import RAMRIS_BONES, Bone

DEFAULT_PHANTOMS = 60
"""Phantoms in the shipped atlas (seed 1234)."""
REAL_WEIGHT = 3
"""Each real wrist counts this many times (shape mean, modes, appearance) against the phantoms. Measured
leave-one-out on RAM-W600 (points inside the right region): 60 phantoms + real x1 82 %, 30 + x1 95 %,
60 + x3 96.5 %."""
RAMW_SPACING_MM = 0.16
"""RAM-W600 crops state no spacing; bone sizes give about 0.16 mm (shared/README.md)."""

RAMW_LANDMARKS_USED: tuple[str, ...] | None = None
"""RAM-W600 points that enter the shape model and landmark patches (None: all of them). The annotators
placed "a point inside each bone": close to the centre for carpals, usually just beyond the joint for the
metacarpal bases. Leaving the MC points out (phantom-only MC landmarks) was measured worse on the real
wrists (leave-one-out: 89 % vs 92 % of points inside the right region, MC1/MC2 regions too distal), so all
are used."""

RAMW_TO_LANDMARK = {
    **{b.value: f"{b.value}_centre" for b in RAMRIS_BONES if not b.is_long_bone},
    **{f"mc{i}_base": f"mc{i}_base_centre" for i in range(1, 6)},
    "radial_styloid_tip": "radial_styloid_tip",
    "ulnar_styloid_tip": "ulnar_styloid_tip",
}


@dataclass
class TrainSample:
    """One annotated image. Landmarks in original pixels (x = col, y = row)."""

    pixels: np.ndarray
    spacing_mm: tuple[float, float]
    mirror: bool
    landmarks_px: dict[str, tuple[float, float]]
    region_masks: dict[Bone, np.ndarray] = field(default_factory=dict)
    reference_mask: np.ndarray | None = None
    source: str = "synthetic"
    name: str = ""

    def canonical_landmarks(self) -> np.ndarray:
        m = geo.canonical_matrix(self.pixels.shape, self.spacing_mm, mirror=self.mirror, angle_deg=0.0)
        arr = landmark_array(self.landmarks_px)
        return geo.apply(m, arr * [self.spacing_mm[1], self.spacing_mm[0]])


# --------------------------------------------------------------------------- sample sources
def ramw_samples(root: Path, *, exclude: Iterable[str] = (), stand_ins: bool = False,
                 use: Sequence[str] | None = RAMW_LANDMARKS_USED) -> list[TrainSample]:
    """The RAM-W600 wrists of ``root/ramw600`` with their bone points as landmarks.

    The articular midpoints are not annotated; with ``stand_ins`` the radius/ulna shaft points take their
    place (development only: those points lie about 10 mm proximal to the joint).
    """
    from PIL import Image

    folder = Path(root) / "ramw600"
    lat = {r["filename"]: r["laterality"] for r in csv.DictReader(open(folder / "labels.csv", encoding="utf-8"))}
    pts: dict[str, dict[str, tuple[float, float]]] = {}
    for r in csv.DictReader(open(folder / "bone_points.csv", encoding="utf-8")):
        name = RAMW_TO_LANDMARK.get(r["structure"])
        if stand_ins and r["structure"] in ("distal_radius", "distal_ulna"):
            name = "radius_articular_mid" if r["structure"] == "distal_radius" else "ulna_articular_mid"
        if use is not None and not stand_ins and name not in use:
            continue
        if name and r["x"] and r["y"]:
            pts.setdefault(r["image"], {})[name] = (float(r["x"]), float(r["y"]))
    out = []
    skip = set(exclude)
    for fname in sorted(lat):
        if fname in skip or fname not in pts:
            continue
        img = np.asarray(Image.open(folder / fname).convert("L"), dtype=np.float32)
        out.append(TrainSample(img, (RAMW_SPACING_MM, RAMW_SPACING_MM), lat[fname] == "L", pts[fname],
                               source="ramw600", name=fname))
    return out


def phantom_samples(n: int, *, seed: int = 1234) -> list[TrainSample]:
    """``n`` phantoms from ``wristbme.synth.phantom`` (both sides, full hand and wrist fields)."""
    from wristbme.synth.phantom import HandSpec, render_phantom

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        lat = "L" if i % 2 else "R"
        fld = "wrist" if i % 3 == 0 else "full"
        spec = HandSpec.sample(rng, laterality=lat, field=fld, spacing_mm=float(rng.choice([0.15, 0.2])),
                               rotation_deg=0.0)
        ph = render_phantom(spec, seed=int(rng.integers(1 << 30)), site=None)
        rg = ph.radiograph
        assert rg.spacing_mm is not None  # phantoms are always calibrated
        ref = _radial_shaft(ph.bone_masks.get(Bone.RADIUS), ph.landmarks_px.get("radius_articular_mid"),
                            rg.spacing_mm[0])
        out.append(TrainSample(rg.pixels, rg.spacing_mm, lat == "L", dict(ph.landmarks_px),
                               dict(ph.region_masks), ref, source="synthetic", name=f"phantom{i}"))
    return out


REFERENCE_BAND_MM = (15.0, 30.0)
"""The normalisation reference: the radial shaft from 15 to 30 mm proximal to the articular midpoint."""


def _radial_shaft(radius_mask: np.ndarray | None, articular_px: tuple[float, float] | None,
                  row_spacing_mm: float) -> np.ndarray | None:
    """Radius bone mask restricted to ``REFERENCE_BAND_MM`` (unrotated training phantoms: rows = axis)."""
    if radius_mask is None or articular_px is None:
        return None
    y0 = int(round(articular_px[1] + REFERENCE_BAND_MM[0] / row_spacing_mm))
    y1 = int(round(articular_px[1] + REFERENCE_BAND_MM[1] / row_spacing_mm))
    out = np.zeros_like(radius_mask, dtype=bool)
    out[max(y0, 0):max(y1, 0)] = radius_mask[max(y0, 0):max(y1, 0)]
    return out if out.any() else None


# --------------------------------------------------------------------------- building
def procrustes(shapes: list[np.ndarray], iters: int = 8) -> tuple[np.ndarray, list[np.ndarray]]:
    """Generalised Procrustes with missing landmarks (NaN). Returns mean (L, 2) and per-shape transforms."""
    counts = [np.isfinite(s[:, 0]).sum() for s in shapes]
    mean = shapes[int(np.argmax(counts))].copy()
    mean -= np.nanmean(mean, axis=0)
    tfs = [np.eye(3)] * len(shapes)
    for _ in range(iters):
        tfs = [similarity_fit(s, mean) for s in shapes]
        aligned = np.stack([geo.apply(t, s) for t, s in zip(tfs, shapes, strict=True)])
        new = np.nanmean(aligned, axis=0)
        # fill landmarks nobody has (should not happen once phantoms are in) from the previous mean
        new = np.where(np.isfinite(new), new, mean)
        # keep the mean at the average physical size: scale so mean fitted scale is 1
        scales = [np.sqrt(abs(np.linalg.det(t[:2, :2]))) for t in tfs]
        new = (new - np.nanmean(new, axis=0)) / np.mean(scales)
        mean = new
    tfs = [similarity_fit(s, mean) for s in shapes]
    return mean, tfs


def _atlas_grid(mean: np.ndarray, res_mm: float, margin_mm: tuple[float, float, float, float]
                ) -> tuple[tuple[float, float], tuple[int, int]]:
    lo = mean.min(axis=0) - [margin_mm[0], margin_mm[1]]
    hi = mean.max(axis=0) + [margin_mm[2], margin_mm[3]]
    shape = (int(np.ceil((hi[1] - lo[1]) / res_mm)) + 1, int(np.ceil((hi[0] - lo[0]) / res_mm)) + 1)
    return (float(lo[0]), float(lo[1])), shape


TEMPLATE_MARGIN_MM = (14.0, 10.0, 14.0, 22.0)
"""Left, top, right, bottom margins (mm) of the whole-wrist template around the landmarks."""


def build_atlas(samples: Sequence[TrainSample], *, n_modes: int = 8,
                appearance_weights: dict[str, float] | None = None) -> Atlas:
    """Fit an ``Atlas`` to annotated samples (see module docstring)."""
    shapes = [s.canonical_landmarks() for s in samples]
    mean, tfs = procrustes(shapes)
    aligned = np.stack([geo.apply(t, s) for t, s in zip(tfs, shapes, strict=True)])
    complete = np.all(np.isfinite(aligned.reshape(len(samples), -1)), axis=1)
    if complete.sum() >= 3:
        x = aligned[complete].reshape(complete.sum(), -1) - mean.reshape(-1)
    else:  # real points only: fill missing with the mean
        x = np.nan_to_num(aligned.reshape(len(samples), -1) - mean.reshape(-1))
    _, sv, vt = np.linalg.svd(x, full_matrices=False)
    k = min(n_modes, len(sv))
    modes, sd = vt[:k], sv[:k] / np.sqrt(max(len(x) - 1, 1))

    weights = appearance_weights or {}
    templates = {}
    for res in TEMPLATE_RES_MM:
        origin, shape = _atlas_grid(mean, res, TEMPLATE_MARGIN_MM)
        acc, wsum = np.zeros(shape), np.zeros(shape)
        for s, t in zip(samples, tfs, strict=True):
            w = weights.get(s.source, 1.0)
            if w <= 0:
                continue
            m = t @ geo.canonical_matrix(s.pixels.shape, s.spacing_mm, mirror=s.mirror, angle_deg=0.0)
            img = geo.resample(*_prepared(s, res), m, origin, shape, res)
            enh = enhance(img, res)
            valid = np.isfinite(img)
            acc += w * enh * valid
            wsum += w * valid
        templates[res] = ((acc / np.maximum(wsum, 1e-6)).astype(np.float32), np.array(origin))

    # patches and mean masks at PATCH_RES_MM in one atlas grid
    res = PATCH_RES_MM
    origin, shape = _atlas_grid(mean, res, (25.0, 20.0, 25.0, 40.0))
    half = int(round(PATCH_HALF_MM / res))
    psum = np.zeros((len(LANDMARKS), 2 * half + 1, 2 * half + 1))
    pw = np.zeros(len(LANDMARKS))
    mask_sum: dict[Bone, np.ndarray] = {}
    mask_n: dict[Bone, int] = {}
    ref_sum, ref_n = np.zeros(shape), 0
    dy, dx = np.mgrid[-half:half + 1, -half:half + 1]
    for s, t, al in zip(samples, tfs, aligned, strict=True):
        m = t @ geo.canonical_matrix(s.pixels.shape, s.spacing_mm, mirror=s.mirror, angle_deg=0.0)
        w = weights.get(s.source, 1.0)
        if w > 0:
            img = geo.resample(*_prepared(s, res), m, origin, shape, res)
            enh = enhance(img, res)
            for i, p in enumerate(al):
                if not np.all(np.isfinite(p)):
                    continue
                c = (p[0] - origin[0]) / res, (p[1] - origin[1]) / res
                patch = ndimage.map_coordinates(enh, [c[1] + dy, c[0] + dx], order=1, cval=0.0)
                psum[i] += w * patch
                pw[i] += w
        for bone, mk in s.region_masks.items():
            warped = geo.resample(mk.astype(np.float32), s.spacing_mm, m, origin, shape, res, cval=0.0)
            mask_sum[bone] = mask_sum.get(bone, 0) + warped
            mask_n[bone] = mask_n.get(bone, 0) + 1
        if s.reference_mask is not None:
            ref_sum += geo.resample(s.reference_mask.astype(np.float32), s.spacing_mm, m, origin, shape, res,
                                    cval=0.0)
            ref_n += 1
    patches = (psum / np.maximum(pw, 1e-6)[:, None, None]).astype(np.float32)
    polygons: dict[Bone, np.ndarray] = {}
    for b in mask_sum:
        outline = _outline(mask_sum[b] / mask_n[b], origin, res)
        if outline is not None:
            polygons[b] = outline
    reference = _outline(ref_sum / ref_n, origin, res) if ref_n else None
    sources: dict[str, int] = {}
    for src, _ in {(s.source, s.name) for s in samples}:
        sources[src] = sources.get(src, 0) + 1
    return Atlas(tuple(LANDMARKS), mean, modes, sd, templates, patches, polygons, reference, sources)


def _prepared(s: TrainSample, res_mm: float) -> tuple[np.ndarray, tuple[float, float]]:
    """Pixels pre-smoothed for sampling at ``res_mm`` (a light anti-alias), with their spacing."""
    sig = [max(0.0, 0.4 * res_mm / sp - 0.4) for sp in s.spacing_mm]
    px = ndimage.gaussian_filter(s.pixels.astype(np.float32), sig) if max(sig) > 0 else s.pixels
    return px, s.spacing_mm


def _outline(prob: np.ndarray, origin: tuple[float, float], res: float, level: float = 0.5
             ) -> np.ndarray | None:
    from skimage import measure

    if prob.max() < level:
        return None
    contours = measure.find_contours(np.pad(prob, 1), level)
    c = max(contours, key=len) - 1.0
    poly = np.stack([origin[0] + c[:, 1] * res, origin[1] + c[:, 0] * res], axis=1)
    return measure.approximate_polygon(poly, tolerance=0.25)


def recipe(phantoms: list[TrainSample], real: list[TrainSample]) -> list[TrainSample]:
    """The training set of the shipped atlas: phantoms plus each real wrist ``REAL_WEIGHT`` times."""
    return list(phantoms) + list(real) * REAL_WEIGHT


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - offline recipe
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phantoms", type=int, default=DEFAULT_PHANTOMS)
    ap.add_argument("--real", type=Path, default=None, help="folder holding ramw600/ (optional)")
    ap.add_argument("--exclude", nargs="*", default=())
    ap.add_argument("--out", type=Path, default=None,
                    help="default: data/atlas.json, or data/atlas_phantom.json without --real")
    args = ap.parse_args(argv)
    samples = phantom_samples(args.phantoms) if args.phantoms else []
    real = ramw_samples(args.real, exclude=args.exclude) if args.real else []
    atlas = build_atlas(recipe(samples, real))
    if args.out is None:
        args.out = Path(__file__).parent / "data" / ("atlas.json" if args.real else "atlas_phantom.json")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atlas.save(args.out)
    print(f"atlas from {atlas.sources} → {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":  # pragma: no cover
    main()
