"""Global CLI options and output: ``--json`` (machine-readable stdout), ``--lang ja|en``, ``--debug``.

Commands call ``state(ctx)`` for the options and ``emit(ctx, data, table=...)`` to print either JSON or a
Rich table. Progress and messages for people go to stderr, so ``--json`` stdout stays parseable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from wristbme.i18n import t


@dataclass
class CliState:
    json: bool = False
    lang: str = "en"
    debug: bool = False

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)


def state(ctx: typer.Context) -> CliState:
    """The global options of this invocation (defaults when a command is called on its own)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        from wristbme.i18n import default_lang

        root.obj = CliState(lang=default_lang())
    return root.obj


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, enums, paths and NumPy values to plain JSON types."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def emit(ctx: typer.Context, data: Any, *, columns: Sequence[str] | None = None,
         rows: Iterable[Sequence[Any]] | None = None, title: str | None = None) -> None:
    """Print ``data`` as JSON with ``--json``; otherwise a table of ``rows`` under ``columns`` (or ``data``)."""
    if state(ctx).json:
        print_json(data)
        return
    console = Console(soft_wrap=True)
    if columns is not None and rows is not None:
        table = Table(title=title)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)
    elif isinstance(data, str):
        console.print(data)
    else:
        console.print_json(json.dumps(to_jsonable(data), ensure_ascii=False))


def info(ctx: typer.Context, key: str, **values: object) -> None:
    """A message for people, in the chosen language, on stderr."""
    stderr_console().print(state(ctx).t(key, **values))
