"""Flow reason codes in words, including ``kind:detail`` codes from the scorer."""

from wristbme.report.render import _reason


def test_not_scorable_reasons_read_in_both_languages():
    assert _reason("not_scorable:cast_or_metal", "en") == "radiograph could not be scored (cast or metal in view)"
    assert "ギプス" in _reason("not_scorable:cast_or_metal", "ja")
    assert _reason("not_scorable:something_new", "en") == "radiograph could not be scored (something_new)"
    assert _reason("unknown_code", "en") == "unknown_code"
