import json
import subprocess
import sys

from wristbme import __version__


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "wristbme.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0
    assert __version__ in out.stdout


def test_bad_lang_is_one_clear_line_and_nonzero():
    out = run_cli("--lang", "fr", "inspect", "x.dcm")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr


def test_error_json_has_no_traceback(tmp_path):
    missing = tmp_path / "nope.dcm"
    out = run_cli("--json", "inspect", str(missing))
    assert "Traceback" not in out.stderr
    if out.returncode == 0:  # inspect reports per file and never stops: the record says what went wrong
        records = json.loads(out.stdout)
        assert records[0]["ok"] is False and records[0]["error"]


def test_global_options_are_taken_after_the_command_too(tmp_path):
    """``wristbme inspect F --json --lang ja`` (as the docs write it) equals ``wristbme --json --lang ja inspect F``."""
    missing = tmp_path / "nope.dcm"
    after = run_cli("inspect", str(missing), "--json", "--lang", "ja")
    before = run_cli("--json", "--lang", "ja", "inspect", str(missing))
    assert after.returncode == before.returncode
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert "ファイルが見つかりません" in json.loads(after.stdout)[0]["message"]


def test_hoisting_moves_only_global_options_and_stops_at_double_dash():
    from wristbme.cli.main import hoist_global_options

    assert hoist_global_options(["score", "a.dcm", "--json", "--lang=ja", "--spacing", "0.1"]) == [
        "--json", "--lang=ja", "score", "a.dcm", "--spacing", "0.1"]
    assert hoist_global_options(["train", "--lang", "en", "--seed", "2"]) == ["--lang", "en", "train", "--seed", "2"]
    assert hoist_global_options(["inspect", "--", "--json"]) == ["inspect", "--", "--json"]


def test_a_usage_error_is_a_usage_error_not_an_internal_one():
    out = run_cli("inspect", "--no-such-option")
    assert out.returncode == 2
    assert "No such option" in out.stderr
    assert "Internal error" not in out.stderr and "内部エラー" not in out.stderr
