"""Each refusal is a distinct error that names the file."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pydicom import uid
from pydicom.dataset import Dataset

from wristbme.errors import (
    ConfigError,
    CorruptImageError,
    DecoderMissingError,
    InputError,
    NotAnImageError,
    UnsupportedImageError,
)
from wristbme.imaging import _decoders, read_radiograph

from .dicom_factory import encapsulate_frames, make_dataset, phantom, save


@pytest.mark.parametrize(("sop", "kind"), [
    (uid.BasicTextSRStorage, "Structured Report"),
    (uid.EncapsulatedPDFStorage, "Encapsulated PDF"),
    (uid.GrayscaleSoftcopyPresentationStateStorage, "Presentation State"),
])
def test_non_image_objects_are_refused(tmp_path, sop, kind):
    ds = make_dataset(None, sop_class=sop)
    path = save(ds, tmp_path / "obj.dcm")
    with pytest.raises(NotAnImageError, match=rf"obj\.dcm: is a {kind}"):
        read_radiograph(path)


def test_no_pixel_data_is_refused(tmp_path):
    ds = make_dataset(phantom())
    del ds.PixelData
    with pytest.raises(NotAnImageError, match=r"np\.dcm: has no Pixel Data"):
        read_radiograph(save(ds, tmp_path / "np.dcm"))


def test_plain_pdf_file_is_refused(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4\n%...")
    with pytest.raises(NotAnImageError, match=r"report\.pdf: is a PDF document"):
        read_radiograph(path)


def test_multiframe_without_a_frame_is_refused(tmp_path):
    ds = make_dataset(np.stack([phantom(), phantom(seed=1)]), frames=2)
    path = save(ds, tmp_path / "mf.dcm")
    with pytest.raises(UnsupportedImageError, match=r"mf\.dcm: holds 2 frames; choose one"):
        read_radiograph(path)
    with pytest.raises(InputError, match="frame 5 does not exist"):
        read_radiograph(path, frame=5)
    with pytest.raises(ConfigError, match="frame must be a non-negative integer"):
        read_radiograph(path, frame=-1)


def test_truncated_native_pixel_data_is_refused(tmp_path):
    ds = make_dataset(phantom(24, 20))
    ds.PixelData = ds.PixelData[:-100]
    with pytest.raises(CorruptImageError, match=r"t\.dcm: pixel data are truncated: 860 bytes present, 960"):
        read_radiograph(save(ds, tmp_path / "t.dcm"))


def test_truncated_file_is_refused(tmp_path):
    path = save(make_dataset(phantom(64, 64)), tmp_path / "cut.dcm")
    path.write_bytes(path.read_bytes()[:-3000])
    with pytest.raises(CorruptImageError, match=r"cut\.dcm"):
        read_radiograph(path)


def test_corrupt_compressed_pixel_data_is_refused(tmp_path):
    ds = make_dataset(phantom(64, 64))
    ds.compress(uid.JPEG2000Lossless)
    frame = bytearray(b"".join([bytes(ds.PixelData)]))
    ds = encapsulate_frames(make_dataset(phantom(64, 64)), [bytes(frame[200:400])], uid.JPEG2000Lossless)
    with pytest.raises(CorruptImageError, match=r"bad\.dcm: the JPEG 2000 .* cannot be decoded"):
        read_radiograph(save(ds, tmp_path / "bad.dcm"))


def test_absurd_declared_size_is_refused_before_allocation(tmp_path):
    ds = make_dataset(phantom(4, 4))
    ds.Rows, ds.Columns, ds.NumberOfFrames = 65535, 65535, 5000
    with pytest.raises(CorruptImageError, match=r"huge\.dcm: declares 65535 x 65535 pixels x 5000 frames"):
        read_radiograph(save(ds, tmp_path / "huge.dcm"), frame=0)


def test_transfer_syntax_without_any_decoder_is_refused(tmp_path):
    ds = encapsulate_frames(make_dataset(phantom(8, 8), bits_stored=8), [b"\x00" * 16], uid.MPEG2MPML)
    with pytest.raises(UnsupportedImageError, match=r"mpeg\.dcm: transfer syntax MPEG2 .* has no decoder"):
        read_radiograph(save(ds, tmp_path / "mpeg.dcm"))


def test_missing_decoder_names_the_package(tmp_path, monkeypatch):
    ds = make_dataset(phantom(64, 64))
    ds.compress(uid.JPEGLSLossless)
    path = save(ds, tmp_path / "jls.dcm")
    monkeypatch.setattr(_decoders, "available_plugins", lambda _uid: ())
    with pytest.raises(DecoderMissingError, match=r"jls\.dcm: no installed decoder for JPEG-LS .* \(install pyjpegls"):
        read_radiograph(path)


def test_true_colour_dicom_is_refused_and_grey_rgb_accepted(tmp_path):
    grey = phantom(8, 8, bits=8)
    rgb = np.stack([grey, grey, grey], axis=-1)
    ok = read_radiograph(save(make_dataset(rgb, bits_stored=8, photometric="RGB", samples_per_pixel=3),
                              tmp_path / "g.dcm"))
    np.testing.assert_array_equal(ok.pixels, grey)
    rgb[0, 0, 1] += 1
    with pytest.raises(UnsupportedImageError, match=r"c\.dcm: is a colour image \(RGB\)"):
        read_radiograph(save(make_dataset(rgb, bits_stored=8, photometric="RGB", samples_per_pixel=3),
                             tmp_path / "c.dcm"))


def test_true_colour_png_is_refused(tmp_path):
    arr = np.zeros((5, 5, 3), np.uint8)
    arr[..., 0] = 200
    Image.fromarray(arr).save(tmp_path / "c.png")
    with pytest.raises(UnsupportedImageError, match=r"c\.png: is a colour image"):
        read_radiograph(tmp_path / "c.png")


def test_unknown_format_missing_file_and_folder(tmp_path):
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"hello world, not an image" * 20)
    with pytest.raises(InputError, match=r"notes\.bin: not a DICOM, PNG, JPEG, TIFF or BMP file"):
        read_radiograph(junk)
    with pytest.raises(InputError, match=r"nope\.dcm: file not found"):
        read_radiograph(tmp_path / "nope.dcm")
    with pytest.raises(InputError, match="is a folder"):
        read_radiograph(tmp_path)


def test_dicomdir_is_not_an_image(tmp_path):
    ds = Dataset()
    ds.file_meta = make_dataset(None).file_meta
    ds.file_meta.MediaStorageSOPClassUID = uid.MediaStorageDirectoryStorage
    ds.SOPClassUID = uid.MediaStorageDirectoryStorage
    ds.DirectoryRecordSequence = []
    ds.save_as(tmp_path / "DICOMDIR", enforce_file_format=True)
    with pytest.raises(NotAnImageError, match="DICOMDIR"):
        read_radiograph(tmp_path / "DICOMDIR")


def test_errors_never_quote_patient_identifiers(tmp_path):
    ds = make_dataset(phantom(), PatientName="Yamada^Taro", PatientID="MRN123456")
    ds.PixelData = ds.PixelData[:10]
    with pytest.raises(CorruptImageError) as info:
        read_radiograph(save(ds, tmp_path / "p.dcm"))
    assert "Yamada" not in str(info.value) and "MRN123456" not in str(info.value)
