"""The core never imports the study, web, CLI or report layers (DESIGN.md: imports point down only)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "wristbme"
CORE = ("imaging", "anatomy", "features", "model", "stats", "synth")
UPPER = ("wristbme.study", "wristbme.deid", "wristbme.web", "wristbme.cli", "wristbme.report",
         "wristbme.pipeline")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", CORE)
def test_core_does_not_import_upper_layers(package):
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.startswith(UPPER):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_only_imaging_reads_with_pydicom_in_core():
    offenders = []
    for package in ("anatomy", "features", "model", "stats"):
        for path in sorted((SRC / package).rglob("*.py")):
            if any(n.split(".")[0] == "pydicom" for n in imported_modules(path)):
                offenders.append(str(path.relative_to(SRC)))
    assert not offenders, offenders
