import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wristbme.bones import Bone
from wristbme.errors import ConfigError, InputError
from wristbme.study.casesheet import header_field, parse_date, read_case_sheet
from wristbme.study.config import StudyConfig, default_config, resolve_study_dir
from wristbme.study.eligibility import Derived, Reason, check, derive


@pytest.mark.parametrize("text,expected", [
    ("令和元年5月7日", dt.date(2019, 5, 7)),
    ("令和2年1月15日", dt.date(2020, 1, 15)),
    ("平成30年1月15日", dt.date(2018, 1, 15)),
    ("H30.1.15", dt.date(2018, 1, 15)),
    ("R1/5/7", dt.date(2019, 5, 7)),
    ("S55.12.1", dt.date(1980, 12, 1)),
    ("2019/04/01", dt.date(2019, 4, 1)),
    ("2019-04-01", dt.date(2019, 4, 1)),
    ("２０１９／０４／０１", dt.date(2019, 4, 1)),
    ("2019年4月1日", dt.date(2019, 4, 1)),
    ("20190401", dt.date(2019, 4, 1)),
    (dt.datetime(2019, 4, 1, 0, 0), dt.date(2019, 4, 1)),
])
def test_dates_in_every_accepted_form(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2019-13-01", "令和元年13月1日", "yesterday", "H30", ""])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize("header,field", [("患者ID", "patient_id"), ("Patient ID", "patient_id"), ("生年月日", "birth_date"),
                                          ("X線撮影日", "xray_date"), ("Ｘ線撮影日", "xray_date"), ("MRI側", "mri_side"),
                                          ("骨髄浮腫 有/無", "bme_present"), ("BME present", "bme_present"),
                                          ("橈骨", Bone.RADIUS), ("第5中手骨基部", Bone.MC5), ("grade_lunate", Bone.LUNATE),
                                          ("Scaphoid", Bone.SCAPHOID), ("備考", None)])
def test_header_aliases(header, field):
    assert header_field(header) == field


def test_each_bad_cell_is_reported_with_row_and_column(tmp_path):
    sheet = tmp_path / "cases.csv"
    sheet.write_text("患者ID,氏名,生年月日,性別,発症日,X線撮影日,MRI撮影日,MRI側,骨髄浮腫,橈骨\n"
                     "A1,山田 太郎,S30.1.2,男,2019/01/01,令和元年5月7日,2019-05-20,右,有,2\n"
                     "A2,鈴木 花子,1960-02-30,女,2019/01/01,2019/05/07,2019-05-20,中,たぶん,5\n", encoding="utf-8")
    result = read_case_sheet(sheet)
    assert result.rows[0].valid and result.rows[0].xray_date == dt.date(2019, 5, 7)
    assert result.rows[0].grades[Bone.RADIUS] == 2 and result.rows[0].mri_side == "R"
    cells = {(e.row, e.column) for e in result.errors}
    assert cells == {(3, "生年月日"), (3, "MRI側"), (3, "骨髄浮腫"), (3, "橈骨")}
    assert all("1960" not in str(e) for e in result.errors)


def test_missing_column_names_the_accepted_headers(tmp_path):
    sheet = tmp_path / "cases.csv"
    sheet.write_text("Patient ID,Sex\nA1,M\n", encoding="utf-8")
    with pytest.raises(InputError, match="birth_date"):
        read_case_sheet(sheet)


def test_derived_values_and_eligibility():
    cfg = default_config()
    d = derive(birth_date=dt.date(1970, 6, 2), onset_date=dt.date(2018, 1, 1), xray_date=dt.date(2019, 6, 1),
               mri_date=dt.date(2019, 8, 30))
    assert d == Derived(age_years=48, duration_months=17.0, interval_days=90, xray_year=2019)
    assert check(d, cfg) == []
    late = derive(birth_date=dt.date(1970, 1, 1), onset_date=dt.date(2016, 1, 1), xray_date=dt.date(2024, 1, 2),
                  mri_date=dt.date(2024, 6, 1))
    assert set(check(late, cfg, xray_date=dt.date(2024, 1, 2))) == {
        Reason.IMAGING_OUTSIDE_WINDOW, Reason.ONSET_TO_IMAGING_TOO_LONG, Reason.INTERVAL_TOO_LONG}
    assert check(Derived(30, 24.0, 90, 2013), cfg) == []
    assert check(Derived(30, 24.1, 91, 2012), cfg) == [Reason.IMAGING_OUTSIDE_WINDOW, Reason.ONSET_TO_IMAGING_TOO_LONG,
                                                     Reason.INTERVAL_TOO_LONG]


def test_config_round_trip_and_validation(tmp_path, monkeypatch):
    cfg = default_config(n_sites=3)
    (tmp_path / "study.toml").write_text(cfg.to_toml(), encoding="utf-8")
    loaded = StudyConfig.load(tmp_path)
    assert loaded.site_codes == ("S01", "S02", "S03")
    assert loaded.max_interval_days == 90 and loaded.imaging_end == dt.date(2023, 12, 31)
    assert loaded.data_use_start == dt.date(2024, 6, 20) and loaded.enforce_period is False
    bad = cfg.to_toml().replace("max_xray_mri_interval_days = 90", 'max_xray_mri_interval_days = "ninety"')
    (tmp_path / "study.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="max_xray_mri_interval_days"):
        StudyConfig.load(tmp_path)
    monkeypatch.setenv("WRISTBME_STUDY", str(tmp_path))
    assert resolve_study_dir(None) == tmp_path
    monkeypatch.delenv("WRISTBME_STUDY")
    with pytest.raises(ConfigError, match="--study"):
        resolve_study_dir(None)


def _era(value: dt.date) -> tuple[str, str, int]:
    for start, kanji, letter in ((dt.date(2019, 5, 1), "令和", "R"), (dt.date(1989, 1, 8), "平成", "H"),
                                 (dt.date(1926, 12, 25), "昭和", "S")):
        if value >= start:
            return kanji, letter, value.year - start.year + 1
    raise ValueError(value)


@given(st.dates(min_value=dt.date(1927, 1, 1), max_value=dt.date(2035, 12, 31)))
def test_era_dates_round_trip(value):
    kanji, letter, year = _era(value)
    year_text = "元" if year == 1 else str(year)
    assert parse_date(f"{kanji}{year_text}年{value.month}月{value.day}日") == value
    assert parse_date(f"{letter}{year}.{value.month}.{value.day}") == value
    assert parse_date(value.strftime("%Y/%m/%d")) == value
