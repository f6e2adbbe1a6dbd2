"""``wristbme inspect FILE_OR_FOLDER...``: read every radiograph found and report one record per file.

Exit code: 0 when every file was read, 1 when at least one was refused (all records are still printed),
3 when no file was found at all. Extension point: ``inspect_record(path, radiograph, error=...)`` builds
one record; other stages add fields by wrapping it (e.g. ``--anatomy``) without changing the walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from pydicom.uid import UID

from wristbme.cli.context import emit, info, state, stderr_console
from wristbme.errors import InputError, WristBmeError
from wristbme.imaging import Radiograph, iter_radiograph_files, read_radiograph
from wristbme.imaging._header import normalize_spacing_mm

RECORD_FIELDS = ("path", "ok", "error", "message", "rows", "cols", "spacing_mm", "spacing_source", "photometric",
                 "transfer_syntax", "modality", "body_part", "view", "laterality", "format", "qc_flags")
TABLE_FIELDS = ("path", "ok", "size", "spacing_mm", "spacing_source", "photometric", "transfer_syntax", "modality",
                "view", "laterality", "error")


def inspect_record(path: str | Path, radiograph: Radiograph | None, *, error: WristBmeError | None = None,
                   header: dict[str, Any] | None = None, lang: str = "en") -> dict[str, Any]:
    """One inspect record: the facts of ``radiograph``, or the ``error`` (and any ``header`` facts) on failure.

    Keys: ``path, ok, error, message, rows, cols, spacing_mm, spacing_source, photometric, transfer_syntax,
    modality, body_part, view, laterality, format, qc_flags``. ``error`` is the exception class name
    (e.g. ``"CorruptImageError"``), ``message`` its one-line text in ``lang``. Nothing identifying.
    """
    record: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    record.update(path=str(path), ok=radiograph is not None and error is None, qc_flags=[])
    if header:
        record.update({k: v for k, v in header.items() if k in record})
    if error is not None:
        record["error"] = type(error).__name__
        record["message"] = error.render(lang)
    if radiograph is not None:
        src = radiograph.source
        rows, cols = radiograph.shape
        record.update(
            rows=rows, cols=cols,
            spacing_mm=list(radiograph.spacing_mm) if radiograph.spacing_mm else None,
            spacing_source=radiograph.spacing_source.value, photometric=src.photometric,
            transfer_syntax=src.transfer_syntax, modality=src.modality, body_part=src.body_part,
            view=radiograph.view.value, laterality=radiograph.laterality.value, format=src.format,
            qc_flags=list(radiograph.qc_flags),
        )
    if isinstance(record.get("spacing_mm"), tuple):
        record["spacing_mm"] = list(record["spacing_mm"])
    return record


def _header_facts(path: Path) -> dict[str, Any] | None:
    """Header facts of a DICOM file whose pixels could not be used (None when the header is unreadable)."""
    from wristbme.imaging import read_dicom_header_summary, sniff_format

    if sniff_format(path) not in ("DICOM", None) or not path.is_file():
        return None
    try:
        facts = read_dicom_header_summary(path)
    except WristBmeError:
        return None
    facts["format"] = "DICOM"
    return facts


def inspect_paths(paths: list[Path], *, spacing_mm: float | None = None, frame: int | None = None,
                  lang: str = "en", progress: bool = False, debug: bool = False) -> list[dict[str, Any]]:
    """Read every file found under ``paths`` and return one record each; never stops at a bad file.

    An unexpected exception (a bug) for one file becomes a record with ``error="InternalError"`` so the
    other files are still reported; with ``debug`` it is raised instead.
    """
    files = list(iter_radiograph_files(paths))
    records: list[dict[str, Any]] = []
    if progress and len(files) > 1:
        from rich.progress import Progress

        from wristbme.i18n import t

        with Progress(console=stderr_console(), transient=True) as bar:
            task = bar.add_task(t("inspect.reading", lang), total=len(files))
            for path in files:
                records.append(_one(path, spacing_mm, frame, lang, debug))
                bar.advance(task)
    else:
        records = [_one(path, spacing_mm, frame, lang, debug) for path in files]
    return records


def _one(path: Path, spacing_mm: float | None, frame: int | None, lang: str, debug: bool) -> dict[str, Any]:
    try:
        radiograph = read_radiograph(path, spacing_mm=spacing_mm, frame=frame)
    except WristBmeError as exc:
        return inspect_record(path, None, error=exc, header=_header_facts(path), lang=lang)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not hide the other files' records
        if debug:
            raise
        from wristbme.i18n import t

        record = inspect_record(path, None, lang=lang)
        record.update(error="InternalError", message=f"{path}: {t('cli.internal_error', lang, kind=type(exc).__name__)}")
        return record
    return inspect_record(path, radiograph, lang=lang)


def _cell(record: dict[str, Any], field: str) -> Any:
    value = record.get(field)
    if field == "size":
        return f"{record['rows']}x{record['cols']}" if record.get("rows") and record.get("cols") else None
    if field == "spacing_mm" and value:
        return "x".join(f"{v:.4g}" for v in value)
    if field == "transfer_syntax" and value:
        return UID(value).keyword or value
    if field == "photometric" and value:
        return value.replace("MONOCHROME", "MONO")
    if field == "ok":
        return "ok" if value else "NO"
    return value


def _short_paths(paths: list[str]) -> list[str]:
    """Paths relative to their common folder, for the table (JSON keeps them as given)."""
    import os

    try:
        common = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
        return [os.path.relpath(os.path.abspath(p), common) for p in paths]
    except ValueError:
        return paths


def _print_table(records: list[dict[str, Any]], title: str) -> None:
    """A Rich table on stdout; wide enough not to truncate when stdout is not a terminal."""
    import sys

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for field in TABLE_FIELDS:
        table.add_column(field, no_wrap=field != "path", overflow="fold")
    shown = _short_paths([r["path"] for r in records])
    for i, record in enumerate(records):
        cells = [shown[i]] + [_cell(record, f) for f in TABLE_FIELDS[1:]]
        table.add_row(*("" if v is None else str(v) for v in cells))
    Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200).print(table)


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect(
        ctx: typer.Context,
        paths: list[Path] = typer.Argument(..., help="Files, folders or DICOMDIRs. / ファイル・フォルダ・DICOMDIR"),
        spacing: float = typer.Option(None, "--spacing", help="Pixel spacing in mm for files that state "
                                      "none. / 画素間隔 (mm、ファイルに記載がない場合に使用)"),
        frame: int = typer.Option(None, "--frame", min=0, help="0-based frame of multi-frame files. / フレーム番号"),
        anatomy: bool = typer.Option(False, "--anatomy", help="Also locate the wrist bones (landmarks, regions, "
                                     "QC) into each record. / 手関節の骨の位置も同定"),
        overlay: Path = typer.Option(None, "--overlay", help="Write the anatomy overlay PNG here (implies "
                                     "--anatomy). / 解剖オーバーレイPNGの出力先"),
    ) -> None:
        """Read radiographs and list what was found (one record per file; never stops at a bad file).
        / X線画像を読み込み、ファイルごとに結果を表示します"""
        st = state(ctx)
        normalize_spacing_mm(spacing, name="--spacing")  # one clear error up front, not one per file
        records = inspect_paths(list(paths), spacing_mm=spacing, frame=frame, lang=st.lang, progress=not st.json,
                                debug=st.debug)
        if not records:
            raise InputError.localized("inspect.no_files", path=", ".join(str(p) for p in paths))
        anatomy_lines = []
        if anatomy or overlay is not None:  # added by the anatomy engineer (issue 4)
            from wristbme.cli._inspect_anatomy import add_anatomy

            anatomy_lines = add_anatomy(records, spacing_mm=spacing, frame=frame, overlay=overlay, lang=st.lang,
                                        debug=st.debug)
        if st.json:
            emit(ctx, records)
        else:
            _print_table(records, st.t("inspect.title"))
        bad = sum(1 for r in records if not r["ok"])
        if not st.json:
            from rich.markup import escape

            console = stderr_console()
            for r in records:
                if not r["ok"]:
                    console.print(f"[red]{escape(r['error'])}[/] {escape(r['message'] or '')}", highlight=False)
        for line in anatomy_lines:
            stderr_console().print(line, highlight=False, markup=False)
        info(ctx, "inspect.done", n=len(records), ok=len(records) - bad, bad=bad)
        if bad:
            raise typer.Exit(1)
