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
