"""Region- and image-level QC checks: neighbour spacing, bone signal, hand size (skeletal immaturity)."""

from __future__ import annotations

import numpy as np
import pytest

from wristbme.anatomy import _qc, locate
from wristbme.bones import Bone
from wristbme.imaging.radiograph import Radiograph, SpacingSource

from .conftest import located


def _cues(**over) -> dict[str, dict[str, float]]:
    """Region cues of a plausible wrist, with ``over`` = {bone: {cue: value}} changed."""
    cues = {b.value: {"contrast": 0.8, "landmark_ncc": 0.7} for b in Bone}
    for (a, b), _ in _qc.NEIGHBOUR_LIMITS.items():
        cues[a.value][f"spacing_{b.value}"] = 1.0
        cues[b.value][f"spacing_{a.value}"] = 1.0
    for bone, d in over.items():
        cues[bone].update(d)
    return cues


def test_plausible_wrist_has_no_implausible_region():
    assert _qc.implausible_regions(_cues()) == set()


def test_collapsed_metacarpal_bases_flag_both_bones_of_the_pair():
    got = _qc.implausible_regions(_cues(mc4={"spacing_mc5": 0.65}))
    assert got == {Bone.MC4, Bone.MC5}


def test_triquetrum_far_from_the_ulna_is_implausible():
    assert Bone.TRIQUETRUM in _qc.implausible_regions(_cues(ulna={"spacing_triquetrum": 1.2}))


def test_ulna_region_without_bone_signal_is_implausible():
    assert _qc.implausible_regions(_cues(ulna={"contrast": 0.2})) == {Bone.ULNA}


def test_carpal_that_does_not_look_like_a_carpal_is_implausible():
    assert _qc.implausible_regions(_cues(triquetrum={"landmark_ncc": 0.05})) == {Bone.TRIQUETRUM}
    assert _qc.implausible_regions(_cues(mc3={"landmark_ncc": 0.05})) == set()  # carpals only


def test_thumb_base_that_does_not_look_like_one_is_implausible():
    """SHS_NET test_img2: the MC1 region lay on the thumb shaft (patch NCC 0.32; real adults >= 0.59)."""
    assert _qc.implausible_regions(_cues(mc1={"landmark_ncc": 0.32})) == {Bone.MC1}
    assert _qc.implausible_regions(_cues(mc1={"landmark_ncc": 0.55})) == set()


@pytest.mark.parametrize("partner", ["scaphoid", "lunate"])
def test_radius_is_doubtful_when_its_radiocarpal_partner_is_not_found(partner):
    """The radius region ends at the radiocarpal joint, fitted with the scaphoid and lunate (RAM-W600 0210:
    scaphoid not recognised, radius region tilted into it)."""
    assert _qc.implausible_regions(_cues(**{partner: {"landmark_ncc": 0.05}})) == {Bone(partner), Bone.RADIUS}


def test_adult_phantom_regions_are_not_flagged_by_the_new_checks(right_phantom):
    _, an = right_phantom
    assert "skeletally_immature" not in an.qc_flags
    flagged = [b for b, r in an.regions.items() if r.qc_flags and b is not Bone.PISIFORM]
    assert flagged == []


def test_small_hand_in_mm_is_flagged_skeletally_immature_on_every_region():
    ph, _ = located("R", 0.0)
    rg = ph.radiograph
    sp = rg.spacing_mm[0] * 0.72  # the same image, declared at a finer spacing: a hand 72 % of adult size
    small = Radiograph(rg.pixels, (sp, sp), SpacingSource.USER, laterality=rg.laterality)
    an = locate(small)
    assert "skeletally_immature" in an.qc_flags
    assert all("skeletally_immature" in r.qc_flags for r in an.regions.values())


def _read(path, spacing_mm: float, laterality: str = "U") -> Radiograph:
    from PIL import Image

    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    return Radiograph(img, (spacing_mm, spacing_mm), SpacingSource.USER, laterality=laterality)


@pytest.mark.slow
def test_real_infant_hand_is_not_scored_and_adult_wrist_is_not_called_immature(shared_dir):
    root = shared_dir / "data" / "radiographs"
    infant = locate(_read(root / "radinformatics" / "9.png", 0.15))
    assert {"skeletally_immature", "not_identifiable"} & set(infant.qc_flags)
    assert all(r.qc_flags for r in infant.regions.values())
    adult = locate(_read(root / "ramw600" / "0023_0001_L.bmp", 0.16, "L"))
    assert "skeletally_immature" not in adult.qc_flags
    assert "not_identifiable" not in adult.qc_flags
