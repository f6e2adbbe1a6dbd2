"""``wristbme synth image`` / ``cohort`` / ``contact-sheet`` through the CLI (exit codes and JSON)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wristbme.cli.main import app


def test_synth_image_json_and_truth(tmp_path):
    out = tmp_path / "one.dcm"
    res = CliRunner().invoke(app, ["--json", "synth", "image", str(out), "--spacing-mm", "0.4", "--site", "S04",
                                   "--laterality", "L", "--bme", "radius=2,lunate=1", "--seed", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["grades"]["radius"] == 2 and data["grades"]["lunate"] == 1 and data["grades"]["ulna"] == 0
    assert data["laterality"] == "L" and data["synthetic"] is True
    assert out.is_file() and (tmp_path / "one.dcm.truth.json").is_file()


def test_synth_image_bad_bme_is_a_config_error(tmp_path):
    res = CliRunner().invoke(app, ["synth", "image", str(tmp_path / "x.dcm"), "--bme", "radius=7"])
    assert res.exit_code != 0
    assert not (tmp_path / "x.dcm").exists()


def test_synth_cohort_and_contact_sheet(tmp_path):
    out = tmp_path / "c"
    res = CliRunner().invoke(app, ["--json", "synth", "cohort", str(out), "--sites", "1", "--patients-per-site",
                                   "2", "--spacing-mm", "0.45", "--workers", "1", "--hands", "one"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["sites"] == ["S01"] and data["patients"] == 2
    res = CliRunner().invoke(app, ["synth", "contact-sheet", str(out), str(tmp_path / "s.png")])
    assert res.exit_code == 0 and (tmp_path / "s.png").is_file()
