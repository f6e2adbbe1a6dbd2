"""load_study_data reads a real (small, synthetic-site) study store into the contract."""

from __future__ import annotations

import pytest

from wristbme.errors import ConfigError
from wristbme.report.loader import load_study_data

study = pytest.importorskip("wristbme.study")


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    from wristbme.study import create_store, default_config
    from wristbme.study.intake import intake
    from wristbme.study.lifecycle import lock
    from wristbme.study.minisite import make_site_export
    from wristbme.study.service import ScoreRow, list_analysis_images, record_score_run
    from wristbme.study.site import SiteDir, package, read_id_list

    root = tmp_path_factory.mktemp("site")
    site = make_site_export(root, n_patients=6, seed=3, sheet="xlsx")
    folder = SiteDir.open(root / "sitedir", site="S03")
    folder.optout_add(read_id_list(site.optout))
    package(export=site.export, cases=site.cases, site="S03", out=root / "disc", site_dir=root / "sitedir")
    store = create_store(root / "study", default_config())
    intake(store, root / "disc")
    with store.session() as s, s.begin():
        images = list_analysis_images(s)
        record_score_run(s, model_id="model-x", model_version="9.9", params={"synthetic": True, "n_images": 3},
                         scores=[ScoreRow(i.id, "wrist", (10 + 7 * k) / 100, 10.0 + 7 * k) for k, i in enumerate(images)])
    lock(store)
    store.close()
    return root / "study"


def test_loader_gives_validated_contract_data_with_provenance(study_dir):
    data = load_study_data(study_dir)
    assert len(data.wrists) >= 1
    assert set(data.scores["kind"]) == {"primary"}
    p = data.provenance
    assert p.model_id == "model-x" and p.model_summary["model_version"] == "9.9"
    assert p.synthetic is True and p.locked is True
    assert len(p.study_toml_sha256) == 64 and len(p.data_snapshot_sha256) == 64
    stages = data.flow.groupby("stage")["n"].sum()
    assert stages["received"] == stages.drop("received").sum()
    assert not data.wrists["pseudonym"].str.contains("MRN|ID", regex=True).any()


def test_loader_refuses_a_folder_that_is_not_a_study(tmp_path):
    with pytest.raises(ConfigError):
        load_study_data(tmp_path / "missing")
