"""The study commands end to end: init, site optout/package, intake, status, withdraw, lock, audit verify."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from typer.testing import CliRunner

from wristbme.cli.main import app
from wristbme.study.minisite import make_site_export


def invoke(*args):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def test_cli_flow(tmp_path):
    site = make_site_export(tmp_path / "site", n_patients=3, defects=("opted_out", "lateral_view"))
    study, disc, sitedir = tmp_path / "study", tmp_path / "disc", tmp_path / "sitedir"
    assert invoke("study", "init", str(study), "--sites", "3").exit_code == 0
    assert (study / "study.toml").is_file()
    out = invoke("--json", "site", "optout", "add", "--site-dir", str(sitedir), "--site", "S03", "--file",
                 str(site.optout))
    assert out.exit_code == 0 and json.loads(out.stdout)["register"] == 1
    out = invoke("--json", "site", "package", "--export", str(site.export), "--cases", str(site.cases), "--site",
                 "S03", "--out", str(disc), "--site-dir", str(sitedir))
    assert out.exit_code == 0, out.output
    packaged = json.loads(out.stdout)
    assert packaged["counts"]["opted_out"] == 1 and packaged["counts"]["images"] == 8
    out = invoke("--json", "intake", str(disc), "--study", str(study))
    report = json.loads(out.stdout)
    assert report["counts"]["accepted"] == 7 and [r["reason"] for r in report["refused"]] == ["not_pa_view"]
    status = json.loads(invoke("--json", "status", "--study", str(study)).stdout)
    s03 = next(r for r in status["sites"] if r["site"] == "S03")
    assert s03["subjects"] == 4 and s03["analysed"] == 3
    out = invoke("--lang", "ja", "withdraw", "S03-0001", "--reason", "opt-out", "--study", str(study))
    assert out.exit_code == 0
    assert json.loads(invoke("--json", "study", "lock", "--study", str(study)).stdout)["locked"]
    verify = invoke("--json", "audit", "verify", "--study", str(study))
    assert verify.exit_code == 0 and json.loads(verify.stdout)["ok"]

    # tampering with the audit trail is detected (exit 9)
    db = sqlite3.connect(study / "store.sqlite")
    db.execute("DROP TRIGGER audit_events_no_update")
    db.execute("UPDATE audit_events SET detail = '{}' WHERE id = 2")
    db.commit()
    db.close()
    assert invoke("--json", "audit", "verify", "--study", str(study)).exit_code == 9

    # a locked study refuses intake: one line, exit code of StoreError, no traceback
    proc = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "intake", str(disc), "--study", str(study)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 6 and "locked" in proc.stderr and "Traceback" not in proc.stderr


def test_enforced_data_use_period_refuses(tmp_path, monkeypatch):
    study = tmp_path / "study"
    assert invoke("study", "init", str(study), "--sites", "3").exit_code == 0
    toml = (study / "study.toml").read_text()
    (study / "study.toml").write_text(toml.replace("start = 2024-06-20", "start = 2001-01-01")
                                      .replace("end = 2025-06-16", "end = 2001-12-31")
                                      .replace("enforce_period = false", "enforce_period = true"))
    from wristbme.errors import StoreError
    from wristbme.study import open_store
    from wristbme.study.intake import check_data_use_period

    store = open_store(study)
    try:
        check_data_use_period(store, "intake")
    except StoreError as exc:
        assert "enforce_period" in str(exc)
    else:
        raise AssertionError("enforced period did not refuse")
    store.close()
