"""De-identification: every DICOM in ../shared/data/dicom and a small synthetic export.

Acceptance: no attribute whose basic-profile action is D, Z, X or U keeps its original value, no private
tag survives, pixel data are unchanged (except masked text).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from wristbme.deid.burnedin import detect_text
from wristbme.deid.check import residual_identifiers
from wristbme.deid.deidentify import dataset_bytes, deidentify, keyed_uid
from wristbme.deid.profile import profile_by_tag, profile_rows, resolve_action

SECRET = b"site-secret-for-tests-0123456789"
RETAINED = {0x00100040, 0x00101010, 0x00101020, 0x00101030}


def _shared_dicoms(shared: Path) -> list[Path]:
    root = shared / "data" / "dicom"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".txt", ".md"))


def _read(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


def _violations(orig, out, path="") -> list[str]:
    """Attributes of ``orig`` whose basic action is D/Z/X/U (or compound) and that kept their value in ``out``."""
    problems = []
    table = profile_by_tag()
    for elem in out:
        if elem.tag.is_private:
            problems.append(f"{path}{elem.tag} private tag survived")
    for elem in orig:
        tag = int(elem.tag)
        if elem.tag.is_private:
            continue
        if tag not in out:
            continue
        kept = out[elem.tag]
        row = table.get(tag)
        if elem.VR == "SQ":
            if row is not None and tag not in RETAINED and resolve_action(row) != "K" and len(kept.value):
                if len(elem.value) and kept.value == elem.value:
                    problems.append(f"{path}{elem.keyword} sequence kept")
            for i, (a, b) in enumerate(zip(elem.value, kept.value, strict=False)):
                problems += _violations(a, b, f"{path}{elem.keyword}[{i}].")
            continue
        if row is None or tag in RETAINED:
            if elem.VR in ("DA", "DT", "TM") and elem.value not in (None, "") and kept.value == elem.value:
                problems.append(f"{path}{elem.keyword} date kept")
            continue
        if set(row.basic.replace("*", "").split("/")) <= {"K", "C"}:
            continue
        original = elem.value
        if original in (None, "", b"") or (hasattr(original, "__len__") and len(original) == 0):
            continue
        if kept.value == original:
            problems.append(f"{path}{elem.keyword or elem.tag} kept its value (action {row.basic})")
    return problems


def test_table_is_the_standards_and_has_every_action():
    rows = profile_rows()
    assert len(rows) > 600
    actions = {r.basic for r in rows}
    assert {"D", "Z", "X", "U", "X/Z", "X/D", "X/Z/D", "Z/D"} <= actions
    assert resolve_action(profile_by_tag()[0x00100040]) == "K"  # sex retained
    assert resolve_action(profile_by_tag()[0x00100030]) == "Z"  # birth date emptied
    assert resolve_action(profile_by_tag()[0x00080018]) == "U"  # SOP Instance UID replaced


def test_every_shared_dicom_is_deidentified(shared_dir):
    files = _shared_dicoms(shared_dir)
    assert len(files) >= 40
    checked = 0
    for path in files:
        orig = _read(path)
        if "DirectoryRecordSequence" in orig:
            continue  # a DICOMDIR is rebuilt on the disc, not de-identified
        result = deidentify(orig, secret=SECRET, pseudonym="S03-0001", check_pixels=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = pydicom.dcmread(io.BytesIO(dataset_bytes(result.dataset)), force=True)
        problems = _violations(orig, back)
        assert not problems, f"{path.name}: {problems}"
        if orig.get("PatientName") or orig.get("StudyDate"):
            assert _violations(orig, orig), "the checker must see an untouched dataset as identifying"
        if "PixelData" in orig:
            assert back.PixelData == orig.PixelData, path.name
        assert back.PatientIdentityRemoved == "YES"
        codes = {item.CodeValue for item in back.DeidentificationMethodCodeSequence}
        assert {"113100", "113108"} <= codes
        assert residual_identifiers(back, pseudonym="S03-0001") == [], path.name
        checked += 1
    assert checked >= 40


def test_uids_are_replaced_consistently_with_a_keyed_hash(shared_dir):
    path = shared_dir / "data" / "dicom" / "pydicom-data" / "RG3_J2KR.dcm"
    orig = _read(path)
    a = deidentify(orig, secret=SECRET, pseudonym="S03-0001").dataset
    b = deidentify(orig, secret=SECRET, pseudonym="S03-0001").dataset
    c = deidentify(orig, secret=b"another-site-secret-abcdefghijkl", pseudonym="S03-0001").dataset
    assert a.SOPInstanceUID == b.SOPInstanceUID == keyed_uid(orig.SOPInstanceUID, SECRET)
    assert a.SOPInstanceUID != orig.SOPInstanceUID and a.SOPInstanceUID != c.SOPInstanceUID
    assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID
    assert a.SOPInstanceUID.startswith("2.25.") and len(a.SOPInstanceUID) <= 64


def test_patient_characteristics_are_retained_and_dates_are_not(shared_dir):
    orig = _read(shared_dir / "data" / "dicom" / "pydicom" / "dicomdirtests" / "77654033" / "CR1" / "6154")
    out = deidentify(orig, secret=SECRET, pseudonym="S03-0007", patient_age_years=47.9).dataset
    assert out.PatientSex == orig.PatientSex
    assert out.PatientAge == "047Y"
    assert out.PatientID == "S03-0007" and str(out.PatientName) == "S03-0007"
    assert not out.get("PatientBirthDate")
    for elem in out.iterall():
        if elem.VR in ("DA", "DT", "TM"):
            assert not elem.value, elem.keyword


def _image_with_text(text: str | None, marker: bool = True) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:320, :280]
    img = rng.normal(1500, 90, (320, 280)) + 1200 * np.exp(-((xx - 140) ** 2 + (yy - 170) ** 2) / (2 * 60.0**2))
    canvas = Image.new("L", (280, 320), 0)
    draw = ImageDraw.Draw(canvas)
    if text:
        draw.text((8, 8), text, fill=255, font=ImageFont.load_default(size=18))
    if marker:
        draw.text((240, 270), "R", fill=255, font=ImageFont.load_default(size=30))
    img = np.clip(img, 0, 4000)
    img[np.asarray(canvas) > 127] = 4095
    return img.astype(np.uint16)


def test_burned_in_name_is_found_but_a_lone_lr_marker_is_not():
    assert detect_text(_image_with_text(None, marker=True)) == []
    boxes = detect_text(_image_with_text("SUZUKI HANAKO 0071234", marker=True))
    assert len(boxes) == 1
    box = boxes[0]
    assert box.row0 < 15 and box.col0 < 15 and box.col1 > 120 and box.row1 < 60


def test_masking_blanks_only_the_text(tmp_path):
    from wristbme.study.minisite import make_site_export

    site = make_site_export(tmp_path, n_patients=0, defects=("burned_in_text",))
    paths = sorted(p for p in site.export.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    texty = [p for p in paths if detect_text(_read(p).pixel_array)]
    assert len(texty) == 1
    orig = _read(texty[0])
    flagged = deidentify(orig, secret=SECRET, pseudonym="S03-0001")
    assert flagged.burned_in == "flagged" and flagged.dataset.BurnedInAnnotation == "YES"
    assert flagged.dataset.PixelData == orig.PixelData
    masked = deidentify(orig, secret=SECRET, pseudonym="S03-0001", mask_burned_in=True)
    assert masked.burned_in == "masked"
    back = pydicom.dcmread(io.BytesIO(dataset_bytes(masked.dataset)))
    before, after = orig.pixel_array, back.pixel_array
    inside = np.zeros(before.shape, bool)
    for b in masked.text_boxes:
        inside[b.row0:b.row1, b.col0:b.col1] = True
    assert np.array_equal(before[~inside], after[~inside])
    assert len(np.unique(after[inside])) == 1 and before.min() < after[inside][0] < before.max()
    assert detect_text(after) == []
    assert "113101" in {i.CodeValue for i in back.DeidentificationMethodCodeSequence}


def test_synthetic_export_is_deidentified(tmp_path):
    from wristbme.study.minisite import make_site_export

    site = make_site_export(tmp_path, n_patients=3, defects=("lateral_view",))
    n = 0
    for path in sorted(p for p in site.export.rglob("*") if p.is_file() and p.name != "DICOMDIR"):
        orig = _read(path)
        result = deidentify(orig, secret=SECRET, pseudonym="S03-0002")
        out = pydicom.dcmread(io.BytesIO(dataset_bytes(result.dataset)))
        assert not _violations(orig, out)
        assert out.PixelData == orig.PixelData
        text = out.to_json()
        for ident in site.truth["identifiers"]:
            assert ident not in text
        n += 1
    assert n == 8


@pytest.fixture(scope="module")
def synth_cohort(tmp_path_factory):
    cohort = pytest.importorskip("wristbme.synth.cohort")
    out = tmp_path_factory.mktemp("cohort") / "c"
    cohort.generate_cohort(out, sites=2, patients_per_site=2, seed=0, workers=1, spacing_mm=0.3,
                           defect_rates={k: 0.0 for k in cohort.DEFAULT_DEFECT_RATES})
    return out


@pytest.mark.slow
def test_synth_cohort_is_deidentified(synth_cohort):
    files = [p for p in synth_cohort.rglob("*") if p.is_file() and p.name != "DICOMDIR" and "export" in p.parts]
    assert files
    masked = 0
    for path in files:
        orig = _read(path)
        result = deidentify(orig, secret=SECRET, pseudonym="S01-0001", mask_burned_in=True)
        out = pydicom.dcmread(io.BytesIO(dataset_bytes(result.dataset)))
        assert not _violations(orig, out), path.name
        assert residual_identifiers(out, pseudonym="S01-0001") == []
        if result.burned_in == "masked":
            masked += 1
            assert detect_text(out.pixel_array) == []
        else:
            assert out.PixelData == orig.PixelData
    assert masked >= 1  # site S02 burns the name and ID into every image


@pytest.mark.slow
def test_burned_in_text_of_synth_sites_is_found_and_nothing_else(synth_cohort):
    import json

    truth = json.loads((synth_cohort / "truth.json").read_text(encoding="utf-8"))
    with_text = without_text = 0
    for image in truth["images"]:
        pixels = _read(synth_cohort / image["file"]).pixel_array
        boxes = detect_text(pixels)
        bbox = image.get("burned_in_text_bbox")  # [x0, y0, x1, y1]
        if bbox:
            covered = np.zeros(pixels.shape, bool)
            for b in boxes:
                covered[b.row0:b.row1, b.col0:b.col1] = True
            assert covered[bbox[1]:bbox[3], bbox[0]:bbox[2]].mean() > 0.99, image["file"]
            with_text += 1
        else:
            assert boxes == [], (image["file"], boxes)  # the lead L/R marker alone is not text
            without_text += 1
    assert with_text and without_text
