"""ICC, Bland–Altman, SEM/SDC and CV% against irr/psych (anxiety), Bland & Altman 1986 and pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from wristbme.errors import ConfigError
from wristbme.stats import bland_altman, icc, icc_anova, sdc, sem, within_subject_cv


def tol(expected: dict) -> float:
    return 0.5 * 10.0 ** (-expected["printed_decimals"]) + 1e-12


def anxiety_long(ref) -> pd.DataFrame:
    d = ref("icc_irr_anxiety")["data"]
    n = len(d["subject"])
    return pd.DataFrame({
        "subject": d["subject"] * 3,
        "rater": ["rater1"] * n + ["rater2"] * n + ["rater3"] * n,
        "rating": d["rater1"] + d["rater2"] + d["rater3"],
    })


@pytest.mark.parametrize("form", ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"])
def test_icc_matches_psych_values_and_intervals(ref, form):
    r = ref("icc_irr_anxiety")
    table = icc(anxiety_long(ref), "subject", "rater", "rating").set_index("type")
    e = r["expected"]
    assert table.loc[form, "icc"] == pytest.approx(e[f"psych_{form}"]["value"], abs=5e-7)
    assert table.loc[form, "ci_lower"] == pytest.approx(e[f"psych_{form}_lower95"]["value"], abs=5e-7)
    assert table.loc[form, "ci_upper"] == pytest.approx(e[f"psych_{form}_upper95"]["value"], abs=5e-7)


def test_icc_a1_f_test_uses_satterthwaite_df_like_irr(ref):
    e = ref("icc_irr_anxiety")["expected"]
    row = icc(anxiety_long(ref), "subject", "rater", "rating").set_index("type").loc["ICC2"]
    for key, col in [("irr_ICC_A1", "icc"), ("irr_F", "f"), ("irr_F_df2", "df2"), ("irr_p", "p"),
                     ("irr_ci_lower", "ci_lower"), ("irr_ci_upper", "ci_upper")]:
        assert row[col] == pytest.approx(e[key]["value"], abs=tol(e[key])), key


def test_icc_anova_and_sem_sdc_match_the_derived_values(ref):
    r = ref("icc_irr_anxiety")["derived_not_published"]
    a = icc_anova(anxiety_long(ref), "subject", "rater", "rating")
    assert (a.ms_rows, a.ms_cols, a.ms_error, a.ms_within) == pytest.approx(
        (r["MSR"], r["MSC"], r["MSE"], r["MSW"]), abs=1e-9)
    s = sem(anxiety_long(ref), "subject", "rater", "rating", kind="consistency")
    assert s == pytest.approx(r["SEM_sqrtMSE"], abs=1e-9)
    # the reference uses z = 1.96 exactly; sdc uses the exact quantile 1.959964
    assert sdc(s) == pytest.approx(r["SDC95"] * 1.959963984540054 / 1.96, abs=1e-9)


def test_icc_agrees_with_pingouin(ref):
    ours = icc(anxiety_long(ref), "subject", "rater", "rating").set_index("type")
    theirs = pg.intraclass_corr(anxiety_long(ref), targets="subject", raters="rater", ratings="rating")
    # pingouin lists the same six forms in the same order (its names differ between versions)
    theirs.index = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    for form in ours.index:
        assert ours.loc[form, "icc"] == pytest.approx(theirs.loc[form, "ICC"], abs=1e-12)
        assert ours.loc[form, "f"] == pytest.approx(theirs.loc[form, "F"], abs=1e-12)
        lo, hi = theirs.loc[form, "CI95"] if "CI95" in theirs.columns else theirs.loc[form, "CI95%"]
        # pingouin rounds its interval to 2 decimals
        assert ours.loc[form, "ci_lower"] == pytest.approx(lo, abs=0.005 + 1e-9)
        assert ours.loc[form, "ci_upper"] == pytest.approx(hi, abs=0.005 + 1e-9)
    # the consistency and one-way p values agree; for ICC(A,1) pingouin uses (n-1)(k-1) df, irr Satterthwaite
    assert ours.loc["ICC3", "p"] == pytest.approx(theirs.loc["ICC3", "pval"], abs=1e-12)
    assert ours.loc["ICC1", "p"] == pytest.approx(theirs.loc["ICC1", "pval"], abs=1e-12)


def test_icc_drops_incomplete_targets_and_refuses_duplicates(ref):
    d = anxiety_long(ref)
    a = icc_anova(d.drop(index=0), "subject", "rater", "rating")
    assert a.n_targets == 19 and a.n_dropped == 1
    with pytest.raises(ConfigError, match="more than once"):
        icc(pd.concat([d, d.iloc[[0]]]), "subject", "rater", "rating")
    with pytest.raises(ConfigError, match="column 'score'"):
        icc(d, "subject", "rater", "score")


def test_icc_lower_limits_are_not_clipped(ref):
    table = icc(anxiety_long(ref), "subject", "rater", "rating")
    assert (table["ci_lower"] < 0).all()


def pefr(ref):
    d = ref("bland_altman_1986_pefr")["data"]
    return np.array(d["wright_first"], float), np.array(d["mini_wright_first"], float)


def test_bland_altman_reproduces_the_1986_paper(ref):
    r = ref("bland_altman_1986_pefr")
    e, t = r["expected"], r["tolerance"]
    a, b = pefr(ref)
    res = bland_altman(a, b, loa_multiplier=2.0, loa_ci_method="bland-altman-1986")
    assert res.bias.value == pytest.approx(e["bias"]["value"], abs=t["bias_sd_se"])
    assert res.sd == pytest.approx(e["sd_diff"]["value"], abs=t["bias_sd_se"])
    assert res.se_bias == pytest.approx(e["se_bias"]["value"], abs=t["bias_sd_se"])
    assert res.se_loa == pytest.approx(e["se_loa"]["value"], abs=t["bias_sd_se"])
    assert res.bias.ci_lower == pytest.approx(e["bias_ci_lower"]["value"], abs=t["bias_sd_se"])
    assert res.bias.ci_upper == pytest.approx(e["bias_ci_upper"]["value"], abs=t["bias_sd_se"])
    lim = t["limits_and_their_CIs"]
    assert res.loa_lower.value == pytest.approx(e["loa_lower_2sd"]["value"], abs=lim)
    assert res.loa_upper.value == pytest.approx(e["loa_upper_2sd"]["value"], abs=lim)
    assert res.loa_lower.ci_lower == pytest.approx(e["loa_lower_ci_lower"]["value"], abs=lim)
    assert res.loa_lower.ci_upper == pytest.approx(e["loa_lower_ci_upper"]["value"], abs=lim)
    assert res.loa_upper.ci_lower == pytest.approx(e["loa_upper_ci_lower"]["value"], abs=lim)
    assert res.loa_upper.ci_upper == pytest.approx(e["loa_upper_ci_upper"]["value"], abs=lim)


def test_bland_altman_exact_arithmetic_matches_the_derived_values(ref):
    dr = ref("bland_altman_1986_pefr")["derived_not_published"]
    a, b = pefr(ref)
    res = bland_altman(a, b, loa_multiplier=2.0, loa_ci_method="bland-altman-1986")
    x = dr["exact_with_2sd"]
    assert (res.bias.value, res.sd, res.se_bias, res.se_loa) == pytest.approx(
        (x["bias"], x["sd"], x["se_bias"], x["se_loa_approx"]), abs=1e-6)
    assert (res.loa_lower.ci_lower, res.loa_lower.ci_upper) == pytest.approx(tuple(x["loa_lower_ci"]), abs=1e-6)
    assert (res.loa_upper.ci_lower, res.loa_upper.ci_upper) == pytest.approx(tuple(x["loa_upper_ci"]), abs=1e-6)
    m = bland_altman(a, b, loa_multiplier=1.96, loa_ci_method="bland-altman-1999")
    y = dr["modern_1p96_exact_se"]
    assert (m.loa_lower.value, m.loa_upper.value) == pytest.approx(tuple(dr["modern_1p96"]["loa"]), abs=1e-6)
    assert m.se_loa == pytest.approx(y["se_loa"], abs=1e-6)
    assert (m.loa_lower.ci_lower, m.loa_lower.ci_upper) == pytest.approx(tuple(y["loa_lower_ci"]), abs=1e-6)
    assert (m.loa_upper.ci_lower, m.loa_upper.ci_upper) == pytest.approx(tuple(y["loa_upper_ci"]), abs=1e-6)


def test_bland_altman_exact_interval_covers_the_true_limit_at_the_nominal_rate():
    rng = np.random.default_rng(7)
    n, sims, true_upper = 20, 4000, 1.959963984540054
    d = rng.normal(size=(sims, n))
    # the exact limits are mean + s * factor for factors that depend on n only: take them from one call ...
    r = bland_altman(d[0], np.zeros(n))
    m0, s0 = d[0].mean(), d[0].std(ddof=1)
    lo_f, hi_f = (r.loa_upper.ci_lower - m0) / s0, (r.loa_upper.ci_upper - m0) / s0
    for row in d[1:4]:  # ... check they are the same for other samples ...
        other = bland_altman(row, np.zeros(n))
        m, s = row.mean(), row.std(ddof=1)
        assert other.loa_upper.ci_lower == pytest.approx(m + lo_f * s)
        assert other.loa_upper.ci_upper == pytest.approx(m + hi_f * s)
    # ... and count how often the interval holds the true upper limit of N(0, 1)
    m, s = d.mean(axis=1), d.std(axis=1, ddof=1)
    coverage = np.mean((m + lo_f * s <= true_upper) & (true_upper <= m + hi_f * s))
    assert 0.935 <= coverage <= 0.965


def test_bland_altman_proportional_bias_matches_statsmodels_ols(ref):
    import statsmodels.api as sm

    a, b = pefr(ref)
    res = bland_altman(a, b)
    fit = sm.OLS(a - b, sm.add_constant((a + b) / 2)).fit()
    assert res.slope == pytest.approx(fit.params[1], abs=1e-10)
    assert res.intercept == pytest.approx(fit.params[0], abs=1e-8)
    assert res.slope_p == pytest.approx(fit.pvalues[1], abs=1e-10)
    assert res.slope_ci == pytest.approx(tuple(fit.conf_int()[1]), abs=1e-10)


def test_bland_altman_refuses_bad_input():
    with pytest.raises(ConfigError, match="differ in length"):
        bland_altman([1, 2, 3], [1, 2])
    with pytest.raises(ConfigError, match="NaN"):
        bland_altman([1, 2, np.nan, 4], [1, 2, 3, 4])
    with pytest.raises(ConfigError, match="loa_ci_method"):
        bland_altman([1, 2, 3, 4], [1, 2, 3, 5], loa_ci_method="magic")


def test_sem_agreement_includes_systematic_rater_differences():
    d = pd.DataFrame({"s": np.repeat(np.arange(10), 2), "r": ["a", "b"] * 10,
                      "y": np.repeat(np.arange(10.0), 2) + np.tile([0.0, 3.0], 10)
                      + np.random.default_rng(1).normal(0, 0.5, 20)})
    assert sem(d, "s", "r", "y", kind="agreement") > sem(d, "s", "r", "y", kind="consistency")
    with pytest.raises(ConfigError, match="kind"):
        sem(d, "s", "r", "y", kind="other")


def test_sdc_and_within_subject_cv_by_hand():
    assert sdc(2.0) == pytest.approx(1.959963984540054 * np.sqrt(2) * 2.0)
    assert sdc(2.0, n_measurements=4) == pytest.approx(sdc(2.0) / 2)
    d = pd.DataFrame({"s": [1, 1, 2, 2, 3], "y": [9.0, 11.0, 18.0, 22.0, 5.0]})
    # both targets have CV = sqrt(2)/10 -> 14.142 %; the single rating of target 3 is ignored
    assert within_subject_cv(d, "s", "y") == pytest.approx(100 * np.sqrt(2) / 10)
    assert np.isnan(within_subject_cv(d.iloc[[4]], "s", "y"))
