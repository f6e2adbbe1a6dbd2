"""``wristbme inspect --anatomy --overlay``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from .conftest import phantom


def test_inspect_anatomy_json_and_overlay(tmp_path):
    ph = phantom("R", 0.0)
    px = ph.radiograph.pixels
    img = ((px - px.min()) / (px.max() - px.min()) * 255).astype(np.uint8)
    src = tmp_path / "wrist.png"
    Image.fromarray(img).save(src)
    out_png = tmp_path / "ov.png"
    run = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "--json", "inspect", str(src), "--spacing",
                          "0.2", "--anatomy", "--overlay", str(out_png)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    rec = json.loads(run.stdout)[0]
    anat = rec["anatomy"]
    assert set(anat["regions"]) >= {"radius", "ulna", "lunate", "mc3"}
    lun = anat["landmarks"]["lunate_centre"]
    tx, ty = ph.landmarks_px["lunate_centre"]
    assert np.hypot(lun["x"] - tx, lun["y"] - ty) * 0.2 < 3.0
    assert anat["regions"]["capitate"]["area_mm2"] > 20
    assert out_png.exists() and rec["overlay"] == str(out_png)
