"""PNG, JPEG, TIFF and BMP radiographs."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from wristbme.errors import CorruptImageError, UnsupportedImageError
from wristbme.imaging import SpacingSource, read_radiograph

from .dicom_factory import phantom


@pytest.mark.parametrize(("suffix", "bits"), [(".png", 8), (".png", 16), (".bmp", 8), (".tif", 16), (".tif", 8)])
def test_lossless_plain_formats_are_bit_identical(tmp_path, suffix, bits):
    arr = phantom(30, 20, bits=bits)
    path = tmp_path / f"x{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(path, arr)
    else:
        Image.fromarray(arr).save(path)
    r = read_radiograph(path, spacing_mm=(0.1, 0.1))
    np.testing.assert_array_equal(r.pixels, arr.astype(np.float32))
    assert r.source.format == {".png": "PNG", ".bmp": "BMP", ".tif": "TIFF"}[suffix]
    assert r.spacing_source is SpacingSource.USER and not r.source.lossy


def test_jpeg_is_read_and_flagged_lossy(tmp_path):
    arr = phantom(32, 32, bits=8)
    Image.fromarray(arr).save(tmp_path / "x.jpg", quality=95)
    r = read_radiograph(tmp_path / "x.jpg")
    assert np.abs(r.pixels - arr).max() < 20 and "lossy" in r.qc_flags and "uncalibrated" in r.qc_flags


def test_rgb_with_equal_channels_becomes_grey(tmp_path):
    arr = phantom(10, 12, bits=8)
    Image.fromarray(np.stack([arr] * 3, axis=-1)).save(tmp_path / "g.png")
    r = read_radiograph(tmp_path / "g.png")
    np.testing.assert_array_equal(r.pixels, arr)
    assert "colour_encoded_grey" in r.qc_flags


def test_tiff_min_is_white_is_inverted_to_bone_bright(tmp_path):
    arr = phantom(10, 12, bits=16)
    tifffile.imwrite(tmp_path / "w.tif", (65535 - arr).astype(np.uint16), photometric="miniswhite")
    r = read_radiograph(tmp_path / "w.tif")
    np.testing.assert_array_equal(r.pixels, arr)
    assert r.source.photometric == "MONOCHROME1"


def test_multipage_tiff_needs_a_frame(tmp_path):
    tifffile.imwrite(tmp_path / "m.tif", np.stack([phantom(), phantom(seed=2)]))
    with pytest.raises(UnsupportedImageError, match="holds 2 frames"):
        read_radiograph(tmp_path / "m.tif")
    np.testing.assert_array_equal(read_radiograph(tmp_path / "m.tif", frame=1).pixels, phantom(seed=2))


def test_truncated_png_is_refused(tmp_path):
    Image.fromarray(phantom(64, 64, bits=8)).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match=r"t\.png: the image cannot be decoded"):
        read_radiograph(tmp_path / "t.png")


def test_exif_orientation_is_applied(tmp_path):
    arr = phantom(10, 16, bits=8)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    img.save(tmp_path / "o.jpg", exif=exif, quality=100)
    r = read_radiograph(tmp_path / "o.jpg")
    assert r.shape == (16, 10) and "exif_orientation_applied" in r.qc_flags
