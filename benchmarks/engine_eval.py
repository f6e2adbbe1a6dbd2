"""Evaluation of the BME engine on synthetic cohorts (and, for reproducibility, the real radiographs).

    python benchmarks/engine_eval.py [--sites 4] [--patients-per-site 30] [--spacing 0.15] [--seed 7]
                                     [--repro-images 8] [--anatomy locate|truth] [--real DIR] [--json]
                                     [--skip accuracy,loso,repro,real]

Prints, all labelled SYNTHETIC where they are:
1. nested-CV AUC (wrist and bone level, 95% CI) for effect_size 1.0, effect_size 0 and permuted labels;
2. leave-one-site-out wrist AUC per site, without and with ComBat;
3. reproducibility under re-acquisition on phantoms: each phantom re-rendered at -20 % and +20 % exposure,
   and its image rotated +-5 deg, resampled 0.15 -> 0.10 mm and given added noise; ICC(2,1) of the wrist
   score with 95% CI and the within-image CV%;
4. the same perturbations (rotation, gain, noise, resampling) applied to the real radiographs in
   ``--real`` (default ../shared/data/radiographs/ramw600), scored with the localiser and the demo model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _fmt(m):
    return f"{m['auc']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}] (n={m['n']})" if m["auc"] == m["auc"] else "n/a"


def accuracy(args) -> dict:
    from wristbme.model.train import cross_validate, leave_one_site_out, prepare
    from wristbme.model.train_demo import synthetic_table

    kw = dict(n_sites=args.sites, patients_per_site=args.patients_per_site, seed=args.seed,
              spacing_mm=args.spacing, workers=args.workers)
    out: dict = {"cohort": kw}
    tables = {}
    for eff in (1.0, 0.0):
        tables[eff] = synthetic_table(effect_size=eff, **kw)
    perm = tables[1.0].copy()
    rng = np.random.default_rng(args.seed)
    pts = perm["patient_id"].unique()
    donor = dict(zip(pts, rng.permutation(pts), strict=True))
    g = perm.set_index(["patient_id", "bone"])["bme_grade"]
    perm["bme_grade"] = [g.get((donor[p], b), 0) for p, b in zip(perm["patient_id"], perm["bone"], strict=True)]
    perm.attrs = tables[1.0].attrs
    for name, tab in (("effect_1.0", tables[1.0]), ("effect_0", tables[0.0]), ("permuted_labels", perm)):
        cv = cross_validate(prepare(tab), seed=args.seed)
        out[name] = {k: cv["metrics"][k] for k in ("wrist_auc", "bone_auc", "bone_auc_within_bone")}
        print(f"[SYNTHETIC] nested CV {name:16s} wrist {_fmt(cv['metrics']['wrist_auc'])}  "
              f"bone {_fmt(cv['metrics']['bone_auc'])}  within-bone "
              f"{_fmt(cv['metrics']['bone_auc_within_bone'])}", flush=True)
    if "loso" not in args.skip:
        data = prepare(tables[1.0])
        out["loso"] = {}
        for combat in (False, True):
            lo = leave_one_site_out(data, seed=args.seed, combat=combat)
            out["loso"]["combat" if combat else "no_combat"] = {
                "per_site": {s: m.get("wrist_auc") for s, m in lo["per_site"].items()},
                "pooled": lo["metrics"]["wrist_auc"]}
            for s, m in lo["per_site"].items():
                print(f"[SYNTHETIC] LOSO {'ComBat' if combat else 'raw   '} {s}: wrist {_fmt(m['wrist_auc'])}",
                      flush=True)
            print(f"[SYNTHETIC] LOSO {'ComBat' if combat else 'raw   '} pooled: wrist "
                  f"{_fmt(lo['metrics']['wrist_auc'])}", flush=True)
    return out


def _icc(df: pd.DataFrame) -> dict:
    try:
        from wristbme.stats import icc, within_subject_cv

        t = icc(df, "image", "condition", "score").set_index("type").loc["ICC2"]
        res = {"icc2_1": float(t["icc"]), "ci_low": float(t["ci_lower"]), "ci_high": float(t["ci_upper"]),
               "source": "wristbme.stats.icc"}
        res["within_cv_percent"] = float(within_subject_cv(df, "image", "score"))
    except ImportError:
        import pingouin as pg

        t = pg.intraclass_corr(df, targets="image", raters="condition", ratings="score").set_index("Type")
        res = {"icc2_1": float(t.loc["ICC2", "ICC"]), "ci_low": float(t.loc["ICC2", "CI95%"][0]),
               "ci_high": float(t.loc["ICC2", "CI95%"][1]), "source": "pingouin"}
        sd = df.groupby("image")["score"].std(ddof=1)
        mean = df.groupby("image")["score"].mean()
        res["within_cv_percent"] = float(100 * np.sqrt(np.mean((sd / mean) ** 2)))
    res["n_images"] = int(df["image"].nunique())
    res["n_conditions"] = int(df["condition"].nunique())
    return res


def _score(rg, art, anatomy_mode, truth=None):
    from wristbme.pipeline import score_radiograph

    anat = truth if anatomy_mode == "truth" else None
    return score_radiograph(rg, art, anatomy=anat).score.wrist


def repro_synthetic(args, art) -> dict:
    """Same phantom, re-acquired: exposure -20 %/+20 % are re-rendered with the photon count (and signal)
    scaled — same anatomy and trabecular texture, new quantum noise; rotation +-5 deg, resampling to
    0.10 mm and added noise are applied to the rendered image (a re-render at another angle or pixel size
    would draw a new trabecular texture, i.e. another bone). Anatomy from the localiser on each copy."""
    from scipy import ndimage as ndi

    from wristbme.pipeline import score_radiograph
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.sites import get_site

    rows = []
    site = get_site(None)
    for i in range(args.repro_images):
        rng = np.random.default_rng([args.seed, 99, i])
        spec = HandSpec.sample(rng, field="wrist", spacing_mm=0.15, effect_size=1.0)
        base = render_phantom(spec, seed=1000 + i, site=site)
        px = base.radiograph.pixels
        lo, hi = np.percentile(px, [1, 99])
        copies = {"base": (px, 0.15), "rot+5": (ndi.rotate(px, 5, reshape=False, order=1, mode="nearest"), 0.15),
                  "rot-5": (ndi.rotate(px, -5, reshape=False, order=1, mode="nearest"), 0.15),
                  "noise": (px + np.random.default_rng([i, 5]).normal(0, 0.01 * (hi - lo), px.shape), 0.15),
                  "spacing0.10": (ndi.zoom(px, 1.5, order=1), 0.10)}
        for name, q in (("exposure-20%", 0.8), ("exposure+20%", 1.2)):
            ph = render_phantom(spec, seed=1000 + i, site=replace(site, quanta_per_mm2=site.quanta_per_mm2 * q))
            copies[name] = (ph.radiograph.pixels * q, 0.15)
        for name, (arr, sp) in copies.items():
            rg = base.radiograph.with_pixels(arr.astype(np.float32), (sp, sp))
            anat = base.truth_anatomy() if (args.anatomy == "truth" and name in ("base", "noise") or
                                            name.startswith("exposure") and args.anatomy == "truth") else None
            if args.anatomy == "truth" and anat is None:
                continue  # geometric copies need the localiser
            w = score_radiograph(rg, art, anatomy=anat).score.wrist
            if w is not None:
                rows.append({"image": i, "condition": name, "score": w})
        print(f"  repro phantom {i + 1}/{args.repro_images}", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    complete = df.groupby("image")["condition"].nunique() == df["condition"].nunique()
    df = df[df["image"].isin(complete[complete].index)]
    res = _icc(df)
    res["anatomy"] = args.anatomy
    res["scores"] = df.pivot_table(index="image", columns="condition", values="score").round(2).to_dict()
    print(f"[SYNTHETIC] re-acquisition ICC(2,1) of wrist score = {res['icc2_1']:.3f} "
          f"[{res['ci_low']:.3f}, {res['ci_high']:.3f}], within-image CV {res['within_cv_percent']:.1f}% "
          f"({res['n_images']} phantoms x {res['n_conditions']} conditions, anatomy={args.anatomy})", flush=True)
    return res


def repro_real(args, art) -> dict:
    from scipy import ndimage as ndi

    from wristbme.imaging import read_radiograph
    from wristbme.pipeline import score_radiograph

    folder = Path(args.real)
    files = sorted(folder.glob("*.bmp"))[: args.real_max]
    rows, failures = [], []
    for i, f in enumerate(files):
        rg = read_radiograph(f, spacing_mm=0.16)
        sp = rg.spacing_mm[0]
        px = rg.pixels
        lo, hi = np.percentile(px, [1, 99])
        variants = {
            "base": (px, sp),
            "rot+5": (ndi.rotate(px, 5, reshape=False, order=1, mode="nearest"), sp),
            "rot-5": (ndi.rotate(px, -5, reshape=False, order=1, mode="nearest"), sp),
            "exposure-20%": (px * 0.8, sp),
            "exposure+20%": (px * 1.2, sp),
            "noise": (px + np.random.default_rng(i).normal(0, 0.01 * (hi - lo), px.shape), sp),
            "spacing0.10": (ndi.zoom(px, sp / 0.10, order=1), 0.10),
            "spacing0.15": (ndi.zoom(px, sp / 0.15, order=1), 0.15),
        }
        for name, (arr, s) in variants.items():
            try:
                w = score_radiograph(rg.with_pixels(arr.astype(np.float32), (s, s)), art).score.wrist
            except Exception as exc:  # noqa: BLE001 - report and continue
                failures.append({"file": f.name, "condition": name, "error": type(exc).__name__})
                continue
            if w is not None:
                rows.append({"image": f.name, "condition": name, "score": w})
        print(f"  real {i + 1}/{len(files)}", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    complete = df.groupby("image")["condition"].nunique() == df["condition"].nunique()
    df = df[df["image"].isin(complete[complete].index)]
    res = _icc(df) if df["image"].nunique() >= 2 else {"error": "fewer than 2 complete images"}
    res["failures"] = failures
    res["scores"] = df.pivot_table(index="image", columns="condition", values="score").round(2).to_dict()
    res["between_image_sd"] = float(df.groupby("image")["score"].mean().std(ddof=1))
    res["mean_score"] = float(df["score"].mean())
    res["n_files"] = len(files)
    print(f"[REAL, demo model] re-acquisition-style ICC(2,1) of wrist score = {res.get('icc2_1', float('nan')):.3f} "
          f"[{res.get('ci_low', float('nan')):.3f}, {res.get('ci_high', float('nan')):.3f}], within-image CV "
          f"{res.get('within_cv_percent', float('nan')):.1f}% ({res.get('n_images', 0)} of {len(files)} images "
          "complete)", flush=True)
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sites", type=int, default=4)
    p.add_argument("--patients-per-site", type=int, default=30)
    p.add_argument("--spacing", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repro-images", type=int, default=8)
    p.add_argument("--anatomy", choices=("locate", "truth"), default="locate")
    p.add_argument("--real", default=str(ROOT.parent / "shared" / "data" / "radiographs" / "ramw600"))
    p.add_argument("--real-max", type=int, default=18)
    p.add_argument("--skip", default="")
    p.add_argument("--model", default=None, help="model artifact to evaluate (default: the demo model)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    args.skip = set(filter(None, args.skip.split(",")))
    from wristbme.model.artifact import load_demo

    if args.model:
        from wristbme.model.artifact import ModelArtifact

        art = ModelArtifact.load(args.model)
    else:
        art = load_demo()
    out = {"model_id": art.model_id, "label": "synthetic demonstration model — not for clinical use"}
    if "accuracy" not in args.skip:
        out["accuracy"] = accuracy(args)
    if "repro" not in args.skip:
        out["repro_synthetic"] = repro_synthetic(args, art)
    if "real" not in args.skip and Path(args.real).is_dir():
        out["repro_real"] = repro_real(args, art)
    if args.json:
        from wristbme.model.artifact import jsonable

        print(json.dumps(jsonable(out), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
