import datetime as dt

import pytest

from wristbme.synth._people import format_date


@pytest.mark.parametrize("d, style, text", [
    (dt.date(2019, 5, 7), "era", "令和元年5月7日"),
    (dt.date(2019, 4, 30), "era", "平成31年4月30日"),
    (dt.date(2018, 1, 15), "era_short", "H30.1.15"),
    (dt.date(2019, 5, 1), "era_short", "R1.5.1"),
    (dt.date(1962, 11, 23), "era", "昭和37年11月23日"),
    (dt.date(2019, 4, 1), "slash", "2019/04/01"),
    (dt.date(2019, 4, 1), "iso", "2019-04-01"),
])
def test_date_styles(d, style, text):
    assert format_date(d, style) == text


def test_unknown_style():
    with pytest.raises(ValueError, match="style"):
        format_date(dt.date(2019, 1, 1), "roman")
