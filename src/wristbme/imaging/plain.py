"""PNG, JPEG, TIFF and BMP radiographs (Pillow, tifffile), with spacing from an argument or a sidecar JSON.

A plain image is taken as displayed: bright is bright (bone bright), except a TIFF that says
``MINISWHITE``, which is inverted about its bit depth's range like a DICOM MONOCHROME1.

Sidecar: ``<file>.json`` (e.g. ``hand.png.json``), or ``<stem>.json``, holding ``{"spacing_mm": 0.16}`` or
``{"spacing_mm": [0.16, 0.16]}`` (row, col) and optionally ``"laterality": "R" | "L"`` and ``"view"``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from wristbme.errors import CorruptImageError, InputError, UnsupportedImageError
from wristbme.imaging import _processing
from wristbme.imaging._header import normalize_spacing_mm, view_from_text
from wristbme.imaging._limits import MAX_FRAME_PIXELS
from wristbme.imaging.radiograph import Laterality, Radiograph, SourceInfo, SpacingSource, View

PLAIN_FORMATS = ("PNG", "JPEG", "TIFF", "BMP")


def sidecar_path(path: Path) -> Path | None:
    """The sidecar JSON of ``path`` when one exists (``<file>.json`` first, then ``<stem>.json``)."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file() and candidate != path:
            return candidate
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar's facts: ``spacing_mm`` (normalised), ``laterality``, ``view``; {} when there is none.

    Raises
    ------
    InputError
        The sidecar is not a JSON object or holds an invalid value (the message names the sidecar).
    """
    side = sidecar_path(path)
    if side is None:
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError.localized("imaging.bad_sidecar", path=side, reason=type(exc).__name__) from None
    if not isinstance(data, dict):
        raise InputError.localized("imaging.bad_sidecar", path=side, reason="not a JSON object")
    facts: dict[str, Any] = {}
    if data.get("spacing_mm") is not None:
        facts["spacing_mm"] = normalize_spacing_mm(data["spacing_mm"], name="spacing_mm", path=side, from_file=True)
    if data.get("laterality") is not None:
        facts["laterality"] = Laterality.parse(data["laterality"])
    if data.get("view") is not None:
        facts["view"] = view_from_text(str(data["view"]))
    return facts


def _check_size(rows: int, cols: int, path: Path) -> None:
    if rows * cols > MAX_FRAME_PIXELS or rows <= 0 or cols <= 0:
        raise CorruptImageError.localized("imaging.absurd_size", path=path, rows=rows, cols=cols, frames=1,
                                          limit_px=MAX_FRAME_PIXELS, limit_frames=1, limit_gib=2.0)


def arr_bits(page: object) -> int:
    """Bits per sample of a TIFF page from its dtype (when the page does not say)."""
    dtype = getattr(page, "dtype", None)
    return int(dtype.itemsize * 8) if dtype is not None else 16


def _read_tiff(path: Path, frame: int | None) -> tuple[np.ndarray, bool, int]:
    """(array, min-is-white, bits per sample) of one TIFF page."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            pages = tif.pages
            if len(pages) > 1 and frame is None:
                raise UnsupportedImageError.localized("imaging.multiframe", path=path, frames=len(pages))
            index = frame or 0
            if not 0 <= index < len(pages):
                raise InputError.localized("imaging.frame_out_of_range", path=path, frame=index, frames=len(pages))
            page = pages[index]
            shape = page.shape
            _check_size(int(shape[0]), int(shape[1]) if len(shape) > 1 else 1, path)
            min_is_white = int(getattr(page, "photometric", 1)) == 0  # PHOTOMETRIC.MINISWHITE
            bits = int(getattr(page, "bitspersample", arr_bits(page)))
            arr = page.asarray()
    except (UnsupportedImageError, InputError, CorruptImageError):
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile raises many kinds on broken files
        raise CorruptImageError.localized("imaging.plain_unreadable", path=path, reason=type(exc).__name__) from None
    return arr, min_is_white, bits


def _read_pillow(path: Path, frame: int | None) -> tuple[np.ndarray, str, list[str]]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    flags: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except UnidentifiedImageError:
        raise InputError.localized("imaging.unknown_format", path=path) from None
    except Exception as exc:  # noqa: BLE001 - truncated headers raise OSError, bombs their own classes
        raise CorruptImageError.localized("imaging.plain_unreadable", path=path, reason=type(exc).__name__) from None
    with img:
        cols, rows = img.size
        _check_size(rows, cols, path)
        n_frames = getattr(img, "n_frames", 1)
        if n_frames > 1 and frame is None:
            raise UnsupportedImageError.localized("imaging.multiframe", path=path, frames=n_frames)
        image: Image.Image = img
        try:
            if frame:
                img.seek(frame)
            img.load()
            if img.getexif().get(0x0112, 1) not in (1, None):  # EXIF Orientation other than "as stored"
                image = ImageOps.exif_transpose(img)
                flags.append("exif_orientation_applied")
        except EOFError:
            raise InputError.localized("imaging.frame_out_of_range", path=path, frame=frame, frames=n_frames) from None
        except Exception as exc:  # noqa: BLE001 - the decoder boundary
            raise CorruptImageError.localized("imaging.plain_unreadable", path=path,
                                              reason=f"{type(exc).__name__}: {str(exc)[:120]}") from None
        mode = image.mode
        if mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
            image = image.convert("RGBA" if "A" in mode or mode == "P" else "RGB")
        elif mode == "1":
            image = image.convert("L")
        arr = np.asarray(image)
        return arr, mode, flags


def read_plain(path: str | Path, fmt: str, *, spacing_mm: tuple[float, float] | None = None,
               frame: int | None = None) -> Radiograph:
    """Read a PNG/JPEG/TIFF/BMP radiograph; see ``read_radiograph`` for the contract.

    Raises
    ------
    UnsupportedImageError
        True colour (channels differ) or a multi-page file without ``frame``.
    CorruptImageError
        The file cannot be decoded or declares an absurd size.
    InputError
        A bad sidecar or an unreadable file.
    """
    path = Path(path)
    facts = read_sidecar(path)
    flags: list[str] = []
    min_is_white = False
    if fmt == "TIFF":
        arr, min_is_white, bits = _read_tiff(path, frame)
    else:
        arr, _mode, flags = _read_pillow(path, frame)
        bits = arr.dtype.itemsize * 8 if arr.dtype.kind in "ui" else 32
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha
        if arr[..., 1].min() != arr[..., 1].max():
            raise UnsupportedImageError.localized("imaging.true_colour", path=path, photometric="grey+alpha")
        arr = arr[..., 0]
    if arr.ndim == 3:
        grey = _processing.grey_from_colour(arr, tolerance=2 if fmt == "JPEG" else 0)
        if grey is None:
            raise UnsupportedImageError.localized("imaging.true_colour", path=path, photometric=f"{fmt} colour")
        arr = grey
        flags.append("colour_encoded_grey")
    if arr.ndim != 2:
        raise UnsupportedImageError.localized("imaging.not_2d", path=path, shape=str(arr.shape))
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    pixels = arr.astype(np.float32)
    pivot = None
    if min_is_white:
        lo, hi = ((0, (1 << bits) - 1) if arr.dtype.kind == "u" else (float(arr.min()), float(arr.max())))
        pivot = _processing.invert_in_place(pixels, (lo, hi))

    spacing, source = facts.get("spacing_mm"), SpacingSource.USER
    if spacing is None:
        spacing = spacing_mm
    elif spacing_mm is not None and not np.allclose(spacing, spacing_mm):
        flags.append("spacing_argument_ignored")
    if spacing is None:
        source = SpacingSource.UNCALIBRATED
        flags.append("uncalibrated")
    lossy = fmt == "JPEG"
    if lossy:
        flags.append("lossy")
    info = SourceInfo(format=fmt, photometric="MONOCHROME1" if min_is_white else "MONOCHROME2",
                      bits_stored=bits if arr.dtype.kind in "ui" else None, lossy=lossy, inverted=min_is_white,
                      inversion_pivot=pivot)
    return Radiograph(pixels=pixels, spacing_mm=spacing, spacing_source=source,
                      laterality=facts.get("laterality", Laterality.UNKNOWN), view=facts.get("view", View.UNKNOWN),
                      source=info, qc_flags=tuple(dict.fromkeys(flags)))
