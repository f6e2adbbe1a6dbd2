"""Canonical orientation and the affine that maps back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wristbme.imaging import CanonicalTransform, Laterality, Radiograph, View, to_canonical


def _radiograph(laterality="L", view="PA", shape=(5, 7)):
    pixels = np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape)
    return Radiograph(pixels, (0.1, 0.1), spacing_source="PixelSpacing", laterality=laterality, view=view)


@pytest.mark.parametrize(("laterality", "view", "mirrored"), [
    ("L", "PA", True), ("R", "PA", False), ("R", "AP", True), ("L", "AP", False), ("U", "PA", False),
    ("L", "UNKNOWN", True),
])
def test_which_hands_are_mirrored(laterality, view, mirrored):
    r = _radiograph(laterality, view)
    c, tf = to_canonical(r)
    expected = r.pixels[:, ::-1] if mirrored else r.pixels
    np.testing.assert_array_equal(c.pixels, expected)
    assert ("mirrored" in c.qc_flags) is mirrored and tf.is_identity is (not mirrored)
    assert c.laterality is Laterality(laterality) and "canonical" in c.qc_flags
    assert ("laterality_unknown" in c.qc_flags) is (laterality == "U")


def test_points_map_to_the_same_pixel_values():
    r = _radiograph("L")
    c, tf = to_canonical(r)
    pts = np.array([[0, 0], [6, 4], [2, 3]], dtype=float)  # (x, y) in the original
    mapped = tf.forward(pts)
    for (x, y), (cx, cy) in zip(pts, mapped, strict=True):
        assert r.pixels[int(y), int(x)] == c.pixels[int(cy), int(cx)]
    np.testing.assert_allclose(tf.inverse(mapped), pts)


def test_second_call_is_identity():
    c, _ = to_canonical(_radiograph("L"))
    c2, tf2 = to_canonical(c)
    assert c2 is c and tf2.is_identity


@given(angle=st.floats(-np.pi, np.pi), cx=st.floats(-50, 50), cy=st.floats(-50, 50),
       pts=st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=8))
def test_round_trip_and_composition(angle, cx, cy, pts):
    shape = (40, 30)
    mirror = CanonicalTransform.mirror_x(shape)
    rot = CanonicalTransform.rotation(angle, (cx, cy), shape)
    both = mirror.then(rot)
    p = np.array(pts)
    np.testing.assert_allclose(both.forward(p), rot.forward(mirror.forward(p)), atol=1e-6)
    np.testing.assert_allclose(both.inverse(both.forward(p)), p, atol=1e-6)
    np.testing.assert_allclose(both.inverted().forward(both.forward(p)), p, atol=1e-6)


def test_rotation_direction_and_warp():
    shape = (21, 21)
    quarter = CanonicalTransform.rotation(np.pi / 2, (10, 10), shape)
    # counter-clockwise as displayed (y down): a point to the right of the centre moves up
    np.testing.assert_allclose(quarter.forward(np.array([[15.0, 10.0]])), [[10.0, 5.0]], atol=1e-9)
    img = np.zeros(shape, np.float32)
    img[10, 15] = 1.0
    out = quarter.warp(img, order=0)
    assert out[5, 10] == 1.0 and out.sum() == 1.0


def test_invalid_matrix_and_shape_mismatch_are_refused():
    with pytest.raises(ValueError, match="invertible 3x3 affine"):
        CanonicalTransform(np.zeros((3, 3)), (2, 2), (2, 2))
    with pytest.raises(ValueError, match="cannot compose"):
        CanonicalTransform.identity((2, 2)).then(CanonicalTransform.identity((3, 3)))


def test_view_enum_is_kept():
    c, _ = to_canonical(_radiograph("R", "AP"))
    assert c.view is View.AP
