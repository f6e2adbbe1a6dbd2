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
