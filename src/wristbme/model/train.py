"""``train``: a features table with MRI labels → validated, calibrated ``ModelArtifact``.

Validation schemes (all patient-grouped; nothing fitted ever sees a held-out row):

- ``cv``: nested cross-validation. Outer ``StratifiedGroupKFold`` over patients (default 5 folds),
  stratified per (bone, label) so that every fold holds about the same share of each bone's positives; inside
  each outer training part, ``fit_engine`` runs its own grouped inner folds for hyper-parameters, Platt
  calibration and the wrist stage, and ComBat (when asked) is fitted on the outer training part only and
  applied to the held-out fold with the fitted parameters.
- ``loso``: leave-one-site-out. Train on all other sites, score the held-out site; with ComBat the held-out
  site's location/scale is estimated from its own rows without labels (``ComBat.transform``).

Metrics on the pooled out-of-fold predictions: bone-level AUC (units = image × bone, cluster bootstrap
over patients), the within-bone AUC (only pairs of the same bone, so bone prevalence differences do not
count), wrist-level AUC (DeLong, or cluster bootstrap when a patient has several images), Brier
score and calibration slope/intercept of the wrist probability.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wristbme import __version__
from wristbme.errors import ModelError
from wristbme.features.schema import FeatureSchema
from wristbme.model.artifact import ModelArtifact, jsonable
from wristbme.model.engine import ENGINE_VERSION, METHODS, bone_label_strata, fit_engine, grouped_splits
from wristbme.model.metrics import auc_ci, auc_within, brier, calibration
from wristbme.model.robustness import MIN_FEATURE_ICC, feature_reproducibility, robust_features

ID_COLUMNS = ("image_id", "patient_id", "site", "bone", "bme_grade")


@dataclass(frozen=True)
class TrainingData:
    """Rows of (image, bone) with features and labels, checked against a schema."""

    X: np.ndarray
    grade: np.ndarray
    groups: np.ndarray
    sites: np.ndarray
    bones: np.ndarray
    image_ids: np.ndarray
    schema: dict

    @property
    def y(self) -> np.ndarray:
        return (self.grade >= 1).astype(int)

    def subset(self, rows: np.ndarray) -> TrainingData:
        return TrainingData(self.X[rows], self.grade[rows], self.groups[rows], self.sites[rows], self.bones[rows],
                            self.image_ids[rows], self.schema)


def prepare(table: pd.DataFrame, labels=None, groups=None, sites=None, *,
            schema: FeatureSchema | dict | None = None) -> TrainingData:
    """Check and unpack a features table (one row per image × bone).

    Columns: ``image_id``, ``bone`` and every feature of the schema; ``bme_grade``, ``patient_id`` and
    ``site`` are used when ``labels``, ``groups`` or ``sites`` are not given. The schema comes from
    ``schema`` or ``table.attrs['schema']``; rows whose ``excluded`` column is non-empty are dropped.

    Raises
    ------
    ModelError
        A required column is missing, the schema is unknown, or a label is not 0–3.
    """
    if schema is None:
        schema = table.attrs.get("schema")
    if schema is None:
        raise ModelError("train: the features table carries no feature schema; pass schema= or build the table "
                         "with wristbme (features_table_from_store / score_files)")
    schema_d = schema.to_dict() if isinstance(schema, FeatureSchema) else dict(schema)
    names = [f["name"] for f in schema_d["features"]]
    table = table.reset_index(drop=True)
    keep = np.ones(len(table), dtype=bool)
    if "excluded" in table.columns:
        keep = table["excluded"].fillna("").astype(str).to_numpy() == ""
    missing = [c for c in ("image_id", "bone", *names) if c not in table.columns]
    if missing:
        raise ModelError(f"train: features table lacks columns {missing[:5]}{'...' if len(missing) > 5 else ''}; "
                         f"it must come from the schema {schema_d['hash']}")

    def column(value, name):
        if value is not None:
            arr = np.asarray(value)
            if len(arr) != len(table):
                raise ModelError(f"train: {name} has {len(arr)} values for {len(table)} table rows")
            return arr
        if name not in table.columns:
            raise ModelError(f"train: give {name} or a '{name}' column in the features table")
        return table[name].to_numpy()

    grade = column(labels, "bme_grade").astype(float)
    if np.any(~np.isfinite(grade)) or np.any((grade < 0) | (grade > 3)):
        raise ModelError("train: bme_grade must be 0–3 (RAMRIS) or 0/1 for every row")
    data = TrainingData(table[names].to_numpy(dtype=np.float64), grade.astype(int),
                        column(groups, "patient_id").astype(str), column(sites, "site").astype(str),
                        table["bone"].astype(str).to_numpy(), table["image_id"].astype(str).to_numpy(), schema_d)
    return data.subset(np.nonzero(keep)[0])


def _metrics(data: TrainingData, bone_p: np.ndarray, img_ids: np.ndarray, wrist_p: np.ndarray, seed: int) -> dict:
    y = data.y
    bone = auc_ci(y, bone_p, data.groups, seed=seed)
    bone_within = auc_within(y, bone_p, data.bones, data.groups, seed=seed)
    wy, wg = _wrist_truth(data, img_ids)
    wrist = auc_ci(wy, wrist_p, wg, seed=seed)
    out = {"bone_auc": bone, "bone_auc_within_bone": bone_within, "wrist_auc": wrist}
    if len(set(wy.tolist())) == 2:
        out["wrist_brier"] = brier(wy, wrist_p)
        out["wrist_calibration"] = calibration(wy, wrist_p)
    return out


def _wrist_truth(data: TrainingData, img_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    df = pd.DataFrame({"img": data.image_ids, "y": data.y, "g": data.groups})
    agg = df.groupby("img").agg(y=("y", "max"), g=("g", "first"))
    agg = agg.loc[list(img_ids)]
    return agg["y"].to_numpy(), agg["g"].to_numpy()


def cross_validate(data: TrainingData, *, method: str = "enet", combat: bool = False, seed: int = 0,
                   outer_folds: int = 5, inputs: str = "robust", selected: tuple[int, ...] | None = None) -> dict:
    """Nested, patient-grouped CV. Returns metrics, the folds (patients per fold) and OOF predictions."""
    splits = grouped_splits(data.y, data.groups, outer_folds, seed, strata=bone_label_strata(data.bones, data.y))
    bone_p = np.full(len(data.y), np.nan)
    wrist_rows = []
    folds = []
    for k, (tr, te) in enumerate(splits):
        train_d, test_d = data.subset(tr), data.subset(te)
        eng = fit_engine(train_d.X, train_d.y, train_d.groups, train_d.sites, train_d.bones, train_d.image_ids,
                         (), method=method, combat=combat, seed=seed + k, inputs=inputs, selected=selected)
        p, ids, wp = eng.predict(test_d.X, test_d.bones, test_d.image_ids, test_d.sites)
        bone_p[te] = p
        wrist_rows += list(zip(ids, wp, strict=True))
        folds.append({"fold": k, "test_patients": sorted(set(test_d.groups.tolist())),
                      "train_patients": sorted(set(train_d.groups.tolist())), "test_rows": te.tolist()})
    img_ids = np.array([r[0] for r in wrist_rows])
    wrist_p = np.array([r[1] for r in wrist_rows])
    return {"scheme": "nested_cv", "folds": folds, "metrics": _metrics(data, bone_p, img_ids, wrist_p, seed),
            "oof_bone": bone_p, "oof_wrist": dict(zip(img_ids.tolist(), wrist_p.tolist(), strict=True))}


def leave_one_site_out(data: TrainingData, *, method: str = "enet", combat: bool = False, seed: int = 0,
                       inputs: str = "robust", selected: tuple[int, ...] | None = None) -> dict:
    """Train on all other sites, score the held-out one; metrics per site and pooled."""
    sites = sorted(set(data.sites.tolist()))
    if len(sites) < 2:
        raise ModelError("train: leave-one-site-out needs at least two sites")
    bone_p = np.full(len(data.y), np.nan)
    per_site = {}
    wrist_rows = []
    for k, site in enumerate(sites):
        te = np.nonzero(data.sites == site)[0]
        tr = np.nonzero(data.sites != site)[0]
        train_d, test_d = data.subset(tr), data.subset(te)
        if train_d.y.min() == train_d.y.max():
            per_site[site] = {"error": "training sites have a single class"}
            continue
        eng = fit_engine(train_d.X, train_d.y, train_d.groups, train_d.sites, train_d.bones, train_d.image_ids,
                         (), method=method, combat=combat, seed=seed + k, inputs=inputs, selected=selected)
        p, ids, wp = eng.predict(test_d.X, test_d.bones, test_d.image_ids, test_d.sites)
        bone_p[te] = p
        wrist_rows += list(zip(ids, wp, strict=True))
        per_site[site] = _metrics(test_d, p, ids, wp, seed)
        per_site[site]["n_images"] = int(len(ids))
    img_ids = np.array([r[0] for r in wrist_rows])
    wrist_p = np.array([r[1] for r in wrist_rows])
    ok = np.isfinite(bone_p)
    pooled = _metrics(data.subset(np.nonzero(ok)[0]), bone_p[ok], img_ids, wrist_p, seed)
    return {"scheme": "leave_one_site_out", "combat": combat, "per_site": per_site, "metrics": pooled}


def training_summary(data: TrainingData) -> dict:
    """N images, patients, and bone rows by site and grade; BME-positive wrists by site."""
    df = pd.DataFrame({"site": data.sites, "grade": data.grade, "img": data.image_ids, "pt": data.groups,
                       "y": data.y})
    by_site_grade = {s: {str(int(g)): int(n) for g, n in grp.groupby("grade").size().items()}
                     for s, grp in df.groupby("site")}
    wr = df.groupby("img").agg(site=("site", "first"), y=("y", "max"))
    return {"n_rows": int(len(df)), "n_images": int(df["img"].nunique()), "n_patients": int(df["pt"].nunique()),
            "n_sites": int(df["site"].nunique()), "bone_rows_by_site_and_grade": by_site_grade,
            "wrists_by_site": {s: {"n": int(len(g)), "bme_positive": int(g["y"].sum())}
                               for s, g in wr.groupby("site")}}


def _model_id(data: TrainingData, method: str, combat: bool, seed: int, inputs: str = "robust",
              selected: tuple[int, ...] | None = None) -> str:
    h = hashlib.sha256()
    h.update(data.schema["hash"].encode())
    h.update(f"{method}|{combat}|{seed}|{__version__}|{inputs}|engine{ENGINE_VERSION}".encode())
    if selected is not None:
        h.update(("features:" + ",".join(map(str, selected))).encode())
    h.update(np.ascontiguousarray(np.nan_to_num(data.X, nan=-9e9)).tobytes())
    h.update(data.grade.astype(np.int64).tobytes())
    return f"wbme-{method}{'-combat' if combat else ''}-{h.hexdigest()[:10]}"


def train(table: pd.DataFrame, labels=None, groups=None, sites=None, *, method: str = "enet",
          combat: bool = False, seed: int = 0, schema: FeatureSchema | dict | None = None, outer_folds: int = 5,
          validate: Sequence[str] = ("cv", "loso"), synthetic: bool = False,
          inputs: str = "robust", perturbations: pd.DataFrame | None = None,
          min_feature_icc: float = MIN_FEATURE_ICC) -> ModelArtifact:
    """Validate (nested CV, leave-one-site-out) and fit the final model on all rows.

    Parameters
    ----------
    table : DataFrame
        One row per image × bone (see ``prepare``).
    labels, groups, sites : array-like, optional
        Per-row MRI BME grade (0–3; >= 1 counts as BME), patient pseudonym and site; default: the columns
        ``bme_grade``, ``patient_id`` and ``site``.
    method : {'enet', 'gbm'}
        Elastic-net logistic regression (default) or histogram gradient boosting.
    combat : bool
        Harmonise features across sites with ComBat (bone as preserved covariate).
    seed : int
        Seeds every split and estimator.
    validate : sequence of {'cv', 'loso'}
        Schemes to run; LOSO is skipped (and says so) with fewer than two sites.
    synthetic : bool
        Mark the artifact as a synthetic demonstration model.
    inputs : {'robust', 'all'}
        Classifier inputs (see ``engine.INPUTS``); default ``robust``.
    perturbations : DataFrame, optional
        Features of re-acquired images (columns ``source_image``, ``condition``, ``bone`` and the schema's
        features; no labels needed). When given, features whose re-acquisition ICC(2,1) is below
        ``min_feature_icc`` are left out of the model (``robustness``), in validation and in the final fit.

    Returns
    -------
    ModelArtifact

    Raises
    ------
    ModelError
        Unknown method, a bad table, or a single class.
    """
    if method not in METHODS:
        raise ModelError(f"train: method={method!r} is not known; use one of {', '.join(METHODS)}")
    data = prepare(table, labels, groups, sites, schema=schema)
    if data.y.min() == data.y.max():
        raise ModelError("train: all bones have the same label; BME-positive and negative bones are needed")
    names = tuple(f["name"] for f in data.schema["features"])
    selected, robustness = None, None
    if perturbations is not None:
        icc = feature_reproducibility(perturbations, names)
        keep = set(robust_features(icc, min_feature_icc))
        selected = tuple(i for i, n in enumerate(names) if n in keep)
        robustness = {"method": "ICC(2,1) of the within-wrist contrast across re-acquisitions",
                      "min_icc": min_feature_icc, "n_source_images": int(perturbations["source_image"].nunique()),
                      "conditions": sorted(set(perturbations["condition"].astype(str))),
                      "icc": {n: float(v) for n, v in icc.items()},
                      "excluded": [n for n in names if n not in keep]}
    validation: dict = {}
    if "cv" in validate:
        cv = cross_validate(data, method=method, combat=combat, seed=seed, outer_folds=outer_folds, inputs=inputs,
                            selected=selected)
        validation["nested_cv"] = {"metrics": cv["metrics"], "folds": [
            {"fold": f["fold"], "n_test_patients": len(f["test_patients"])} for f in cv["folds"]]}
    if "loso" in validate:
        if len(set(data.sites.tolist())) >= 2:
            lo = leave_one_site_out(data, method=method, combat=combat, seed=seed, inputs=inputs, selected=selected)
            validation["leave_one_site_out"] = {"per_site": lo["per_site"], "metrics": lo["metrics"]}
        else:
            validation["leave_one_site_out"] = {"skipped": "fewer than two sites"}
    engine = fit_engine(data.X, data.y, data.groups, data.sites, data.bones, data.image_ids, names,
                        method=method, combat=combat, seed=seed, inputs=inputs, selected=selected)
    summary = {"training": training_summary(data), "validation": jsonable(validation), "seed": seed,
               "method": method, "combat": combat, "inputs": inputs, "params": engine.params, "software_version": __version__,
               "robustness": robustness,
               "label_rule": "bone BME = MRI RAMRIS BME grade >= 1; wrist BME = any scored bone with BME"}
    return ModelArtifact(_model_id(data, method, combat, seed, inputs, selected), engine, data.schema, jsonable(summary),
                         synthetic=synthetic)
