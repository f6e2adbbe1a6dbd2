"""Spacing provenance, laterality, view and Japanese character sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from wristbme.errors import ConfigError, InputError
from wristbme.imaging import Laterality, SpacingSource, View, read_radiograph
from wristbme.imaging._header import laterality_from_text, view_from_text

from .dicom_factory import make_dataset, phantom, save


@pytest.mark.parametrize(("attrs", "spacing", "source"), [
    (dict(PixelSpacing=[0.1, 0.12], ImagerPixelSpacing=[0.15, 0.15], EstimatedRadiographicMagnificationFactor=1.2),
     (0.1, 0.12), SpacingSource.PIXEL_SPACING),
    (dict(ImagerPixelSpacing=[0.15, 0.15], EstimatedRadiographicMagnificationFactor=1.25,
          NominalScannedPixelSpacing=[0.3, 0.3]), (0.12, 0.12), SpacingSource.IMAGER_CORRECTED),
    (dict(ImagerPixelSpacing=[0.15, 0.16], NominalScannedPixelSpacing=[0.3, 0.3]), (0.15, 0.16), SpacingSource.IMAGER),
    (dict(NominalScannedPixelSpacing=[0.3, 0.3]), (0.3, 0.3), SpacingSource.NOMINAL_SCANNED),
    ({}, None, SpacingSource.UNCALIBRATED),
], ids=["pixel", "imager_corrected", "imager", "nominal_scanned", "uncalibrated"])
def test_spacing_source_precedence(tmp_path, attrs, spacing, source):
    r = read_radiograph(save(make_dataset(phantom(), **attrs), tmp_path / "s.dcm"))
    assert r.spacing_source is source
    if spacing is None:
        assert r.spacing_mm is None and "uncalibrated" in r.qc_flags
    else:
        assert r.spacing_mm == pytest.approx(spacing)
    if source is SpacingSource.IMAGER:
        assert "magnification_not_corrected" in r.qc_flags


def test_spacing_argument_is_used_only_when_the_file_states_none(tmp_path):
    bare = save(make_dataset(phantom()), tmp_path / "a.dcm")
    stated = save(make_dataset(phantom(), PixelSpacing=[0.1, 0.1]), tmp_path / "b.dcm")
    r = read_radiograph(bare, spacing_mm=0.2)
    assert (r.spacing_mm, r.spacing_source) == ((0.2, 0.2), SpacingSource.USER)
    r = read_radiograph(stated, spacing_mm=0.2)
    assert r.spacing_mm == (0.1, 0.1) and "spacing_argument_ignored" in r.qc_flags


def test_invalid_spacing_values_are_skipped_with_a_flag(tmp_path):
    ds = make_dataset(phantom(), ImagerPixelSpacing=[0.15, 0.15])
    ds.PixelSpacing = ["0", "0"]
    r = read_radiograph(save(ds, tmp_path / "z.dcm"))
    assert r.spacing_source is SpacingSource.IMAGER and "bad_PixelSpacing" in r.qc_flags


@pytest.mark.parametrize("value", [0, -1, "abc", [0.1, 0.2, 0.3], float("nan")])
def test_bad_spacing_argument_is_refused(tmp_path, value):
    path = save(make_dataset(phantom()), tmp_path / "a.dcm")
    with pytest.raises(ConfigError, match="spacing_mm must be one positive number"):
        read_radiograph(path, spacing_mm=value)


def test_sidecar_json_gives_spacing_and_laterality_for_plain_images(tmp_path):
    path = tmp_path / "hand.png"
    Image.fromarray(np.full((6, 7), 100, np.uint8)).save(path)
    (tmp_path / "hand.png.json").write_text(json.dumps({"spacing_mm": [0.16, 0.17], "laterality": "left"}))
    r = read_radiograph(path, spacing_mm=0.5)
    assert r.spacing_mm == (0.16, 0.17) and r.spacing_source is SpacingSource.USER
    assert r.laterality is Laterality.LEFT and "spacing_argument_ignored" in r.qc_flags


@pytest.mark.parametrize("content", ['{"spacing_mm": -1}', "not json", "[0.1]"])
def test_bad_sidecar_is_refused_naming_the_sidecar(tmp_path, content):
    path = tmp_path / "hand.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    (tmp_path / "hand.json").write_text(content)
    with pytest.raises(InputError, match=r"hand\.json"):
        read_radiograph(path)


@pytest.mark.parametrize(("attrs", "expected"), [
    (dict(ImageLaterality="L", Laterality="R"), Laterality.LEFT),
    (dict(Laterality="R"), Laterality.RIGHT),
    (dict(SeriesDescription="WRIST PA LEFT"), Laterality.LEFT),
    (dict(ProtocolName="R HAND 2 VIEWS"), Laterality.RIGHT),
    (dict(StudyDescription="XR HAND BILATERAL LEFT AND RIGHT"), Laterality.UNKNOWN),
    (dict(SeriesDescription="DX CHEST"), Laterality.UNKNOWN),
    (dict(ImageLaterality="B", SeriesDescription="RIGHT HAND"), Laterality.UNKNOWN),
    ({}, Laterality.UNKNOWN),
])
def test_laterality_order(tmp_path, attrs, expected):
    assert read_radiograph(save(make_dataset(phantom(), **attrs), tmp_path / "l.dcm")).laterality is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("右手関節 正面", Laterality.RIGHT), ("左手 PA", Laterality.LEFT), ("HAND L", Laterality.LEFT),
    ("L-SPINE", Laterality.UNKNOWN), ("RT WRIST", Laterality.RIGHT), ("DX HAND", Laterality.UNKNOWN),
    ("BOTH HANDS R/L", Laterality.UNKNOWN), ("両手 正面", Laterality.UNKNOWN),
])
def test_laterality_words(text, expected):
    assert laterality_from_text([text]) is expected


@pytest.mark.parametrize(("value", "expected"), [
    ("PA", View.PA), ("AP", View.AP), ("LL", View.LATERAL), ("LATERAL", View.LATERAL), ("RAO", View.OBLIQUE),
    ("", View.UNKNOWN), ("XYZ", View.UNKNOWN),
])
def test_view_position_values(value, expected):
    assert view_from_text(value) is expected


@pytest.mark.parametrize(("charset", "description", "expected"), [
    ("\\ISO 2022 IR 87", "右手関節", Laterality.RIGHT),
    ("ISO 2022 IR 13\\ISO 2022 IR 87", "ﾃｸﾋﾞ 左手", Laterality.LEFT),
    ("ISO_IR 192", "左手 正面", Laterality.LEFT),
])
def test_japanese_character_sets_decode(tmp_path, charset, description, expected):
    ds = make_dataset(phantom(), SpecificCharacterSet=charset, SeriesDescription=description,
                      PatientName="ヤマダ^タロウ=山田^太郎=やまだ^たろう", ViewPosition="PA")
    path = save(ds, tmp_path / "j.dcm")
    assert b"\x1b$B" in path.read_bytes() or charset == "ISO_IR 192"  # really ISO 2022 escape-coded
    r = read_radiograph(path)
    assert r.laterality is expected and r.view is View.PA


def test_broken_character_set_does_not_stop_reading(tmp_path):
    ds = make_dataset(phantom(), SpecificCharacterSet="ISO_IR 192")
    path = save(ds, tmp_path / "b.dcm")
    raw = path.read_bytes()
    ds2 = make_dataset(phantom(), SpecificCharacterSet="ISO_IR 192", SeriesDescription="XXXX")
    path2 = save(ds2, tmp_path / "c.dcm")
    path2.write_bytes(path2.read_bytes().replace(b"XXXX", b"\xff\xfe\xfd\xfc"))  # invalid UTF-8
    assert read_radiograph(path2).shape == read_radiograph(path).shape
    assert raw
