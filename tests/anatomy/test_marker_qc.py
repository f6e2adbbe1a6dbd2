"""Lead side markers on the hand are not ``cast_or_metal``; metal of the same size at the same place is.

The marker is drawn by ``synth.foreign.add_marker`` (the phantom's own glyph, 10-14 mm, rotated, possibly
mirrored, on soft tissue within 15 mm of a landmark); ``solid=True`` fills the glyph's convex hull with the
same metal at the same place. False-positive rates over many phantoms: ``benchmarks/anatomy_eval.py
--markers N`` (docs/anatomy.md).
"""

from __future__ import annotations

from functools import cache

import pytest

from wristbme.anatomy import locate
from wristbme.synth import foreign

from .conftest import phantom

# (laterality, rotation_deg, seed, site, marker size mm): markers that the metal cue alone took for metal
CASES = [("R", 0.0, 31, "S01", 12.0), ("L", 0.0, 34, "S02", 12.0), ("R", -10.0, 33, "S06", 14.0)]


@cache
def _located(laterality: str, rotation_deg: float, seed: int, site: str, size_mm: float, solid: bool):
    ph = phantom(laterality, rotation_deg, 0.2, seed, "wrist", site)
    f = foreign.add_marker(ph, seed=seed, size_mm=size_mm, solid=solid)
    cues: dict = {}
    an = locate(foreign.with_pixels(ph, f.pixels), diagnostics=cues)
    return f, an, cues


@pytest.mark.parametrize("case", CASES[:2])
def test_marker_on_the_hand_is_not_metal(case):
    f, an, cues = _located(*case, solid=False)
    assert f.kind == "marker" and f.mask.any()
    assert "cast_or_metal" not in an.qc_flags
    # it was seen (a white blob large enough to count as metal) and recognised as a letter
    assert cues["marker_mm2"] >= 20.0 and cues["metal_mm2"] < 20.0


@pytest.mark.parametrize("case", CASES[:2])
def test_metal_of_the_markers_size_at_the_same_place_is_flagged(case):
    marker, _, _ = _located(*case, solid=False)
    f, an, _ = _located(*case, solid=True)
    assert f.kind == "metal_block"
    assert (f.mask & marker.mask).sum() == marker.mask.sum()  # covers the letter
    assert "cast_or_metal" in an.qc_flags
    assert all("cast_or_metal" in r.qc_flags for r in an.regions.values())


@pytest.mark.slow
def test_large_mirrored_marker_is_not_metal():
    _, an, cues = _located(*CASES[2], solid=False)
    assert "cast_or_metal" not in an.qc_flags and cues["marker_mm2"] >= 20.0


def test_add_marker_is_deterministic_and_on_soft_tissue():
    ph = phantom("R", 0.0, 0.2, 31, "wrist", "S01")
    a = foreign.add_marker(ph, seed=5, size_mm=8.0)
    b = foreign.add_marker(ph, seed=5, size_mm=8.0)
    assert (a.pixels == b.pixels).all()
    bone = sum(m.astype(int) for m in ph.bone_masks.values()) > 0
    assert not (a.mask & bone).any()
    assert (a.pixels[a.mask] >= 0.95 * ph.max_value).mean() > 0.5  # lead: at the white point
