"""The feature robustness screen: ICC across re-acquisitions, and a model that ignores what it screens out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_tables import fake_table

from wristbme.bones import RAMRIS_BONES
from wristbme.errors import ModelError
from wristbme.features.schema import FEATURE_NAMES, feature_schema
from wristbme.model.robustness import feature_reproducibility, robust_features

NOISY = FEATURE_NAMES[7]
"""The feature the synthetic perturbation table makes unreproducible."""


def perturbation_table(n_images: int = 12, n_conditions: int = 5, seed: int = 0) -> pd.DataFrame:
    """Every feature = a fixed value per (image, bone) + small acquisition noise, except ``NOISY``, which is
    redrawn for every acquisition."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_images):
        wrist = {b: rng.normal(size=len(FEATURE_NAMES)) for b in RAMRIS_BONES}
        for c in range(n_conditions):
            for b in RAMRIS_BONES:
                x = wrist[b] + rng.normal(scale=0.05, size=len(FEATURE_NAMES))
                x[FEATURE_NAMES.index(NOISY)] = rng.normal()
                rows.append([f"W{i}", f"c{c}", b.value, "", *x])
    df = pd.DataFrame(rows, columns=["source_image", "condition", "bone", "excluded", *FEATURE_NAMES])
    df.attrs["schema"] = feature_schema().to_dict()
    return df


def test_reproducible_features_score_high_and_the_redrawn_one_low():
    icc = feature_reproducibility(perturbation_table(), FEATURE_NAMES)
    assert icc[NOISY] < 0.3
    others = icc.drop(NOISY)
    assert others.min() > 0.9
    assert robust_features(icc) == tuple(n for n in FEATURE_NAMES if n != NOISY)


def test_screen_refuses_a_table_without_the_columns_or_with_no_robust_feature():
    bad = perturbation_table().drop(columns=["condition"])
    with pytest.raises(ModelError, match="condition"):
        feature_reproducibility(bad, FEATURE_NAMES)
    with pytest.raises(ModelError, match="no feature"):
        robust_features(pd.Series({"a": 0.1, "b": float("nan")}))


def test_trained_model_records_the_screen_and_ignores_the_screened_feature():
    from wristbme.model.train import train

    art = train(fake_table(seed=3), seed=3, validate=("cv",), outer_folds=3, perturbations=perturbation_table())
    rob = art.summary["robustness"]
    assert rob["excluded"] == [NOISY]
    assert rob["icc"][NOISY] < 0.3 and rob["n_source_images"] == 12
    assert NOISY not in [FEATURE_NAMES[i] for i in art.engine.selected]
    # changing the screened-out feature does not change any score; changing a kept one does
    from wristbme.model.train import prepare

    data = prepare(fake_table(seed=4))
    rows = data.image_ids == data.image_ids[0]
    X = data.X[rows]
    base = art.engine.predict(X, data.bones[rows], data.image_ids[rows])
    X2 = X.copy()
    X2[:, FEATURE_NAMES.index(NOISY)] += 50.0
    same = art.engine.predict(X2, data.bones[rows], data.image_ids[rows])
    np.testing.assert_array_equal(base[0], same[0])
    X3 = X.copy()
    X3[:, 0] -= 3.0
    assert not np.array_equal(base[0], art.engine.predict(X3, data.bones[rows], data.image_ids[rows])[0])
    # the screen is part of the model's identity
    plain = train(fake_table(seed=3), seed=3, validate=(), outer_folds=3)
    assert plain.model_id != art.model_id and plain.summary["robustness"] is None


def test_cli_train_takes_a_perturbation_table_and_reports_the_screen(tmp_path):
    import json

    from typer.testing import CliRunner

    from wristbme.cli.engine_cmd import write_features_csv
    from wristbme.cli.main import app

    feats = write_features_csv(fake_table(n_patients=24, seed=5), tmp_path / "feats.csv")
    pert = write_features_csv(perturbation_table(n_images=6, n_conditions=3), tmp_path / "pert.csv")
    res = CliRunner().invoke(app, ["--json", "train", "--features", str(feats), "--perturbations", str(pert),
                                   "--out", str(tmp_path / "m.joblib")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["robustness"]["excluded"] == [NOISY]
