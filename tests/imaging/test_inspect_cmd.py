"""``wristbme inspect``: one record per file, never stops at a bad file."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from wristbme.cli.inspect_cmd import RECORD_FIELDS, inspect_record
from wristbme.cli.main import app
from wristbme.imaging import read_radiograph

from .dicom_factory import make_dataset, phantom, save


def _folder(tmp_path):
    save(make_dataset(phantom(), PixelSpacing=[0.1, 0.1], ImageLaterality="L", ViewPosition="PA",
                      BodyPartExamined="HAND"), tmp_path / "good.dcm")
    bad = make_dataset(phantom())
    bad.PixelData = bad.PixelData[:50]
    save(bad, tmp_path / "bad.dcm")
    Image.fromarray(np.full((6, 8), 50, np.uint8)).save(tmp_path / "plain.png")
    return tmp_path


def test_json_records_and_exit_code_via_the_console_script(tmp_path):
    folder = _folder(tmp_path)
    out = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "--json", "inspect", str(folder),
                          "--spacing", "0.2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr  # one file refused
    assert "Traceback" not in out.stderr
    records = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out.stdout)}
    assert set(records) == {"good.dcm", "bad.dcm", "plain.png"}
    good, bad, plain = records["good.dcm"], records["bad.dcm"], records["plain.png"]
    assert set(RECORD_FIELDS) <= set(good)
    assert good["ok"] and good["error"] is None
    assert (good["rows"], good["cols"], good["laterality"], good["view"], good["body_part"]) == (24, 20, "L", "PA",
                                                                                              "HAND")
    assert good["spacing_mm"] == [0.1, 0.1] and good["spacing_source"] == "PixelSpacing"
    assert not bad["ok"] and bad["error"] == "CorruptImageError" and "truncated" in bad["message"]
    assert bad["rows"] == 24  # header facts still reported for a refused file
    assert plain["spacing_mm"] == [0.2, 0.2] and plain["spacing_source"] == "user"


def test_all_good_exits_zero_and_prints_a_table(tmp_path):
    save(make_dataset(phantom()), tmp_path / "a.dcm")
    result = CliRunner().invoke(app, ["--lang", "en", "inspect", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "a.dcm" in result.output and "MONO2" in result.output


def test_no_files_is_an_error(tmp_path):
    result = CliRunner().invoke(app, ["inspect", str(tmp_path)])
    assert result.exit_code != 0


def test_japanese_messages(tmp_path):
    out = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "--lang", "ja", "--json", "inspect",
                          str(tmp_path / "missing.dcm")], capture_output=True, text=True, timeout=120)
    record = json.loads(out.stdout)[0]
    assert record["error"] == "InputError" and "ファイルが見つかりません" in record["message"]


def test_inspect_record_is_reusable(tmp_path):
    r = read_radiograph(save(make_dataset(phantom(), ImageLaterality="R"), tmp_path / "x.dcm"))
    record = inspect_record(tmp_path / "x.dcm", r)
    assert record["ok"] and record["laterality"] == "R" and record["format"] == "DICOM"
    json.dumps(record)  # plain JSON types only


def test_an_unexpected_failure_in_one_file_does_not_stop_the_others(tmp_path, monkeypatch):
    from wristbme.cli import inspect_cmd

    save(make_dataset(phantom()), tmp_path / "a.dcm")
    save(make_dataset(phantom()), tmp_path / "b.dcm")
    real = inspect_cmd.read_radiograph

    def flaky(path, **kwargs):
        if path.name == "a.dcm":
            raise ZeroDivisionError("bug")
        return real(path, **kwargs)

    monkeypatch.setattr(inspect_cmd, "read_radiograph", flaky)
    records = inspect_cmd.inspect_paths([tmp_path])
    assert [(r["path"].rsplit("/", 1)[-1], r["ok"], r["error"]) for r in records] == [
        ("a.dcm", False, "InternalError"), ("b.dcm", True, None)]


def test_bad_spacing_option_is_one_error(tmp_path):
    save(make_dataset(phantom()), tmp_path / "a.dcm")
    out = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "inspect", str(tmp_path), "--spacing", "-1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--spacing must be one positive number" in out.stderr
    assert "Traceback" not in out.stderr
