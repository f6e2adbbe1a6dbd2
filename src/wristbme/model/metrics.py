"""Validation metrics: ROC AUC with a 95% CI, Brier score, calibration intercept and slope.

The AUC CI is DeLong's (DeLong et al. 1988, doi:10.2307/2531595) when every unit comes from a different
patient, and a patient-cluster percentile bootstrap otherwise (bones of one wrist, or several images of one
patient, are not independent). ``wristbme.stats.roc_auc`` is used for DeLong when it exists; the private
fallback here implements the same structural-components variance.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps
from scipy.special import expit


def _delong(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    pos, neg = score[y == 1], score[y == 0]
    m, n = len(pos), len(neg)
    # psi(x, y) = 1 if x > y, 0.5 if equal; via ranks
    allv = np.concatenate([pos, neg])
    r_all = sps.rankdata(allv)
    r_pos = sps.rankdata(pos)
    r_neg = sps.rankdata(neg)
    auc = (r_all[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (r_all[:m] - r_pos) / n
    v01 = 1.0 - (r_all[m:] - r_neg) / m
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    return float(auc), float(var)


def _auc_only(y: np.ndarray, score: np.ndarray) -> float:
    """Mann–Whitney AUC (ties count one half) from one ranking."""
    pos = y == 1
    m = int(pos.sum())
    n = len(y) - m
    r = sps.rankdata(score)
    return float((r[pos].sum() - m * (m + 1) / 2) / (m * n))


def auc_ci(y, score, groups=None, *, level: float = 0.95, n_boot: int = 500, seed: int = 0) -> dict:
    """AUC, its CI and the method used. NaN AUC when only one class is present.

    Parameters
    ----------
    y : array of 0/1
    score : array of float, higher = more likely positive
    groups : array, optional
        Patient of each unit; when some patient has several units, a cluster bootstrap over patients is used.
    """
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    out = {"auc": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": int(len(y)),
           "n_pos": n_pos, "n_neg": n_neg, "method": "none"}
    if n_pos < 2 or n_neg < 2:
        return out
    clustered = groups is not None and len(set(np.asarray(groups).tolist())) < len(y)
    z = sps.norm.ppf(0.5 + level / 2)
    if not clustered:
        auc, var = _delong_auc(y, score)
        se = math.sqrt(max(var, 0.0))
        out.update(auc=auc, ci_low=max(0.0, auc - z * se), ci_high=min(1.0, auc + z * se), method="delong")
        return out
    auc, _ = _delong(y, score)
    boots = _cluster_bootstrap_aucs(y, score, np.asarray(groups), n_boot, seed)
    lo, hi = np.percentile(boots, [100 * (0.5 - level / 2), 100 * (0.5 + level / 2)])
    out.update(auc=auc, ci_low=float(lo), ci_high=float(hi), method=f"cluster_bootstrap_{n_boot}")
    return out


def _cluster_bootstrap_aucs(y: np.ndarray, score: np.ndarray, groups: np.ndarray, n_boot: int,
                            seed: int) -> np.ndarray:
    """AUCs of ``n_boot`` resamples of whole clusters (with replacement), as multiplicity weights.

    All resamples at once: scores sorted once, tie groups summed with ``reduceat``; a resample AUC is
    sum_g P_g (N_before_g + N_g / 2) / (P N) with P_g, N_g the weighted positives/negatives in tie group g.
    Resamples with a single class are dropped.
    """
    num, den = _bootstrap_parts(y, score, _cluster_counts(groups, n_boot, seed)[1])
    ok = den > 0
    return num[ok] / den[ok]


def _cluster_counts(groups: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster index of each unit, multiplicity of each cluster in each of ``n_boot`` resamples)."""
    _, inv = np.unique(groups, return_inverse=True)
    n_clusters = int(inv.max()) + 1
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    counts = np.stack([np.bincount(p, minlength=n_clusters) for p in picks]).astype(np.float64)
    return inv, counts[:, inv]


def _bootstrap_parts(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Mann–Whitney numerator and denominator (P·N) per resample; ``weights`` (n_boot, n)."""
    order = np.argsort(score, kind="stable")
    s_sorted = score[order]
    y_sorted = y[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    W = weights[:, order]
    Pg = np.add.reduceat(W * y_sorted, starts, axis=1)
    Ng = np.add.reduceat(W * (1.0 - y_sorted), starts, axis=1)
    before = np.cumsum(Ng, axis=1) - Ng
    return (Pg * (before + 0.5 * Ng)).sum(axis=1), Pg.sum(axis=1) * Ng.sum(axis=1)


def auc_within(y, score, strata, groups, *, level: float = 0.95, n_boot: int = 500, seed: int = 0) -> dict:
    """AUC over positive–negative pairs *of the same stratum* (here: the same bone), with a patient-cluster
    bootstrap CI. Unlike the pooled bone-level AUC, it is 0.5 in expectation when images carry no signal,
    whatever the prevalence differences between bones."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=np.float64)
    strata = np.asarray(strata).astype(str)
    _, W = _cluster_counts(np.asarray(groups), n_boot, seed)
    num_b = np.zeros(n_boot)
    den_b = np.zeros(n_boot)
    num0 = den0 = 0.0
    for s in np.unique(strata):
        rows = strata == s
        if y[rows].min() == y[rows].max():
            continue
        n, d = _bootstrap_parts(y[rows], score[rows], W[:, rows])
        num_b += n
        den_b += d
        n1, d1 = _bootstrap_parts(y[rows], score[rows], np.ones((1, int(rows.sum()))))
        num0 += float(n1[0])
        den0 += float(d1[0])
    out = {"auc": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": int(len(y)),
           "method": f"within_stratum_cluster_bootstrap_{n_boot}"}
    if den0 == 0:
        return out
    ok = den_b > 0
    lo, hi = np.percentile(num_b[ok] / den_b[ok], [100 * (0.5 - level / 2), 100 * (0.5 + level / 2)])
    out.update(auc=num0 / den0, ci_low=float(lo), ci_high=float(hi))
    return out


def _delong_auc(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """DeLong AUC and variance from ``wristbme.stats.roc.roc_auc`` (the project's reference, tested against
    pROC); the local ``_delong`` (identical, tested) only when the statistics package is unavailable."""
    try:
        from wristbme.stats.roc import roc_auc
    except ImportError:
        return _delong(y, score)
    res = roc_auc(y, score)
    return float(res.auc.value), float(res.variance)


def brier(y, prob) -> float:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(prob, dtype=np.float64)
    return float(np.mean((p - y) ** 2))


def calibration(y, prob) -> dict:
    """Calibration intercept (calibration-in-the-large) and slope from a logistic fit of y on logit(p)."""
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(prob, dtype=np.float64), 1e-6, 1 - 1e-6)
    if y.min() == y.max():
        return {"slope": float("nan"), "intercept": float("nan")}
    lg = np.log(p / (1 - p)).reshape(-1, 1)
    coef, intercept = logistic_fit(lg, y)
    return {"slope": float(coef[0]), "intercept": float(intercept)}


def logistic_fit(X, y, *, ridge: float = 1e-4, max_iter: int = 100,
                 nonnegative: bool = False) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton–Raphson (IRLS) with a tiny ridge on the slopes (not the intercept).

    For the few-parameter fits of the engine (Platt scaling, wrist stage, calibration slope): exact,
    deterministic and fast. Returns (coefficients, intercept).

    ``nonnegative=True`` constrains every slope to be >= 0 (active set: a slope that comes out negative is
    fixed at 0 and the rest refitted), for fits that must be monotone, e.g. a wrist score that may never fall
    when a bone's score rises.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if nonnegative:
        free = np.ones(X.shape[1], dtype=bool)
        coef = np.zeros(X.shape[1])
        while True:
            c, intercept = logistic_fit(X[:, free], y, ridge=ridge, max_iter=max_iter)
            if (c >= 0).all():
                coef[free] = c
                return coef, intercept
            free[np.flatnonzero(free)[c < 0]] = False
    A = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    beta = np.zeros(A.shape[1])
    R = np.eye(A.shape[1]) * ridge
    R[-1, -1] = 0.0
    for _ in range(max_iter):
        eta = np.clip(A @ beta, -30, 30)
        mu = expit(eta)
        w = np.maximum(mu * (1 - mu), 1e-10)
        grad = A.T @ (y - mu) - R @ beta
        H = (A * w[:, None]).T @ A + R
        step = np.linalg.solve(H, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta[:-1], float(beta[-1])
