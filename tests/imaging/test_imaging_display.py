"""Renderings for people: the VOI window follows the inversion."""

from __future__ import annotations

import numpy as np
from PIL import Image

from wristbme.imaging import read_radiograph
from wristbme.imaging.display import display_window, save_png, to_uint8

from .dicom_factory import make_dataset, phantom, save
from .test_imaging_pixels import complement


def test_monochrome1_and_2_render_identically_through_their_voi_window(tmp_path):
    mono2 = phantom(bits=12)
    kw = dict(WindowCenter=1500, WindowWidth=1000)
    a = read_radiograph(save(make_dataset(mono2, **kw), tmp_path / "a.dcm"))
    # MONO1 window is in the same modality units but on the inverted scale: centre 4095 - 1500
    b = read_radiograph(save(make_dataset(complement(mono2, 12, False), photometric="MONOCHROME1",
                                          WindowCenter=4095 - 1500, WindowWidth=1000), tmp_path / "b.dcm"))
    assert display_window(a) == display_window(b) == (1000.0, 2000.0)
    np.testing.assert_array_equal(to_uint8(a), to_uint8(b))


def test_save_png_writes_a_bone_bright_picture(tmp_path):
    stored = np.full((20, 20), 3000, np.uint16)
    stored[5:15, 8:12] = 500  # bone, MONOCHROME1: stored low
    r = read_radiograph(save(make_dataset(stored, photometric="MONOCHROME1"), tmp_path / "m1.dcm"))
    png = np.asarray(Image.open(save_png(r, tmp_path / "m1.png")))
    assert png[5:15, 8:12].mean() > png[:, :5].mean()
