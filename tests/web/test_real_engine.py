"""A correction through the real pipeline: ``anatomy.locate`` with the edit, features, a real model artifact.

The model is ``$WRISTBME_WEB_TEST_MODEL`` when set, else the shipped demo model; it is recorded as the
image's last score run (``params.model_path``), which is how the web UI picks the model to re-score with.
Skips (saying why) when neither exists.
"""

from __future__ import annotations

import pytest
from webstudy import build_study, csrf_of, model_under_test

from wristbme.bones import Bone


@pytest.fixture(scope="module")
def wrist_study(tmp_path_factory):
    model_path = model_under_test()
    if model_path is None:
        pytest.skip("the real re-scoring needs a model artifact matching this feature schema: the demo model "
                    "is missing or stale (ship a fresh one or set WRISTBME_WEB_TEST_MODEL)")
    from wristbme.anatomy import anatomy_to_json, locate
    from wristbme.study.models import AnatomyResult, Image
    from wristbme.study.store import open_store
    from wristbme.synth.phantom import HandSpec, render_phantom

    phantom = render_phantom(HandSpec(laterality="R", field="wrist", spacing_mm=0.15), seed=5)
    study = build_study(tmp_path_factory.mktemp("real") / "study", pixels=phantom.radiograph.pixels,
                        spacing_mm=0.15, shape=phantom.radiograph.pixels.shape, model_path=model_path)
    anatomy = locate(phantom.radiograph)
    with open_store(study.root) as store, store.session() as s, s.begin():
        image = s.get(Image, study.image_ids["S01-0001"])
        s.add(AnatomyResult(image_id=image.id, data=anatomy_to_json(anatomy), method=anatomy.method))
    study.model_path = model_path
    return study


@pytest.mark.slow
def test_correction_is_rescored_by_the_real_pipeline(wristbme_copy, make_client):
    client = make_client(wristbme_copy, fake_engine=False)
    image_id = wristbme_copy.image_ids["S01-0001"]
    before = client.get(f"/api/images/{image_id}").json()
    x, y = before["anatomy"]["landmarks"]["lunate_centre"]
    token = csrf_of(client, "/cases")
    r = client.post(f"/api/images/{image_id}/corrections", json={"landmarks": {"lunate_centre": [x + 15, y]}},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["anatomy"]["landmarks"]["lunate_centre"] == pytest.approx([x + 15, y], abs=0.05)
    assert after["anatomy"]["corrected"] is True
    scores = after["scores"]
    from wristbme.model.artifact import ModelArtifact

    assert scores["label"] == "operator" and scores["model_id"] == ModelArtifact.load(wristbme_copy.model_path).model_id
    assert set(scores["by_region"]) <= {b.value for b in Bone} | {"wrist"} and scores["by_region"]
    assert all(0 <= v <= 100 for v in scores["by_region"].values())
    assert any(a["event"] == "web.rescore" for a in after["audit"])
    print(f"\nreal re-score: wrist {before['scores']['by_region'].get('wrist')} -> {scores['by_region'].get('wrist')}")


def test_a_correction_is_refused_when_the_scoring_model_is_not_available(wristbme_copy, make_client):
    from wristbme.study.models import ScoreRun
    from wristbme.study.store import open_store

    with open_store(wristbme_copy.root) as store, store.session() as s, s.begin():
        for run in s.query(ScoreRun):
            run.model_id, run.params = "some-other-model", {}
    client = make_client(wristbme_copy, fake_engine=False)
    image_id = wristbme_copy.image_ids["S01-0001"]
    token = csrf_of(client, "/cases")
    r = client.post(f"/api/images/{image_id}/corrections", json={"landmarks": {"lunate_centre": [100.0, 100.0]}},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and "some-other-model" in r.json()["message"] and "--model" in r.json()["message"]


@pytest.fixture
def wristbme_copy(tmp_path, wrist_study):
    import shutil

    from webstudy import StudyFixture

    dest = tmp_path / "study"
    shutil.copytree(wrist_study.root, dest)
    copy = StudyFixture(dest, dict(wrist_study.image_ids), wrist_study.extra_image_id, wrist_study.shape,
                        wrist_study.spacing_mm)
    copy.model_path = wrist_study.model_path
    return copy
