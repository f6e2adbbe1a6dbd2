"""Every site's DICOM flavour reads back exactly (reader, pydicom, dcmdump)."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
from pydicom import dcmread

from wristbme.synth.dicomio import PatientInfo, StudyInfo, build_dataset, encode, seeded_uid
from wristbme.synth.phantom import HandSpec, render_phantom
from wristbme.synth.sites import SITES

SP = 0.4


@pytest.fixture(scope="module")
def spec():
    return HandSpec.sample(np.random.default_rng(2), spacing_mm=SP)


def _write(tmp_path, spec, site_id):
    site = SITES[site_id]
    ph = render_phantom(spec, seed=3, site=site)
    patient = PatientInfo("00012345", "YAMADA^TARO", "山田^太郎", "やまだ^たろう", "19600101", "M")
    study = StudyInfo(seeded_uid(site_id, "st"), seeded_uid(site_id, "se"), seeded_uid(site_id, "im"), "20190401")
    ds = build_dataset(ph.radiograph.pixels, site=site, spacing_mm=SP, patient=patient, study=study,
                       japanese_name=site.japanese_names, burned_in=False)
    path = tmp_path / f"{site_id}.dcm"
    path.write_bytes(encode(ds, site.transfer_syntax))
    return site, ph, path


@pytest.mark.parametrize("site_id", sorted(SITES))
def test_site_flavour_round_trips(tmp_path, spec, site_id):
    site, ph, path = _write(tmp_path, spec, site_id)
    ds = dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == site.transfer_syntax
    assert ds.PhotometricInterpretation == site.photometric and ds.BitsStored == site.bits_stored
    assert ("WindowCenter" in ds) == site.voi_window
    stored = ds.pixel_array
    expected = np.rint(ph.radiograph.pixels).astype(np.uint16)
    if site.photometric == "MONOCHROME1":
        expected = site.max_value - expected
    assert np.array_equal(stored, expected)
    if site.japanese_names:
        assert list(ds.SpecificCharacterSet) == ["", "ISO 2022 IR 87"]
        assert str(ds.PatientName) == "YAMADA^TARO=山田^太郎=やまだ^たろう"
    reader = pytest.importorskip("wristbme.imaging")
    rad = reader.read_radiograph(path)
    slope, intercept = site.rescale or (1.0, 0.0)
    assert np.allclose(rad.pixels, ph.radiograph.pixels * slope + intercept)  # bone bright either way
    expected_spacing = SP * (site.magnification if site.spacing_attribute == "ImagerPixelSpacing" else 1.0)
    assert rad.spacing_mm == pytest.approx((expected_spacing, expected_spacing), rel=1e-4)
    assert rad.laterality.value == "R" and rad.view.value == "PA"


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="dcmtk's dcmdump is not installed")
@pytest.mark.parametrize("site_id", sorted(SITES))
def test_dcmdump_reads_every_flavour(tmp_path, spec, site_id):
    _, _, path = _write(tmp_path, spec, site_id)
    out = subprocess.run(["dcmdump", "-q", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "PatientName" in out.stdout


def test_same_input_same_bytes(tmp_path, spec):
    a = _write(tmp_path / "a", spec, "S03") if (tmp_path / "a").mkdir() is None else None
    b = _write(tmp_path / "b", spec, "S03") if (tmp_path / "b").mkdir() is None else None
    assert a[2].read_bytes() == b[2].read_bytes()


def test_seeded_uids_are_valid_and_stable():
    from pydicom.uid import UID

    u = seeded_uid(1, "S01", 3)
    assert u == seeded_uid(1, "S01", 3) != seeded_uid(1, "S01", 4)
    assert UID(u).is_valid and len(u) <= 64


def test_bytes_parse_without_a_filesystem(spec):
    site = SITES["S04"]
    ph = render_phantom(spec, seed=0, site=site)
    ds = build_dataset(ph.radiograph.pixels, site=site, spacing_mm=SP,
                       patient=PatientInfo("1", "A^B"), study=StudyInfo("1.2.3", "1.2.4", "1.2.5", "20200101"),
                       japanese_name=False, burned_in=True)
    back = dcmread(io.BytesIO(encode(ds, site.transfer_syntax)))
    assert back.BurnedInAnnotation == "YES" and back.PatientComments.startswith("SYNTHETIC")
