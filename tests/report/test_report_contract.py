"""The StudyData contract: validation rules, snapshot hash, synthetic generator."""

from __future__ import annotations

import pandas as pd
import pytest

from wristbme.errors import ConfigError
from wristbme.report import SCORE_KINDS, StudyData, snapshot_hash, synthetic_study_data
from wristbme.report.contract import GRADE_COLUMNS, WRIST_COLUMNS


@pytest.fixture(scope="module")
def data() -> StudyData:
    return synthetic_study_data(40, 3, seed=1)


def test_synthetic_data_fits_the_contract_and_is_labelled(data):
    v = data.validated()
    assert v.provenance.synthetic
    assert list(v.wrists.columns[: len(WRIST_COLUMNS)]) == list(WRIST_COLUMNS)
    assert len(v.wrists) == 80 and v.wrists["pseudonym"].nunique() == 40
    assert set(v.scores["kind"]) <= set(SCORE_KINDS)
    assert v.wrists["pseudonym"].str.fullmatch(r"S\d{2}-\d{4}").all()
    assert all(str(v.wrists[c].dtype) == "Int64" for c in GRADE_COLUMNS)
    # bme_present is the reference standard: any bone grade >= 1
    any_grade = (v.wrists[list(GRADE_COLUMNS)].fillna(0) >= 1).any(axis=1)
    assert (any_grade == v.wrists["bme_present"]).all()


def test_synthetic_data_is_reproducible(data):
    again = synthetic_study_data(40, 3, seed=1)
    pd.testing.assert_frame_equal(data.scores, again.scores)
    assert snapshot_hash(data) == snapshot_hash(again) == data.provenance.data_snapshot_sha256
    assert snapshot_hash(synthetic_study_data(40, 3, seed=2)) != snapshot_hash(data)


def test_snapshot_hash_ignores_row_order(data):
    shuffled = StudyData(data.wrists.sample(frac=1, random_state=0), data.scores.sample(frac=1, random_state=0),
                         data.flow.iloc[::-1], data.provenance)
    assert snapshot_hash(shuffled) == snapshot_hash(data)


@pytest.mark.parametrize("mutate,match", [
    (lambda d: StudyData(d.wrists.drop(columns="age_years"), d.scores, d.flow, d.provenance), r"wrists: columns \['age_years'\]"),
    (lambda d: StudyData(d.wrists, d.scores.assign(kind="other"), d.flow, d.provenance), "kind"),
    (lambda d: StudyData(d.wrists, d.scores.assign(score=101.0), d.flow, d.provenance), "0–100"),
    (lambda d: StudyData(d.wrists.assign(laterality="both"), d.scores, d.flow, d.provenance), "laterality"),
    (lambda d: StudyData(pd.concat([d.wrists, d.wrists.iloc[[0]]]), d.scores, d.flow, d.provenance), "appears twice"),
    (lambda d: StudyData(d.wrists, pd.concat([d.scores, d.scores.iloc[[0]]]), d.flow, d.provenance),
     "more than one primary"),
    (lambda d: StudyData(d.wrists, d.scores[d.scores["bone"] != "wrist"], d.flow, d.provenance), "no primary wrist"),
    (lambda d: StudyData(d.wrists, d.scores, d.flow.assign(n=d.flow["n"] + 1), d.provenance), "must add up"),
    (lambda d: StudyData(d.wrists.assign(grade_lunate=4), d.scores, d.flow, d.provenance), "0–3"),
])
def test_contract_refuses_with_a_message_naming_the_problem(data, mutate, match):
    with pytest.raises(ConfigError, match=match):
        mutate(data).validated()


def test_provenance_checks_its_cutoff(data):
    with pytest.raises(ConfigError, match="prespecified_cutoff"):
        data.with_provenance(prespecified_cutoff=150)
