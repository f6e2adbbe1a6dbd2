"""Every route through TestClient, with the refusals: no login, wrong role, bad CSRF, path traversal."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select
from webstudy import PASSWORDS, csrf_of, login


def _store(study):
    from wristbme.study.store import open_store

    return open_store(study.root)


def _case_order(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', html)


# -- local (loopback) mode ---------------------------------------------------------------------------------
def test_loopback_server_serves_pages_without_login(study, make_client):
    client = make_client(study, local_user="local:tester")
    for path in ("/", "/cases", "/audit", "/cases/S01-0001"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "local:tester" in r.text


def test_dashboard_shows_sites_flow_intake_findings_and_lock(study, make_client):
    html = make_client(study).get("/").text
    assert "S01" in html and "S02" in html
    assert "DISC-S01-1" in html
    assert "burned_in_text" in html and "not_pa_view" in html
    assert "onset_too_early" in html and "identifier_in_header" in html
    assert 'data-testid="lock-state"' in html and "Not locked" in html
    assert "audit chain intact" in html and "stored files missing 0" in html
    assert "Data-use period 2024-06-20 to 2025-06-16" in html
    flow = dict(re.findall(r'class="flow-([a-z_]+)"><span class="n">(\d+)</span>', html))
    # 6 received; 1 ineligible; 5 eligible with analysed images, one failing QC → 4 analysed
    assert flow == {"received": "6", "withdrawn": "0", "ineligible": "1", "no_image": "0", "qc_failed": "1",
                    "analysed": "4", "quarantined_items": "1"}


def test_dashboard_shows_an_active_lock(study, make_client):
    from wristbme.study.models import StudyLock

    with _store(study) as store, store.session() as s, s.begin():
        s.add(StudyLock(content_sha256="ab" * 32, n_subjects=4, n_images=4))
    html = make_client(study).get("/").text
    assert "Locked on" in html and "abababababababab" in html
    assert "has changed since the lock" in html  # the made-up hash is not the content's


# -- case list -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query,expected", [
    ("", ["S01-0001", "S01-0002", "S01-0003", "S02-0001", "S02-0002", "S02-0003"]),
    ("?site=S02", ["S02-0001", "S02-0002", "S02-0003"]),
    ("?bme=yes", ["S01-0001", "S02-0001"]),
    ("?bme=no", ["S01-0002", "S02-0002"]),
    ("?bme=unknown", ["S01-0003", "S02-0003"]),
    ("?qc=flagged", ["S01-0002", "S02-0001"]),
    ("?qc=clean&site=S01", ["S01-0001", "S01-0003"]),
    ("?sort=score&desc=1", ["S01-0001", "S02-0001", "S02-0003", "S01-0002", "S02-0002", "S01-0003"]),
    ("?sort=score", ["S02-0002", "S01-0002", "S02-0003", "S02-0001", "S01-0001", "S01-0003"]),
    ("?min_score=50", ["S01-0001", "S02-0001"]),
    ("?min_score=abc", ["S01-0001", "S01-0002", "S01-0003", "S02-0001", "S02-0002", "S02-0003"]),
])
def test_case_list_filters_and_sorts(study, make_client, query, expected):
    r = make_client(study).get("/cases" + query)
    assert r.status_code == 200
    assert _case_order(r.text) == expected


@pytest.mark.parametrize("query", ["?site=../../x", "?sort=drop table", "?bme=maybe", "?qc=<script>"])
def test_case_list_refuses_bad_filters(study, make_client, query):
    r = make_client(study).get("/cases" + query)
    assert r.status_code == 422
    assert "<script>" not in r.text


def test_case_page_shows_scores_grades_flags_and_images(study, make_client):
    r = make_client(study).get("/cases/S01-0001")
    assert r.status_code == 200
    html = r.text
    assert 'id="score-wrist">81.0<' in html
    assert "Lunate" in html and "MRI RAMRIS grade" in html
    assert html.count("?image=") == 2  # two images of this subject, switchable
    data = json.loads(re.search(r'<script type="application/json" id="viewer-data">(.*?)</script>', html, re.S)[1])
    assert data["image"]["id"] == study.image_ids["S01-0001"]
    assert set(data["anatomy"]["landmarks"]) and data["anatomy"]["regions"]["pisiform"]["qc_flags"] == ["low_confidence"]
    assert data["scores"]["by_region"]["wrist"] == 81.0
    assert data["csrf"] and data["canEdit"] is True
    # pixel coordinates in the original frame: the first landmark at 20 % / 25 % of the image
    x, y = data["anatomy"]["landmarks"]["radial_styloid_tip"]
    assert x == pytest.approx(0.2 * study.shape[1], abs=0.01) and y == pytest.approx(0.25 * study.shape[0], abs=0.01)


def test_case_page_links_to_its_neighbours(study, make_client):
    client = make_client(study)
    html = client.get("/cases/S01-0002").text
    assert 'href="/cases/S01-0001" rel="prev"' in html and 'href="/cases/S01-0003" rel="next"' in html
    first = client.get("/cases/S01-0001").text
    assert 'rel="prev"' not in first and 'href="/cases/S01-0002" rel="next"' in first
    assert 'rel="next"' not in client.get("/cases/S02-0003").text


def test_case_page_other_image_and_refusals(study, make_client):
    client = make_client(study)
    r = client.get(f"/cases/S01-0001?image={study.extra_image_id}")
    assert r.status_code == 200 and f'"id":{study.extra_image_id}' in r.text
    assert client.get(f"/cases/S01-0002?image={study.extra_image_id}").status_code == 404
    assert client.get("/cases/S09-9999").status_code == 404
    assert client.get("/cases/..%2F..%2Fetc").status_code in (404, 422)


# -- images ------------------------------------------------------------------------------------------------
def test_preview_is_downsampled_and_cached_and_full_is_full_size(study, make_client):
    client = make_client(study, preview_max_px=100)
    image_id = study.image_ids["S01-0001"]
    r = client.get(f"/images/{image_id}/preview.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    preview = PILImage.open(io.BytesIO(r.content))
    assert max(preview.size) <= 100 and preview.mode == "L"
    cached = study.root / "derived" / str(image_id) / "preview-100.png"
    assert cached.is_file()
    full = PILImage.open(io.BytesIO(client.get(f"/images/{image_id}/full.png").content))
    assert full.size == (study.shape[1], study.shape[0])
    # cached: a second request reads the same file; a browser holding it gets 304
    before = cached.stat().st_mtime_ns
    assert client.get(f"/images/{image_id}/preview.png").content == r.content
    assert cached.stat().st_mtime_ns == before
    again = client.get(f"/images/{image_id}/preview.png", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_previews_are_warmed_in_the_background(study, make_client):
    import time

    client = make_client(study, warm_previews=True)
    folder = study.root / "derived"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = sorted(p.parent.name for p in folder.glob("*/preview-1024.png"))
        if len(done) == 7:
            break
        time.sleep(0.1)
    assert len(done) == 7  # every image, analysed or not
    assert client.get("/favicon.ico").status_code == 204


@pytest.mark.parametrize("path", ["/images/999999/preview.png", "/images/0/preview.png", "/images/-1/full.png",
                                  "/images/1/thumb.png", "/images/..%2F..%2Fstudy.toml/preview.png",
                                  "/images/1%2F..%2F..%2Fstudy.toml", "/images/abc/preview.png",
                                  "/images/1/preview.png/../../../study.toml"])
def test_image_refusals(study, make_client, path):
    r = make_client(study).get(path)
    assert r.status_code in (404, 422)
    assert "protocol" not in r.text.lower() or r.status_code == 404
    assert b"[protocol]" not in r.content


def test_image_data_api(study, make_client):
    image_id = study.image_ids["S02-0002"]
    r = make_client(study).get(f"/api/images/{image_id}")
    assert r.status_code == 200
    data = r.json()
    assert data["pseudonym"] == "S02-0002" and data["scores"]["by_region"]["wrist"] == 12.5
    assert data["image"]["rows"] == study.shape[0]
    assert "sha256" not in json.dumps(data) and "sop_instance_uid" not in json.dumps(data)


def test_image_without_anatomy_says_so(study, make_client):
    image_id = study.image_ids["S01-0003"]
    data = make_client(study).get(f"/api/images/{image_id}").json()
    assert data["anatomy"] is None and data["anatomy_error"] == "not_located" and data["scores"] is None
    assert "has not been located" in make_client(study).get("/cases/S01-0003").text


# -- corrections -------------------------------------------------------------------------------------------
def _correction(client, image_id, token, body=None):
    body = body or {"landmarks": {"lunate_centre": [120.0, 110.0]}, "note": "lunate centre was off"}
    return client.post(f"/api/images/{image_id}/corrections", json=body, headers={"X-CSRF-Token": token})


def test_correction_rescores_stores_and_audits_with_the_operator(study, make_client):
    from wristbme.study.audit import verify_chain
    from wristbme.study.models import AuditEvent, Correction

    client = make_client(study, host="0.0.0.0")
    login(client, "otto")
    image_id = study.image_ids["S01-0001"]
    page = client.get("/cases/S01-0001").text
    data = json.loads(re.search(r'id="viewer-data">(.*?)</script>', page, re.S)[1])
    x0, y0 = data["anatomy"]["landmarks"]["lunate_centre"]
    r = _correction(client, image_id, data["csrf"], {"landmarks": {"lunate_centre": [x0 + 10, y0]}, "note": "moved"})
    assert r.status_code == 201, r.text
    detail = r.json()
    assert detail["scores"]["by_region"]["wrist"] == pytest.approx(60.0)  # fake engine: 50 + 10 px
    assert detail["scores"]["label"] == "operator" and detail["scores"]["operator"] == "otto"
    assert detail["anatomy"]["landmarks"]["lunate_centre"] == pytest.approx([x0 + 10, y0], abs=0.01)
    assert detail["anatomy"]["corrected"] is True
    assert detail["corrections"][0]["operator"] == "otto" and detail["corrections"][0]["note"] == "moved"
    assert any(a["event"] == "web.rescore" and a["actor"] == "otto" for a in detail["audit"])
    with _store(study) as store, store.session() as s:
        assert s.scalar(select(func.count(Correction.id))) == 1
        events = {e.event: e for e in s.scalars(select(AuditEvent))}
        assert events["correction"].actor == "otto"
        assert "S01-0001" not in events["web.rescore"].detail  # a keyed hash, not the pseudonym
        assert verify_chain(s).ok
    # the new score shows in the case list and the page
    assert 'id="score-wrist">60.0<' in client.get("/cases/S01-0001").text
    assert "S01-0001" in client.get("/cases?min_score=59").text


def test_a_correction_is_an_operator_repeat_for_the_analysis(study, make_client):
    """The study's analysis keeps the baseline run primary for every image and counts the correction's
    scores as an operator repeat of the corrected image."""
    from wristbme.study.analysis import REPEAT_KINDS, analysis_tables
    from wristbme.web.services import CORRECTION_RUN_LABEL

    assert CORRECTION_RUN_LABEL in REPEAT_KINDS
    client = make_client(study)
    token = csrf_of(client, "/cases")
    image_id = study.image_ids["S02-0002"]
    assert _correction(client, image_id, token, {"landmarks": {"lunate_centre": [100.0, 100.0]}}).status_code == 201
    with _store(study) as store, store.session() as s:
        scores = analysis_tables(s)["scores"]
    wrist = scores[scores["bone"] == "wrist"]
    primary = wrist[wrist["kind"] == "primary"]
    assert set(primary["pseudonym"]) == {"S01-0001", "S01-0002", "S02-0002", "S02-0003"}  # S02-0001 fails QC
    operator = wrist[wrist["kind"] == "operator"]
    assert list(operator["pseudonym"]) == ["S02-0002"] and list(operator["operator"]) == ["local-operator"]


def test_correction_refusals(study, make_client):
    from wristbme.study.models import Correction

    client = make_client(study, host="0.0.0.0")
    image_id = study.image_ids["S01-0001"]
    # no login
    anon_token = csrf_of(client)
    assert _correction(client, image_id, anon_token).status_code == 401
    # viewer: wrong role
    login(client, "vera")
    token = csrf_of(client, "/cases")
    assert _correction(client, image_id, token).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, "otto")
    token = csrf_of(client, "/cases")
    # bad or missing CSRF token
    assert _correction(client, image_id, "forged-token").status_code == 403
    assert client.post(f"/api/images/{image_id}/corrections", json={"landmarks": {}}).status_code == 403
    # bad bodies
    for body in ({"landmarks": {"nose_tip": [1, 1]}}, {"landmarks": {"lunate_centre": [1e9, 1]}},
                 {"landmarks": {"lunate_centre": "here"}}, {"regions": {"femur": [[1, 1], [2, 2], [3, 1]]}},
                 {"regions": {"lunate": [[1, 1], [2, 2]]}}, {"landmarks": {}}, {"landmarks": [1, 2]},
                 {"landmarks": {"lunate_centre": [True, 1]}}):
        r = _correction(client, image_id, token, body)
        assert r.status_code == 400, (body, r.text)
    assert _correction(client, 999999, token).status_code == 404
    with _store(study) as store, store.session() as s:
        assert s.scalar(select(func.count(Correction.id))) == 0


def test_polygon_correction_is_kept(study, make_client):
    client = make_client(study)
    image_id = study.image_ids["S02-0002"]
    token = csrf_of(client, "/cases")
    poly = [[20.0, 30.0], [60.0, 30.0], [60.0, 70.0], [20.0, 70.0]]
    r = _correction(client, image_id, token, {"regions": {"lunate": poly}})
    assert r.status_code == 201, r.text
    assert r.json()["anatomy"]["regions"]["lunate"]["polygon"] == poly
    # the local operator's name is recorded
    assert r.json()["corrections"][0]["operator"] == "local-operator"


# -- login, sessions, roles --------------------------------------------------------------------------------
def test_remote_server_requires_login_everywhere(study, make_client):
    client = make_client(study, host="0.0.0.0")
    for path in ("/", "/cases", "/cases/S01-0001", "/audit", "/report/", "/subjects/S01-0001/withdraw"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    image_id = study.image_ids["S01-0001"]
    for path in (f"/images/{image_id}/preview.png", f"/images/{image_id}/full.png", f"/api/images/{image_id}"):
        r = client.get(path)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/json"), path
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_login_logout_and_next(study, make_client):
    client = make_client(study, host="0.0.0.0")
    token = csrf_of(client)
    r = client.post("/login", data={"username": "vera", "password": PASSWORDS["vera"], "csrf_token": token,
                                    "next": "/cases?site=S02"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases?site=S02"
    assert "vera (viewer)" in client.get("/cases").text
    token = csrf_of(client, "/cases")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("next_url", ["//evil.example/x", "https://evil.example/"])
def test_login_never_redirects_off_site(study, make_client, next_url):
    client = make_client(study, host="0.0.0.0")
    token = csrf_of(client)
    r = client.post("/login", data={"username": "vera", "password": PASSWORDS["vera"], "csrf_token": token,
                                    "next": next_url}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_login_refusals_and_rate_limit(study, make_client):
    client = make_client(study, host="0.0.0.0", login_max_failures=3)
    token = csrf_of(client)
    # no CSRF token → refused before any password check
    r = client.post("/login", data={"username": "vera", "password": PASSWORDS["vera"]})
    assert r.status_code == 403
    for _ in range(3):
        r = client.post("/login", data={"username": "vera", "password": "wrong", "csrf_token": token})
        assert r.status_code == 401 and "wrong" in r.text.lower()
    # locked: even the right password is refused now
    r = client.post("/login", data={"username": "vera", "password": PASSWORDS["vera"], "csrf_token": token})
    assert r.status_code == 429 and "Too many" in r.text
    # an unknown user fails the same way as a wrong password
    client2 = make_client(study, host="0.0.0.0")
    t2 = csrf_of(client2)
    r = client2.post("/login", data={"username": "nobody", "password": "x", "csrf_token": t2})
    assert r.status_code == 401


def test_tampered_session_cookie_is_not_trusted(study, make_client):
    import base64

    client = make_client(study, host="0.0.0.0")
    login(client, "vera")
    raw = client.cookies.get("wristbme_session")
    payload, signature = raw.split(".", 1)
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert data["user"] == "vera"
    data["user"] = "ada"  # promote myself to admin, keeping the old signature
    forged = base64.b64encode(json.dumps(data).encode()).decode() + "." + signature
    client.cookies.clear()
    client.cookies.set("wristbme_session", forged)
    assert client.get("/subjects/S01-0002/withdraw", follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_removed_user_loses_access(study, make_client):
    from wristbme.web.users import remove_user

    client = make_client(study, host="0.0.0.0")
    login(client, "vera")
    assert client.get("/").status_code == 200
    with _store(study) as store, store.session() as s, s.begin():
        remove_user(s, name="vera")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_session_cookie_flags(study, make_client):
    client = make_client(study, host="0.0.0.0")
    r = client.get("/login")
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_oversized_bodies_are_refused_before_reading(study, make_client):
    client = make_client(study)
    token = csrf_of(client, "/cases")
    image_id = study.image_ids["S01-0001"]
    big = {"landmarks": {}, "note": "x" * 1_100_000}
    r = client.post(f"/api/images/{image_id}/corrections", json=big, headers={"X-CSRF-Token": token})
    assert r.status_code == 413


def test_secure_cookie_setting(study, make_client):
    r = make_client(study, host="0.0.0.0", secure_cookies=True).get("/login")
    assert "secure" in r.headers["set-cookie"].lower()


def test_untrusted_host_header_is_refused_on_loopback(study, make_client):
    client = make_client(study)
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200


def test_security_headers(study, make_client):
    r = make_client(study).get("/cases")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


# -- withdrawal --------------------------------------------------------------------------------------------
def test_withdrawal_requires_admin(study, make_client):
    client = make_client(study, host="0.0.0.0")
    login(client, "otto")
    token = csrf_of(client, "/cases")
    assert client.get("/subjects/S01-0002/withdraw").status_code == 403
    r = client.post("/subjects/S01-0002/withdraw", data={"csrf_token": token, "reason": "x", "confirm": "S01-0002"})
    assert r.status_code == 403
    assert "withdraw" not in client.get("/cases/S01-0002").text.split("<main", 1)[1].split("viewer-layout")[0].lower()


def test_withdrawal_confirmation_and_csrf(study, make_client, monkeypatch):
    client = make_client(study, host="0.0.0.0")
    login(client, "ada")
    page = client.get("/subjects/S01-0002/withdraw")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    token = csrf_of(client, "/subjects/S01-0002/withdraw")
    assert client.get("/subjects/S09-0001/withdraw").status_code == 404
    r = client.post("/subjects/S01-0002/withdraw", data={"csrf_token": "bad", "reason": "opt-out", "confirm": "S01-0002"})
    assert r.status_code == 403
    r = client.post("/subjects/S01-0002/withdraw", data={"csrf_token": token, "reason": "opt-out", "confirm": "S01-0001"})
    assert r.status_code == 400 and "does not match" in r.text
    r = client.post("/subjects/S01-0002/withdraw", data={"csrf_token": token, "reason": " ", "confirm": "S01-0002"})
    assert r.status_code == 400
    assert client.get("/cases/S01-0002").status_code == 200  # nothing was withdrawn


def test_withdrawal_removes_the_subject(study, make_client):
    client = make_client(study, host="0.0.0.0")
    login(client, "ada")
    token = csrf_of(client, "/subjects/S01-0002/withdraw")
    image_id = study.image_ids["S01-0002"]
    client.get(f"/images/{image_id}/preview.png")
    r = client.post("/subjects/S01-0002/withdraw", data={"csrf_token": token, "reason": "opt-out",
                                                         "confirm": "S01-0002"})
    assert r.status_code == 200 and 'id="withdraw-done"' in r.text
    assert client.get("/cases/S01-0002").status_code == 404
    assert client.get(f"/images/{image_id}/preview.png").status_code == 404
    assert not (study.root / "derived" / str(image_id)).exists()
    assert "S01-0002" not in client.get("/cases").text
    audit = client.get("/audit").text
    assert "S01-0002" not in audit and "opt-out" in audit


# -- report ------------------------------------------------------------------------------------------------
def test_report_missing_then_served(study, make_client):
    client = make_client(study)
    r = client.get("/report/")
    assert r.status_code == 404 and 'id="report-missing"' in r.text
    assert "Latest report:\n    none yet" in client.get("/").text
    folder = study.root / "reports" / "latest"
    (folder / "fig").mkdir(parents=True)
    (folder / "index.html").write_text("<html><body><h1>Report</h1><img src='fig/roc.png'></body></html>")
    (folder / "fig" / "roc.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / ".secret").write_text("hidden")
    r = client.get("/report/")
    assert r.status_code == 200 and "<h1>Report</h1>" in r.text
    assert "script-src 'none'" in r.headers["content-security-policy"]
    assert client.get("/report/fig/roc.png").headers["content-type"] == "image/png"
    assert client.get("/report", follow_redirects=False).status_code == 307


def test_report_per_language_in_the_demo_layout(study, make_client):
    for lang in ("en", "ja"):
        folder = study.root.parent / "report" / lang
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<h1>report-{lang}</h1>")
        (folder / "report.pdf").write_bytes(b"%PDF-1.7")
    client = make_client(study)
    assert 'href="/report/report.pdf">PDF</a>' in client.get("/").text
    assert "report-en" in client.get("/report/").text
    assert "report-ja" in client.get("/report/?lang=ja").text
    assert client.get("/report/report.pdf").headers["content-type"] == "application/pdf"


def test_report_dir_setting_wins(study, make_client, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "index.html").write_text("<h1>configured</h1>")
    (study.root / "reports" / "x").mkdir(parents=True)
    (study.root / "reports" / "x" / "report.html").write_text("<h1>default</h1>")
    assert "configured" in make_client(study, report_dir=other).get("/report/").text
    assert "default" in make_client(study).get("/report/").text


@pytest.mark.parametrize("path", ["/report/../study.toml", "/report/..%2F..%2Fstudy.toml", "/report/%2e%2e/store.sqlite",
                                  "/report/.secret", "/report/fig/../../../study.toml", "/report//etc/passwd",
                                  "/report/%2Fetc%2Fpasswd", "/report/..%5C..%5Cstudy.toml", "/report/nope.html",
                                  "/report/fig", "/static/../study.toml", "/static/%2e%2e/%2e%2e/study.toml"])
def test_report_and_static_path_traversal_is_refused(study, make_client, path):
    folder = study.root / "reports" / "latest"
    (folder / "fig").mkdir(parents=True)
    (folder / "index.html").write_text("<h1>Report</h1>")
    (folder / ".secret").write_text("hidden")
    r = make_client(study).get(path)
    assert r.status_code in (404, 400), (path, r.status_code)
    assert b"[protocol]" not in r.content and b"hidden" not in r.content and b"SQLite" not in r.content


def test_report_symlink_out_of_the_folder_is_refused(study, make_client):
    import os

    folder = study.root / "reports" / "latest"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<h1>Report</h1>")
    os.symlink(study.root / "study.toml", folder / "leak.txt")
    assert make_client(study).get("/report/leak.txt").status_code == 404


# -- language ----------------------------------------------------------------------------------------------
def test_language_switch_sets_a_cookie_and_stays_on_site(study, make_client):
    client = make_client(study)
    r = client.get("/lang/ja?next=/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    assert "wristbme_lang=ja" in r.headers["set-cookie"]
    assert "症例一覧" in client.get("/cases").text
    assert client.get("/lang/ja?next=//evil.example", follow_redirects=False).headers["location"] == "/"
    assert "Cases" in client.get("/cases?lang=en").text
    assert client.cookies.get("wristbme_lang") == "en"


def test_unknown_page_is_a_translated_404(study, make_client):
    r = make_client(study).get("/nope?lang=ja")
    assert r.status_code == 404 and "このページは存在しません" in r.text


def test_no_password_hash_or_identifier_in_any_page(study, make_client):
    client = make_client(study)
    for path in ("/", "/cases", "/cases/S01-0001", "/audit", f"/api/images/{study.image_ids['S01-0001']}"):
        text = client.get(path).text
        assert "$argon2" not in text and "password" not in text.lower().replace('type="password"', "")
