"""The real DICOM files in ../shared/data/dicom (skipped when ../shared is absent)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pydicom
import pytest

from wristbme.imaging import read_radiograph

from .pixels_reference import REFERENCE, SPECIFIC_ERRORS


@pytest.fixture(scope="module")
def dicom_dir(shared_dir):
    path = shared_dir / "data" / "dicom"
    if not path.is_dir():
        pytest.skip("../shared/data/dicom is absent")
    return path


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_file(dicom_dir, name):
    expected = dict(REFERENCE[name])
    path = dicom_dir / name
    if expected.get("needs") and importlib.util.find_spec(expected["needs"]) is None:
        expected = {"error": expected["error_without"]}
    if "error" in expected:
        with pytest.raises(Exception) as info:  # noqa: PT011 - the class is checked by name below
            read_radiograph(path)
        assert type(info.value).__name__ == expected["error"]
        assert name.split("/")[-1] in str(info.value)
        assert expected.get("message", "") in str(info.value)
        return
    r = read_radiograph(path)
    src = r.source
    for key, value in expected.items():
        if key in ("rows", "cols"):
            assert r.shape[0 if key == "rows" else 1] == value
        elif key in ("photometric", "transfer_syntax", "modality", "bits_stored"):
            assert getattr(src, key) == value, key
        elif key == "spacing_source":
            assert r.spacing_source.value == value
        elif key == "spacing_mm":
            assert r.spacing_mm == pytest.approx(value)
        elif key in ("laterality", "view"):
            assert getattr(r, key).value == value
        elif key == "flags":
            assert set(value) <= set(r.qc_flags)
        elif key == "values":
            for (row, col), v in value.items():
                assert r.pixels[row, col] == v
    regions = expected.get("regions", {})
    for bright, dark in expected.get("brighter", []):
        assert np.median(r.pixels[regions[bright]]) > np.median(r.pixels[regions[dark]]) + 50, (bright, dark)


@pytest.mark.parametrize("name", [n for n, e in REFERENCE.items() if e.get("rescale_type") == "OD"])
def test_cr_monochrome1_thumbnails_are_bone_bright(dicom_dir, name):
    """These CR files store optical density (Rescale Type OD): high OD = much exposure = little attenuation.

    Bone-bright output must therefore fall exactly as OD rises, and the most exposed (highest-OD) pixels must be
    the darkest. (The files are 16x16 thumbnails, too small for an anatomical region check; RG3 has one.)
    """
    path = dicom_dir / name
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME1" and ds.RescaleType == "OD"
    optical_density = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    r = read_radiograph(path)
    assert np.corrcoef(r.pixels.ravel(), optical_density.ravel())[0, 1] == pytest.approx(-1.0)
    assert r.pixels.ravel()[np.argmax(optical_density)] == r.pixels.min()


@pytest.mark.parametrize("plugin", ["gdcm", "pylibjpeg", "pillow"])
def test_rg3_matches_each_decoder_backend(dicom_dir, plugin):
    """RG3 decoded by each pydicom backend, with the MONOCHROME1 inversion done by hand, equals our pixels."""
    path = dicom_dir / "pydicom-data/RG3_J2KR.dcm"
    ds = pydicom.dcmread(path)
    ds.pixel_array_options(decoding_plugin=plugin)
    stored = ds.pixel_array
    r = read_radiograph(path)
    np.testing.assert_array_equal(r.pixels, (1023 - stored.astype(np.int32)).astype(np.float32))


def test_inspect_reads_every_file_with_no_traceback(dicom_dir):
    out = subprocess.run([sys.executable, "-m", "wristbme.cli.main", "--json", "inspect", str(dicom_dir)],
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    records = json.loads(out.stdout)
    files = {p for p in dicom_dir.rglob("*") if p.is_file() and not p.name.startswith("DICOMDIR")
             and p.suffix.lower() not in (".txt",)}
    assert {r["path"] for r in records} == {str(p) for p in files}
    for record in records:
        assert record["ok"] or record["error"] in SPECIFIC_ERRORS, record
        assert record["ok"] or record["message"].startswith(record["path"])
    assert out.returncode == (0 if all(r["ok"] for r in records) else 1)
    by_name = {r["path"].split("data/dicom/")[-1]: r for r in records}
    for name, expected in REFERENCE.items():
        if expected.get("needs") and importlib.util.find_spec(expected["needs"]) is None:
            expected = {"error": expected["error_without"]}
        assert by_name[name]["ok"] is ("error" not in expected), name
        assert by_name[name]["error"] == expected.get("error"), name


def test_shared_plain_radiographs_all_read_as_grey(shared_dir):
    folder = shared_dir / "data" / "radiographs"
    if not folder.is_dir():
        pytest.skip("../shared/data/radiographs is absent")
    from wristbme.imaging import iter_radiograph_files

    files = list(iter_radiograph_files([folder]))
    assert len(files) >= 20
    for path in files:
        r = read_radiograph(path)
        assert r.source.format in ("PNG", "BMP", "JPEG") and r.pixels.ndim == 2 and r.spacing_mm is None
        assert r.pixels.max() > r.pixels.min()


def test_nonconformant_jpeg_without_the_fallback_is_a_specific_refusal(dicom_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # import fails as if not installed
    with pytest.raises(Exception) as info:  # noqa: PT011 - class checked by name
        read_radiograph(dicom_dir / "pydicom/JPEG-lossy.dcm")
    assert type(info.value).__name__ == "CorruptImageError"
    assert "JPEG-lossy.dcm: the JPEG Extended (Process 2 and 4) pixel data cannot be decoded" in str(info.value)
