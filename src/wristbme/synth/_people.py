"""Invented Japanese names and the date styles of Japanese case sheets."""

from __future__ import annotations

import datetime as dt

FAMILY = (
    ("Yamada", "山田", "やまだ"), ("Sato", "佐藤", "さとう"), ("Suzuki", "鈴木", "すずき"),
    ("Takahashi", "高橋", "たかはし"), ("Tanaka", "田中", "たなか"), ("Ito", "伊藤", "いとう"),
    ("Watanabe", "渡辺", "わたなべ"), ("Nakamura", "中村", "なかむら"), ("Kobayashi", "小林", "こばやし"),
    ("Kato", "加藤", "かとう"), ("Yoshida", "吉田", "よしだ"), ("Yamamoto", "山本", "やまもと"),
    ("Sasaki", "佐々木", "ささき"), ("Matsumoto", "松本", "まつもと"), ("Inoue", "井上", "いのうえ"),
    ("Kimura", "木村", "きむら"), ("Hayashi", "林", "はやし"), ("Shimizu", "清水", "しみず"),
)
GIVEN_F = (
    ("Hanako", "花子", "はなこ"), ("Yuko", "裕子", "ゆうこ"), ("Keiko", "恵子", "けいこ"), ("Mika", "美香", "みか"),
    ("Naomi", "直美", "なおみ"), ("Akiko", "明子", "あきこ"), ("Tomoko", "智子", "ともこ"),
    ("Kazuko", "和子", "かずこ"), ("Sachiko", "幸子", "さちこ"), ("Emi", "恵美", "えみ"),
)
GIVEN_M = (
    ("Taro", "太郎", "たろう"), ("Kenichi", "健一", "けんいち"), ("Makoto", "誠", "まこと"),
    ("Hiroshi", "浩", "ひろし"), ("Shota", "翔太", "しょうた"), ("Takeshi", "武", "たけし"),
    ("Masao", "正夫", "まさお"), ("Kazuo", "和夫", "かずお"), ("Daisuke", "大輔", "だいすけ"),
)

ERAS = (  # (first day, kanji, initial)
    (dt.date(2019, 5, 1), "令和", "R"),
    (dt.date(1989, 1, 8), "平成", "H"),
    (dt.date(1926, 12, 25), "昭和", "S"),
    (dt.date(1912, 7, 30), "大正", "T"),
)


def japanese_era(d: dt.date) -> tuple[str, str, int]:
    """(kanji era, initial, year in era) of ``d``; the first year is 1 (元年)."""
    for start, kanji, initial in ERAS:
        if d >= start:
            return kanji, initial, d.year - start.year + 1
    raise ValueError(f"date {d} is before the Taisho era")


def format_date(d: dt.date, style: str) -> str:
    """``slash`` 2019/04/01, ``iso`` 2019-04-01, ``era`` 令和元年5月7日, ``era_short`` H30.1.15."""
    if style == "slash":
        return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"
    if style == "iso":
        return d.isoformat()
    kanji, initial, year = japanese_era(d)
    if style == "era":
        y = "元" if year == 1 else str(year)
        return f"{kanji}{y}年{d.month}月{d.day}日"
    if style == "era_short":
        return f"{initial}{year}.{d.month}.{d.day}"
    raise ValueError(f"unknown date style {style!r}")
