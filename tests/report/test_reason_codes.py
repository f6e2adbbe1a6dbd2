"""Every exclusion reason the study store records has a translated label in the report (ja and en)."""

import pytest

from wristbme.i18n import catalog
from wristbme.study.eligibility import Reason

QC_FAIL_CODES = ("no_image", "no_analysed_image", "missing_grades")


@pytest.mark.parametrize("code", [r.value for r in Reason] + list(QC_FAIL_CODES))
def test_store_reason_has_report_label(code):
    texts = catalog()[f"report.reason.{code}"]
    assert texts["en"] != texts["ja"]


def test_links_to_absent_sections_become_plain_text():
    from wristbme.report.render import unlink_missing_anchors

    html = '<h2 id="flow">x</h2><a href="#flow">Flow</a> <a href="#cutoffs">Cut-offs</a>'
    assert unlink_missing_anchors(html) == '<h2 id="flow">x</h2><a href="#flow">Flow</a> Cut-offs'


def test_not_scorable_reasons_read_in_both_languages():
    from wristbme.report.render import _reason

    assert _reason("not_scorable:cast_or_metal", "en") == "radiograph could not be scored (cast or metal in view)"
    assert "ギプス" in _reason("not_scorable:cast_or_metal", "ja")
    assert _reason("not_scorable:something_new", "en") == "radiograph could not be scored (something_new)"
    assert _reason("unknown_code", "en") == "unknown_code"
