"""Both languages render every page without a raw catalog key, and every key the UI names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from webstudy import csrf_of

from wristbme.i18n import catalog

WEB = Path(__file__).resolve().parents[2] / "src" / "wristbme" / "web"
KEY_RE = re.compile(r"\bweb\.[a-z_]+\.[a-zA-Z_.]+\b")
JSON_BLOCK = re.compile(r'<script type="application/json"[^>]*>.*?</script>', re.S)
TAG = re.compile(r"<[^>]+>")


def _visible_text(html: str) -> str:
    return TAG.sub(" ", JSON_BLOCK.sub(" ", html))


def _pages(study):
    return ["/", "/cases", "/cases?site=S01&bme=yes", "/cases/S01-0001", "/cases/S01-0003", "/audit",
            "/report/", "/subjects/S01-0002/withdraw", "/login", "/nope"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pages_have_no_raw_keys(study, make_client, lang):
    client = make_client(study)
    for path in _pages(study):
        html = client.get(path, params={"lang": lang}).text
        text = _visible_text(html)
        assert not KEY_RE.findall(text), (path, KEY_RE.findall(text))
        assert f'<html lang="{lang}">' in html


def test_japanese_pages_carry_no_english_ui_text(study, make_client):
    """Every web text whose English differs from its Japanese must not show up on a Japanese page."""
    english = sorted({texts["en"] for key, texts in catalog().items()
                      if key.startswith("web.") and texts["en"] != texts["ja"] and "{" not in texts["en"]
                      and len(texts["en"]) > 3}, key=len, reverse=True)
    client = make_client(study)
    for path in _pages(study):
        text = _visible_text(client.get(path, params={"lang": "ja"}).text)
        text = re.sub(r"Site \d+|local-operator|Web test study \(synthetic\)", " ", text)  # data, not UI
        leaked = [e for e in english if re.search(rf"(?<![\w.]){re.escape(e)}(?![\w])", text)]
        assert not leaked, (path, leaked[:5])


def test_viewer_texts_are_sent_in_the_page_language(study, make_client):
    client = make_client(study)
    ja = client.get("/cases/S01-0001?lang=ja").text
    assert '"web.viewer.saving":"保存して再スコア中…"' in ja


def test_every_key_named_in_templates_and_scripts_exists():
    names = set()
    for path in list((WEB / "templates").glob("*.html")) + list((WEB / "static").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""t\(['"](web\.[a-z_.]+|cli\.[a-z_.]+)['"]""", text))
        names |= set(re.findall(r"""T\[['"](web\.[a-z_.]+)['"]\]""", text))
        for prefix in re.findall(r"""t\('(web\.[a-z_]+\.)' ~""", text):
            assert any(k.startswith(prefix) for k in catalog()), prefix
    for path in (WEB).rglob("*.py"):
        names |= set(re.findall(r"""(?:localized|t)\(\s*['"](web\.[a-z_.]+)['"]""", path.read_text(encoding="utf-8")))
    names = {n for n in names if not n.endswith(".")}  # prefixes of dynamic keys are checked above
    missing = sorted(n for n in names if n not in catalog())
    assert not missing, missing
    assert len(names) > 100


@pytest.mark.parametrize("prefix,values", [
    ("web.flow.", ("received", "withdrawn", "ineligible", "no_image", "qc_failed", "analysed", "quarantined_items")),
    ("web.status.", ("eligible", "ineligible", "incomplete")),
    ("web.qcstatus.", ("pass", "warn", "fail")),
    ("web.side.", ("R", "L", "U")),
    ("web.role.", ("viewer", "operator", "admin")),
    ("web.sort.", ("pseudonym", "site", "bme", "qc", "score")),
    ("web.anatomy.", ("not_located", "unreadable")),
])
def test_dynamic_keys_cover_every_value(prefix, values):
    for value in values:
        assert prefix + value in catalog()


def test_error_messages_are_translated(study, make_client):
    client = make_client(study, host="0.0.0.0")
    token = csrf_of(client)
    r = client.post("/login?lang=ja", data={"username": "x", "password": "y", "csrf_token": "bad"})
    assert r.status_code == 403 and "フォームの有効期限" in r.text
    r = client.post("/login?lang=ja", data={"username": "vera", "password": "wrong", "csrf_token": token})
    assert "ユーザー名またはパスワードが違います" in r.text


def test_api_refusals_are_translated(study, make_client):
    client = make_client(study)
    token = csrf_of(client, "/cases")
    image_id = study.image_ids["S01-0001"]
    r = client.post(f"/api/images/{image_id}/corrections?lang=ja", json={"landmarks": {"nose": [1, 1]}},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 400 and "不明なランドマーク" in r.json()["message"]
    r = client.post(f"/api/images/{image_id}/corrections?lang=en", json={"landmarks": {"nose": [1, 1]}},
                    headers={"X-CSRF-Token": token})
    assert "unknown landmark 'nose'" in r.json()["message"]
    assert "ストアにありません" in client.get("/api/images/999?lang=ja").json()["message"]


def test_audit_details_show_japanese_text_unescaped(study, make_client):
    from wristbme.study.audit import audit
    from wristbme.study.store import open_store

    with open_store(study.root) as store, store.session() as s, s.begin():
        audit(s, "note", {"reason": "本人からの申し出 <b>"}, actor="ada")
    html = make_client(study).get("/audit").text
    assert "本人からの申し出 &lt;b&gt;" in html and "\\u672c" not in html
