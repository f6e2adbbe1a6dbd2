"""Finding radiograph files: format sniffing, folder and DICOMDIR walking (used by inspect, intake, synth)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

#: Extensions a folder walk considers (plus files without extension and any file with the DICM prefix).
IMAGE_SUFFIXES = frozenset({".dcm", ".dicom", ".dic", ".ima", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
#: Extensions a folder walk never yields (sidecars, notes, archives).
SKIPPED_SUFFIXES = frozenset({".json", ".txt", ".md", ".csv", ".xml", ".html", ".htm", ".pdf", ".xlsx", ".xls",
                              ".zip", ".exe", ".ini", ".inf", ".log", ".sha256", ".toml", ".py"})

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"%PDF", "PDF"),
)


def sniff_format(path: Path) -> str | None:
    """``"DICOM"`` (DICM prefix at 128), ``"PNG" | "JPEG" | "TIFF" | "BMP" | "PDF"`` by magic, else None.

    None means "maybe DICOM without preamble, maybe nothing": the DICOM reader decides.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return None
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "DICOM"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name == "BMP" and (len(head) < 26 or head[6:10] != b"\x00\x00\x00\x00"):
                continue  # "BM" then reserved bytes that must be zero; else it is something else
            return name
    return None


def is_dicomdir_name(path: Path) -> bool:
    return path.name.upper().startswith("DICOMDIR")


def dicomdir_files(path: Path) -> list[Path]:
    """The files a DICOMDIR references (existing or not), via ``pydicom.fileset.FileSet``.

    A DICOMDIR that cannot be parsed yields nothing here (its folder is walked anyway).
    """
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    from wristbme.imaging.dicom import quiet_pydicom

    try:
        with quiet_pydicom():
            fs = FileSet(dcmread(path))
            found = [Path(inst.path) for inst in fs]
    except Exception as exc:  # noqa: BLE001 - a broken DICOMDIR must not stop the walk
        logger.warning("%s: DICOMDIR could not be read (%s); its folder is walked instead", path, type(exc).__name__)
        return []
    return found


def _walk_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith(".") or path.suffix.lower() in SKIPPED_SUFFIXES:
        return False
    if path.suffix.lower() in IMAGE_SUFFIXES or path.suffix == "" or name.isdigit():
        return True
    return sniff_format(path) == "DICOM"


def iter_radiograph_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every radiograph candidate under ``paths``, each once, in a stable order.

    A file named on its own is always yielded (so its error can be reported), except a DICOMDIR, which is
    replaced by the files it references. A folder is walked recursively: DICOMDIRs in it contribute the files
    they reference (a referenced file that is missing is still yielded, so the caller reports it), and
    other files are yielded when their extension is an image one, they have no extension, or they carry the
    DICOM prefix. Sidecar ``.json`` files, text files and hidden files are skipped.
    """
    seen: set[Path] = set()

    def emit(candidate: Path) -> Iterator[Path]:
        key = candidate.resolve() if candidate.exists() else candidate.absolute()
        if key not in seen:
            seen.add(key)
            yield candidate

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            for dicomdir in (p for p in files if is_dicomdir_name(p)):
                for referenced in dicomdir_files(dicomdir):
                    yield from emit(referenced)
            for p in files:
                if not is_dicomdir_name(p) and _walk_candidate(p):
                    yield from emit(p)
        elif path.is_file() and is_dicomdir_name(path):
            listed = dicomdir_files(path)
            if listed:
                for p in listed:
                    yield from emit(p)
            else:
                yield from emit(path)
        else:
            yield from emit(path)  # a missing path too: the reader names it
