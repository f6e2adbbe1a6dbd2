"""AUC with CI: agreement with scikit-learn, with the statistics package (DeLong), and the clustered case."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from wristbme.model.metrics import _delong, auc_ci, brier, calibration


def test_delong_auc_equals_sklearn_and_variance_is_positive():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    s = y + rng.normal(size=80)
    s[::7] = np.round(s[::7])  # some ties
    auc, var = _delong(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s))
    assert var > 0


def test_delong_matches_stats_package_when_present():
    roc = pytest.importorskip("wristbme.stats.roc")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    s = y * 0.7 + rng.normal(size=60)
    ref = roc.roc_auc(y, s)
    auc, var = _delong(y, s)
    assert auc == pytest.approx(ref.auc.value) and var == pytest.approx(ref.variance, rel=1e-9)


def test_auc_ci_unclustered_is_delong_and_clustered_is_bootstrap():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 100)
    s = y + rng.normal(size=100)
    a = auc_ci(y, s)
    assert a["method"] == "delong" and a["ci_low"] < a["auc"] < a["ci_high"]
    b = auc_ci(y, s, groups=np.repeat(np.arange(50), 2), n_boot=200, seed=3)
    assert b["method"].startswith("cluster_bootstrap") and b["ci_low"] < b["auc"] < b["ci_high"]


def test_single_class_gives_nan_not_error():
    out = auc_ci([1, 1, 1], [0.1, 0.2, 0.3])
    assert np.isnan(out["auc"]) and out["method"] == "none"


def test_brier_and_calibration_of_perfectly_calibrated_scores():
    rng = np.random.default_rng(4)
    p = rng.random(4000)
    y = (rng.random(4000) < p).astype(int)
    assert brier(y, p) == pytest.approx(np.mean(p * (1 - p)), abs=0.01)
    cal = calibration(y, p)
    assert cal["slope"] == pytest.approx(1.0, abs=0.15) and cal["intercept"] == pytest.approx(0.0, abs=0.15)


def test_vectorised_cluster_bootstrap_equals_the_naive_loop():
    from wristbme.model.metrics import _auc_only, _cluster_bootstrap_aucs

    rng = np.random.default_rng(6)
    groups = np.repeat(np.arange(20), 3)
    y = rng.integers(0, 2, 60)
    s = np.round(y + rng.normal(size=60), 1)  # ties
    fast = _cluster_bootstrap_aucs(y, s, groups, 50, seed=9)
    picks = np.random.default_rng(9).integers(0, 20, size=(50, 20))
    slow = []
    for p in picks:
        idx = np.concatenate([np.nonzero(groups == g)[0] for g in p])
        if y[idx].min() != y[idx].max():
            slow.append(_auc_only(y[idx], s[idx]))
    assert np.allclose(fast, slow)


def test_newton_logistic_fit_matches_sklearn_unpenalised():
    from sklearn.linear_model import LogisticRegression

    from wristbme.model.metrics import logistic_fit

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 2))
    y = (rng.random(300) < 1 / (1 + np.exp(-(0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.3)))).astype(int)
    coef, intercept = logistic_fit(X, y, ridge=0.0)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)
    assert np.allclose(coef, ref.coef_[0], atol=1e-4) and intercept == pytest.approx(ref.intercept_[0], abs=1e-4)


def test_within_bone_auc_ignores_prevalence_differences_between_bones():
    from wristbme.model.metrics import auc_within

    rng = np.random.default_rng(8)
    n = 400
    bones = rng.choice(["a", "b"], n)
    y = (rng.random(n) < np.where(bones == "a", 0.6, 0.1)).astype(int)
    score = np.where(bones == "a", 1.0, 0.0) + rng.normal(0, 0.01, n)  # knows the bone, nothing else
    pooled = auc_ci(y, score)
    within = auc_within(y, score, bones, np.arange(n) // 2, n_boot=200)
    assert pooled["auc"] > 0.7
    assert within["ci_low"] <= 0.5 <= within["ci_high"]
    exact = [roc_auc_score(y[bones == b], score[bones == b]) for b in ("a", "b")]
    w = [y[bones == b].sum() * (1 - y[bones == b]).sum() for b in ("a", "b")]
    assert within["auc"] == pytest.approx(np.average(exact, weights=w))


def test_nonnegative_logistic_fit_fixes_a_negative_slope_at_zero():
    from wristbme.model.metrics import logistic_fit

    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - 2.0 * x[:, 1])))).astype(float)
    free, _ = logistic_fit(x, y)
    assert free[0] > 0 > free[1]
    coef, intercept = logistic_fit(x, y, nonnegative=True)
    assert coef[1] == 0.0 and coef[0] > 0
    alone, b = logistic_fit(x[:, :1], y)  # the constrained fit is the fit without the negative input
    assert coef[0] == pytest.approx(alone[0]) and intercept == pytest.approx(b)
    # a fit whose slopes are positive anyway is unchanged
    pos = (rng.random(200) < 1 / (1 + np.exp(-(x[:, 0] + x[:, 1])))).astype(float)
    assert np.allclose(logistic_fit(x, pos, nonnegative=True)[0], logistic_fit(x, pos)[0])
