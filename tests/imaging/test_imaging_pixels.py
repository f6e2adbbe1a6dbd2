"""Modality LUT, MONOCHROME1/2, Presentation LUT Shape, signed pixels, BitsStored < BitsAllocated."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from wristbme.imaging import read_radiograph
from wristbme.imaging._processing import stored_value_range

from .dicom_factory import make_dataset, phantom, save


def complement(arr: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """The MONOCHROME1 encoding of a MONOCHROME2 image: mirror about the Bits Stored range."""
    lo, hi = stored_value_range(bits, signed)
    return (lo + hi - arr.astype(np.int64)).astype(arr.dtype)


@pytest.mark.parametrize("signed", [False, True])
def test_monochrome1_and_monochrome2_of_the_same_image_give_the_same_pixels(tmp_path, signed):
    mono2 = phantom(bits=12, signed=signed)
    a = read_radiograph(save(make_dataset(mono2, bits_stored=12, signed=signed), tmp_path / "m2.dcm"))
    b = read_radiograph(save(make_dataset(complement(mono2, 12, signed), bits_stored=12, signed=signed,
                                          photometric="MONOCHROME1"), tmp_path / "m1.dcm"))
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert b.source.inverted and not a.source.inverted


def test_monochrome1_inversion_happens_after_the_rescale(tmp_path):
    mono2 = phantom(bits=12)
    kw = dict(bits_stored=12, RescaleSlope=0.5, RescaleIntercept=-100)
    a = read_radiograph(save(make_dataset(mono2, **kw), tmp_path / "m2.dcm"))
    b = read_radiograph(save(make_dataset(complement(mono2, 12, False), photometric="MONOCHROME1", **kw),
                             tmp_path / "m1.dcm"))
    # MONO2: 0.5*s - 100.  MONO1 of the same image: pivot - (0.5*(4095 - s) - 100) with pivot = -100 + 1947.5
    np.testing.assert_allclose(a.pixels, 0.5 * mono2 - 100)
    np.testing.assert_allclose(b.pixels, a.pixels)
    assert b.source.inversion_pivot == pytest.approx(-100 + (0.5 * 4095 - 100))


def test_bone_is_brighter_than_background_for_monochrome1(tmp_path):
    # MONOCHROME1: bone is stored LOW (displayed white); after reading it must be HIGH.
    stored = np.full((20, 20), 3000, np.uint16)
    stored[5:15, 8:12] = 500  # "bone"
    r = read_radiograph(save(make_dataset(stored, photometric="MONOCHROME1"), tmp_path / "m1.dcm"))
    assert r.pixels[5:15, 8:12].mean() > r.pixels[:, :5].mean()


def test_modality_lut_sequence_is_applied(tmp_path):
    stored = np.arange(12, dtype=np.uint16).reshape(3, 4) + 10
    item = Dataset()
    item.LUTDescriptor = [8, 12, 16]  # 8 entries, first stored value mapped = 12
    item.LUTData = [100, 200, 300, 400, 500, 600, 700, 800]
    item.ModalityLUTType = "US"
    ds = make_dataset(stored, ModalityLUTSequence=[item])
    ds["ModalityLUTSequence"][0]["LUTData"].VR = "US"
    r = read_radiograph(save(ds, tmp_path / "lut.dcm"))
    expected = np.take(np.array(item.LUTData), np.clip(stored.astype(int) - 12, 0, 7))
    np.testing.assert_array_equal(r.pixels, expected)


def test_presentation_lut_shape_inverse_inverts_monochrome2(tmp_path):
    mono2 = phantom(bits=12)
    plain = read_radiograph(save(make_dataset(mono2), tmp_path / "a.dcm"))
    inverse = read_radiograph(save(make_dataset(complement(mono2, 12, False), PresentationLUTShape="INVERSE"),
                                   tmp_path / "b.dcm"))
    np.testing.assert_array_equal(plain.pixels, inverse.pixels)


def test_monochrome1_with_inverse_shape_is_one_inversion_not_two(tmp_path):
    mono2 = phantom(bits=12)
    a = read_radiograph(save(make_dataset(mono2), tmp_path / "a.dcm"))
    b = read_radiograph(save(make_dataset(complement(mono2, 12, False), photometric="MONOCHROME1",
                                          PresentationLUTShape="INVERSE"), tmp_path / "b.dcm"))
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_unused_high_bits_are_masked_and_sign_extended(tmp_path):
    values = np.array([[-2048, -1, 0], [1, 2047, 5]], dtype=np.int16)
    raw = values.astype(np.uint16) & 0x0FFF
    raw |= 0xA000  # garbage (e.g. overlay bits) above Bits Stored
    ds = make_dataset(raw, bits_stored=12, signed=True)
    r = read_radiograph(save(ds, tmp_path / "s.dcm"))
    np.testing.assert_array_equal(r.pixels, values)


def test_voi_window_is_kept_not_applied(tmp_path):
    stored = phantom(bits=12)
    r = read_radiograph(save(make_dataset(stored, WindowCenter=[1000, 2000], WindowWidth=[400, 800]),
                             tmp_path / "v.dcm"))
    np.testing.assert_array_equal(r.pixels, stored)
    assert r.source.voi_window == (1000.0, 400.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bits=st.integers(1, 16), signed=st.booleans(), mono1=st.booleans(), seed=st.integers(0, 2**16),
       allocated16=st.booleans())
def test_property_any_bit_depth_signedness_photometric(tmp_path_factory, bits, signed, mono1, seed, allocated16):
    if signed and bits < 2:
        bits = 2
    lo, hi = stored_value_range(bits, signed)
    rng = np.random.default_rng(seed)
    values = rng.integers(lo, hi + 1, size=(5, 7))
    allocated = 16 if (allocated16 or bits > 8) else 8
    dtype = {(8, False): np.uint8, (8, True): np.int8, (16, False): np.uint16, (16, True): np.int16}[
        (allocated, signed)]
    stored = values.astype(dtype)
    ds = make_dataset(stored, bits_stored=bits, bits_allocated=allocated, signed=signed,
                      photometric="MONOCHROME1" if mono1 else "MONOCHROME2",
                      transfer_syntax=ExplicitVRLittleEndian)
    path = save(ds, tmp_path_factory.mktemp("p") / "x.dcm")
    r = read_radiograph(path)
    expected = (lo + hi - values) if mono1 else values
    np.testing.assert_array_equal(r.pixels, expected.astype(np.float32))
    assert r.pixels.dtype == np.float32
    assert lo <= r.pixels.min() and r.pixels.max() <= hi  # inversion stays inside the representable range


@given(bits=st.integers(2, 16), signed=st.booleans(), slope=st.sampled_from([1.0, 0.5, 1.5, -2.0, 0.684]),
       intercept=st.sampled_from([0.0, -100.0, 200.0, -1024.0]), seed=st.integers(0, 1000))
def test_fused_path_equals_the_two_steps_in_order(bits, signed, slope, intercept, seed):
    from wristbme.imaging._processing import (
        ModalityLut,
        apply_modality_lut,
        invert_in_place,
        modality_output_range,
        modality_then_presentation,
    )

    lo, hi = stored_value_range(bits, signed)
    dtype = (np.int16 if signed else np.uint16)
    stored = np.random.default_rng(seed).integers(lo, hi + 1, size=(6, 5)).astype(dtype)
    lut = ModalityLut(slope=slope, intercept=intercept)
    out_range = modality_output_range(lut, (lo, hi))
    expected = apply_modality_lut(stored, lut)
    pivot = invert_in_place(expected, out_range)
    fused, fused_pivot = modality_then_presentation(stored, lut, out_range)
    assert fused_pivot == pivot
    np.testing.assert_allclose(fused, expected, rtol=1e-6, atol=1e-3 * max(1.0, abs(slope) * (hi - lo)) * 1e-3)
