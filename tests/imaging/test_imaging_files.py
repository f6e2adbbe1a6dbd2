"""Walking folders and DICOMDIRs."""

from __future__ import annotations

import numpy as np
from PIL import Image
from pydicom.fileset import FileSet
from pydicom.uid import generate_uid

from wristbme.imaging import iter_radiograph_files, read_radiograph, sniff_format

from .dicom_factory import make_dataset, phantom, save


def _disc(tmp_path, n=3):
    fs = FileSet()
    study = generate_uid()
    for i in range(n):
        ds = make_dataset(phantom(seed=i), PatientID="S01-0001", PatientName="S01-0001", StudyInstanceUID=study,
                          SeriesInstanceUID=generate_uid(), StudyDate="20200101", StudyTime="120000",
                          StudyID="1", AccessionNumber="", SeriesNumber=i + 1, InstanceNumber=1)
        fs.add(ds)
    out = tmp_path / "disc"
    fs.write(out)
    return out


def test_dicomdir_and_folder_walks_yield_each_file_once(tmp_path):
    disc = _disc(tmp_path)
    via_dicomdir = list(iter_radiograph_files([disc / "DICOMDIR"]))
    via_folder = list(iter_radiograph_files([disc]))
    assert len(via_dicomdir) == 3
    assert sorted(p.resolve() for p in via_folder) == sorted(p.resolve() for p in via_dicomdir)
    for p in via_dicomdir:
        assert read_radiograph(p).shape == phantom().shape


def test_walk_skips_sidecars_and_notes_but_keeps_images(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "a.png.json").write_text('{"spacing_mm": 0.1}')
    (tmp_path / "README.txt").write_text("notes")
    (tmp_path / ".hidden.dcm").write_bytes(b"x")
    save(make_dataset(phantom()), tmp_path / "sub" / "IM0001") if (tmp_path / "sub").mkdir() is None else None
    names = sorted(p.name for p in iter_radiograph_files([tmp_path]))
    assert names == ["IM0001", "a.png"]


def test_named_missing_file_is_yielded_so_it_can_be_reported(tmp_path):
    assert list(iter_radiograph_files([tmp_path / "gone.dcm"])) == [tmp_path / "gone.dcm"]


def test_sniff_format(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.bmp")
    assert sniff_format(tmp_path / "a.bmp") == "BMP"
    assert sniff_format(save(make_dataset(phantom()), tmp_path / "b.dcm")) == "DICOM"
    (tmp_path / "c").write_bytes(b"BMxx\x01\x02\x03\x04")
    assert sniff_format(tmp_path / "c") is None
