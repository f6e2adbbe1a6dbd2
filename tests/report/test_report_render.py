"""The report renders in both languages: complete text, banner, figures, identical numbers, PDF pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from wristbme.i18n import catalog
from wristbme.report import build_report, synthetic_study_data


@pytest.fixture(scope="module")
def data():
    return synthetic_study_data(60, 3, seed=2)


@pytest.fixture(scope="module")
def reports(tmp_path_factory, data):
    out = {}
    for lang in ("en", "ja"):
        folder = tmp_path_factory.mktemp(f"report_{lang}")
        out[lang] = build_report(data, folder, lang, bootstrap=200, seed=0)
    return out


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_is_complete_self_contained_and_labelled_synthetic(reports, lang):
    html = reports[lang].html_path.read_text(encoding="utf-8")
    texts = catalog()
    assert texts["report.synthetic_banner"][lang] in html
    assert texts["report.sec.checklists"][lang] in html
    # no catalog key, unfilled placeholder, Python repr or missing value leaked into the page
    assert not re.search(r"report\.[a-z_]+\.[a-z_]", html.replace("report.html", ""))
    assert not re.search(r"\{[a-z_]+\}", html)
    assert "None" not in re.sub(r"<[^>]+>", " ", html)
    assert "nan" not in re.sub(r"<[^>]+>", " ", html).lower().split()
    # self-contained: figures are data URIs, no external resources
    assert html.count("data:image/svg+xml;base64,") >= 6
    assert not re.search(r'(src|href)="(http|//|/[a-z])', html)
    other = "ja" if lang == "en" else "en"
    assert texts["report.sec.summary"][other] not in html


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_headline_numbers_in_the_page_are_those_of_numbers_json(reports, lang):
    html = reports[lang].html_path.read_text(encoding="utf-8")
    n = reports[lang].numbers
    auc = n["accuracy"]["auc"]
    for v in (auc["value"], auc["ci_lower"], auc["ci_upper"]):
        assert f"{v:.2f}" in html
    sens = n["accuracy"]["prespecified"]["sensitivity"]
    assert f"{100 * sens['value']:.1f}%" in html
    icc = n["test_retest"]["ICC2"]
    assert f"{icc['value']:.3f}" in html and f"{icc['ci_lower']:.3f}" in html


def test_japanese_report_has_japanese_text(reports):
    html = reports["ja"].html_path.read_text(encoding="utf-8")
    assert "感度" in html and "施設" in html and 'lang="ja"' in html


def test_numbers_are_the_same_in_both_languages_and_on_rerun(reports, data, tmp_path):
    en = json.loads(reports["en"].numbers_path.read_text(encoding="utf-8"))
    ja = json.loads(reports["ja"].numbers_path.read_text(encoding="utf-8"))
    assert en == ja
    again = build_report(data, tmp_path, "en", bootstrap=200, seed=0, pdf=False)
    assert again.numbers_path.read_bytes() == reports["en"].numbers_path.read_bytes()
    assert again.html_path.read_bytes() == reports["en"].html_path.read_bytes()


def test_real_data_gets_no_banner(data, tmp_path):
    real = data.with_provenance(synthetic=False)
    res = build_report(real, tmp_path, "en", bootstrap=60, pdf=False)
    html = res.html_path.read_text(encoding="utf-8")
    assert catalog()["report.synthetic_banner"]["en"] not in html
    assert res.numbers["meta"]["synthetic"] is False


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pdf_renders_to_pages(reports, lang, tmp_path):
    pdf = reports[lang].pdf_path
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 8
    assert all(p.stat().st_size > 1000 for p in pages)
