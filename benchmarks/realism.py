"""Realism check: synthetic wrist phantoms vs the real RAM-W600 wrist crops in ``../shared``.

Measures, with the *same* automatic code on both sides:

(a) intensity: three-class Otsu split of each image (air / soft tissue / bone) after normalising it to its
    1st-99th percentiles (pixels at the image maximum - collimator shadow, burned-in text - left out); the contrast ``(bone - soft) / (soft - air)`` of the class means, the contrast of
    21x21 patches at the bone points, and the Wasserstein distance between normalised histograms;
(b) fractal signature: the slope of the radially averaged power spectrum of 64x64 patches at the distal
    radius and capitate points, fitted over 0.4-2.5 cycles/mm (log-log);
(c) geometry: radius and ulna widths along the image row 6 mm proximal of their bone points (run of
    above-threshold pixels through the point), and distances between points, as ratios.

Real images: 18 PA wrist crops (600x600, ~0.16 mm), ``bone_points.csv`` gives points inside bones. Synthetic:
wrist-field phantoms at 0.16 mm, rendered through the site profiles S01..S08; their "bone points" are the
truth landmarks (radius/ulna: centroid of the scored region).

Run: ``.venv/bin/python benchmarks/realism.py [--n 16] [--out realism.png]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SPACING_MM = 0.16
REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path | None:
    import os

    p = Path(os.environ.get("WRISTBME_SHARED", REPO.parent / "shared")) / "data/radiographs/ramw600"
    return p if p.is_dir() else None


def exposed(img: np.ndarray) -> np.ndarray:
    """Pixels that carry image: not at the image's maximum (collimator shadow, burned-in text, padding)."""
    return img < img.max()


def normalise(img: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(img[exposed(img)], [1, 99])
    return np.clip((img.astype(np.float64) - lo) / max(hi - lo, 1e-6), 0, 1)


def otsu3(img: np.ndarray, keep: np.ndarray) -> tuple[float, float, float]:
    from skimage.filters import threshold_multiotsu

    v = img[keep]
    t = threshold_multiotsu(v, classes=3)
    c = np.digitize(v, t)
    return tuple(float(v[c == k].mean()) if (c == k).any() else np.nan for k in range(3))  # type: ignore


def patch(img: np.ndarray, x: float, y: float, half: int) -> np.ndarray | None:
    r, c = int(round(y)), int(round(x))
    if r - half < 0 or c - half < 0 or r + half > img.shape[0] or c + half > img.shape[1]:
        return None
    return img[r - half:r + half, c - half:c + half]


def spectrum_slope(p: np.ndarray, spacing_mm: float, band=(0.4, 2.5)) -> float:
    p = p - p.mean()
    # remove the linear trend, then window
    yy, xx = np.mgrid[: p.shape[0], : p.shape[1]]
    A = np.column_stack([np.ones(p.size), xx.ravel(), yy.ravel()])
    coef, *_ = np.linalg.lstsq(A, p.ravel(), rcond=None)
    p = p - (A @ coef).reshape(p.shape)
    w = np.hanning(p.shape[0])[:, None] * np.hanning(p.shape[1])[None, :]
    f = np.fft.fftshift(np.abs(np.fft.fft2(p * w)) ** 2)
    n = p.shape[0]
    ky, kx = np.mgrid[-n // 2: n // 2, -n // 2: n // 2] / (n * spacing_mm)
    k = np.hypot(kx, ky)
    edges = np.linspace(band[0], band[1], 14)
    ks, ps = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        m = (k >= a) & (k < b)
        if m.any():
            ks.append(np.sqrt(a * b))
            ps.append(f[m].mean())
    slope, _ = np.polyfit(np.log(ks), np.log(ps), 1)
    return float(slope)


def run_width(img: np.ndarray, x: float, y: float, thr: float, max_px: int) -> float:
    r = int(round(y))
    if not 0 <= r < img.shape[0]:
        return np.nan
    row = img[r]
    c = int(round(x))
    if not 0 <= c < len(row) or row[c] < thr:
        return np.nan
    lo = c
    while lo > 0 and row[lo - 1] >= thr and c - lo < max_px:
        lo -= 1
    hi = c
    while hi < len(row) - 1 and row[hi + 1] >= thr and hi - c < max_px:
        hi += 1
    if c - lo >= max_px or hi - c >= max_px:
        return np.nan
    return float(hi - lo + 1)


def measure(img: np.ndarray, pts: dict[str, tuple[float, float]], spacing_mm: float) -> dict[str, float]:
    """All metrics for one image (already mirrored to a right hand); ``pts`` in pixels."""
    from scipy import ndimage as ndi

    out: dict[str, float] = {}
    keep = exposed(img)
    n = normalise(img)
    air, soft, bone = otsu3(n, keep)
    out["otsu_contrast"] = (bone - soft) / max(soft - air, 1e-6)
    out["soft_level"] = soft
    bvals = [np.median(p) for k in ("distal_radius", "capitate", "lunate", "scaphoid", "hamate")
             if k in pts and (p := patch(n, *pts[k], 10)) is not None]
    out["bone_point_contrast"] = (float(np.mean(bvals)) - soft) / max(soft - air, 1e-6) if bvals else np.nan
    for k, name in (("distal_radius", "slope_radius"), ("capitate", "slope_capitate")):
        p = patch(img.astype(np.float64), *pts[k], 32) if k in pts else None
        out[name] = spectrum_slope(p, spacing_mm) if p is not None else np.nan
    # widths 6 mm proximal of the radius / ulna points, threshold halfway soft..bone (smoothed image)
    sm = ndi.gaussian_filter(n, 1.5)
    thr = 0.5 * (soft + bone)
    dy = 6.0 / spacing_mm
    wr = run_width(sm, pts["distal_radius"][0], pts["distal_radius"][1] + dy, thr, int(30 / spacing_mm))
    wu = run_width(sm, pts["distal_ulna"][0], pts["distal_ulna"][1] + dy, thr, int(20 / spacing_mm))
    out["radius_width_mm"] = wr * spacing_mm
    out["ulna_width_mm"] = wu * spacing_mm
    out["radius_to_ulna_width"] = wr / wu
    d = lambda a, b: float(np.hypot(*(np.subtract(pts[a], pts[b])))) * spacing_mm  # noqa: E731
    styl = d("radial_styloid_tip", "ulnar_styloid_tip")
    out["styloid_distance_mm"] = styl
    out["radius_width_to_styloid_distance"] = wr * spacing_mm / styl
    out["capitate_mc3_to_styloid_distance"] = d("capitate", "mc3_base") / styl
    out["hist"] = np.histogram(n[keep], bins=64, range=(0, 1), density=True)[0]  # type: ignore[assignment]
    return out


def real_images(root: Path):
    import pandas as pd
    from PIL import Image

    pts = pd.read_csv(root / "bone_points.csv")
    lab = pd.read_csv(root / "labels.csv").set_index("filename")
    for name, g in pts.groupby("image"):
        img = np.asarray(Image.open(root / name).convert("L"), dtype=np.float64)
        p = {r.structure: (float(r.x), float(r.y)) for r in g.itertuples() if np.isfinite(r.x)}
        if lab.loc[name, "laterality"] == "L":
            img = img[:, ::-1]
            p = {k: (img.shape[1] - 1 - x, y) for k, (x, y) in p.items()}
        yield name, img, p


def synthetic_images(n: int, seed: int = 0):
    from wristbme.bones import Bone
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.sites import SITES

    rng = np.random.default_rng(seed)
    sites = list(SITES)
    for i in range(n):
        spec = HandSpec.sample(rng, laterality="R", field="wrist", spacing_mm=SPACING_MM)
        ph = render_phantom(spec, seed=seed * 1000 + i, site=sites[i % len(sites)])
        lm = ph.landmarks_px
        p = {}
        for bone, key in ((Bone.RADIUS, "distal_radius"), (Bone.ULNA, "distal_ulna")):
            ys, xs = np.nonzero(ph.region_masks[bone])
            if len(ys):
                p[key] = (float(xs.mean()), float(ys.mean()))
        for b in ("capitate", "lunate", "scaphoid", "hamate", "triquetrum", "trapezium", "trapezoid"):
            if f"{b}_centre" in lm:
                p[b] = lm[f"{b}_centre"]
        for k in ("radial_styloid_tip", "ulnar_styloid_tip"):
            if k in lm:
                p[k] = lm[k]
        if "mc3_base_centre" in lm:
            p["mc3_base"] = lm["mc3_base_centre"]
        # the same framing as the real crops: 600 x 600 pixels around the capitate
        img = ph.radiograph.pixels.astype(np.float64)
        cx, cy = (int(round(v)) for v in p.get("capitate", (img.shape[1] / 2, img.shape[0] / 2)))
        pad = 300
        img = np.pad(img, pad, mode="edge")[cy: cy + 2 * pad, cx: cx + 2 * pad]
        p = {k: (x - cx + pad, y - cy + pad) for k, (x, y) in p.items()}
        yield f"synth-{i:02d}-{sites[i % len(sites)]}", img, p


KEYS = ("otsu_contrast", "bone_point_contrast", "soft_level", "slope_radius", "slope_capitate",
        "radius_width_mm", "ulna_width_mm", "radius_to_ulna_width", "styloid_distance_mm",
        "radius_width_to_styloid_distance", "capitate_mc3_to_styloid_distance")


def summarise(rows: list[dict]) -> dict[str, tuple[float, float]]:
    return {k: (float(np.nanmean([r[k] for r in rows])), float(np.nanstd([r[k] for r in rows]))) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16, help="number of synthetic images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="realism.png", help="side-by-side PNG")
    args = ap.parse_args(argv)
    root = _shared()
    if root is None:
        print("../shared/data/radiographs/ramw600 is not present; nothing to compare with", file=sys.stderr)
        return 0
    real = [(n, i, p, measure(i, p, SPACING_MM)) for n, i, p in real_images(root)]
    synth = [(n, i, p, measure(i, p, SPACING_MM)) for n, i, p in synthetic_images(args.n, args.seed)]
    rs, ss = summarise([m for *_, m in real]), summarise([m for *_, m in synth])
    from scipy.stats import wasserstein_distance

    centres = (np.arange(64) + 0.5) / 64
    h_real = np.mean([m["hist"] for *_, m in real], axis=0)
    h_syn = np.mean([m["hist"] for *_, m in synth], axis=0)
    emd = wasserstein_distance(centres, centres, h_real, h_syn)
    emd_rr = np.mean([wasserstein_distance(centres, centres, m["hist"], h_real) for *_, m in real])
    head_real, head_syn = f"real (n={len(real)})", f"synthetic (n={len(synth)})"
    print(f"{'metric':36s} {head_real:>20s} {head_syn:>20s}")
    for k in KEYS:
        print(f"{k:36s} {rs[k][0]:10.3f} ± {rs[k][1]:6.3f}  {ss[k][0]:10.3f} ± {ss[k][1]:6.3f}")
    print(f"{'histogram EMD synth-mean vs real-mean':36s} {emd:10.4f}   (real image vs real mean: {emd_rr:.4f})")
    _figure(real, synth, h_real, h_syn, Path(args.out))
    print(f"side-by-side figure: {args.out}")
    return 0


def _figure(real, synth, h_real, h_syn, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = 4
    fig, axes = plt.subplots(3, k, figsize=(4 * k, 12))
    for j in range(k):
        for row, (name, img, pts, _) in ((0, real[j * 4 % len(real)]), (1, synth[j % len(synth)])):
            ax = axes[row, j]
            ax.imshow(normalise(img), cmap="gray", vmin=0, vmax=1)
            for p in pts.values():
                ax.plot(p[0], p[1], "c.", ms=3)
            ax.set_title(("real " if row == 0 else "") + name, fontsize=8)
            ax.axis("off")
    centres = (np.arange(64) + 0.5) / 64
    axes[2, 0].plot(centres, h_real, label="real")
    axes[2, 0].plot(centres, h_syn, label="synthetic")
    axes[2, 0].set_title("normalised intensity histogram")
    axes[2, 0].legend()
    for j, key in ((1, "slope_radius"), (2, "otsu_contrast"), (3, "radius_to_ulna_width")):
        axes[2, j].boxplot([[m[key] for *_, m in real if np.isfinite(m[key])],
                            [m[key] for *_, m in synth if np.isfinite(m[key])]])
        axes[2, j].set_xticks([1, 2], ["real", "synthetic"])
        axes[2, j].set_title(key)
    fig.suptitle("SYNTHETIC vs real (RAM-W600, CC-BY-4.0) wrist radiographs")
    fig.tight_layout()
    fig.savefig(out, dpi=70)


if __name__ == "__main__":
    raise SystemExit(main())
