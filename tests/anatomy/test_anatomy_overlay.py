"""The overlay picture."""

from __future__ import annotations

import numpy as np

from wristbme.anatomy.overlay import render_overlay, save_overlay
from wristbme.bones import Bone


def test_overlay_is_rgb_and_draws_regions(right_phantom):
    ph, an = right_phantom
    img = render_overlay(ph.radiograph, an)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    # coloured pixels exist (outlines), the grey radiograph alone has none
    colour = np.abs(img[..., 0].astype(int) - img[..., 2].astype(int)) > 40
    assert colour.sum() > 500


def test_scores_fill_regions_and_japanese_labels_render(right_phantom, tmp_path):
    ph, an = right_phantom
    plain = render_overlay(ph.radiograph, an, lang="ja")
    scored = render_overlay(ph.radiograph, an, scores={Bone.LUNATE: 90.0, "capitate": 10.0}, lang="ja")
    assert plain.shape == scored.shape
    assert np.abs(plain.astype(int) - scored.astype(int)).sum() > 1000
    out = save_overlay(ph.radiograph, an, tmp_path / "o.png", scores={"radius": 50})
    assert out.exists() and out.stat().st_size > 1000
