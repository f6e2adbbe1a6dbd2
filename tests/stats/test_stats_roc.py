"""ROC/DeLong, Youden, proportions and diagnostic metrics against pROC (aSAH), sklearn and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve
from statsmodels.stats.proportion import proportion_confint

from wristbme.errors import ConfigError
from wristbme.stats import (
    bootstrap_clustered,
    cluster_bootstrap_weights,
    delong_covariance,
    delong_test,
    diagnostic_metrics,
    proportion_ci,
    roc_auc,
    roc_auc_bootstrap,
    roc_curve,
    weighted_auc,
    weighted_proportion,
    youden_cutoff,
)

FULL = 1e-9


def asah(ref):
    d = ref("proc_asah_roc_delong")["data"]
    y = np.array([o == "Poor" for o in d["outcome"]])
    return y, {m: np.array(d[m], float) for m in ("wfns", "ndka", "s100b")}, np.array(d["gender"])


@pytest.mark.parametrize("marker", ["wfns", "ndka", "s100b"])
def test_auc_and_delong_variance_match_proc(ref, marker):
    e = ref("proc_asah_roc_delong")["expected"]
    y, s, _ = asah(ref)
    r = roc_auc(y, s[marker])
    assert r.auc.value == pytest.approx(e[f"auc_{marker}"]["value"], abs=FULL)
    assert r.variance == pytest.approx(e[f"var_delong_{marker}"]["value"], abs=FULL)
    assert r.auc.value == pytest.approx(roc_auc_score(y, s[marker]), abs=1e-12)
    assert (r.n_positive, r.n_negative) == (41, 72)


def test_auc_intervals_match_proc(ref):
    e = ref("proc_asah_roc_delong")["expected"]
    y, s, g = asah(ref)
    ndka = roc_auc(y, s["ndka"]).auc
    assert (ndka.ci_lower, ndka.ci_upper) == pytest.approx(
        (e["auc_ci95_lower_ndka"]["value"], e["auc_ci95_upper_ndka"]["value"]), abs=FULL)
    s100b = roc_auc(y, s["s100b"]).auc
    assert (s100b.ci_lower, s100b.ci_upper) == pytest.approx(
        (e["auc_ci95_lower_s100b"]["value"], e["auc_ci95_upper_s100b"]["value"]), abs=5e-5)
    female = g == "Female"
    f = roc_auc(y[female], s["ndka"][female]).auc
    assert (f.value, f.ci_lower, f.ci_upper) == pytest.approx(
        (e["female_ndka_auc"]["value"], e["female_ndka_ci_lower"]["value"], e["female_ndka_ci_upper"]["value"]),
        abs=1e-9)


def test_delong_covariances_match_proc(ref):
    e = ref("proc_asah_roc_delong")["expected"]
    y, s, _ = asah(ref)
    _, cov = delong_covariance(y, [s["wfns"], s["ndka"], s["s100b"]])
    assert cov[0, 1] == pytest.approx(e["cov_delong_wfns_ndka"]["value"], abs=FULL)
    assert cov[1, 2] == pytest.approx(e["cov_delong_ndka_s100b"]["value"], abs=FULL)
    assert cov[2, 0] == pytest.approx(e["cov_delong_s100b_wfns"]["value"], abs=FULL)


@pytest.mark.parametrize("first,second", [("s100b", "ndka"), ("ndka", "s100b"), ("wfns", "s100b"), ("wfns", "ndka")])
def test_paired_delong_test_matches_proc(ref, first, second):
    e = ref("proc_asah_roc_delong")["expected"]
    y, s, _ = asah(ref)
    r = delong_test(y, s[first], s[second])
    key = f"roctest_{first}_vs_{second}"
    assert r.z == pytest.approx(e[f"{key}_Z"]["value"], abs=FULL)
    assert r.p == pytest.approx(e[f"{key}_p"]["value"], abs=FULL)
    if f"{key}_diff_ci_lower" in e:
        assert (r.difference.ci_lower, r.difference.ci_upper) == pytest.approx(
            (e[f"{key}_diff_ci_lower"]["value"], e[f"{key}_diff_ci_upper"]["value"]), abs=FULL)


def test_one_sided_delong_test_matches_proc(ref):
    e = ref("proc_asah_roc_delong")["expected"]
    y, s, _ = asah(ref)
    assert delong_test(y, s["wfns"], s["s100b"], alternative="greater").p == pytest.approx(
        e["roctest_wfns_vs_s100b_p_greater"]["value"], abs=FULL)


def test_youden_cutoff_and_metrics_match_proc(ref):
    r = ref("proc_asah_roc_delong")
    e, dr = r["expected"], r["derived_not_published"]
    y, s, _ = asah(ref)
    yc = youden_cutoff(y, s["s100b"])
    assert yc.cutoff == pytest.approx(e["youden_best_threshold_s100b"]["value"], abs=FULL)
    assert yc.sensitivity == pytest.approx(e["youden_best_sensitivity_s100b"]["value"], abs=FULL)
    assert yc.specificity == pytest.approx(e["youden_best_specificity_s100b"]["value"], abs=FULL)
    m = diagnostic_metrics(y, s["s100b"], yc.cutoff)
    c = dr["confusion_at_0p205"]
    assert (m.tp, m.fn, m.tn, m.fp) == (c["tp"], c["fn"], c["tn"], c["fp"])
    assert (m.ppv.value, m.npv.value) == pytest.approx((c["ppv"], c["npv"]), abs=1e-12)
    assert (m.sensitivity.ci_lower, m.sensitivity.ci_upper) == pytest.approx(tuple(dr["sensitivity_wilson95"]), abs=1e-9)
    assert (m.specificity.ci_lower, m.specificity.ci_upper) == pytest.approx(tuple(dr["specificity_wilson95"]), abs=1e-9)
    cp = diagnostic_metrics(y, s["s100b"], yc.cutoff, method="clopper-pearson")
    assert (cp.sensitivity.ci_lower, cp.sensitivity.ci_upper) == pytest.approx(
        tuple(dr["sensitivity_clopper_pearson95"]), abs=1e-9)
    assert (cp.specificity.ci_lower, cp.specificity.ci_upper) == pytest.approx(
        tuple(dr["specificity_clopper_pearson95"]), abs=1e-9)
    # the observed-value convention (s100b >= 0.22) classifies identically
    assert diagnostic_metrics(y, s["s100b"], 0.22).tp == m.tp


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (26, 41), (999, 1000)])
@pytest.mark.parametrize("method,sm_method", [("wilson", "wilson"), ("clopper-pearson", "beta")])
def test_proportion_ci_matches_statsmodels(k, n, method, sm_method):
    ours = proportion_ci(k, n, method=method)
    lo, hi = proportion_confint(k, n, alpha=0.05, method=sm_method)
    assert (ours.ci_lower, ours.ci_upper) == pytest.approx((lo, hi), abs=1e-10)
    assert ours.value == k / n


def test_proportion_ci_edge_cases():
    assert np.isnan(proportion_ci(0, 0).value)
    with pytest.raises(ConfigError, match="0 <= k <= n"):
        proportion_ci(5, 3)
    with pytest.raises(ConfigError, match="method"):
        proportion_ci(1, 3, method="wald")


def test_roc_curve_points_match_sklearn(ref):
    y, s, _ = asah(ref)
    ours = roc_curve(y, s["s100b"])
    fpr, tpr, _ = sk_roc_curve(y, s["s100b"], drop_intermediate=False)
    assert ours["fpr"].to_numpy() == pytest.approx(fpr)
    assert ours["tpr"].to_numpy() == pytest.approx(tpr)
    # trapezoidal area under the points is the AUC
    assert np.trapezoid(ours["tpr"], ours["fpr"]) == pytest.approx(roc_auc(y, s["s100b"]).auc.value, abs=1e-12)


def test_roc_needs_both_classes():
    with pytest.raises(ConfigError, match="both positives and negatives"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ConfigError, match="0/1"):
        roc_auc([0, 2, 1], [0.1, 0.2, 0.3])


def test_weighted_auc_with_unit_weights_is_the_auc_and_with_counts_is_the_duplicated_auc(ref):
    y, s, _ = asah(ref)
    assert weighted_auc(y, s["ndka"], np.ones(len(y)))[0] == pytest.approx(roc_auc(y, s["ndka"]).auc.value)
    w = np.random.default_rng(3).integers(0, 3, len(y))
    dup = np.repeat(np.arange(len(y)), w)
    assert weighted_auc(y, s["ndka"], w)[0] == pytest.approx(roc_auc_score(y[dup], s["ndka"][dup]), abs=1e-12)


def test_cluster_bootstrap_resamples_whole_clusters_and_is_seeded():
    clusters = np.array(["a", "a", "b", "b", "c", "d"])
    w = cluster_bootstrap_weights(clusters, n_boot=50, seed=1)
    assert w.shape == (50, 6)
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 2] == w[:, 3])
    assert np.all(w[:, [0, 2, 4, 5]].sum(axis=1) == 4)  # as many clusters drawn as exist
    assert np.array_equal(w, cluster_bootstrap_weights(clusters, n_boot=50, seed=1))
    assert not np.array_equal(w, cluster_bootstrap_weights(clusters, n_boot=50, seed=2))


def test_clustered_auc_interval_is_wider_than_delong_for_duplicated_patients():
    rng = np.random.default_rng(0)
    n = 150
    y = rng.random(n) < 0.4
    score = rng.normal(size=n) + y
    yy, ss = np.repeat(y, 2), np.repeat(score, 2) + rng.normal(0, 0.05, 2 * n)
    patients = np.repeat(np.arange(n), 2)
    boot = roc_auc_bootstrap(yy, ss, patients, n_boot=400, seed=0)
    naive = roc_auc(yy, ss).auc
    assert boot.ci_upper - boot.ci_lower > 1.2 * (naive.ci_upper - naive.ci_lower)
    assert boot.value == pytest.approx(naive.value)
    assert boot == roc_auc_bootstrap(yy, ss, patients, n_boot=400, seed=0)


def test_bootstrap_clustered_of_a_proportion_brackets_the_estimate():
    rng = np.random.default_rng(5)
    success = rng.random(200) < 0.3
    clusters = np.arange(200) // 2
    est = bootstrap_clustered(lambda w: weighted_proportion(success, np.ones(200), w), clusters, n_boot=300, seed=0)
    assert est.ci_lower < est.value < est.ci_upper
    assert est.value == pytest.approx(success.mean())
    assert isinstance(pd.Series([est.value]).iloc[0], float)
