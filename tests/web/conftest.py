"""Fixtures of the web tests (the study builder and helpers are in ``webstudy.py``)."""

from __future__ import annotations

import pytest
from webstudy import BASE, FakeEngineServices, StudyFixture, build_study


@pytest.fixture(scope="session")
def study_template(tmp_path_factory) -> StudyFixture:
    return build_study(tmp_path_factory.mktemp("web-study-template") / "study")


@pytest.fixture
def study(tmp_path, study_template) -> StudyFixture:
    """A fresh copy of the template study for each test (tests change it)."""
    import shutil

    dest = tmp_path / "study"
    shutil.copytree(study_template.root, dest)
    return StudyFixture(dest, dict(study_template.image_ids), study_template.extra_image_id,
                        study_template.shape, study_template.spacing_mm)


@pytest.fixture
def make_client():
    """``make_client(study, host=..., services_cls=...)`` → a TestClient on a fresh app."""
    from fastapi.testclient import TestClient

    from wristbme.web.app import create_app
    from wristbme.web.config import WebSettings
    from wristbme.web.services import StudyServices

    clients = []

    def factory(study: StudyFixture, *, host: str = "127.0.0.1", fake_engine: bool = True, **settings):
        cls = type("TestServices", (FakeEngineServices, StudyServices), {}) if fake_engine else StudyServices
        ws = WebSettings(study_dir=study.root, host=host, **settings)
        app = create_app(ws, services=cls(ws))
        client = TestClient(app, base_url=BASE)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.__exit__(None, None, None)


