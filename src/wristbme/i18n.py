"""Japanese and English message catalogs.

Texts for people live in ``wristbme/locale/*.toml``, one file per domain (``core.toml``, ``imaging.toml``,
``synth.toml`` ...). Each table is a message key with an ``en`` and a ``ja`` string, formatted with
``str.format`` keywords::

    [inspect.done]
    en = "{n} files read, {bad} refused"
    ja = "{n} 件を読み込み、{bad} 件を除外しました"

``t(key, lang, **values)`` returns the text; a test checks that every key has both languages and the same
placeholders. Keys are unique across all files.
"""

from __future__ import annotations

import locale
import os
import string
import tomllib
from functools import cache
from importlib import resources

LANGS = ("en", "ja")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """All messages, ``{key: {"en": ..., "ja": ...}}``, merged from every locale file."""
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("wristbme") / "locale"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        for key, texts in _flatten(data):
            if key in merged:
                raise ValueError(f"locale/{entry.name}: message key {key!r} is defined twice")
            merged[key] = texts
    return merged


def _flatten(data: dict, prefix: str = ""):
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and set(value) & set(LANGS) and all(isinstance(v, str) for v in value.values()):
            yield key, value
        elif isinstance(value, dict):
            yield from _flatten(value, key + ".")


def default_lang() -> str:
    """``ja`` when the environment's locale is Japanese (WRISTBME_LANG, LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    for var in ("WRISTBME_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    loc = locale.getlocale()[0] or ""
    return "ja" if loc.lower().startswith("ja") else "en"


def normalize_lang(lang: str | None) -> str:
    """Accept ``ja``, ``en``, ``ja_JP.UTF-8`` ...; None means the environment's default."""
    if lang is None:
        return default_lang()
    code = lang.split("_")[0].split("-")[0].lower()
    if code not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; use one of {', '.join(LANGS)}")
    return code


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The message ``key`` in ``lang`` (default: environment), formatted with ``values``.

    An unknown key raises ``KeyError`` naming it: a missing text is a bug, caught by the catalog test.
    """
    texts = catalog()[key]
    return texts[normalize_lang(lang)].format(**values)


def join_list(items, lang: str | None = None, /) -> str:
    """Items of a list in running text: "a, b, c" in English, "a、b、c" (the Japanese enumeration comma) in
    Japanese."""
    return ("、" if normalize_lang(lang) == "ja" else ", ").join(str(i) for i in items)


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in ``text``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
