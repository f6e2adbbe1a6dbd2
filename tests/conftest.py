"""Shared fixtures: the ``../shared`` folder (skipped cleanly when absent) and per-test temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_path() -> Path | None:
    """``$WRISTBME_SHARED`` or ``../shared`` beside the repository, when present."""
    candidate = Path(os.environ.get("WRISTBME_SHARED", REPO_ROOT.parent / "shared"))
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = shared_path()
    if path is None:
        pytest.skip("../shared is not present beside the repository (set WRISTBME_SHARED to use it)")
    return path
