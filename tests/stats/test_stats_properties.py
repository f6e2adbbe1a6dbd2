"""Invariants of the statistics (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wristbme.stats import bland_altman, cohen_kappa, icc, jonckheere_terpstra, roc_auc, weighted_auc

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def labelled_scores(draw):
    n = draw(st.integers(6, 40))
    y = draw(arrays(bool, n))
    y[0], y[1], y[2], y[3] = True, True, False, False
    s = draw(arrays(float, n, elements=st.integers(-20, 20).map(float)))  # integers: plenty of ties
    return y, s


@SETTINGS
@given(labelled_scores())
def test_auc_of_the_negated_score_is_one_minus_auc(data):
    y, s = data
    a, b = roc_auc(y, s), roc_auc(y, -s)
    assert abs(a.auc.value + b.auc.value - 1) < 1e-12
    assert abs(a.variance - b.variance) < 1e-12


@SETTINGS
@given(labelled_scores(), st.floats(0.1, 10), finite)
def test_auc_is_invariant_to_increasing_transforms(data, scale, shift):
    y, s = data
    assert abs(roc_auc(y, s).auc.value - roc_auc(y, s * scale + shift).auc.value) < 1e-12
    assert abs(roc_auc(y, s).auc.value - roc_auc(y, np.exp(s / 10)).auc.value) < 1e-12
    assert abs(weighted_auc(y, s, np.ones(len(y)))[0] - roc_auc(y, s).auc.value) < 1e-12


@st.composite
def ratings_table(draw):
    n = draw(st.integers(4, 12))
    k = draw(st.integers(2, 4))
    x = draw(arrays(float, (n, k), elements=st.integers(0, 10).map(float)))
    if np.ptp(x.mean(axis=1)) == 0 or np.allclose(x, x[:, :1]):
        x[0, 0] += 3.0
        x[1, 1] += 1.0
    return x


def long(x):
    n, k = x.shape
    return pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "y": x.ravel()})


@SETTINGS
@given(ratings_table(), finite, st.floats(0.5, 5))
# MSR + (MSC − MSE)/n is exactly 0 here: ICC(A,k) is undefined and must be NaN at every scale, not ±inf
@example(np.array([[0.0, 7, 1], [4, 1, 4], [1, 4, 8], [4, 4, 0]]), 0.0, 3.0)
def test_icc_is_invariant_to_adding_a_constant_and_scaling(x, c, scale):
    a = icc(long(x), "t", "r", "y")
    b = icc(long(x * scale + c), "t", "r", "y")
    pd.testing.assert_series_equal(a["icc"], b["icc"], atol=1e-7, rtol=1e-7)
    pd.testing.assert_series_equal(a["ci_lower"], b["ci_lower"], atol=1e-6, rtol=1e-6)


@SETTINGS
@given(ratings_table())
def test_icc_single_rater_forms_are_ordered_and_intervals_bracket(x):
    t = icc(long(x), "t", "r", "y").set_index("type")
    if t.loc["ICC3", "f"] < 1.5:  # near-zero or negative ICCs: the formulas are not bounded or monotone there
        return
    assert (t["icc"] <= 1 + 1e-12).all()
    finite_rows = t[np.isfinite(t["icc"]) & np.isfinite(t["ci_lower"]) & np.isfinite(t["ci_upper"])]
    assert (finite_rows["ci_lower"] <= finite_rows["icc"] + 1e-9).all()
    assert (finite_rows["icc"] <= finite_rows["ci_upper"] + 1e-9).all()
    assert (t["icc"] <= 1 + 1e-12).all()


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=3, max_size=40),
       st.sampled_from([None, "linear", "quadratic"]))
def test_kappa_is_symmetric_in_the_raters(pairs, w):
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    k1 = cohen_kappa(a, b, weights=w, categories=[0, 1, 2, 3])
    k2 = cohen_kappa(b, a, weights=w, categories=[0, 1, 2, 3])
    assert np.isnan(k1.kappa.value) == np.isnan(k2.kappa.value)
    if np.isfinite(k1.kappa.value):
        assert abs(k1.kappa.value - k2.kappa.value) < 1e-12
        assert abs(k1.se - k2.se) < 1e-6
        assert k1.kappa.value <= 1 + 1e-12


@SETTINGS
@given(arrays(float, st.integers(3, 30), elements=finite), arrays(float, 30, elements=finite))
def test_bland_altman_swapping_methods_negates_bias_and_limits(a, b_full):
    b = b_full[: len(a)]
    r1, r2 = bland_altman(a, b), bland_altman(b, a)
    assert abs(r1.bias.value + r2.bias.value) < 1e-9
    assert abs(r1.loa_upper.value + r2.loa_lower.value) < 1e-7
    assert abs(r1.sd - r2.sd) < 1e-9


@SETTINGS
@given(arrays(float, 12, elements=st.integers(-50, 50).map(float)), st.floats(0.1, 10), st.integers(-100, 100))
def test_jonckheere_is_rank_based(x, scale, shift):
    g = np.repeat([0, 1, 2], 4)
    a, b = jonckheere_terpstra(x, g), jonckheere_terpstra(x * scale + shift, g)
    assert a.statistic == b.statistic
