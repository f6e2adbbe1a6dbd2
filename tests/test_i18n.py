import pytest

from wristbme.i18n import catalog, normalize_lang, placeholders, t


def test_every_message_has_both_languages_with_the_same_placeholders():
    for key, texts in catalog().items():
        assert set(texts) == {"en", "ja"}, key
        assert texts["en"].strip() and texts["ja"].strip(), key
        assert placeholders(texts["en"]) == placeholders(texts["ja"]), key


def test_japanese_text_differs_from_english():
    assert t("cli.aborted", "ja") != t("cli.aborted", "en")


@pytest.mark.parametrize("given,expected", [("ja", "ja"), ("ja_JP.UTF-8", "ja"), ("en_US", "en"), ("EN", "en")])
def test_normalize_lang(given, expected):
    assert normalize_lang(given) == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="not supported"):
        normalize_lang("fr")
