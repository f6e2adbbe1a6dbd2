"""The whole pipeline on a tiny synthetic cohort: cohort → discs → intake → scores → report."""

import json

import pytest

from wristbme.demo import run_demo
from wristbme.errors import InputError


@pytest.mark.slow
def test_demo_runs_end_to_end_and_labels_everything_synthetic(tmp_path):
    out = tmp_path / "demo"
    stages = []
    result = run_demo(out, sites=2, patients_per_site=4, seed=3, bootstrap=50, langs=("en",),
                      progress=lambda stage, done, total: stages.append(stage))
    assert [s for s in dict.fromkeys(stages)] == ["demo.stage.cohort", "demo.stage.package", "demo.stage.intake",
                                                  "demo.stage.score", "demo.stage.report"]
    assert result.headline["synthetic"] is True
    assert 0 < result.headline["analysed"] <= result.headline["received"] <= result.headline["patients"]
    assert result.headline["images_scored"] == result.headline["analysed"]
    html = result.reports["en"].read_text(encoding="utf-8")
    assert "SYNTHETIC" in html.upper()
    numbers = json.loads((result.reports["en"].parent / "numbers.json").read_text(encoding="utf-8"))
    assert sum(v["analysed"] for v in numbers["flow"]["by_site"].values()) == result.headline["analysed"]
    # the linkage tables stay in the site folders; the lead-site study holds pseudonyms only
    linkage_ids = set()
    for site_dir in (out / "sites").iterdir():
        for path in site_dir.glob("linkage*"):
            linkage_ids.update(line.split(",")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:])
    db = (out / "study" / "store.sqlite").read_bytes()
    for mrn in filter(None, linkage_ids):
        assert mrn.encode() not in db


def test_demo_refuses_a_foreign_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("not a demo", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        run_demo(tmp_path, sites=1, patients_per_site=2)
    assert (tmp_path / "keep.txt").exists()
