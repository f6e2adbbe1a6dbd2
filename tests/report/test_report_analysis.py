"""Numbers of the report: determinism, agreement with the stats functions, degenerate inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wristbme.errors import ConfigError
from wristbme.report import StudyData, synthetic_study_data
from wristbme.report.analysis import _weighted_reliability, analyze
from wristbme.stats import icc_anova, roc_auc, sem, within_subject_cv


@pytest.fixture(scope="module")
def data():
    return synthetic_study_data(90, 3, seed=4, retest_fraction=0.3, operator_fraction=0.3)


@pytest.fixture(scope="module")
def numbers(data):
    return analyze(data, n_boot=120, seed=3).numbers


def _estimates(node, path=""):
    if isinstance(node, dict):
        if {"value", "ci_lower", "ci_upper", "method"} <= set(node):
            yield path, node
        for k, v in node.items():
            yield from _estimates(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _estimates(v, f"{path}[{i}]")


def test_numbers_are_deterministic_and_json_serialisable(data, numbers):
    again = analyze(data, n_boot=120, seed=3).numbers
    assert json.dumps(numbers, sort_keys=True) == json.dumps(again, sort_keys=True)
    other_seed = analyze(data, n_boot=120, seed=4).numbers
    assert other_seed["accuracy"]["auc"]["ci_lower"] != numbers["accuracy"]["auc"]["ci_lower"]
    assert other_seed["accuracy"]["auc"]["value"] == numbers["accuracy"]["auc"]["value"]


def test_every_estimate_carries_an_interval_that_brackets_it(numbers):
    found = list(_estimates(numbers))
    assert len(found) > 50
    for path, e in found:
        if e["value"] is None:
            continue
        assert e["ci_lower"] is not None and e["ci_upper"] is not None, path
        assert e["ci_lower"] - 1e-9 <= e["value"] <= e["ci_upper"] + 1e-9, path


def test_pooled_auc_is_the_stats_auc(data, numbers):
    v = data.validated()
    prim = v.scores.query("kind == 'primary' and bone == 'wrist'").merge(v.wrists, on=["pseudonym", "laterality"])
    r = roc_auc(prim["bme_present"], prim["score"])
    assert numbers["accuracy"]["auc"]["value"] == pytest.approx(r.auc.value)
    assert numbers["accuracy"]["auc_delong"]["ci_lower"] == pytest.approx(r.auc.ci_lower)
    assert numbers["accuracy"]["n_wrists"] == 180 and numbers["accuracy"]["n_patients"] == 90
    assert sum(v["n_wrists"] for v in numbers["site_auc"].values()) == 180


def test_closed_form_reliability_matches_the_anova_and_cv_functions():
    rng = np.random.default_rng(0)
    a = rng.uniform(5, 95, 40)
    b = a + rng.normal(1.0, 4.0, 40)
    long = pd.DataFrame({"t": np.tile(np.arange(40), 2), "r": ["x"] * 40 + ["y"] * 40, "y": np.concatenate([a, b])})
    s, cv = _weighted_reliability(a, b, np.ones((1, 40)))
    assert s[0] == pytest.approx(sem(long, "t", "r", "y", kind="agreement"), rel=1e-10)
    assert cv[0] == pytest.approx(within_subject_cv(long, "t", "y"), rel=1e-10)
    an = icc_anova(long, "t", "r", "y")
    assert an.n_targets == 40


def test_reliability_sections(numbers):
    rr = numbers["test_retest"]
    assert rr["available"] and rr["n_pairs"] >= 5
    assert rr["sdc"]["value"] == pytest.approx(1.959963984540054 * np.sqrt(2) * rr["sem"]["value"])
    assert numbers["software"]["rerun"]["identical_n"] == numbers["software"]["rerun"]["n_pairs"]
    het = numbers["heterogeneity"]
    assert 0 < het["REML"]["pooled"]["ci_lower"] < het["REML"]["pooled"]["ci_upper"] < 1
    assert 0 <= het["REML"]["prediction"][0] and het["REML"]["prediction"][1] <= 1


def test_no_repeated_scores_means_not_available_not_an_error(data):
    only_primary = StudyData(data.wrists, data.scores[data.scores["kind"] == "primary"], data.flow, data.provenance)
    n = analyze(only_primary, n_boot=60, seed=0).numbers
    assert n["test_retest"] == {"n_pairs": 0, "available": False}
    assert n["software"]["rerun"] == {"n_pairs": 0}


def test_too_few_bootstrap_replicates_are_refused(data):
    with pytest.raises(ConfigError, match="bootstrap"):
        analyze(data, n_boot=10)
