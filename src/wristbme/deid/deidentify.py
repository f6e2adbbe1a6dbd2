"""De-identify one DICOM dataset by the Basic Application Level Confidentiality Profile.

Driven by the standard's table (``profile.py``), with the Retain Patient Characteristics Option (sex, age,
size, weight) and no dates kept (every DA/DT/TM attribute is emptied or removed, listed or not):

1. every attribute in the table gets its action (``resolve_action``), recursively inside sequences;
2. UIDs (action ``U``, plus the file meta's MediaStorageSOPInstanceUID) are replaced by
   ``2.25.<128-bit HMAC-SHA256 of the original under the site secret>``: the same original UID gives the
   same new UID every time at that site, and no one without the secret can reverse or test it;
3. private attributes, curves and overlays are removed; any remaining date or time is removed;
4. PatientName and PatientID become the pseudonym; PatientAge the age at the X-ray (when known);
   PatientIdentityRemoved = YES; DeidentificationMethod and DeidentificationMethodCodeSequence
   (DCM 113100 Basic profile, 113108 Retain Patient Characteristics, 113101 Clean Pixel Data when text
   was masked) are written;
5. pixel data are untouched, unless burned-in text is found and ``mask_burned_in`` is set: then the text
   boxes are filled with the mid-range grey (blank, and not at an extreme value where the detector looks)
   and the image is written uncompressed (Explicit VR Little Endian).
"""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from wristbme import __version__
from wristbme.deid.burnedin import TextBox, detect_text, mask_text
from wristbme.deid.profile import PROFILE_NAME, is_curve_or_overlay, profile_by_tag, resolve_action

DATE_VRS = frozenset({"DA", "DT", "TM"})
METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113108", "Retain Patient Characteristics Option"),
)
CLEAN_PIXEL_CODE = ("113101", "Clean Pixel Data Option")
DUMMY_BY_VR = {"PN": "ANONYMOUS", "LO": "ANONYMOUS", "SH": "ANON", "LT": "ANONYMOUS", "ST": "ANONYMOUS",
               "UT": "ANONYMOUS", "CS": "ANON", "AE": "ANON", "DA": "19000101", "TM": "000000",
               "DT": "19000101000000", "AS": "000Y", "IS": "0", "DS": "0", "UC": "ANONYMOUS", "UR": "",
               "US": 0, "SS": 0, "UL": 0, "SL": 0, "FL": 0.0, "FD": 0.0}


def keyed_uid(uid: str, secret: bytes) -> str:
    """``2.25.<int>``: a UID derived from ``uid`` by HMAC-SHA256 under ``secret`` (first 128 bits)."""
    digest = hmac.new(secret, b"uid\x00" + str(uid).strip().encode(), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


@dataclass
class DeidResult:
    """What ``deidentify`` did to one dataset."""

    dataset: Dataset
    text_boxes: list[TextBox] = field(default_factory=list)
    burned_in: str = "none"
    """``none``; ``flagged`` (text found or declared, left in place); ``masked`` (found and blanked)."""
    pixel_checked: bool = False
    """False when the pixels could not be decoded, so burned-in text could not be looked for."""
    actions: dict[str, int] = field(default_factory=dict)


def deidentify(ds: Dataset, *, secret: bytes, pseudonym: str, patient_age_years: float | None = None,
               mask_burned_in: bool = False, check_pixels: bool = True) -> DeidResult:
    """De-identify a copy of ``ds`` (the input is not modified).

    Parameters
    ----------
    ds : pydicom Dataset
        As read (``pydicom.dcmread``), file meta included when present.
    secret : bytes
        The site's key for UIDs (``SiteDir.secret``); at least 16 bytes.
    pseudonym : str
        Written to PatientName and PatientID, e.g. ``S03-0012``.
    patient_age_years : float, optional
        Age at the X-ray, written as PatientAge (``045Y``) in place of the birth date.
    mask_burned_in : bool
        Blank burned-in text found in the pixels (else the image is only flagged).
    check_pixels : bool
        Look for burned-in text in the pixels (needs a decodable image).

    Returns
    -------
    DeidResult
    """
    if len(secret) < 16:
        raise ValueError("the site secret must be at least 16 bytes")
    out = _copy(ds)
    actions: dict[str, int] = {}
    _apply(out, secret, actions)
    meta = _new_meta(ds, out, secret)
    out.file_meta = meta

    out.PatientName = pseudonym
    out.PatientID = pseudonym
    if patient_age_years is not None and np.isfinite(patient_age_years) and patient_age_years >= 0:
        out.PatientAge = f"{min(int(patient_age_years), 999):03d}Y"
    out.PatientIdentityRemoved = "YES"
    out.LongitudinalTemporalInformationModified = "REMOVED"

    result = DeidResult(dataset=out, actions=actions)
    declared = str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES"
    if check_pixels and "PixelData" in ds:
        try:
            pixels = ds.pixel_array
        except Exception:  # undecodable pixels: cannot be checked
            pixels = None
        if pixels is not None and pixels.ndim == 2:
            result.pixel_checked = True
            result.text_boxes = detect_text(pixels)
            if result.text_boxes and mask_burned_in:
                # mid-range grey: blank, and never at an extreme, so no new glyph-like shape is made
                fill = (int(pixels.min()) + int(pixels.max())) // 2
                cleaned = mask_text(pixels, result.text_boxes, fill)
                out.PixelData = np.ascontiguousarray(cleaned.astype(cleaned.dtype.newbyteorder("<"))).tobytes()
                out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
                out.BitsAllocated = cleaned.dtype.itemsize * 8
                out["PixelData"].VR = "OW" if out.BitsAllocated > 8 else "OB"
                out["PixelData"].is_undefined_length = False
                result.burned_in = "masked"
            elif result.text_boxes:
                result.burned_in = "flagged"
    if declared and result.burned_in == "none":
        result.burned_in = "flagged"
    if result.burned_in == "masked":
        out.BurnedInAnnotation = "NO"
    elif result.burned_in == "flagged":
        out.BurnedInAnnotation = "YES"

    codes = list(METHOD_CODES) + ([CLEAN_PIXEL_CODE] if result.burned_in == "masked" else [])
    out.DeidentificationMethod = f"wristbme {__version__}: {PROFILE_NAME}"[:64]
    seq = []
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        seq.append(item)
    out.DeidentificationMethodCodeSequence = Sequence(seq)
    return result


def dataset_bytes(ds: Dataset) -> bytes:
    """The dataset written as a DICOM Part 10 file."""
    buf = io.BytesIO()
    meta = getattr(ds, "file_meta", None)
    complete = meta is not None and meta.get("MediaStorageSOPClassUID") and meta.get("MediaStorageSOPInstanceUID")
    ds.save_as(buf, enforce_file_format=bool(complete))
    return buf.getvalue()


def _copy(ds: Dataset) -> Dataset:
    """A deep copy that keeps the encoding state (pydicom's deepcopy keeps raw elements raw)."""
    import copy

    return copy.deepcopy(ds)


def _apply(ds: Dataset, secret: bytes, actions: dict[str, int]) -> None:
    table = profile_by_tag()
    for elem in list(ds):
        tag = int(elem.tag)
        if elem.tag.is_private or is_curve_or_overlay(tag):
            del ds[elem.tag]
            actions["X"] = actions.get("X", 0) + 1
            continue
        row = table.get(tag)
        action = resolve_action(row) if row is not None else None
        if action is None:
            if elem.VR in DATE_VRS:
                action = "X"  # no dates kept, listed or not
            elif elem.VR == "SQ":
                for item in elem.value:
                    _apply(item, secret, actions)
                continue
            else:
                continue
        actions[action] = actions.get(action, 0) + 1
        if action == "K":
            if elem.VR == "SQ":
                for item in elem.value:
                    _apply(item, secret, actions)
            continue
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            if elem.VR == "SQ":
                ds[elem.tag].value = Sequence([])
            else:
                ds[elem.tag].value = None
        elif action == "D":
            if elem.VR == "SQ":
                ds[elem.tag].value = Sequence([])
            elif elem.VR in DATE_VRS:
                ds[elem.tag].value = None  # no dates kept, not even dummies
            else:
                ds[elem.tag].value = DUMMY_BY_VR.get(elem.VR, "ANONYMOUS" if elem.VR not in ("OB", "OW", "UN")
                                                     else b"")
        elif action == "U":
            if elem.VR == "SQ":
                del ds[elem.tag]
            elif elem.VM > 1:
                ds[elem.tag].value = [keyed_uid(v, secret) for v in elem.value]
            elif elem.value:
                ds[elem.tag].value = keyed_uid(elem.value, secret)


def _new_meta(original: Dataset, out: Dataset, secret: bytes) -> FileMetaDataset:
    old = getattr(original, "file_meta", None) or FileMetaDataset()
    meta = FileMetaDataset()
    sop_class = out.get("SOPClassUID") or old.get("MediaStorageSOPClassUID")
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
    sop_instance = out.get("SOPInstanceUID")
    if not sop_instance and old.get("MediaStorageSOPInstanceUID"):
        sop_instance = keyed_uid(old.MediaStorageSOPInstanceUID, secret)
        out.SOPInstanceUID = sop_instance
    if sop_instance:
        meta.MediaStorageSOPInstanceUID = sop_instance
    ts = old.get("TransferSyntaxUID")
    if not ts:
        implicit, _little = getattr(original, "original_encoding", (True, True))
        ts = ExplicitVRLittleEndian if implicit is False else ImplicitVRLittleEndian
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"WRISTBME_{__version__}"[:16]
    return meta


__all__ = ["DeidResult", "deidentify", "dataset_bytes", "keyed_uid", "pydicom"]
