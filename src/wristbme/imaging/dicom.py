"""DICOM → ``Radiograph``. The only module of wristbme's core that reads DICOM.

The pydicom Dataset stays here: this module extracts plain parameters from the header and hands arrays to
the pure steps of ``_processing`` in the standard's order (see ``read_dicom``'s Notes).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from wristbme.errors import (
    CorruptImageError,
    DecoderMissingError,
    InputError,
    NotAnImageError,
    UnsupportedImageError,
    WristBmeError,
)
from wristbme.imaging import _decoders, _processing
from wristbme.imaging._header import laterality_from_text, view_from_text
from wristbme.imaging._limits import MAX_DECLARED_BYTES, MAX_FRAME_PIXELS, MAX_FRAMES
from wristbme.imaging.radiograph import Laterality, Radiograph, SourceInfo, SpacingSource, View

#: SOP Class UID prefixes of objects that never hold a radiograph, with the name used in messages.
NON_IMAGE_SOP_CLASSES: tuple[tuple[str, str], ...] = (
    ("1.2.840.10008.5.1.4.1.1.88.", "Structured Report"),
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF"),
    ("1.2.840.10008.5.1.4.1.1.104.", "Encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.11.", "Presentation State"),
    ("1.2.840.10008.5.1.4.1.1.9.", "Waveform"),
    ("1.2.840.10008.5.1.4.1.1.66", "Raw Data / Registration / Segmentation support object"),
    ("1.2.840.10008.5.1.4.1.1.481.", "Radiotherapy object"),
    ("1.2.840.10008.1.3.10", "DICOMDIR (Media Storage Directory)"),
    ("1.2.840.10008.5.1.4.1.1.91.", "Content Assessment Results"),
)

#: Transfer syntaxes whose pixel data are lossy by definition (DCT JPEG).
LOSSY_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"})
#: Transfer syntaxes that allow lossy coding: lossy unless Lossy Image Compression (0028,2110) says "00".
MAYBE_LOSSY_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"})

_DESCRIPTION_KEYWORDS = ("SeriesDescription", "StudyDescription", "ProtocolName", "PerformedProcedureStepDescription",
                         "AcquisitionDeviceProcessingDescription", "ImageComments")


@dataclass(frozen=True)
class PixelHeader:
    """The Image Pixel module (PS3.3 C.7.6.3) as plain numbers, validated."""

    rows: int
    cols: int
    samples_per_pixel: int
    frames: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str
    transfer_syntax: str

    @property
    def declared_bytes(self) -> int:
        bits = self.rows * self.cols * self.samples_per_pixel * self.frames * self.bits_allocated
        return (bits + 7) // 8


# --------------------------------------------------------------------------------------------- loading
@contextlib.contextmanager
def quiet_pydicom() -> Iterator[list[warnings.WarningMessage]]:
    """Silence pydicom's log records and warnings (they can quote header values); yield the warnings caught.

    A refusal is reported once, by our error; recoverable oddities become QC flags.
    """
    log = logging.getLogger("pydicom")
    level, propagate = log.level, log.propagate
    log.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        log.setLevel(level)
        log.propagate = propagate


def load_dataset(path: Path, *, stop_before_pixels: bool = False) -> tuple[Dataset, list[str]]:
    """Parse ``path`` as DICOM, also without preamble or file meta; return the dataset and QC flags.

    Raises
    ------
    InputError
        The file is not DICOM (nor a format this package reads).
    CorruptImageError
        The file starts like DICOM but its header cannot be parsed.
    """
    flags: list[str] = []
    ds: Dataset
    with quiet_pydicom() as caught:
        try:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
            except InvalidDicomError:
                ds = _read_without_meta(path, flags, stop_before_pixels)
            # pydicom converts element values lazily; convert them all now so that a damaged value is
            # reported here, as an unreadable header, and not later as an arbitrary exception.
            ds.walk(lambda _ds, _elem: None)
        except WristBmeError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the parser raises, the header is unreadable
            raise CorruptImageError.localized("imaging.header_unreadable", path=path,
                                              reason=_reason(exc)) from None
    if caught:
        flags.append("header_warnings")
    _ensure_transfer_syntax(ds, flags)
    return ds, flags


def _read_without_meta(path: Path, flags: list[str], stop_before_pixels: bool) -> Dataset:
    """A file with no 128-byte preamble/DICM prefix: parse it raw (implicit or explicit VR guessed)."""
    data = path.read_bytes()
    # Some exporters leave a few stray bytes before the first element; try to resynchronise on group 0008.
    for offset in range(0, 8):
        if offset and data[offset:offset + 2] not in (b"\x02\x00", b"\x08\x00"):
            continue
        try:
            ds = pydicom.dcmread(io.BytesIO(data[offset:]), force=True, stop_before_pixels=stop_before_pixels)
            if _looks_like_dicom(ds):
                flags.append("no_file_meta")
                if offset:
                    flags.append("leading_bytes_skipped")
                return ds
        except Exception:  # noqa: BLE001 - any parse failure means "not at this offset"
            continue
    raise InputError.localized("imaging.unknown_format", path=path)


def _looks_like_dicom(ds: Dataset) -> bool:
    try:
        groups = {tag.group for tag in ds.keys()}
    except Exception:  # noqa: BLE001
        return False
    known = {"SOPClassUID", "Modality", "Rows", "Columns", "PixelData", "StudyInstanceUID", "SpecificCharacterSet"}
    return bool(groups & {0x0008, 0x0018, 0x0020, 0x0028}) and any(k in ds for k in known)


def _ensure_transfer_syntax(ds: Dataset, flags: list[str]) -> None:
    """Fill a missing (0002,0010) from how the dataset was actually encoded (native syntaxes only)."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = pydicom.dataset.FileMetaDataset()
    if meta.get("TransferSyntaxUID"):
        return
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit is None:
        implicit, little = ds.is_implicit_VR, ds.is_little_endian
    if little is False:
        meta.TransferSyntaxUID = ExplicitVRBigEndian
    else:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    flags.append("transfer_syntax_inferred")


def _reason(exc: BaseException, limit: int = 300) -> str:
    """Exception type and its message on one line (pydicom lists one reason per backend on its own line)."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------------------------- header checks
def _text(ds: Dataset, keyword: str) -> str:
    """An element as text ('' when absent or undecodable, e.g. a broken character set)."""
    try:
        value = ds.get(keyword)
    except Exception:  # noqa: BLE001
        return ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


def _int(ds: Dataset, keyword: str, path: Path, default: int | None = None) -> int:
    value = ds.get(keyword, default)
    if value is None or value == "":
        if default is not None:
            return default
        raise NotAnImageError.localized("imaging.missing_attribute", path=path, keyword=keyword)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CorruptImageError.localized("imaging.bad_attribute", path=path, keyword=keyword,
                                          value=repr(value)[:40]) from None


def check_is_image(ds: Dataset, path: Path) -> None:
    """Refuse objects that are not images (SR, PDF, presentation states, DICOMDIR, no pixel data).

    Raises
    ------
    NotAnImageError
        Names the kind of object found.
    UnsupportedImageError
        Float or double-float pixel data (parametric maps), which no radiograph uses.
    """
    sop = _text(ds, "SOPClassUID") or _text(ds.file_meta, "MediaStorageSOPClassUID")
    for prefix, kind in NON_IMAGE_SOP_CLASSES:
        if sop.startswith(prefix):
            raise NotAnImageError.localized("imaging.not_an_image", path=path, kind=kind)
    if "DirectoryRecordSequence" in ds:
        raise NotAnImageError.localized("imaging.not_an_image", path=path, kind="DICOMDIR (Media Storage Directory)")
    if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        raise UnsupportedImageError.localized("imaging.float_pixels", path=path)
    if "PixelData" not in ds:
        raise NotAnImageError.localized("imaging.no_pixel_data", path=path)


def pixel_header(ds: Dataset, path: Path) -> PixelHeader:
    """Validate the Image Pixel module and the declared size, before any pixel buffer is allocated.

    Raises
    ------
    NotAnImageError
        Rows or Columns missing.
    CorruptImageError
        A value is not a number, zero, inconsistent, or declares an absurd size (see ``_limits``).
    """
    rows = _int(ds, "Rows", path)
    cols = _int(ds, "Columns", path)
    spp = _int(ds, "SamplesPerPixel", path, 1)
    frames = _int(ds, "NumberOfFrames", path, 1)
    bits_allocated = _int(ds, "BitsAllocated", path)
    bits_stored = _int(ds, "BitsStored", path, bits_allocated)
    signed = _int(ds, "PixelRepresentation", path, 0) == 1
    photometric = _text(ds, "PhotometricInterpretation").strip().upper() or "MONOCHROME2"
    tsyntax = str(ds.file_meta.get("TransferSyntaxUID", ImplicitVRLittleEndian))
    if rows <= 0 or cols <= 0 or frames <= 0 or spp <= 0:
        raise CorruptImageError.localized("imaging.bad_size", path=path, rows=rows, cols=cols, frames=frames)
    if bits_allocated not in (1, 8, 16, 32, 64) or not 1 <= bits_stored <= bits_allocated:
        raise CorruptImageError.localized("imaging.bad_bits", path=path, allocated=bits_allocated, stored=bits_stored)
    header = PixelHeader(rows, cols, spp, frames, bits_allocated, bits_stored, signed, photometric, tsyntax)
    if rows * cols > MAX_FRAME_PIXELS or frames > MAX_FRAMES or header.declared_bytes > MAX_DECLARED_BYTES:
        raise CorruptImageError.localized("imaging.absurd_size", path=path, rows=rows, cols=cols, frames=frames,
                                          limit_px=MAX_FRAME_PIXELS, limit_frames=MAX_FRAMES,
                                          limit_gib=MAX_DECLARED_BYTES / 2**30)
    return header


def _check_decoder(header: PixelHeader, path: Path) -> None:
    uid = header.transfer_syntax
    if uid in _decoders.NATIVE_SYNTAXES:
        return
    plugins = _decoders.available_plugins(uid)
    if plugins is None:
        raise UnsupportedImageError.localized("imaging.syntax_unsupported", path=path, uid=uid,
                                              name=_decoders.syntax_name(uid))
    if not plugins:
        package = _decoders.suggested_package(uid) or "?"
        raise DecoderMissingError.localized("imaging.decoder_missing", path=path, name=_decoders.syntax_name(uid),
                                            package=package)


# ---------------------------------------------------------------------------------------- decoding
def _decode(ds: Dataset, header: PixelHeader, frame: int | None, path: Path,
            flags: list[str] | None = None) -> np.ndarray:
    """Stored values of one frame: (rows, cols) or (rows, cols, samples), sign-extended and masked.

    ``flags`` receives ``decoded_by_imagecodecs_fallback`` when the fallback decoder was used.
    """
    if header.transfer_syntax in _decoders.NATIVE_SYNTAXES:
        actual = len(ds.PixelData)
        if actual < header.declared_bytes:
            raise CorruptImageError.localized("imaging.truncated", path=path, actual=actual,
                                              expected=header.declared_bytes)
        fast = _native_frame(ds, header, frame)
        if fast is not None:
            return fast
    from pydicom.pixels import get_decoder

    decoder = get_decoder(UID(header.transfer_syntax))
    index = frame if header.frames > 1 else None
    with quiet_pydicom():
        try:
            arr, _meta = decoder.as_array(ds, index=index)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - decoder boundary; Rust decoders panic with a BaseException
            fallback = _decoders.fallback_decode(ds, header.transfer_syntax, header.frames, index or 0,
                                                 (header.rows, header.cols), header.bits_stored, header.signed)
            if fallback is not None:
                if flags is not None:
                    flags.append("decoded_by_imagecodecs_fallback")
                return fallback
            raise CorruptImageError.localized("imaging.decode_failed", path=path,
                                              name=_decoders.syntax_name(header.transfer_syntax),
                                              reason=_reason(exc)) from None
    if arr.ndim == 3 and header.samples_per_pixel == 1:  # a single frame kept its frame axis
        arr = arr[0]
    return arr


def _native_frame(ds: Dataset, header: PixelHeader, frame: int | None) -> np.ndarray | None:
    """A zero-copy view of one native frame when no bit fix-up is needed; None to let pydicom decode it.

    Covers the common case (one sample, 8/16/32 bits allocated, little endian or 16-bit big endian, unsigned
    or signed with Bits Stored = Bits Allocated). Unsigned data with set bits above Bits Stored (overlays,
    garbage) are masked; anything else goes through pydicom, which sign-extends and masks.
    """
    bits, stored_bits = header.bits_allocated, header.bits_stored
    big = header.transfer_syntax == str(ExplicitVRBigEndian)
    if header.samples_per_pixel != 1 or bits not in (8, 16, 32) or (big and bits != 16):
        return None
    if header.signed and stored_bits != bits:
        return None
    kind = "i" if header.signed else "u"
    dtype = np.dtype(f"{'>' if big else '<'}{kind}{bits // 8}")
    count = header.rows * header.cols
    offset = (frame or 0) * count * dtype.itemsize if header.frames > 1 else 0
    arr = np.frombuffer(ds.PixelData, dtype=dtype, count=count, offset=offset).reshape(header.rows, header.cols)
    if not header.signed and stored_bits < bits and int(arr.max()) >> stored_bits:
        arr = arr & np.array((1 << stored_bits) - 1, dtype=dtype)
    return arr


def _grey(arr: np.ndarray, header: PixelHeader, lossy: bool, path: Path) -> tuple[np.ndarray, str, list[str]]:
    """Monochrome stored values; colour encodings are accepted only when all channels agree."""
    photometric = header.photometric
    if header.samples_per_pixel == 1 and photometric in ("MONOCHROME1", "MONOCHROME2"):
        return arr, photometric, []
    if photometric == "PALETTE COLOR" or header.samples_per_pixel not in (3, 4) or arr.ndim != 3:
        raise UnsupportedImageError.localized("imaging.true_colour", path=path, photometric=photometric)
    grey = _processing.grey_from_colour(arr, tolerance=2 if lossy else 0)
    if grey is None:
        raise UnsupportedImageError.localized("imaging.true_colour", path=path, photometric=photometric)
    return grey, "MONOCHROME2", ["colour_encoded_grey"]


# ----------------------------------------------------------------------------------- header facts
def modality_lut(ds: Dataset, header: PixelHeader) -> tuple[_processing.ModalityLut | None, list[str]]:
    """The Modality LUT (C.11.1): the first Modality LUT Sequence item, else Rescale Slope/Intercept."""
    seq = ds.get("ModalityLUTSequence")
    if seq:
        item = seq[0]
        try:
            entries, first, bits = (int(v) for v in item.LUTDescriptor)
            data = item.LUTData
            if isinstance(data, (bytes, bytearray)):
                order = "<" if ds.is_little_endian in (None, True) else ">"
                table = np.frombuffer(data, dtype=f"{order}u2" if bits > 8 else "u1").astype(np.int64)
            else:
                table = np.asarray(data if isinstance(data, (list, tuple, pydicom.multival.MultiValue)) else [data],
                                   dtype=np.int64)
            entries = entries or 65536
            if header.signed and first > 32767:
                first -= 65536
            if len(table) < entries:
                return None, ["modality_lut_short_ignored"]
            return _processing.ModalityLut(first_mapped=first, table=table[:entries]), []
        except (AttributeError, TypeError, ValueError):
            return None, ["modality_lut_unreadable_ignored"]
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is None and intercept is None:
        return None, []
    try:
        lut = _processing.ModalityLut(slope=float(slope if slope is not None else 1.0),
                                      intercept=float(intercept if intercept is not None else 0.0))
    except (TypeError, ValueError):
        return None, ["rescale_unreadable_ignored"]
    if not (math.isfinite(lut.slope) and math.isfinite(lut.intercept)) or lut.slope == 0:
        return None, ["rescale_unreadable_ignored"]
    return (None if lut.is_identity else lut), []


def _pair(ds: Dataset, keyword: str) -> tuple[float, float] | None:
    value = ds.get(keyword)
    if value is None:
        return None
    try:
        numbers = [float(v) for v in (value if isinstance(value, (list, tuple, pydicom.multival.MultiValue))
                                      else [value])]
    except (TypeError, ValueError):
        return None
    if len(numbers) == 1:
        numbers *= 2
    if len(numbers) != 2 or not all(math.isfinite(v) and v > 0 for v in numbers):
        return None
    return numbers[0], numbers[1]


def spacing_from_header(ds: Dataset) -> tuple[tuple[float, float] | None, SpacingSource, list[str]]:
    """Pixel spacing in mm (row, col) with its provenance, most trusted first.

    PixelSpacing (0028,0030) > ImagerPixelSpacing (0018,1164) / EstimatedRadiographicMagnificationFactor
    (0018,1114) > ImagerPixelSpacing > NominalScannedPixelSpacing (0018,2010) > uncalibrated.
    A present but unusable value (zero, negative, not a number) is skipped with a QC flag.
    """
    flags = [f"bad_{kw}" for kw in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing")
             if kw in ds and _pair(ds, kw) is None]
    pixel, imager, nominal = _pair(ds, "PixelSpacing"), _pair(ds, "ImagerPixelSpacing"), \
        _pair(ds, "NominalScannedPixelSpacing")
    magnification: float | None = None
    try:
        raw = ds.get("EstimatedRadiographicMagnificationFactor")
        magnification = float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        flags.append("bad_EstimatedRadiographicMagnificationFactor")
    if magnification is not None and not (math.isfinite(magnification) and magnification > 0):
        flags.append("bad_EstimatedRadiographicMagnificationFactor")
        magnification = None
    if pixel is not None:
        if imager is not None and magnification not in (None, 1.0) and np.allclose(pixel, imager):
            flags.append("pixel_spacing_equals_imager_spacing")
        return pixel, SpacingSource.PIXEL_SPACING, flags
    if imager is not None and magnification is not None:
        return (imager[0] / magnification, imager[1] / magnification), SpacingSource.IMAGER_CORRECTED, flags
    if imager is not None:
        return imager, SpacingSource.IMAGER, flags + ["magnification_not_corrected"]
    if nominal is not None:
        return nominal, SpacingSource.NOMINAL_SCANNED, flags
    return None, SpacingSource.UNCALIBRATED, flags


def laterality_from_header(ds: Dataset) -> Laterality:
    """ImageLaterality (0020,0062), then Laterality (0020,0060), then words in the descriptions.

    ``B`` (both) in either attribute is an explicit answer: UNKNOWN, without looking at descriptions.
    """
    for keyword in ("ImageLaterality", "Laterality"):
        text = _text(ds, keyword).strip().upper()
        if text == "B":
            return Laterality.UNKNOWN
        lat = Laterality.parse(text)
        if lat is not Laterality.UNKNOWN:
            return lat
    return laterality_from_text(_text(ds, kw) for kw in _DESCRIPTION_KEYWORDS)


def view_from_header(ds: Dataset) -> View:
    """ViewPosition (0018,5101), else a view word in the descriptions."""
    view = view_from_text(_text(ds, "ViewPosition"))
    if view is View.UNKNOWN:
        view = view_from_text(" ".join(_text(ds, kw) for kw in ("SeriesDescription", "ProtocolName")))
    return view


def _voi_window(ds: Dataset) -> tuple[float, float] | None:
    centre, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centre is None or width is None:
        return None
    try:
        c = float(centre[0] if isinstance(centre, (list, tuple, pydicom.multival.MultiValue)) else centre)
        w = float(width[0] if isinstance(width, (list, tuple, pydicom.multival.MultiValue)) else width)
    except (TypeError, ValueError, IndexError):
        return None
    return (c, w) if math.isfinite(c) and math.isfinite(w) and w > 0 else None


def _optional(ds: Dataset, keyword: str) -> str | None:
    text = _text(ds, keyword).strip()
    return text or None


# ------------------------------------------------------------------------------------------ reading
def read_dicom(path: str | Path, *, spacing_mm: tuple[float, float] | None = None,
               frame: int | None = None) -> Radiograph:
    """Read a DICOM radiograph; see ``wristbme.imaging.read_radiograph`` for the contract.

    Notes
    -----
    Order of steps (PS3.4 N.2.1): decode stored values → Modality LUT → (VOI LUT kept in
    ``source.voi_window``, not applied) → invert when MONOCHROME1 or Presentation LUT Shape INVERSE, about
    the Modality LUT's output range for the full Bits Stored range.
    """
    path = Path(path)
    with quiet_pydicom():
        return _read_dicom(path, spacing_mm, frame)


def _read_dicom(path: Path, spacing_mm: tuple[float, float] | None, frame: int | None) -> Radiograph:
    ds, flags = load_dataset(path)
    check_is_image(ds, path)
    header = pixel_header(ds, path)
    if header.frames > 1 and frame is None:
        raise UnsupportedImageError.localized("imaging.multiframe", path=path, frames=header.frames)
    if frame is not None and not 0 <= frame < header.frames:
        raise InputError.localized("imaging.frame_out_of_range", path=path, frame=frame, frames=header.frames)
    _check_decoder(header, path)
    lossy_attr = _text(ds, "LossyImageCompression").strip()
    lossy = (header.transfer_syntax in LOSSY_SYNTAXES or lossy_attr == "01"
             or (header.transfer_syntax in MAYBE_LOSSY_SYNTAXES and lossy_attr != "00"))

    stored = _decode(ds, header, frame, path, flags)
    stored, photometric, grey_flags = _grey(stored, header, lossy, path)
    flags += grey_flags

    lut, lut_flags = modality_lut(ds, header)
    flags += lut_flags
    shape = _optional(ds, "PresentationLUTShape")
    inverted = _processing.needs_inversion(photometric, shape)
    if photometric == "MONOCHROME1" and shape == "IDENTITY":
        flags.append("presentation_lut_shape_conflicts_with_monochrome1")
    out_range = _processing.modality_output_range(
        lut, _processing.stored_value_range(header.bits_stored, header.signed)) if inverted else None
    pixels, pivot = _processing.modality_then_presentation(stored, lut, out_range)

    voi_window = _voi_window(ds)
    voi_sequence = bool(ds.get("VOILUTSequence"))

    header_spacing, spacing_source, spacing_flags = spacing_from_header(ds)
    flags += spacing_flags
    spacing = header_spacing
    if spacing is None and spacing_mm is not None:
        spacing, spacing_source = spacing_mm, SpacingSource.USER
    elif spacing is not None and spacing_mm is not None and not np.allclose(spacing, spacing_mm):
        flags.append("spacing_argument_ignored")
    if spacing is None:
        flags.append("uncalibrated")
    if lossy:
        flags.append("lossy")

    source = SourceInfo(
        format="DICOM", transfer_syntax=header.transfer_syntax, photometric=header.photometric,
        modality=_optional(ds, "Modality"), manufacturer=_optional(ds, "Manufacturer"),
        model=_optional(ds, "ManufacturerModelName"), detector_type=_optional(ds, "DetectorType"),
        body_part=_optional(ds, "BodyPartExamined"), bits_stored=header.bits_stored, lossy=lossy,
        voi_window=voi_window, burned_in_annotation=_optional(ds, "BurnedInAnnotation"), inverted=inverted,
        inversion_pivot=pivot, voi_lut_sequence=voi_sequence, frames=header.frames,
        frame=frame if header.frames > 1 else None,
    )
    return Radiograph(pixels=pixels, spacing_mm=spacing, spacing_source=spacing_source,
                      laterality=laterality_from_header(ds), view=view_from_header(ds), source=source,
                      qc_flags=tuple(dict.fromkeys(flags)))


def read_dicom_header_summary(path: str | Path) -> dict[str, Any]:
    """Non-identifying header facts of a DICOM file, without decoding pixels (for ``wristbme inspect``).

    Returns a dict with ``rows, cols, frames, photometric, transfer_syntax, modality, body_part, view,
    laterality, spacing_mm, spacing_source, sop_class``; values are None when absent.

    Raises
    ------
    InputError, CorruptImageError
        As ``load_dataset``.
    """
    path = Path(path)
    with quiet_pydicom():
        return _header_summary(path)


def _header_summary(path: Path) -> dict[str, Any]:
    ds, _flags = load_dataset(path, stop_before_pixels=True)
    spacing, source, _ = spacing_from_header(ds)

    def number(keyword: str) -> int | None:
        try:
            value = ds.get(keyword)
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    sop = _optional(ds, "SOPClassUID")
    return {
        "rows": number("Rows"), "cols": number("Columns"), "frames": number("NumberOfFrames"),
        "photometric": _optional(ds, "PhotometricInterpretation"),
        "transfer_syntax": str(ds.file_meta.get("TransferSyntaxUID")) if ds.file_meta.get("TransferSyntaxUID")
        else None,
        "modality": _optional(ds, "Modality"), "body_part": _optional(ds, "BodyPartExamined"),
        "view": view_from_header(ds).value, "laterality": laterality_from_header(ds).value,
        "spacing_mm": spacing, "spacing_source": source.value,
        "sop_class": UID(sop).name if sop else None,
    }
