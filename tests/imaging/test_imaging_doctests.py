"""The Examples in the imaging docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["wristbme.imaging._header", "wristbme.imaging._processing", "wristbme.imaging.canonical",
           "wristbme.imaging.reader"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
