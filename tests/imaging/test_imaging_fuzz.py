"""Damaged files: every outcome is a Radiograph or a WristBmeError, never another exception."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pydicom import uid

from wristbme.errors import WristBmeError
from wristbme.imaging import Radiograph, read_radiograph

from .dicom_factory import make_dataset, phantom, save


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orig")
    native = save(make_dataset(phantom(16, 16), PixelSpacing=[0.1, 0.1], ImageLaterality="R",
                               SeriesDescription="WRIST PA"), folder / "native.dcm")
    ds = make_dataset(phantom(64, 64))
    ds.compress(uid.JPEG2000Lossless)
    j2k = save(ds, folder / "j2k.dcm")
    ds = make_dataset(phantom(32, 32))
    ds.compress(uid.RLELossless)
    rle = save(ds, folder / "rle.dcm")
    bare = save(make_dataset(phantom(16, 16), transfer_syntax=uid.ImplicitVRLittleEndian), folder / "bare",
                preamble=False)
    png = folder / "x.png"
    Image.fromarray(phantom(16, 16, bits=8)).save(png)
    return {p.name: p.read_bytes() for p in (native, j2k, rle, bare, png)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["native.dcm", "j2k.dcm", "rle.dcm", "bare", "x.png"]),
       cut=st.one_of(st.none(), st.floats(0.0, 1.0)),
       flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6))
def test_damaged_files_fail_cleanly(originals, tmp_path_factory, name, cut, flips):
    data = bytearray(originals[name])
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(bytes(data))
    try:
        result = read_radiograph(path)
    except WristBmeError as exc:
        assert str(path) in str(exc)
    else:
        assert isinstance(result, Radiograph) and result.pixels.ndim == 2
        assert np.isfinite(result.pixels).all()
