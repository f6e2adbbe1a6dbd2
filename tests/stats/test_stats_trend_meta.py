"""Spearman, Jonckheere–Terpstra (exact permutation moments), and meta-analysis against metafor (dat.bcg)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats as sps
from statsmodels.stats.meta_analysis import combine_effects

from wristbme.errors import ConfigError
from wristbme.stats import jonckheere_terpstra, meta_auc, spearman


def test_spearman_matches_scipy_pingouin_and_the_reference(ref):
    d = ref("bland_altman_1986_pefr")
    a, b = d["data"]["wright_first"], d["data"]["mini_wright_first"]
    r = spearman(a, b)
    assert r.rho.value == pytest.approx(d["derived_not_published"]["spearman_rho"], abs=1e-12)
    assert r.p == pytest.approx(sps.spearmanr(a, b).pvalue, abs=1e-12)
    assert r.rho.value == pytest.approx(pg.corr(a, b, method="spearman")["r"].iloc[0], abs=1e-12)
    z = np.arctanh(r.rho.value)
    se = np.sqrt((1 + r.rho.value**2 / 2) / (len(a) - 3))
    assert r.rho.ci_lower == pytest.approx(np.tanh(z - 1.959963984540054 * se))
    assert r.rho.ci_lower < r.rho.value < r.rho.ci_upper


def _jt(values, groups):
    levels = sorted(set(groups))
    j = 0.0
    for u in range(len(levels)):
        for v in range(u + 1, len(levels)):
            for x in values[groups == levels[u]]:
                for y in values[groups == levels[v]]:
                    j += 1.0 if x < y else 0.5 if x == y else 0.0
    return j


@pytest.mark.parametrize("values", [
    np.array([1.0, 2, 3, 4, 5, 6, 7, 8]),            # no ties
    np.array([1.0, 1, 2, 2, 2, 3, 4, 4]),            # ties across groups
    np.array([0.0, 0, 0, 1, 1, 2, 2, 2]),
])
def test_jonckheere_null_mean_and_tie_corrected_variance_equal_the_exact_permutation_moments(values):
    sizes = (3, 3, 2)
    stats = []
    idx = set(range(8))
    for g0 in combinations(sorted(idx), sizes[0]):
        rest = sorted(idx - set(g0))
        for g1 in combinations(rest, sizes[1]):
            groups = np.full(8, 2)
            groups[list(g0)] = 0
            groups[list(g1)] = 1
            stats.append(_jt(values, groups))
    stats = np.array(stats)
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    r = jonckheere_terpstra(values, groups)
    assert r.statistic == pytest.approx(_jt(values, groups))
    assert r.mean == pytest.approx(stats.mean(), abs=1e-10)
    assert r.variance == pytest.approx(stats.var(ddof=0), abs=1e-9)


def test_jonckheere_direction_and_order():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9])
    g = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    up = jonckheere_terpstra(x, g)
    assert up.statistic == 27 and up.p < 0.01
    assert jonckheere_terpstra(x, g, alternative="decreasing").p > 0.99
    rev = jonckheere_terpstra(x, g, order=[2, 1, 0])
    assert rev.statistic == 0 and rev.z == pytest.approx(-up.z)
    assert jonckheere_terpstra(x, g, alternative="two-sided").p == pytest.approx(2 * up.p)
    with pytest.raises(ConfigError, match="not in order"):
        jonckheere_terpstra(x, g, order=[0, 1])


def bcg(ref):
    r = ref("meta_metafor_dat_bcg")
    a, b, c, d = np.array(r["data"]["rows"], float).T
    yi = np.log(a / (a + b)) - np.log(c / (c + d))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return r["expected"], yi, vi


def tol(e):
    return 0.5 * 10.0 ** (-e["printed_decimals"]) + 1e-12


def test_meta_dl_matches_metafor(ref):
    e, yi, vi = bcg(ref)
    r = meta_auc(yi, vi, method="DL")
    assert r.q == pytest.approx(e["Q"]["value"], abs=tol(e["Q"]))
    assert r.pooled.value == pytest.approx(e["DL_estimate"]["value"], abs=tol(e["DL_estimate"]))
    assert r.pooled.ci_lower == pytest.approx(e["DL_ci_lower"]["value"], abs=tol(e["DL_ci_lower"]))
    assert r.pooled.ci_upper == pytest.approx(e["DL_ci_upper"]["value"], abs=tol(e["DL_ci_upper"]))


def test_meta_reml_matches_metafor(ref):
    e, yi, vi = bcg(ref)
    r = meta_auc(yi, vi, method="REML")
    for key, value in [("REML_tau2", r.tau2), ("REML_I2_percent", r.i2), ("REML_estimate", r.pooled.value),
                       ("REML_se", r.se), ("REML_ci_lower", r.pooled.ci_lower), ("REML_ci_upper", r.pooled.ci_upper)]:
        assert value == pytest.approx(e[key]["value"], abs=tol(e[key])), key


def test_meta_dl_matches_statsmodels_and_i2_equals_q_formula(ref):
    _, yi, vi = bcg(ref)
    r = meta_auc(yi, vi, method="DL")
    sm = combine_effects(yi, vi, method_re="dl")
    frame = sm.summary_frame()
    assert r.tau2 == pytest.approx(sm.tau2, abs=1e-12)
    assert r.pooled.value == pytest.approx(frame.loc["random effect", "eff"], abs=1e-12)
    assert r.se == pytest.approx(frame.loc["random effect", "sd_eff"], abs=1e-12)
    assert r.i2 == pytest.approx(100 * (r.q - 12) / r.q, abs=1e-9)
    lo, hi = r.prediction
    half = sps.t.ppf(0.975, 11) * np.sqrt(r.tau2 + r.se**2)
    assert (lo, hi) == pytest.approx((r.pooled.value - half, r.pooled.value + half))


def test_meta_homogeneous_sites_give_zero_tau2():
    r = meta_auc([0.8, 0.8, 0.8], [0.001, 0.002, 0.003], method="REML")
    assert r.tau2 == 0 and r.i2 == 0
    with pytest.raises(ConfigError, match="at least 2"):
        meta_auc([0.8], [0.001])
    with pytest.raises(ConfigError, match="> 0"):
        meta_auc([0.8, 0.7], [0.001, 0.0])
