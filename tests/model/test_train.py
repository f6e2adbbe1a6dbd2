"""train(): grouped folds, validation output, artifact round trip, schema refusal, scoring of exclusions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_tables import fake_table

from wristbme.bones import Bone
from wristbme.errors import ModelError
from wristbme.features import BoneFeatures, feature_schema
from wristbme.model.artifact import ModelArtifact
from wristbme.model.train import cross_validate, leave_one_site_out, prepare, train


def test_patients_are_never_split_across_folds():
    data = prepare(fake_table(n_patients=30, images_per_patient=2, seed=2))
    cv = cross_validate(data, seed=3, outer_folds=3)
    seen = set()
    for fold in cv["folds"]:
        test_p, train_p = set(fold["test_patients"]), set(fold["train_patients"])
        assert not test_p & train_p
        assert not test_p & seen  # each patient is tested exactly once
        seen |= test_p
        rows = np.asarray(fold["test_rows"])
        assert set(data.groups[rows]) == test_p
    assert seen == set(data.groups)


def test_effect_is_found_and_metrics_have_cis(small_model):
    m = small_model.summary["validation"]["nested_cv"]["metrics"]
    assert m["bone_auc"]["auc"] > 0.7
    for key in ("bone_auc", "wrist_auc"):
        assert m[key]["ci_low"] <= m[key]["auc"] <= m[key]["ci_high"]
    tr = small_model.summary["training"]
    assert tr["n_patients"] == 36 and set(tr["bone_rows_by_site_and_grade"]) == {"S01", "S02", "S03"}


def test_leave_one_site_out_reports_every_site_with_and_without_combat():
    data = prepare(fake_table(n_patients=36, seed=4))
    for combat in (False, True):
        lo = leave_one_site_out(data, seed=0, combat=combat)
        assert set(lo["per_site"]) == {"S01", "S02", "S03"}
        assert lo["metrics"]["bone_auc"]["n"] == len(data.y)


def test_save_load_round_trip_gives_identical_scores(tmp_path, small_model):
    feats = _features_from_table(seed=9)
    path = small_model.save(tmp_path / "m.joblib")
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["model_id"] == small_model.model_id and side["schema"]["hash"] == feature_schema().hash
    loaded = ModelArtifact.load(path)
    a, b = small_model.score(feats), loaded.score(feats)
    assert a.bones == b.bones and a.wrist == b.wrist and a.model_id == b.model_id


def test_sidecar_mismatch_and_missing_file_are_model_errors(tmp_path, small_model):
    path = small_model.save(tmp_path / "m.joblib")
    side = json.loads(path.with_suffix(".json").read_text())
    side["model_id"] = "someone-else"
    path.with_suffix(".json").write_text(json.dumps(side))
    with pytest.raises(ModelError, match="sidecar"):
        ModelArtifact.load(path)
    with pytest.raises(ModelError, match="not found"):
        ModelArtifact.load(tmp_path / "nope.joblib")


def test_features_with_another_schema_are_refused(small_model):
    feats = _features_from_table(seed=9, spacing_mm=0.3)
    with pytest.raises(ModelError, match="schema"):
        small_model.score(feats)


def test_excluded_bones_get_none_and_reason_and_wrist_needs_enough_bones(small_model):
    feats = _features_from_table(seed=9)
    excl = {Bone.LUNATE: "region_flagged:low_confidence"}
    s = small_model.score(BoneFeatures(feats.schema, feats.values, excl))
    assert s.bones[Bone.LUNATE] is None and s.reasons[Bone.LUNATE] == "region_flagged:low_confidence"
    assert s.bones[Bone.CAPITATE] is not None and 0 <= s.bones[Bone.CAPITATE] <= 100
    assert s.wrist is not None
    few = {b: v for b, v in list(feats.values.items())[:4]}
    s2 = small_model.score(BoneFeatures(feats.schema, few, {}))
    assert s2.wrist is None and s2.wrist_reason.startswith("too_few_bones")
    assert s2.reasons[Bone.MC5] == "not_located"


def test_single_class_and_unknown_method_are_refused():
    t = fake_table(n_patients=12)
    t["bme_grade"] = 0
    with pytest.raises(ModelError, match="same label"):
        train(t, validate=())
    with pytest.raises(ModelError, match="method"):
        train(fake_table(n_patients=12), method="svm", validate=())


def test_gbm_option_trains_and_scores():
    art = train(fake_table(n_patients=24, seed=5), method="gbm", validate=(), seed=0)
    s = art.score(_features_from_table(seed=9))
    assert s.wrist is not None and art.engine.method == "gbm"


def _features_from_table(seed, spacing_mm=0.2):
    t = fake_table(n_patients=1, n_sites=1, seed=seed)
    schema = feature_schema(spacing_mm)
    values = {Bone(b): row for b, row in zip(t["bone"], t[list(schema.names)].to_numpy(), strict=True)}
    return BoneFeatures(schema, values, {})


def test_folds_hold_each_bones_positives_evenly():
    """Per-(bone, label) strata: every fold gets about its share of each bone's positives (the anti-learning
    bias of docs/model.md comes from folds that do not)."""
    from wristbme.model.engine import BONE_LEVELS, bone_label_strata, grouped_splits

    rng = np.random.default_rng(11)
    n_pat = 60
    bones = np.tile(np.array(BONE_LEVELS), n_pat)
    groups = np.repeat([f"P{i:03d}" for i in range(n_pat)], len(BONE_LEVELS))
    prevalence = np.tile(np.linspace(0.1, 0.4, len(BONE_LEVELS)), n_pat)
    y = (rng.random(len(bones)) < prevalence).astype(int)
    def spread(splits):  # per bone: most minus fewest positives in a fold, summed over the bones
        return sum(max(c) - min(c) for b in BONE_LEVELS
                   for c in [[int(y[te][bones[te] == b].sum()) for _, te in splits]])

    splits = grouped_splits(y, groups, 5, 0, strata=bone_label_strata(bones, y))
    by_label_only = grouped_splits(y, groups, 5, 0)
    assert spread(splits) <= 30  # 15 bones: about 2 positives apart at most
    assert spread(splits) < 0.75 * spread(by_label_only)
    for tr, te in splits:
        assert not set(groups[tr]) & set(groups[te])
