"""Writing synthetic radiographs as DICOM the way each site's modality would.

``build_dataset`` turns output values (bone bright, ``0 .. 2**bits - 1``) into a CR or DX Image Storage
dataset following a ``SiteProfile``: photometric interpretation, bit depth, spacing attribute, VOI window,
rescale, character set and transfer syntax. ``encode`` returns the file bytes.

Every dataset says it is synthetic (``ImageComments``, ``PatientComments``) and all UIDs are derived from
seeds (``pydicom.uid.generate_uid(entropy_srcs=...)``), so the same seed gives byte-identical files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_ROOT_UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    generate_uid,
)

from wristbme.errors import ConfigError
from wristbme.synth.sites import SiteProfile

CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_PRESENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.10.1489.1"
"""Implementation Class UID written in the file meta (a fixed, documented value for wristbme-synth)."""
SYNTHETIC_COMMENT = "SYNTHETIC - wristbme synth - not a patient"


UID_ROOT = PYDICOM_ROOT_UID
"""Root of the synthetic UIDs (pydicom's; ``generate_uid`` hashes the entropy sources below it)."""


def seeded_uid(*parts: object) -> str:
    """A UID derived from ``parts`` (deterministic: same parts, same UID; ``generate_uid`` with entropy)."""
    return generate_uid(prefix=UID_ROOT, entropy_srcs=["wristbme-synth", *(str(p) for p in parts)])


@dataclass(frozen=True)
class PatientInfo:
    """Header identity of a synthetic patient (all invented)."""

    patient_id: str
    name_alphabetic: str
    """``FAMILY^GIVEN`` in romaji."""
    name_ideographic: str = ""
    """``山田^太郎``"""
    name_phonetic: str = ""
    """``やまだ^たろう``"""
    birth_date: str = ""
    """DICOM DA, ``YYYYMMDD``."""
    sex: str = ""


@dataclass(frozen=True)
class StudyInfo:
    study_uid: str
    series_uid: str
    sop_uid: str
    study_date: str
    study_time: str = "101500"
    accession: str = ""
    series_number: int = 1
    instance_number: int = 1
    body_part: str = "HAND"
    view_position: str = "PA"
    laterality: str = "R"
    study_description: str = "HAND PA"


def build_dataset(values: np.ndarray, *, site: SiteProfile, spacing_mm: float, patient: PatientInfo,
                  study: StudyInfo, japanese_name: bool, burned_in: bool) -> Dataset:
    """A complete CR/DX dataset (pixel data uncompressed; ``encode`` applies the transfer syntax).

    Parameters
    ----------
    values : ndarray (rows, cols)
        Output values, bone bright, integers in ``0 .. site.max_value``.
    site : SiteProfile
    spacing_mm : float
        True pixel spacing in the object plane (mm).
    patient, study : PatientInfo, StudyInfo
    japanese_name : bool
        Write PatientName with ideographic and phonetic groups (SpecificCharacterSet ``ISO 2022 IR 87``).
    burned_in : bool
        Pixels carry burned-in identifying text (BurnedInAnnotation).
    """
    v = np.asarray(values)
    if v.ndim != 2:
        raise ConfigError(f"build_dataset: values must be 2-D, got shape {v.shape}")
    stored = np.clip(np.rint(v), 0, site.max_value).astype(np.uint16)
    if site.photometric == "MONOCHROME1":
        stored = (site.max_value - stored).astype(np.uint16)
    sop_class = CR_STORAGE if site.modality == "CR" else DX_PRESENTATION_STORAGE

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = study.sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "WRISTBME_SYNTH"

    ds = Dataset()
    ds.file_meta = meta
    if japanese_name:
        ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
        ds.PatientName = "=".join((patient.name_alphabetic, patient.name_ideographic, patient.name_phonetic))
    else:
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = patient.name_alphabetic
    ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = study.sop_uid
    ds.StudyDate = study.study_date
    ds.SeriesDate = study.study_date
    ds.ContentDate = study.study_date
    ds.StudyTime = study.study_time
    ds.SeriesTime = study.study_time
    ds.ContentTime = study.study_time
    ds.AccessionNumber = study.accession
    ds.Modality = site.modality
    ds.Manufacturer = site.manufacturer
    ds.InstitutionName = f"{site.institution} {site.site_id}"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = study.study_description
    ds.SeriesDescription = study.study_description
    ds.ManufacturerModelName = site.model
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientComments = SYNTHETIC_COMMENT
    ds.BodyPartExamined = study.body_part
    ds.ViewPosition = study.view_position
    ds.StudyInstanceUID = study.study_uid
    ds.SeriesInstanceUID = study.series_uid
    ds.StudyID = study.accession[-8:] if study.accession else "1"
    ds.SeriesNumber = study.series_number
    ds.InstanceNumber = study.instance_number
    ds.PatientOrientation = ["", ""]
    if site.modality == "DX":
        ds.ImageLaterality = study.laterality
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.DetectorType = site.detector_type
    else:
        ds.Laterality = study.laterality
    ds.ImageComments = SYNTHETIC_COMMENT
    ds.BurnedInAnnotation = "YES" if burned_in else "NO"
    ds.KVP = "52"
    ds.DistanceSourceToDetector = "1000"
    ds.DistanceSourceToPatient = f"{1000.0 / site.magnification:.1f}"
    imager = spacing_mm * site.magnification
    if site.spacing_attribute == "PixelSpacing":
        ds.PixelSpacing = [f"{spacing_mm:.6g}", f"{spacing_mm:.6g}"]
        ds.ImagerPixelSpacing = [f"{imager:.6g}", f"{imager:.6g}"]
    elif site.spacing_attribute == "ImagerPixelSpacing+EstimatedRadiographicMagnificationFactor":
        ds.ImagerPixelSpacing = [f"{imager:.6g}", f"{imager:.6g}"]
        ds.EstimatedRadiographicMagnificationFactor = f"{site.magnification:.6g}"
    elif site.spacing_attribute == "ImagerPixelSpacing":
        ds.ImagerPixelSpacing = [f"{imager:.6g}", f"{imager:.6g}"]
    else:
        raise ConfigError(f"SiteProfile {site.site_id}: unknown spacing_attribute {site.spacing_attribute!r}")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = site.photometric
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = site.bits_stored
    ds.HighBit = site.bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = -1 if site.photometric == "MONOCHROME2" else 1
    if site.rescale is not None:
        ds.RescaleSlope = f"{site.rescale[0]:g}"
        ds.RescaleIntercept = f"{site.rescale[1]:g}"
        ds.RescaleType = "US"
    if site.voi_window:
        slope, intercept = site.rescale if site.rescale is not None else (1.0, 0.0)
        centre = site.max_value * 0.5 * slope + intercept
        ds.WindowCenter = f"{centre:.1f}"
        ds.WindowWidth = f"{site.max_value * 0.9 * slope:.1f}"
        ds.VOILUTFunction = "LINEAR"
    ds.LossyImageCompression = "00"
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def encode(ds: Dataset, transfer_syntax: str) -> bytes:
    """The file bytes of ``ds`` in ``transfer_syntax`` (lossless; JPEG lossless SV1 through GDCM).

    Raises
    ------
    ConfigError
        The transfer syntax is not one of explicit VR LE, JPEG lossless SV1, JPEG-LS lossless or JPEG 2000
        lossless, or its encoder package is missing (the message names it).
    """
    if transfer_syntax == ExplicitVRLittleEndian:
        return _to_bytes(ds)
    if transfer_syntax in (JPEGLSLossless, JPEG2000Lossless):
        arr = np.frombuffer(ds.PixelData, dtype=np.uint16).reshape(ds.Rows, ds.Columns)
        out = _copy(ds)
        try:
            out.compress(transfer_syntax, arr, generate_instance_uid=False)
        except (RuntimeError, ImportError) as exc:
            package = "pyjpegls" if transfer_syntax == JPEGLSLossless else "pylibjpeg-openjpeg"
            raise ConfigError(f"cannot encode {transfer_syntax.name}: {exc}",
                              hint=f"install {package}") from None
        return _to_bytes(out)
    if transfer_syntax == JPEGLosslessSV1:
        return _gdcm_transcode(_to_bytes(ds), transfer_syntax)
    raise ConfigError(f"transfer syntax {transfer_syntax} is not supported by the synthetic writer; use "
                      "explicit VR little endian, JPEG lossless SV1, JPEG-LS lossless or JPEG 2000 lossless")


def _copy(ds: Dataset) -> Dataset:
    from copy import deepcopy

    return deepcopy(ds)


def _to_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _gdcm_transcode(data: bytes, transfer_syntax: str) -> bytes:
    import os
    import tempfile

    try:
        import gdcm
    except ImportError:
        raise ConfigError("cannot encode JPEG lossless: python-gdcm is not installed",
                          hint="pip install python-gdcm") from None
    with tempfile.TemporaryDirectory(prefix="wristbme-gdcm-") as tmp:
        src, dst = os.path.join(tmp, "in.dcm"), os.path.join(tmp, "out.dcm")
        with open(src, "wb") as fh:
            fh.write(data)
        reader = gdcm.ImageReader()
        reader.SetFileName(src)
        if not reader.Read():
            raise ConfigError("GDCM could not read the dataset to transcode it to JPEG lossless")
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise ConfigError("GDCM could not transcode to JPEG lossless SV1")
        writer = gdcm.ImageWriter()
        writer.SetFileName(dst)
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise ConfigError("GDCM could not write the JPEG lossless file")
        with open(dst, "rb") as fh:
            out = fh.read()
    return _normalise_gdcm_meta(out)


def _normalise_gdcm_meta(data: bytes) -> bytes:
    """GDCM rewrites the file meta (its own implementation UID, source AE title); put ours back."""
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(data))
    meta = ds.file_meta
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "WRISTBME_SYNTH"
    for kw in ("SourceApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation"):
        if kw in meta:
            delattr(meta, kw)
    ds.LossyImageCompression = "00"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
