"""Build the shipped demonstration model from the synthetic phantom, reproducibly from a seed.

    python -m wristbme.model.train_demo [--patients-per-site 40] [--sites 8] [--seed 20260101] [--workers 2]
                                        [--anatomy locate|truth] [--robustness-images 24] [--out PATH]

Every image is rendered by ``wristbme.synth.phantom`` (one wrist per patient, random side, site physics
from ``wristbme.synth.sites``), its features are extracted on the localiser's anatomy (default, the anatomy
the model will score) or on the ground truth (``--anatomy truth``); 24 further phantoms, each re-acquired
(``wristbme.synth.reacquire``), feed the feature robustness screen; ``train`` fits and validates an
elastic-net model.
The result is a *synthetic demonstration model — not for clinical use*: the BME appearance in the phantom
is a modelling hypothesis, so its metrics say nothing about real radiographs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from wristbme.features import extract, feature_schema

DEMO_SEED = 20260101
DEMO_SITES = 8
"""Every site profile of the synthetic study: a study model learns from all the sites whose images it scores."""
DEMO_PATIENTS_PER_SITE = 40
DEMO_SPACING_MM = 0.15
DEMO_ROBUSTNESS_IMAGES = 24
"""Phantoms (not in the training cohort) whose re-acquisitions feed the feature robustness screen."""


def _one(args: tuple) -> list[list]:
    """Render one phantom and return its feature rows (module-level so a process pool can run it)."""
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.sites import profile_for

    idx, site, patient_seed, effect_size, spacing_mm, field, anatomy_mode, feat_spacing = args
    rng = np.random.default_rng(patient_seed)
    lat = "R" if rng.random() < 0.5 else "L"
    spec = HandSpec.sample(rng, laterality=lat, field=field, spacing_mm=spacing_mm, effect_size=effect_size)
    ph = render_phantom(spec, seed=patient_seed, site=profile_for(site))
    if anatomy_mode == "truth":
        anat = ph.truth_anatomy()
    else:
        from wristbme.anatomy import locate

        anat = locate(ph.radiograph)
    feats = extract(ph.radiograph, anat, spacing_mm=feat_spacing)
    pid = f"{site}-{idx:04d}"
    rows = []
    for bone, vec in feats.values.items():
        rows.append([f"{pid}-img", pid, site, bone.value, int(ph.bme_grades.get(bone, 0)),
                     feats.exclusions.get(bone, ""), *vec.tolist()])
    return rows


def _one_reacquired(args: tuple) -> list[list]:
    """Feature rows of one phantom's re-acquisitions (``synth.reacquire.PHANTOM_CONDITIONS``)."""
    from wristbme.anatomy import locate
    from wristbme.synth.phantom import HandSpec
    from wristbme.synth.reacquire import phantom_reacquisitions
    from wristbme.synth.sites import profile_for

    idx, site, patient_seed, spacing_mm, feat_spacing = args
    rng = np.random.default_rng(patient_seed)
    lat = "R" if rng.random() < 0.5 else "L"
    spec = HandSpec.sample(rng, laterality=lat, field="wrist", spacing_mm=spacing_mm, effect_size=1.0)
    rows = []
    for condition, rg in phantom_reacquisitions(spec, seed=patient_seed, site=profile_for(site)).items():
        feats = extract(rg, locate(rg), spacing_mm=feat_spacing)
        for bone, vec in feats.values.items():
            rows.append([f"{site}-R{idx:03d}", condition, site, bone.value, feats.exclusions.get(bone, ""),
                         *vec.tolist()])
    return rows


def perturbation_table(*, n_images: int = DEMO_ROBUSTNESS_IMAGES, n_sites: int = DEMO_SITES, seed: int = DEMO_SEED,
                       spacing_mm: float = DEMO_SPACING_MM, feature_spacing_mm: float | None = None,
                       workers: int = 1) -> pd.DataFrame:
    """Features of ``n_images`` fresh phantoms (cycling over the sites, seeds apart from the training
    cohort's), each re-acquired as in ``synth.reacquire.phantom_reacquisitions``; anatomy from the localiser.
    Columns: ``source_image``, ``condition``, ``site``, ``bone``, ``excluded`` and the features."""
    from wristbme.features.schema import DEFAULT_SPACING_MM
    from wristbme.synth.sites import site_ids

    fs = feature_spacing_mm or DEFAULT_SPACING_MM
    sites = site_ids(n_sites)
    jobs = [(k + 1, sites[k % len(sites)], int(np.random.default_rng([seed, 7777, k]).integers(0, 2**31 - 1)),
             spacing_mm, fs) for k in range(n_images)]
    results = _map(_one_reacquired, jobs, workers)
    schema = feature_schema(fs)
    df = pd.DataFrame([r for res in results for r in res],
                      columns=["source_image", "condition", "site", "bone", "excluded", *schema.names])
    df.attrs["schema"] = schema.to_dict()
    return df


def _map(fn, jobs: list, workers: int) -> list:
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, jobs, chunksize=2))
    return [fn(j) for j in jobs]


def synthetic_table(*, n_sites: int = DEMO_SITES, patients_per_site: int = DEMO_PATIENTS_PER_SITE,
                    effect_size: float = 1.0, seed: int = DEMO_SEED, spacing_mm: float = DEMO_SPACING_MM,
                    field: str = "wrist", anatomy: str = "truth", feature_spacing_mm: float | None = None,
                    workers: int = 1, progress: bool = False) -> pd.DataFrame:
    """A features table (one row per image × bone) of a fresh synthetic cohort; same seed → same table.

    Parameters
    ----------
    n_sites, patients_per_site : int
        Cohort size; one wrist radiograph per patient.
    effect_size : float
        BME effect in the phantom (0 = images independent of the labels).
    seed : int
        Seeds every patient (patient k of site s gets a seed derived from ``seed``, s and k).
    spacing_mm : float
        Pixel spacing of the rendered images.
    anatomy : {'truth', 'locate'}
        Regions from the phantom's ground truth or from ``wristbme.anatomy.locate``.
    feature_spacing_mm : float, optional
        Analysis spacing of the features (default: the schema default, 0.2 mm).
    workers : int
        Processes for rendering + features.
    """
    from wristbme.features.schema import DEFAULT_SPACING_MM
    from wristbme.synth.sites import site_ids

    fs = feature_spacing_mm or DEFAULT_SPACING_MM
    ss = np.random.SeedSequence(seed)
    jobs = []
    for s_idx, site in enumerate(site_ids(n_sites)):
        for k in range(patients_per_site):
            pseed = int(np.random.default_rng([seed, s_idx, k]).integers(0, 2**31 - 1))
            jobs.append((k + 1, site, pseed, effect_size, spacing_mm, field, anatomy, fs))
    del ss
    results = _map(_one, jobs, workers)
    rows = [r for res in results for r in res]
    schema = feature_schema(fs)
    df = pd.DataFrame(rows, columns=["image_id", "patient_id", "site", "bone", "bme_grade", "excluded",
                                     *schema.names])
    df.attrs["schema"] = schema.to_dict()
    return df


def _read_table(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    table["excluded"] = table["excluded"].astype(object).where(table["excluded"].notna(), "").astype(str)
    table.attrs["schema"] = feature_schema().to_dict()
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=DEMO_SITES)
    p.add_argument("--patients-per-site", type=int, default=DEMO_PATIENTS_PER_SITE)
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    p.add_argument("--spacing", type=float, default=DEMO_SPACING_MM)
    p.add_argument("--anatomy", choices=("truth", "locate"), default="locate")
    p.add_argument("--robustness-images", type=int, default=DEMO_ROBUSTNESS_IMAGES,
                   help="phantoms re-acquired for the feature robustness screen (0: no screen)")
    p.add_argument("--perturbations-in", type=Path, default=None, help="reuse a perturbation table (CSV)")
    p.add_argument("--perturbations-out", type=Path, default=None, help="also write the perturbation table")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("data") / "demo_model.joblib")
    p.add_argument("--table-out", type=Path, default=None, help="also write the features table (CSV)")
    p.add_argument("--table-in", type=Path, default=None,
                   help="reuse a features table written by --table-out with the same settings (skips rendering)")
    a = p.parse_args(argv)
    from wristbme.model.train import train

    if a.table_in:
        table = _read_table(a.table_in)
    else:
        table = synthetic_table(n_sites=a.sites, patients_per_site=a.patients_per_site, seed=a.seed,
                                spacing_mm=a.spacing, anatomy=a.anatomy, workers=a.workers, progress=True)
    if a.table_out:
        table.to_csv(a.table_out, index=False)
    perturbations = None
    if a.perturbations_in:
        perturbations = _read_table(a.perturbations_in)
    elif a.robustness_images > 0:
        perturbations = perturbation_table(n_images=a.robustness_images, n_sites=a.sites, seed=a.seed,
                                           spacing_mm=a.spacing, workers=a.workers)
    if a.perturbations_out and perturbations is not None:
        perturbations.to_csv(a.perturbations_out, index=False)
    art = train(table, method="enet", combat=False, seed=a.seed, synthetic=True, perturbations=perturbations)
    art.extra["demo"] = {"sites": a.sites, "patients_per_site": a.patients_per_site, "seed": a.seed,
                         "spacing_mm": a.spacing, "anatomy": a.anatomy, "effect_size": 1.0,
                         "robustness_images": 0 if perturbations is None else int(perturbations["source_image"].nunique())}
    path = art.save(a.out)
    json.dump({"model_id": art.model_id, "path": str(path), "validation": art.summary["validation"]},
              sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
