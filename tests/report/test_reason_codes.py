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
