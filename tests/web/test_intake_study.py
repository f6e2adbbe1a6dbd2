"""The web UI over a study made the real way: site export → de-identified disc → intake.

Checks that the pages work on what intake writes (statuses, eligibility reasons, findings, quarantine,
de-identified DICOM), and that none of the identifiers planted in the site's headers and case sheet reaches
any page, image rendition or API answer.
"""

from __future__ import annotations

import re

import pytest
from webstudy import BASE

PAGES = ("/", "/cases", "/audit", "/report/")


@pytest.fixture(scope="module")
def intake_study(tmp_path_factory):
    from wristbme.study import create_store, default_config
    from wristbme.study.intake import intake
    from wristbme.study.minisite import make_site_export
    from wristbme.study.site import SiteDir, package, read_id_list

    root = tmp_path_factory.mktemp("intake-web")
    site = make_site_export(root / "site", n_patients=3, seed=11,
                            defects=("ineligible_onset", "lateral_view", "opted_out", "missing_grades"))
    SiteDir.open(root / "sitedir", site="S03").optout_add(read_id_list(site.optout))
    package(export=site.export, cases=site.cases, site="S03", out=root / "disc", site_dir=root / "sitedir")
    store = create_store(root / "study", default_config("Intake web test", n_sites=3))
    try:
        report = intake(store, root / "disc", actor="tester")
    finally:
        store.close()
    assert report.accepted > 0
    return root / "study", site.truth


@pytest.fixture
def client(intake_study):
    from fastapi.testclient import TestClient

    from wristbme.web.app import create_app
    from wristbme.web.config import WebSettings

    with TestClient(create_app(WebSettings(study_dir=intake_study[0])), base_url=BASE) as c:
        yield c


def test_pages_work_on_an_intake_made_study(client):
    dashboard = client.get("/").text
    assert "S03" in dashboard and "not_pa_view" in dashboard
    cases = client.get("/cases").text
    pseudonyms = re.findall(r'<tr data-case="(S03-\d{4})"', cases)
    assert len(pseudonyms) >= 3
    for p in pseudonyms:
        page = client.get(f"/cases/{p}")
        assert page.status_code == 200, p
        for image_id in set(re.findall(r'/images/(\d+)/preview\.png', page.text)):
            r = client.get(f"/images/{image_id}/preview.png")
            assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
            assert client.get(f"/api/images/{image_id}").status_code == 200
    assert "ineligible" in client.get("/cases?bme=").text


def test_no_planted_identifier_reaches_the_browser(client, intake_study):
    identifiers = [str(i) for i in intake_study[1]["identifiers"] if len(str(i)) >= 4]
    assert identifiers
    texts = [client.get(p).text for p in PAGES]
    images = []
    cases = client.get("/cases").text
    for p in re.findall(r'<tr data-case="(S03-\d{4})"', cases):
        page = client.get(f"/cases/{p}")
        texts.append(page.text)
        for image_id in set(re.findall(r'/images/(\d+)/preview\.png', page.text)):
            texts.append(client.get(f"/api/images/{image_id}").text)
            images.append(client.get(f"/images/{image_id}/preview.png").content)
    text = "\n".join(texts).upper()
    blob = b"\n".join(images)
    for ident in identifiers:
        assert ident.upper() not in text, "an identifier reached a page or API answer"
        assert ident.encode() not in blob, "an identifier reached an image rendition"
