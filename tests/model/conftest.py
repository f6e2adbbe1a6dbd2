"""Fixtures of the model tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from model_tables import fake_table  # noqa: E402


@pytest.fixture(scope="session")
def small_model():
    from wristbme.model.train import train

    return train(fake_table(seed=1), seed=1, validate=("cv",), outer_folds=3)
