"""Every transfer syntax a disc may hold, encoded in code; lossless ones decode bit-identically."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import uid

from wristbme.imaging import read_radiograph

from .dicom_factory import encapsulate_frames, make_dataset, phantom, save


def _codecs():
    """imagecodecs (libjpeg-turbo, OpenJPH) encodes the JPEG and HTJ2K test images; skip those cases without it."""
    return pytest.importorskip("imagecodecs", reason="imagecodecs encodes the JPEG and HTJ2K test images")


def _pydicom_compress(syntax, **kwargs):
    def encode(ds):
        ds.compress(syntax, **kwargs)
        return ds
    return encode


def _frame_encoder(syntax, encode):
    def apply(ds):
        arr = ds.pixel_array
        return encapsulate_frames(ds, [encode(arr)], syntax)
    return apply


# (id, transfer syntax, bits stored, signed, encoder, max abs error; 0 = bit-identical)
CASES = [
    ("implicit_le", uid.ImplicitVRLittleEndian, 12, False, None, 0),
    ("explicit_le", uid.ExplicitVRLittleEndian, 16, False, None, 0),
    ("explicit_be", uid.ExplicitVRBigEndian, 12, True, None, 0),
    ("deflated", uid.DeflatedExplicitVRLittleEndian, 12, False, None, 0),
    ("rle", uid.RLELossless, 16, True, _pydicom_compress(uid.RLELossless), 0),
    ("jpegls_lossless", uid.JPEGLSLossless, 12, False, _pydicom_compress(uid.JPEGLSLossless), 0),
    ("jpegls_near_lossless", uid.JPEGLSNearLossless, 12, False,
     _pydicom_compress(uid.JPEGLSNearLossless, jls_error=2), 2),
    ("j2k_lossless", uid.JPEG2000Lossless, 16, False, _pydicom_compress(uid.JPEG2000Lossless), 0),
    ("j2k_lossless_signed", uid.JPEG2000Lossless, 12, True, _pydicom_compress(uid.JPEG2000Lossless), 0),
    ("j2k_lossy", uid.JPEG2000, 12, False, _pydicom_compress(uid.JPEG2000, j2k_psnr=[80]), 40),
    ("jpeg_baseline", uid.JPEGBaseline8Bit, 8, False,
     _frame_encoder(uid.JPEGBaseline8Bit, lambda a: _codecs().jpeg8_encode(a, level=95)), 12),
    ("jpeg_extended_12bit", uid.JPEGExtended12Bit, 12, False,
     _frame_encoder(uid.JPEGExtended12Bit, lambda a: _codecs().jpeg8_encode(a, level=95, bitspersample=12)), 200),
    ("jpeg_lossless_p14", uid.JPEGLossless, 12, False,
     _frame_encoder(uid.JPEGLossless, lambda a: _codecs().jpeg8_encode(a, lossless=True, predictor=7,
                                                                         bitspersample=12)), 0),
    ("jpeg_lossless_sv1", uid.JPEGLosslessSV1, 16, False,
     _frame_encoder(uid.JPEGLosslessSV1, lambda a: _codecs().jpeg8_encode(a, lossless=True, predictor=1,
                                                                            bitspersample=16)), 0),
    ("htj2k_lossless", uid.HTJ2KLossless, 16, False,
     _frame_encoder(uid.HTJ2KLossless, lambda a: _codecs().htj2k_encode(a, reversible=True)), 0),
    ("htj2k_lossless_rpcl", uid.HTJ2KLosslessRPCL, 12, False,
     _frame_encoder(uid.HTJ2KLosslessRPCL, lambda a: _codecs().htj2k_encode(a, reversible=True)), 0),
    ("htj2k_lossy", uid.HTJ2K, 12, False,
     _frame_encoder(uid.HTJ2K, lambda a: _codecs().htj2k_encode(a, reversible=False, level=0.001)), 200),
]


@pytest.mark.parametrize(("syntax", "bits", "signed", "encode", "max_error"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_transfer_syntax_decodes_to_the_original(tmp_path, syntax, bits, signed, encode, max_error):
    original = phantom(40, 48, bits=bits, signed=signed)
    ds = make_dataset(original, bits_stored=bits, signed=signed,
                      transfer_syntax=syntax if encode is None else uid.ExplicitVRLittleEndian)
    if encode is not None:
        ds = encode(ds)
    assert str(ds.file_meta.TransferSyntaxUID) == syntax
    path = save(ds, tmp_path / "x.dcm")

    r = read_radiograph(path)

    assert r.source.transfer_syntax == syntax
    assert r.shape == original.shape
    error = np.abs(r.pixels.astype(np.float64) - original.astype(np.float64)).max()
    if max_error == 0:
        np.testing.assert_array_equal(r.pixels, original.astype(np.float32))
        assert not r.source.lossy
    else:
        assert 0 < error <= max_error or error == 0
        assert "lossy" in r.qc_flags
    # the pattern survives even lossy coding: correlation with the original
    assert np.corrcoef(r.pixels.ravel(), original.ravel().astype(np.float64))[0, 1] > 0.95


def test_deflated_file_is_really_deflated(tmp_path):
    original = phantom(64, 64, bits=12)
    ds = make_dataset(original, transfer_syntax=uid.DeflatedExplicitVRLittleEndian)
    path = save(ds, tmp_path / "d.dcm")
    assert path.stat().st_size < original.nbytes  # zlib shrank it: it was written deflated
    np.testing.assert_array_equal(read_radiograph(path).pixels, original)


@pytest.mark.parametrize("syntax", [uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian, uid.ExplicitVRBigEndian])
def test_file_without_preamble_or_file_meta_is_read(tmp_path, syntax):
    original = phantom(bits=12)
    ds = make_dataset(original, transfer_syntax=syntax, ImageLaterality="L")
    path = save(ds, tmp_path / "bare", preamble=False)
    r = read_radiograph(path)
    np.testing.assert_array_equal(r.pixels, original)
    assert "no_file_meta" in r.qc_flags
    assert r.laterality.value == "L"


def test_stray_leading_bytes_are_skipped(tmp_path):
    original = phantom(bits=12)
    path = save(make_dataset(original, transfer_syntax=uid.ExplicitVRLittleEndian), tmp_path / "bare", preamble=False)
    path.write_bytes(b" " + path.read_bytes())
    r = read_radiograph(path)
    np.testing.assert_array_equal(r.pixels, original)
    assert "leading_bytes_skipped" in r.qc_flags


def test_multiframe_reads_the_chosen_frame(tmp_path):
    frames = np.stack([phantom(bits=12, seed=s) for s in range(3)])
    ds = make_dataset(frames, bits_stored=12, frames=3)
    path = save(ds, tmp_path / "mf.dcm")
    r = read_radiograph(path, frame=2)
    np.testing.assert_array_equal(r.pixels, frames[2])
    assert (r.source.frames, r.source.frame) == (3, 2)


def test_multiframe_compressed_reads_the_chosen_frame(tmp_path):
    frames = np.stack([phantom(64, 64, bits=12, seed=s) for s in range(2)])
    ds = make_dataset(frames, bits_stored=12, frames=2)
    ds.compress(uid.JPEG2000Lossless)
    path = save(ds, tmp_path / "mf.dcm")
    np.testing.assert_array_equal(read_radiograph(path, frame=1).pixels, frames[1])
