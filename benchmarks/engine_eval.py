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
    out: dict = {"cohort": {**kw, "anatomy": args.anatomy}}
    tables = {}
    for eff in (1.0, 0.0):
        tables[eff] = synthetic_table(effect_size=eff, anatomy=args.anatomy, **kw)
    selected = _screen(args, out)
    perm = tables[1.0].copy()
    rng = np.random.default_rng(args.seed)
    pts = perm["patient_id"].unique()
    donor = dict(zip(pts, rng.permutation(pts), strict=True))
    g = perm.set_index(["patient_id", "bone"])["bme_grade"]
    perm["bme_grade"] = [g.get((donor[p], b), 0) for p, b in zip(perm["patient_id"], perm["bone"], strict=True)]
    perm.attrs = tables[1.0].attrs
    for name, tab in (("effect_1.0", tables[1.0]), ("effect_0", tables[0.0]), ("permuted_labels", perm)):
        cv = cross_validate(prepare(tab), seed=args.seed, selected=selected)
        out[name] = {k: cv["metrics"][k] for k in ("wrist_auc", "bone_auc", "bone_auc_within_bone")}
        print(f"[SYNTHETIC] nested CV {name:16s} wrist {_fmt(cv['metrics']['wrist_auc'])}  "
              f"bone {_fmt(cv['metrics']['bone_auc'])}  within-bone "
              f"{_fmt(cv['metrics']['bone_auc_within_bone'])}", flush=True)
    if "loso" not in args.skip:
        data = prepare(tables[1.0])
        out["loso"] = {}
        for combat in (False, True):
            lo = leave_one_site_out(data, seed=args.seed, combat=combat, selected=selected)
            out["loso"]["combat" if combat else "no_combat"] = {
                "per_site": {s: m.get("wrist_auc") for s, m in lo["per_site"].items()},
                "pooled": lo["metrics"]["wrist_auc"]}
            for s, m in lo["per_site"].items():
                print(f"[SYNTHETIC] LOSO {'ComBat' if combat else 'raw   '} {s}: wrist {_fmt(m['wrist_auc'])}",
                      flush=True)
            print(f"[SYNTHETIC] LOSO {'ComBat' if combat else 'raw   '} pooled: wrist "
                  f"{_fmt(lo['metrics']['wrist_auc'])}", flush=True)
    return out


def _screen(args, out: dict):
    """The feature robustness screen of ``train`` (on phantoms apart from the cohort), or None."""
    if args.robustness_images <= 0:
        return None
    from wristbme.features.schema import FEATURE_NAMES
    from wristbme.model.robustness import feature_reproducibility, robust_features
    from wristbme.model.train_demo import perturbation_table

    pt = perturbation_table(n_images=args.robustness_images, n_sites=args.sites, seed=args.seed + 1,
                            spacing_mm=args.spacing, workers=args.workers)
    icc = feature_reproducibility(pt, FEATURE_NAMES)
    keep = set(robust_features(icc))
    out["robustness"] = {"icc": icc.round(3).to_dict(), "excluded": [n for n in FEATURE_NAMES if n not in keep]}
    print(f"[SYNTHETIC] robustness screen: {len(keep)} of {len(FEATURE_NAMES)} features kept; excluded "
          f"{', '.join(out['robustness']['excluded'])}", flush=True)
    return tuple(i for i, n in enumerate(FEATURE_NAMES) if n in keep)


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
    """Same phantom, re-acquired (``wristbme.synth.reacquire.phantom_reacquisitions``): exposure -20 %/+20 %
    re-rendered, rotation +-5 deg, resampling to 0.10 mm and added noise applied to the rendered image.
    Anatomy from the localiser on each copy (``--anatomy truth``: ground truth on the copies that keep the
    geometry, the others are skipped)."""
    from wristbme.pipeline import score_radiograph
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.reacquire import phantom_reacquisitions
    from wristbme.synth.sites import profile_for, site_ids

    rows = []
    sites = site_ids(8)
    for i in range(args.repro_images):
        rng = np.random.default_rng([args.seed, 99, i])
        spec = HandSpec.sample(rng, laterality="R" if rng.random() < 0.5 else "L", field="wrist", spacing_mm=0.15,
                               effect_size=1.0)
        site = profile_for(sites[i % len(sites)])
        truth = render_phantom(spec, seed=1000 + i, site=site).truth_anatomy() if args.anatomy == "truth" else None
        for name, rg in phantom_reacquisitions(spec, seed=1000 + i, site=site, order=args.interpolation_order).items():
            anat = truth if name in ("base", "noise", "exposure-20%", "exposure+20%") else None
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
          f"({res['n_images']} phantoms x {res['n_conditions']} conditions, 8 site profiles, "
          f"anatomy={args.anatomy})", flush=True)
    return res


def repro_real(args, art) -> dict:
    from wristbme.imaging import read_radiograph
    from wristbme.pipeline import score_radiograph
    from wristbme.synth.reacquire import perturbed_copies

    folder = Path(args.real)
    files = sorted(folder.glob("*.bmp"))[: args.real_max]
    rows, failures = [], []
    for i, f in enumerate(files):
        rg = read_radiograph(f, spacing_mm=0.16)
        for name, copy in perturbed_copies(rg, seed=i, spacings_mm=(0.10, 0.15), gain=True,
                                           order=args.interpolation_order).items():
            try:
                w = score_radiograph(copy, art).score.wrist
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
    p.add_argument("--robustness-images", type=int, default=24,
                   help="phantoms re-acquired for the feature robustness screen in the accuracy runs (0: none)")
    p.add_argument("--interpolation-order", type=int, default=3,
                   help="spline order of the rotated/resampled copies (1 = linear, 3 = cubic)")
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
