"""``read_radiograph``: one entry point for DICOM and plain images."""

from __future__ import annotations

from pathlib import Path

from wristbme.errors import ConfigError, InputError, NotAnImageError
from wristbme.imaging._header import normalize_spacing_mm
from wristbme.imaging.dicom import read_dicom
from wristbme.imaging.files import sniff_format
from wristbme.imaging.plain import PLAIN_FORMATS, read_plain
from wristbme.imaging.radiograph import Radiograph


def read_radiograph(path: str | Path, *, spacing_mm: float | tuple[float, float] | None = None,
                    frame: int | None = None) -> Radiograph:
    """Read one radiograph (DICOM, PNG, JPEG, TIFF or BMP) into a bone-bright ``Radiograph``.

    Parameters
    ----------
    path : str or Path
        A DICOM file (with or without preamble and file meta) or a PNG/JPEG/TIFF/BMP file.
    spacing_mm : float or (float, float), optional
        Pixel spacing in mm (row, col; one number for square pixels) used **only when the file states none**
        (DICOM spacing attributes, or the plain image's sidecar JSON). Provenance becomes ``"user"``.
    frame : int, optional
        0-based frame of a multi-frame file; required when the file has more than one.

    Returns
    -------
    Radiograph
        ``pixels`` float32 (rows, cols), bone bright, Modality LUT applied, VOI not applied;
        ``spacing_mm`` with ``spacing_source``; ``laterality``; ``view``; non-identifying ``source`` facts;
        ``qc_flags`` for recoverable problems.

    Raises
    ------
    InputError
        The file is missing, is a folder, is in no format read here, or its sidecar JSON is invalid;
        ``frame`` is out of range.
    NotAnImageError
        DICOM without a radiograph: SR, PDF, presentation state, DICOMDIR, no pixel data; a plain PDF.
    UnsupportedImageError
        True colour, multi-frame without ``frame``, float pixels, a transfer syntax no Python package decodes.
    CorruptImageError
        Truncated or undecodable pixel data; a header declaring an absurd size (refused before allocating).
    DecoderMissingError
        The transfer syntax needs a decoder that is not installed (the message names the package).
    ConfigError
        ``spacing_mm`` or ``frame`` is not valid.

    Notes
    -----
    DICOM steps run in the standard's order: decode → Modality LUT (rescale or LUT sequence) → VOI kept as
    metadata → inversion for MONOCHROME1 / Presentation LUT Shape INVERSE. See ``docs/imaging.md``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.full((4, 5), 200, np.uint8)).save(folder / "hand.png")
    >>> r = read_radiograph(folder / "hand.png", spacing_mm=0.16)
    >>> r.shape, r.spacing_mm, r.spacing_source.value
    ((4, 5), (0.16, 0.16), 'user')
    """
    path = Path(path)
    spacing = normalize_spacing_mm(spacing_mm, name="spacing_mm")
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int) or frame < 0):
        raise ConfigError.localized("imaging.bad_frame", path=path, value=repr(frame))
    if not path.exists():
        raise InputError.localized("imaging.not_found", path=path)
    if path.is_dir():
        raise InputError.localized("imaging.is_folder", path=path)
    fmt = sniff_format(path)
    if fmt in PLAIN_FORMATS:
        return read_plain(path, fmt, spacing_mm=spacing, frame=frame)  # type: ignore[arg-type]
    if fmt == "PDF":
        raise NotAnImageError.localized("imaging.not_an_image", path=path, kind="PDF document")
    return read_dicom(path, spacing_mm=spacing, frame=frame)
