"""``wristbme analyze``: demo data, JSON headline, refusals."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wristbme.cli.main import app

runner = CliRunner()


def test_analyze_demo_data_writes_the_report_and_prints_json(tmp_path):
    out = tmp_path / "rep"
    res = runner.invoke(app, ["--json", "analyze", "--demo-data", "--patients", "40", "--sites", "2", "--out", str(out),
                              "--lang", "ja", "--bootstrap", "60", "--no-pdf"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout[res.stdout.index("{"):])
    assert payload["ok"] and payload["headline"]["synthetic"] is True
    assert payload["headline"]["auc"]["ci_lower"] <= payload["headline"]["auc"]["value"]
    assert (out / "report.html").exists() and (out / "numbers.json").exists()
    assert not (out / "report.pdf").exists()
    assert "感度" in (out / "report.html").read_text(encoding="utf-8")


def test_analyze_needs_a_source(tmp_path):
    res = runner.invoke(app, ["analyze", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert "--demo-data" in str(res.exception) or "--demo-data" in res.output


def test_analyze_missing_study_folder_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["analyze", "--study", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    assert res.exit_code != 0
    assert "nope" in str(res.exception)
