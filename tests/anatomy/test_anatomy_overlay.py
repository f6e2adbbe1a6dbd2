"""The overlay picture: outlines in bone colours, flagged regions, label placement, caption and legend."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np

from wristbme.anatomy.overlay import (
    _COLOURS,
    WARNING,
    _overlap,
    _render,
    caption_lines,
    render_overlay,
    save_overlay,
)
from wristbme.bones import Bone
from wristbme.i18n import t


def _flag_all(an, reasons=("low_confidence",)):
    regions = {b: replace(r, qc_flags=tuple(reasons)) for b, r in an.regions.items()}
    return replace(an, regions=regions, qc_flags=("low_confidence",))


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
    english = render_overlay(ph.radiograph, an, lang="en")
    assert np.abs(plain.astype(int) - english.astype(int)).sum() > 1000  # other labels, caption and legend
    out = save_overlay(ph.radiograph, an, tmp_path / "o.png", scores={"radius": 50})
    assert out.exists() and out.stat().st_size > 1000


def test_label_boxes_never_overlap_each_other_or_the_caption(right_phantom):
    ph, an = right_phantom
    assert len(an.regions) == 15
    for lang in ("en", "ja"):
        img, boxes = _render(ph.radiograph, an, scores=None, lang=lang)
        assert set(boxes) == set(an.regions)
        for (a, ba), (b, bb) in combinations(boxes.items(), 2):
            assert _overlap(ba, bb, 0.0) == 0, (lang, a, b, ba, bb)
        for x0, y0, x1, y1 in boxes.values():
            assert 0 <= x0 < x1 <= img.shape[1] and 0 <= y0 < y1 <= img.shape[0]
    # crowded: every region on one spot; the greedy placement still separates all 15 labels
    one = an.regions[Bone.CAPITATE].polygon_mm
    crowded = replace(an, regions={b: replace(r, polygon_mm=one) for b, r in an.regions.items()})
    _, boxes = _render(ph.radiograph, crowded, scores=None, lang="en")
    for (a, ba), (b, bb) in combinations(boxes.items(), 2):
        assert _overlap(ba, bb, 0.0) == 0, (a, b)


def test_flagged_region_keeps_its_bone_colour_and_gets_a_warning_label(right_phantom):
    ph, an = right_phantom
    flagged = _flag_all(an)
    img, boxes = _render(ph.radiograph, flagged, scores=None, lang="en")
    for bone in (Bone.ULNA, Bone.RADIUS, Bone.MC5):
        assert np.all(img == np.array(_COLOURS[bone]), axis=-1).sum() > 30, bone  # dashed, bone colour
        x0, y0, x1, y1 = boxes[bone]
        assert tuple(img[y0, (x0 + x1) // 2]) == WARNING  # red frame round the label
    assert not np.all(img == np.array((255, 140, 0)), axis=-1).any()  # the old orange is gone
    plain, plain_boxes = _render(ph.radiograph, an, scores=None, lang="en")
    unflagged = [b for b in an.regions if not an.regions[b].qc_flags]
    assert unflagged
    x0, y0, x1, y1 = plain_boxes[unflagged[0]]
    assert tuple(plain[y0, (x0 + x1) // 2]) != WARNING
    # dashed: fewer outline pixels in the bone colour than the solid outline
    solid = np.all(plain == np.array(_COLOURS[unflagged[0]]), axis=-1).sum()
    dashed = np.all(img == np.array(_COLOURS[unflagged[0]]), axis=-1).sum()
    assert dashed < solid


def test_caption_names_each_flagged_region_with_its_reasons_apart_from_missing_bones(right_phantom):
    _, an = right_phantom
    regions = dict(an.regions)
    regions[Bone.ULNA] = replace(regions[Bone.ULNA], qc_flags=("low_confidence",))
    regions[Bone.SCAPHOID] = replace(regions[Bone.SCAPHOID], qc_flags=("low_confidence",))
    regions[Bone.MC2] = replace(regions[Bone.MC2], qc_flags=("cropped",))
    regions = {b: (r if b in (Bone.ULNA, Bone.SCAPHOID, Bone.MC2) else replace(r, qc_flags=()))
               for b, r in regions.items()}
    del regions[Bone.PISIFORM]
    weak = replace(an, regions=regions, qc_flags=("cropped", "low_confidence"), confidence=1.0)
    for lang in ("en", "ja"):
        lines = caption_lines(weak, lang)
        text = "\n".join(lines)
        low, cut = t("anatomy.qc.low_confidence", lang), t("anatomy.qc.cropped", lang)
        s, u, mc2, p = (("S", "U", "MC2", "P") if lang == "en" else
                        (Bone.SCAPHOID.label("ja"), Bone.ULNA.label("ja"), "第2MC", Bone.PISIFORM.label("ja")))
        sep = ", " if lang == "en" else "、"  # the Japanese enumeration comma between Japanese bone names
        assert f"{u}{sep}{s}: {low}" in text or f"{s}{sep}{u}: {low}" in text
        assert f"{mc2}: {cut}" in text
        # the image flag says how many regions are weak; the number beside it is the pose match
        assert t("anatomy.overlay.low_confidence_regions", lang, n=2) in lines[0]
        assert t("anatomy.overlay.confidence", lang, value="1.00") == lines[1]
        missing = [line for line in lines if p in line.split(":")[-1]]
        assert missing == [t("anatomy.overlay.missing_regions", lang, bones=p)]
        flagged_line = next(line for line in lines if mc2 in line)
        assert p not in flagged_line.split(":", 1)[1]
    # an image-wide flag on every region is said once, not repeated per region
    immature = replace(an, qc_flags=("skeletally_immature",),
                       regions={b: replace(r, qc_flags=("skeletally_immature",) + (("low_confidence",)
                                                                                   if b == Bone.ULNA else ()))
                                for b, r in an.regions.items()})
    text = "\n".join(caption_lines(immature, "en"))
    assert text.count(t("anatomy.qc.skeletally_immature", "en")) == 1
    assert t("anatomy.overlay.all_regions", "en") in text and "U: low confidence" in text
