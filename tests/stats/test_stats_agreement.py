"""Cohen's kappa against R irr::kappa2 printouts, scikit-learn and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from wristbme.errors import ConfigError
from wristbme.stats import cohen_kappa

WEIGHTS = {"unweighted": None, "linear": "linear", "quadratic": "quadratic"}


def tol(expected: dict) -> float:
    text = repr(expected["value"])
    if "e" in text:  # e.g. 2.63e-12: half a unit of the last significant digit
        mantissa, exp = text.split("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** (int(exp) - decimals)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** (-decimals) + 1e-12


@pytest.mark.parametrize("pair", ["anxiety_rater2_rater3", "anxiety_rater1_rater2", "diagnoses_rater1_rater2"])
@pytest.mark.parametrize("wname", list(WEIGHTS))
def test_kappa_matches_irr(ref, pair, wname):
    r = ref("kappa_irr_anxiety_diagnoses")
    dataset, ra, rb = pair.split("_")
    data = r["data"][dataset]
    res = cohen_kappa(data[ra], data[rb], weights=WEIGHTS[wname])
    e = r["expected"]
    key = f"{pair}_{wname}"
    assert res.kappa.value == pytest.approx(e[f"{key}_kappa"]["value"], abs=tol(e[f"{key}_kappa"]))
    if f"{key}_z" in e:
        assert res.z == pytest.approx(e[f"{key}_z"]["value"], abs=tol(e[f"{key}_z"]))
        # irr prints p = 2.63e-12 for the unweighted diagnoses kappa where z = 6.99647 gives 2.6249e-12:
        # 0.51 units of the last printed digit. Allow one unit for p values printed in scientific notation.
        slack = 2.0 if "e" in repr(e[f"{key}_p"]["value"]) else 1.0
        assert res.p == pytest.approx(e[f"{key}_p"]["value"], abs=slack * tol(e[f"{key}_p"]))


def test_full_scale_categories_change_weighted_kappa_as_documented(ref):
    r = ref("kappa_irr_anxiety_diagnoses")
    a = r["data"]["anxiety"]
    full = r["derived_not_published"]["anxiety_rater2_rater3_full_scale_1to6"]
    for w in ("linear", "quadratic"):
        res = cohen_kappa(a["rater2"], a["rater3"], weights=w, categories=range(1, 7))
        assert res.kappa.value == pytest.approx(full[w], abs=1e-9)
        assert res.kappa.value == pytest.approx(
            cohen_kappa_score(a["rater2"], a["rater3"], weights=w, labels=list(range(1, 7))), abs=1e-12)


@pytest.mark.parametrize("w", [None, "linear", "quadratic"])
def test_kappa_and_standard_errors_match_statsmodels(ref, w):
    a = ref("kappa_irr_anxiety_diagnoses")["data"]["anxiety"]
    res = cohen_kappa(a["rater1"], a["rater2"], weights=w)
    cats = sorted(set(a["rater1"]) | set(a["rater2"]))
    table = np.zeros((len(cats), len(cats)))
    for x, y in zip(a["rater1"], a["rater2"], strict=True):
        table[cats.index(x), cats.index(y)] += 1
    sm = sm_kappa(table, wt={None: None, "linear": "linear", "quadratic": "quadratic"}[w])
    assert res.kappa.value == pytest.approx(sm.kappa, abs=1e-12)
    assert res.se0 == pytest.approx(sm.std_kappa0, abs=1e-12)
    assert res.se == pytest.approx(sm.std_kappa, abs=1e-12)
    assert res.kappa.value == pytest.approx(cohen_kappa_score(a["rater1"], a["rater2"], weights=w), abs=1e-12)


def test_kappa_refuses_ratings_outside_the_categories():
    with pytest.raises(ConfigError, match="not in categories"):
        cohen_kappa([0, 1, 2], [0, 1, 3], categories=[0, 1, 2])
    with pytest.raises(ConfigError, match="weights"):
        cohen_kappa([0, 1, 2], [0, 1, 2], weights="cubic")


def test_perfect_agreement_on_one_category_gives_nan_not_an_error():
    res = cohen_kappa([1, 1, 1], [1, 1, 1])
    assert np.isnan(res.kappa.value)
