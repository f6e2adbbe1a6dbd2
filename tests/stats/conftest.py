"""Reference data for the statistics tests: published values copied into tests/data/stats (with sources)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "stats"


@cache
def reference(name: str) -> dict:
    """The published-reference file ``tests/data/stats/<name>.json``."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def half_unit(expected: dict) -> float:
    """Half a unit in the last printed digit of a published value (plus float slack)."""
    return 0.5 * 10.0 ** (-expected["printed_decimals"]) + 1e-12


@pytest.fixture
def ref():
    return reference
