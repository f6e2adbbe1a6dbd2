"""``wristbme train`` on a features table, and argument errors of ``train``/``score``."""

from __future__ import annotations

import json

from model_tables import fake_table
from typer.testing import CliRunner

from wristbme.cli.engine_cmd import write_features_csv
from wristbme.cli.main import app


def test_train_from_features_csv_prints_metrics_and_writes_model(tmp_path):
    table = write_features_csv(fake_table(n_patients=24, seed=3), tmp_path / "feats.csv")
    out = tmp_path / "m.joblib"
    res = CliRunner().invoke(app, ["--json", "train", "--features", str(table), "--out", str(out), "--seed", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["path"] == str(out) and out.is_file() and out.with_suffix(".json").is_file()
    cv = data["validation"]["nested_cv"]["metrics"]["wrist_auc"]
    assert {"auc", "ci_low", "ci_high", "method"} <= set(cv)
    assert set(data["validation"]["leave_one_site_out"]["per_site"]) == {"S01", "S02", "S03"}
    assert data["training"]["n_patients"] == 24


def test_train_needs_exactly_one_source_and_score_needs_files():
    runner = CliRunner()
    res = runner.invoke(app, ["train"])
    assert res.exit_code != 0
    res = runner.invoke(app, ["score"])
    assert res.exit_code != 0
