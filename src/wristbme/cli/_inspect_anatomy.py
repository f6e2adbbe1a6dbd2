"""``wristbme inspect --anatomy --overlay OUT.png``: locate the wrist in each record's radiograph.

Called by ``inspect_cmd`` after its records are built; adds ``record["anatomy"]`` (``anatomy_record``:
landmarks and regions in original pixels and mm, areas, confidences, QC flags) and writes overlays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wristbme.errors import WristBmeError


def overlay_path(out: Path, index: int, n: int, source: Path) -> Path:
    """``out`` for one file; ``<out stem>_<nnn>_<source stem><suffix>`` beside it for several."""
    if n == 1:
        return out
    return out.with_name(f"{out.stem}_{index:03d}_{source.stem}{out.suffix or '.png'}")


def add_anatomy(records: list[dict[str, Any]], *, spacing_mm: float | None, frame: int | None,
                overlay: Path | None, lang: str, debug: bool = False) -> list[str]:
    """Locate the anatomy of every readable record (in place); returns one summary line per record."""
    from wristbme.anatomy import anatomy_record, locate
    from wristbme.anatomy.overlay import save_overlay
    from wristbme.i18n import t
    from wristbme.imaging import read_radiograph

    lines = []
    ok = [r for r in records if r.get("ok")]
    for i, record in enumerate(ok):
        path = Path(record["path"])
        try:
            rg = read_radiograph(path, spacing_mm=spacing_mm, frame=frame)
            anatomy = locate(rg)
        except WristBmeError as exc:
            record["anatomy"] = None
            record["anatomy_error"] = exc.render(lang)
            lines.append(f"{path}: {exc.render(lang)}")
            continue
        except Exception as exc:  # noqa: BLE001 - one file's bug must not hide the others
            if debug:
                raise
            record["anatomy"] = None
            record["anatomy_error"] = t("cli.internal_error", lang, kind=type(exc).__name__)
            lines.append(f"{path}: {record['anatomy_error']}")
            continue
        record["anatomy"] = anatomy_record(anatomy)
        flags = ", ".join(t(f"anatomy.qc.{f}", lang) for f in anatomy.qc_flags) or "-"
        lines.append(t("anatomy.cli.summary", lang, path=path.name, confidence=f"{anatomy.confidence:.2f}",
                       flags=flags))
        if overlay is not None:
            out = overlay_path(overlay, i, len(ok), path)
            out.parent.mkdir(parents=True, exist_ok=True)
            save_overlay(rg, anatomy, out, lang=lang)
            record["overlay"] = str(out)
            lines.append(t("anatomy.cli.overlay_saved", lang, path=str(out)))
    return lines
