"""Build small DICOM radiographs in code (no files from outside the repository)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)


def phantom(rows: int = 24, cols: int = 20, bits: int = 12, signed: bool = False, seed: int = 0) -> np.ndarray:
    """A smooth 'wrist-like' pattern with noise spanning most of the ``bits`` range (int array)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols]
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    base = lo + (hi - lo) * (0.15 + 0.6 * np.exp(-((xx - cols / 2) ** 2 + (yy - rows / 2) ** 2) / (rows * cols / 6)))
    noisy = base + rng.normal(0, (hi - lo) * 0.02, size=base.shape)
    noisy[0, 0], noisy[-1, -1] = lo, hi  # touch both ends of the range
    dtype = (np.int8 if bits <= 8 else np.int16) if signed else (np.uint8 if bits <= 8 else np.uint16)
    return np.clip(np.round(noisy), lo, hi).astype(dtype)


def make_dataset(arr: np.ndarray | None, *, bits_stored: int = 12, bits_allocated: int | None = None,
                 signed: bool = False, photometric: str = "MONOCHROME2",
                 transfer_syntax: str = ExplicitVRLittleEndian, sop_class: str = DigitalXRayImageStorageForPresentation,
                 samples_per_pixel: int = 1, frames: int | None = None, **attrs: object) -> Dataset:
    """A minimal DX dataset holding ``arr`` natively (use ``encapsulate_frames`` for compressed data)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    if arr is not None:
        rows, cols = arr.shape[-3:-1] if samples_per_pixel > 1 else arr.shape[-2:]
        ds.Rows, ds.Columns = int(rows), int(cols)
        ds.SamplesPerPixel = samples_per_pixel
        if samples_per_pixel > 1:
            ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = bits_allocated or (8 if bits_stored <= 8 else 16)
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = 1 if signed else 0
        if frames:
            ds.NumberOfFrames = frames
        big = UID(transfer_syntax) == ExplicitVRBigEndian
        if arr.dtype.itemsize > 1:
            data = arr.astype(arr.dtype.newbyteorder(">" if big else "<")).tobytes()
        else:
            data = arr.tobytes()
        if len(data) % 2:
            data += b"\x00"
        ds.PixelData = data
        ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def encapsulate_frames(ds: Dataset, frames: list[bytes], transfer_syntax: str) -> Dataset:
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def save(ds: Dataset, path: Path, *, preamble: bool = True) -> Path:
    """Write ``ds``; ``preamble=False`` writes a bare dataset (no preamble, no file meta)."""
    ts = UID(ds.file_meta.TransferSyntaxUID)
    if preamble:
        ds.save_as(path, enforce_file_format=True)
        return path
    bare = Dataset(ds)  # shallow copy without file meta
    bare.file_meta = FileMetaDataset()
    bare.save_as(path, enforce_file_format=False, implicit_vr=ts == ImplicitVRLittleEndian,
                 little_endian=ts != ExplicitVRBigEndian)
    raw = path.read_bytes()
    if raw[128:132] == b"DICM" or raw[:2] == b"\x02\x00":
        raise AssertionError("expected a file without preamble/file meta")
    return path
