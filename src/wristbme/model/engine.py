"""The fitted engine: imputation → optional ComBat → per-bone classifier → Platt calibration → wrist stage.

Per-bone model: one classifier over all (image, bone) rows with the bone as a one-hot covariate; target =
MRI BME grade >= 1 in that bone. Hyper-parameters are chosen on patient-grouped inner folds by ROC AUC; the
out-of-fold decision values of the chosen setting fit a Platt scaler (calibrated bone probability) and,
aggregated per image, the wrist stage: a logistic regression of wrist BME (any bone grade >= 1) on the
mean of the three highest and the mean of all calibrated bone logits of that image. The final bone classifier is refitted on
all training rows.

Inputs of the classifier per row: the (imputed, optionally harmonised) features, their within-wrist
contrasts (``context_features``) and the one-hot bone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from wristbme.bones import RAMRIS_BONES
from wristbme.errors import ModelError
from wristbme.model.combat import ComBat
from wristbme.model.metrics import logistic_fit

METHODS = ("enet", "gbm")
ENET_GRID = ({"C": 0.02, "l1_ratio": 0.5}, {"C": 0.2, "l1_ratio": 0.5}, {"C": 2.0, "l1_ratio": 0.5})
GBM_GRID = ({"max_depth": 2}, {"max_depth": 3})
INNER_FOLDS = 3
INPUTS = ("robust", "all")
"""Classifier inputs: ``robust`` = absolute density features (already exposure-normalised) + within-wrist
contrasts of every feature; ``all`` = every absolute feature + the contrasts. Absolute texture features
carry image-wide acquisition effects (noise, blur, pixel size), which the within-wrist contrasts cancel."""


def _absolute_columns(n_features: int, inputs: str, selected: np.ndarray | None = None) -> np.ndarray:
    """Columns (of the selected features) that enter the classifier as absolute values."""
    from wristbme.features.schema import FEATURE_NAMES

    names = list(FEATURE_NAMES) if selected is None else [FEATURE_NAMES[i] for i in selected
                                                           if i < len(FEATURE_NAMES)]
    if inputs == "all" or n_features != len(names):
        return np.arange(n_features)
    return np.array([i for i, name in enumerate(names) if name.startswith("density_")], dtype=int)
BONE_LEVELS = tuple(b.value for b in RAMRIS_BONES)


def make_estimator(method: str, params: dict, seed: int):
    """The unfitted classifier for ``method`` ('enet' or 'gbm') with ``params``."""
    if method == "enet":
        return Pipeline([("scale", StandardScaler()),
                         ("clf", LogisticRegression(solver="saga", max_iter=3000, tol=1e-3, random_state=seed,
                                                    **params))])
    if method == "gbm":
        return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, l2_regularization=1.0,
                                              min_samples_leaf=20, random_state=seed, **params)
    raise ModelError(f"train: method={method!r} is not known; use one of {', '.join(METHODS)}")


def _bone_onehot(bones: np.ndarray) -> np.ndarray:
    b = np.asarray(bones).astype(str)
    return np.stack([(b == lv).astype(np.float64) for lv in BONE_LEVELS], axis=1)


def _bone_stats(X: np.ndarray, bones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-bone feature means and SDs, arrays (n_bone_levels, n_features); global values for absent bones."""
    b = np.asarray(bones).astype(str)
    g_mu, g_sd = X.mean(axis=0), X.std(axis=0)
    mu = np.tile(g_mu, (len(BONE_LEVELS), 1))
    sd = np.tile(g_sd, (len(BONE_LEVELS), 1))
    for i, lv in enumerate(BONE_LEVELS):
        rows = b == lv
        if rows.sum() >= 3:
            mu[i] = X[rows].mean(axis=0)
            sd[i] = X[rows].std(axis=0)
    return mu, np.where(sd > 1e-12, sd, 1.0)


def context_features(X: np.ndarray, bones: np.ndarray, image_ids: np.ndarray, mu: np.ndarray,
                     sd: np.ndarray) -> np.ndarray:
    """Within-wrist contrast: each row's per-bone z-score minus the median z-score of its image's bones.

    Cancels what all bones of one radiograph share (bone mineral density, exposure processing, detector
    noise and blur of the site), keeping what sets one bone apart from its neighbours.
    """
    b = np.asarray(bones).astype(str)
    idx = np.array([BONE_LEVELS.index(v) for v in b])
    z = (X - mu[idx]) / sd[idx]
    out = np.empty_like(z)
    ids = np.asarray(image_ids).astype(str)
    for img in np.unique(ids):
        rows = ids == img
        out[rows] = z[rows] - np.median(z[rows], axis=0)
    return out


def bone_label_strata(bones: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One stratum per (bone, label): folds stratified on it hold about the same share of each bone's
    positives.

    Stratifying on the label alone balances positive rows overall but not per bone. A fold that happens to
    hold more of one bone's positives leaves its training part with a lower prevalence of that bone, hence a
    lower bone intercept, hence lower scores for exactly those held-out positives. Pooled over folds that is
    an anti-learning bias: under the null the within-bone cross-validated AUC fell to 0.37
    (docs/model.md, "Folds stratified per bone").
    """
    idx = np.array([BONE_LEVELS.index(b) if b in BONE_LEVELS else len(BONE_LEVELS)
                    for b in np.asarray(bones).astype(str)], dtype=np.int64)
    return idx * 2 + np.asarray(y).astype(np.int64)


def grouped_splits(y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int,
                   strata: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Patient-grouped folds stratified on ``strata`` (default: the label ``y``); asserts that no patient is
    on both sides of any split."""
    n_groups = len(np.unique(groups))
    k = max(2, min(n_splits, n_groups))
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # rare strata (a bone's positives) may have fewer members than folds; they are spread as far as they go
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(cv.split(np.zeros(len(y)), y if strata is None else strata, groups))
    for tr, te in splits:
        if set(np.asarray(groups)[tr]) & set(np.asarray(groups)[te]):
            raise AssertionError("grouped_splits: a patient is in both training and test rows")
    return splits


def _sigmoid(x):
    """Logistic function without overflow for large |x| (scipy's expit)."""
    from scipy.special import expit

    return expit(x)


WRIST_TOP_K = 3

ENGINE_VERSION = 4
"""Version of the fitting procedure, part of the model id: bump when the same data would give another model.
2: monotone Platt slope and wrist weights; 3: the wrist stage's inputs are (top-3 minus mean, mean);
4: inner folds stratified per (bone, label) (``bone_label_strata``)."""


def _wrist_inputs(logits: np.ndarray, image_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: [mean of the top-3 minus mean of all, mean of all] calibrated bone logits.

    The first is how far the most suspicious bones stand out from the wrist's own bones (BME is focal; an
    acquisition change that moves every bone of an image alike does not move it); the second is the wrist's
    overall level. The top-3 mean is steadier than the maximum. Returns (unique image ids, (n_images, 2)).
    """
    ids, inv = np.unique(np.asarray(image_ids).astype(str), return_inverse=True)
    out = np.empty((len(ids), 2))
    for i in range(len(ids)):
        v = np.sort(logits[inv == i])[::-1]
        out[i] = (v[:WRIST_TOP_K].mean() - v.mean(), v.mean())
    return ids, out


@dataclass
class Engine:
    """Everything needed to turn feature rows into calibrated bone and wrist probabilities."""

    method: str
    feature_names: tuple[str, ...]
    params: dict
    medians: np.ndarray
    combat: ComBat | None
    classifier: object
    platt: tuple[float, float]
    wrist_coef: tuple[float, float, float]
    """(w_contrast, w_mean, intercept) of the wrist logistic stage (see ``_wrist_inputs``), weights >= 0."""
    bone_mu: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    bone_sd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    inner_auc: dict = field(default_factory=dict)
    inputs: str = "all"
    selected: tuple[int, ...] | None = None
    """Schema columns the engine uses (the robustness screen); None = all."""

    # -- preprocessing ------------------------------------------------------------------------------
    def _prepare(self, X: np.ndarray, bones: np.ndarray, image_ids: np.ndarray, sites: np.ndarray | None
                 ) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        sel = None if self.selected is None else np.asarray(self.selected, dtype=int)
        if sel is not None:
            X = X[:, sel]
        X = np.where(np.isfinite(X), X, self.medians)
        if self.combat is not None:
            if sites is None:
                raise ModelError("this model was trained with ComBat: give each image's site to score it")
            X = self.combat.transform(X, sites, bones)
        ctx = context_features(X, bones, image_ids, self.bone_mu, self.bone_sd)
        keep = _absolute_columns(X.shape[1], self.inputs, sel)
        return np.concatenate([X[:, keep], ctx, _bone_onehot(bones)], axis=1)

    def bone_logits(self, X, bones, image_ids, sites=None) -> np.ndarray:
        """Calibrated bone logits (log-odds of BME in that bone) for rows ``X`` (n, n_features) of the
        images ``image_ids`` (all scored bones of an image must be given together)."""
        from threadpoolctl import threadpool_limits

        Z = self._prepare(X, bones, image_ids, sites)
        with threadpool_limits(limits=1):
            d = _decision(self.classifier, Z)
        a, b = self.platt
        return a * d + b

    def predict(self, X, bones, image_ids, sites=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bone probabilities per row, unique image ids, wrist probability per image)."""
        lg = self.bone_logits(X, bones, image_ids, sites)
        ids, W = _wrist_inputs(lg, image_ids)
        wm, wa, c = self.wrist_coef
        return _sigmoid(lg), ids, _sigmoid(W[:, 0] * wm + W[:, 1] * wa + c)


def _decision(clf, Z: np.ndarray) -> np.ndarray:
    return np.asarray(clf.decision_function(Z), dtype=np.float64)


def fit_engine(X: np.ndarray, y: np.ndarray, groups: np.ndarray, sites: np.ndarray, bones: np.ndarray,
               image_ids: np.ndarray, feature_names: tuple[str, ...], *, method: str = "enet",
               combat: bool = False, seed: int = 0, inputs: str = "robust",
               selected: tuple[int, ...] | None = None) -> Engine:
    """Fit the engine on training rows (see the module docstring). ``y`` is 0/1 per (image, bone) row;
    ``selected`` restricts the engine to those columns of ``X`` (the robustness screen)."""
    X = np.asarray(X, dtype=np.float64)
    sel = None if selected is None else np.asarray(selected, dtype=int)
    if sel is not None:
        X = X[:, sel]
    y = np.asarray(y).astype(int)
    if y.min() == y.max():
        raise ModelError(f"train: every training row has label {y[0]}; both BME-positive and negative bones "
                         "are needed")
    med = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    Xi = np.where(np.isfinite(X), X, med)
    cb = None
    if combat:
        cb = ComBat.fit(Xi, sites, bones)
        Xi = cb.transform(Xi, sites, bones)
    mu, sd = _bone_stats(Xi, bones)
    if inputs not in INPUTS:
        raise ModelError(f"train: inputs={inputs!r} is not known; use one of {', '.join(INPUTS)}")
    keep = _absolute_columns(Xi.shape[1], inputs, sel)
    Z = np.concatenate([Xi[:, keep], context_features(Xi, bones, image_ids, mu, sd), _bone_onehot(bones)],
                       axis=1)
    grid = ENET_GRID if method == "enet" else GBM_GRID if method == "gbm" else None
    if grid is None:
        make_estimator(method, {}, seed)  # raises the ModelError
    splits = grouped_splits(y, groups, INNER_FOLDS, seed, strata=bone_label_strata(bones, y))
    best, best_auc, best_oof = None, -np.inf, None
    inner_auc = {}
    from threadpoolctl import threadpool_limits

    # one thread per fit: OpenMP oversubscription makes boosting orders of magnitude slower on shared cores,
    # and parallelism belongs to the process pool
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for params in grid:
            oof = np.zeros(len(y))
            for tr, te in splits:
                est = make_estimator(method, params, seed)
                est.fit(Z[tr], y[tr])
                oof[te] = _decision(est, Z[te])
            auc = roc_auc_score(y, oof)
            inner_auc[str(params)] = float(auc)
            if auc > best_auc + 1e-12:
                best, best_auc, best_oof = params, auc, oof
        final = make_estimator(method, best, seed).fit(Z, y)
    # monotone stages: a higher classifier output may never mean a lower BME probability. Unconstrained,
    # both stages learned negative slopes from the anti-learning bias of cross-validated scores under the
    # null (held-out positives lower the training prevalence) and turned it into a spurious AUC > 0.5
    coef, b = logistic_fit(best_oof.reshape(-1, 1), y, nonnegative=True)
    a = float(coef[0])
    lg = a * best_oof + b
    ids, W = _wrist_inputs(lg, image_ids)
    ids_all = np.asarray(image_ids).astype(str)
    wy = np.array([y[ids_all == i].max() for i in ids])
    if wy.min() == wy.max():
        wrist = (1.0, 1.0, 0.0)  # degenerate cohort: wrist logit = mean of the top-3 bone logits
    else:
        wc, wi = logistic_fit(W, wy, nonnegative=True)
        wrist = (float(wc[0]), float(wc[1]), float(wi))
    return Engine(method, tuple(feature_names), dict(best), med, cb, final, (a, b), wrist, mu, sd, inner_auc,
                  inputs, None if sel is None else tuple(int(i) for i in sel))


__all__ = ["ENGINE_VERSION", "Engine", "METHODS", "bone_label_strata", "fit_engine", "grouped_splits",
           "make_estimator"]
