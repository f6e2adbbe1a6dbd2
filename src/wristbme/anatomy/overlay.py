"""A picture of a located wrist for a clinician: radiograph, regions labelled by bone, landmarks, QC flags.

Every region keeps its bone's colour. A region with QC flags is drawn dashed and its label carries a "?" in
a red-framed box; the caption lists each flagged region with its reasons, separately from the bones not
found, and names the pose match (how well the atlas fits the whole wrist) apart from the image flags.
Labels are placed greedily so that no two overlap (a thin leader line joins a moved label to its region).
A legend names the dashed reference region, the axes, the landmarks and the flag marker. Optional
per-bone scores (0–100) fill the regions with a colour scale (blue 0 → red 100) and a colour bar.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from wristbme.anatomy.types import LANDMARKS, WristAnatomy
from wristbme.bones import Bone
from wristbme.i18n import join_list, t

MAX_SIDE_PX = 1400
MIN_SIDE_PX = 900
"""The overlay is scaled so its longer side lies in [MIN_SIDE_PX, MAX_SIDE_PX] (text stays legible)."""

_COLOURS = {
    Bone.RADIUS: (255, 210, 60), Bone.ULNA: (255, 160, 40),
    Bone.SCAPHOID: (80, 200, 255), Bone.LUNATE: (120, 255, 120), Bone.TRIQUETRUM: (255, 120, 200),
    Bone.PISIFORM: (200, 140, 255), Bone.TRAPEZIUM: (60, 255, 220), Bone.TRAPEZOID: (255, 255, 140),
    Bone.CAPITATE: (140, 180, 255), Bone.HAMATE: (255, 140, 110),
    Bone.MC1: (180, 255, 60), Bone.MC2: (60, 220, 160), Bone.MC3: (100, 160, 255), Bone.MC4: (230, 120, 255),
    Bone.MC5: (255, 100, 140),
}
_SHORT = {Bone.RADIUS: "R", Bone.ULNA: "U", Bone.SCAPHOID: "S", Bone.LUNATE: "L", Bone.TRIQUETRUM: "Tq",
          Bone.PISIFORM: "P", Bone.TRAPEZIUM: "Tm", Bone.TRAPEZOID: "Td", Bone.CAPITATE: "C", Bone.HAMATE: "H",
          Bone.MC1: "MC1", Bone.MC2: "MC2", Bone.MC3: "MC3", Bone.MC4: "MC4", Bone.MC5: "MC5"}
WARNING = (255, 40, 40)
"""Frame of a flagged region's label (and of the flag sample in the legend)."""
_LANDMARK = (255, 40, 40)
_REFERENCE = (170, 170, 170)
_AXIS = (255, 255, 255)


@cache
def _font(size: int, lang: str):
    from PIL import ImageFont

    candidates = []
    if lang == "ja":
        candidates += ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                       "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
                       "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
                       "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"]
    try:
        import matplotlib

        candidates.append(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"))
    except ImportError:  # pragma: no cover
        pass
    candidates.append("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    for c in candidates:
        if Path(c).exists():
            return ImageFont.truetype(c, size), (lang == "ja" and "CJK" in c)
    return ImageFont.load_default(), False


def window(pixels: np.ndarray) -> np.ndarray:
    """Display windowing: the 0.5–99.5 percentiles of the image to 0–255 (uint8)."""
    finite = pixels[np.isfinite(pixels)]
    if finite.size == 0:
        return np.zeros(pixels.shape, dtype=np.uint8)
    lo, hi = np.percentile(finite[:: max(1, finite.size // 200_000)], [0.5, 99.5])
    scaled = (np.nan_to_num(pixels, nan=lo) - lo) / max(hi - lo, 1e-6)
    return (np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def _score_colour(score: float) -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _ = colormaps["coolwarm"](float(np.clip(score, 0, 100)) / 100.0)
    return int(r * 255), int(g * 255), int(b * 255)


def short_name(bone: Bone, lang: str = "en") -> str:
    """The label drawn on a region: "R", "Tq", "MC2" in English, the bone's Japanese name in Japanese."""
    return _SHORT[bone] if lang != "ja" else bone.label("ja").replace("中手骨基部", "MC")


def caption_lines(anatomy: WristAnatomy, lang: str = "en", *, scored: bool = False) -> list[str]:
    """The caption texts (unwrapped) for ``anatomy``.

    Image flags first (``low_confidence`` says how many regions are weak), then the pose match, the flagged
    regions grouped by their reasons (``"R, S: low confidence; MC2: cropped"``; an image flag carried by every
    region is said once as "all regions") and the bones not found.
    """
    lines = []
    weak = sum("low_confidence" in r.qc_flags for r in anatomy.regions.values())
    if anatomy.qc_flags:
        texts = [t("anatomy.overlay.low_confidence_regions", lang, n=weak) if q == "low_confidence"
                 else t(f"anatomy.qc.{q}", lang) for q in anatomy.qc_flags]
        lines.append(t("anatomy.overlay.flags", lang, flags=join_list(texts, lang)))
    else:
        lines.append(t("anatomy.overlay.no_flags", lang))
    lines.append(t("anatomy.overlay.confidence", lang, value=f"{anatomy.confidence:.2f}"))
    # a flag on every region that the image QC line already names is said once ("all regions")
    regions = [anatomy.regions[b] for b in Bone if b in anatomy.regions]
    common = set.intersection(*(set(r.qc_flags) for r in regions)) if regions else set()
    common &= set(anatomy.qc_flags)
    groups: dict[tuple[str, ...], list[Bone]] = {}
    for reg in regions:
        own = tuple(q for q in reg.qc_flags if q not in common)
        if own:
            groups.setdefault(own, []).append(reg.bone)
    parts = [t("anatomy.overlay.all_regions", lang)] if common else []
    parts += [t("anatomy.overlay.region_reasons", lang, bones=join_list((short_name(b, lang) for b in bones), lang),
                reasons=join_list((t(f"anatomy.qc.{q}", lang) for q in flags), lang))
              for flags, bones in groups.items()]
    if parts:
        lines.append(t("anatomy.overlay.flagged_regions", lang, bones="; ".join(parts)))
    missing = [b for b in Bone if b not in anatomy.regions]
    if missing:
        lines.append(t("anatomy.overlay.missing_regions", lang,
                        bones=join_list((short_name(b, lang) for b in missing), lang)))
    if anatomy.corrections:
        lines.append(t("anatomy.overlay.corrected", lang))
    if scored:
        lines.append(t("anatomy.overlay.score_legend", lang))
    return lines


def render_overlay(radiograph, anatomy: WristAnatomy, *, scores: dict | None = None, lang: str = "en"
                   ) -> np.ndarray:
    """RGB uint8 image (H, W, 3) of the radiograph with regions, landmarks, QC flags and optional scores.

    Parameters
    ----------
    radiograph : Radiograph
        The image the anatomy was located on (same shape).
    anatomy : WristAnatomy
    scores : dict, optional
        ``Bone`` (or bone name) → score in 0–100, drawn as a translucent fill.
    lang : {"en", "ja"}
        Language of labels, caption and legend (English when no CJK font is installed).
    """
    return _render(radiograph, anatomy, scores=scores, lang=lang)[0]


def save_overlay(radiograph, anatomy: WristAnatomy, path: str | Path, *, scores: dict | None = None,
                 lang: str = "en") -> Path:
    """Render (``render_overlay``) and write a PNG; returns the path."""
    from PIL import Image

    out = Path(path)
    Image.fromarray(render_overlay(radiograph, anatomy, scores=scores, lang=lang)).save(out)
    return out


def _render(radiograph, anatomy: WristAnatomy, *, scores: dict | None, lang: str):
    """The overlay and its layout: ``(rgb, {bone: label box (x0, y0, x1, y1) in overlay pixels})``."""
    from PIL import Image, ImageDraw

    pixels = radiograph.pixels if hasattr(radiograph, "pixels") else np.asarray(radiograph)
    grey = window(pixels)
    rows, cols = grey.shape
    f = 1.0
    if max(rows, cols) > MAX_SIDE_PX:
        f = MAX_SIDE_PX / max(rows, cols)
    elif max(rows, cols) < MIN_SIDE_PX:
        f = MIN_SIDE_PX / max(rows, cols)
    size = (max(1, int(round(cols * f))), max(1, int(round(rows * f))))
    base = Image.fromarray(grey).resize(size, Image.Resampling.BILINEAR).convert("RGB")
    score_map = {Bone.parse(k): float(v) for k, v in (scores or {}).items()}
    lw = max(2, int(round(size[0] / 500)))
    font, has_cjk = _font(max(12, int(size[0] / 55)), lang)
    small, _ = _font(max(11, int(size[0] / 70)), lang)
    label_lang = lang if (lang != "ja" or has_cjk) else "en"

    def to_img(p_mm: np.ndarray) -> np.ndarray:
        return (anatomy.to_pixels(p_mm) + 0.5) * f

    if score_map:
        fill = Image.new("RGBA", size, (0, 0, 0, 0))
        fd = ImageDraw.Draw(fill)
        for bone, s in score_map.items():
            reg = anatomy.regions.get(bone)
            if reg is not None:
                fd.polygon([tuple(p) for p in to_img(reg.polygon_mm)], fill=(*_score_colour(s), 110))
        base = Image.alpha_composite(base.convert("RGBA"), fill).convert("RGB")
    draw = ImageDraw.Draw(base)
    if anatomy.reference_region is not None:
        _dashed(draw, to_img(anatomy.reference_region), _REFERENCE, max(1, lw - 1))
    centres: dict[Bone, np.ndarray] = {}
    for bone in Bone:
        reg = anatomy.regions.get(bone)
        if reg is None:
            continue
        poly = to_img(reg.polygon_mm)
        if reg.qc_flags:
            _dashed(draw, poly, _COLOURS[bone], lw, dash=max(6.0, 4.0 * lw))
        else:
            draw.line([tuple(p) for p in np.vstack([poly, poly[:1]])], fill=_COLOURS[bone], width=lw)
        centres[bone] = poly.mean(axis=0)
    r = max(3, lw + 1)
    marks = [to_img(np.asarray(anatomy.landmarks[n])) for n in LANDMARKS if n in anatomy.landmarks]
    for x, y in marks:
        _cross(draw, x, y, r, max(1, lw - 1))
    for a, b in anatomy.axes.values():
        pa, pb = to_img(np.asarray(a)), to_img(np.asarray(b))
        _dashed(draw, np.array([pa, pb]), _AXIS, 1, closed=False)

    # caption (top left) and legend (bottom left) are laid out first: the labels avoid them
    lines = _wrap(draw, caption_lines(anatomy, label_lang, scored=bool(score_map)), small, size[0] - 24)
    caption_boxes: list[tuple[tuple[float, float, float, float], str | None]] = []
    y = 6
    for line in lines:
        box = draw.textbbox((8, y), line, font=small)
        caption_boxes.append(((box[0] - 4, box[1] - 2, box[2] + 4, box[3] + 2), line))
        y = box[3] + 6
    bar_y = y
    if score_map:
        caption_boxes.append(((4, bar_y - 2, 8 + min(200, size[0] // 4) + 4, bar_y + 12), None))
    legend = _legend_items(anatomy, label_lang)
    drawn = [b for b, _ in caption_boxes] + [_bbox(to_img(r.polygon_mm)) for r in anatomy.regions.values()]
    if anatomy.reference_region is not None:
        drawn.append(_bbox(to_img(anatomy.reference_region)))
    legend_box, legend_rows = _layout_legend(draw, legend, small, size, drawn)
    obstacles = [b for b, _ in caption_boxes] + ([legend_box] if legend_box else [])
    obstacles += [(x - r, y - r, x + r, y + r) for x, y in marks]  # labels leave the landmarks visible

    labels = []
    for bone, c in centres.items():
        text = short_name(bone, label_lang)
        if bone in score_map:
            text += f" {score_map[bone]:.0f}"
        if anatomy.regions[bone].qc_flags:
            text += "?"
        labels.append((bone, c, text))
    placed = _place_labels(draw, labels, font, size, obstacles)
    for bone, c, _ in labels:
        box = placed[bone]
        bx, by = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if np.hypot(bx - c[0], by - c[1]) > 0.5 * (box[3] - box[1]):
            ex = float(np.clip(c[0], box[0], box[2]))
            ey = float(np.clip(c[1], box[1], box[3]))
            draw.line([(ex, ey), (float(c[0]), float(c[1]))], fill=_COLOURS[bone], width=1)
            draw.ellipse((c[0] - 2, c[1] - 2, c[0] + 2, c[1] + 2), fill=_COLOURS[bone])
    for bone, _, text in labels:
        box = placed[bone]
        flagged = bool(anatomy.regions[bone].qc_flags)
        draw.rectangle(box, fill=(0, 0, 0), outline=WARNING if flagged else None, width=2 if flagged else 0)
        draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, font=font, fill=_COLOURS[bone],
                  anchor="mm")

    for cbox, cline in caption_boxes:
        if cline is None:
            continue
        draw.rectangle(cbox, fill=(0, 0, 0))
        draw.text((cbox[0] + 4, cbox[1] + 2), cline, font=small, fill=(255, 255, 255))
    if score_map:
        w = min(200, size[0] // 4)
        for i in range(w):
            draw.line([(8 + i, bar_y), (8 + i, bar_y + 10)], fill=_score_colour(100.0 * i / max(w - 1, 1)))
    if legend_box:
        _draw_legend(draw, legend_box, legend_rows, small, lw)
    return np.asarray(base), placed


def _wrap(draw, lines: list[str], font, width_px: float) -> list[str]:
    """Break caption lines longer than ``width_px`` after "; " or ", " (continuations indented)."""
    out = []
    for line in lines:
        if draw.textlength(line, font=font) <= width_px:
            out.append(line)
            continue
        cur = ""
        for piece in _pieces(line):
            if cur and draw.textlength(cur + piece, font=font) > width_px:
                out.append(cur.rstrip())
                cur = "   " + piece.lstrip()
            else:
                cur += piece
        if cur.strip():
            out.append(cur.rstrip())
    return out


def _pieces(line: str) -> list[str]:
    pieces, cur = [], ""
    for i, ch in enumerate(line):
        cur += ch
        if ch in ";,、" and (i + 1 == len(line) or line[i + 1] == " " or ch == "、"):
            pieces.append(cur)
            cur = ""
    if cur:
        pieces.append(cur)
    return pieces


def _overlap(a, b, pad: float = 2.0) -> float:
    """Overlap area of two boxes (x0, y0, x1, y1), each grown by ``pad``."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 2 * pad
    h = min(a[3], b[3]) - max(a[1], b[1]) + 2 * pad
    return max(w, 0.0) * max(h, 0.0)


def _place_labels(draw, labels, font, size, obstacles) -> dict:
    """Greedy placement: each label at its region centre when free, else at the nearest free spot on rings
    around it (12 directions, growing radius); labels stay inside the image and off the caption/legend.
    When no spot is free, the spot with the least overlap is used."""
    placed: dict = {}
    boxes = list(obstacles)
    ref = draw.textbbox((0, 0), "Mg", font=font, anchor="mm")
    step = float(ref[3] - ref[1]) + 6
    angles = np.deg2rad(np.arange(0, 360, 30) + 90)
    offsets = [(0.0, 0.0)] + [(rad * step * np.cos(a), rad * step * np.sin(a))
                              for rad in (0.5, 0.8, 1.3, 1.9, 2.6, 3.4, 4.4, 5.6) for a in angles]
    for bone, c, text in labels:
        tb = draw.textbbox((0, 0), text, font=font, anchor="mm")
        hw, hh = (tb[2] - tb[0]) / 2 + 4, (tb[3] - tb[1]) / 2 + 3
        best, best_cost = None, np.inf
        for dx, dy in offsets:
            x = float(np.clip(c[0] + dx, hw + 1, size[0] - hw - 1))
            y = float(np.clip(c[1] + dy, hh + 1, size[1] - hh - 1))
            box = (x - hw, y - hh, x + hw, y + hh)
            cost = sum(_overlap(box, b) for b in boxes)
            if cost == 0:
                best = box
                break
            if cost < best_cost:
                best, best_cost = box, cost
        assert best is not None  # offsets is never empty
        placed[bone] = tuple(int(round(v)) for v in best)
        boxes.append(placed[bone])
    return placed


def _legend_items(anatomy: WristAnatomy, lang: str) -> list[tuple[str, str]]:
    items = []
    if anatomy.reference_region is not None:
        items.append(("reference", t("anatomy.overlay.legend.reference", lang)))
    if anatomy.axes:
        items.append(("axis", t("anatomy.overlay.legend.axis", lang)))
    if anatomy.landmarks:
        items.append(("landmark", t("anatomy.overlay.legend.landmark", lang)))
    if any(r.qc_flags for r in anatomy.regions.values()):
        items.append(("flagged", t("anatomy.overlay.legend.flagged", lang)))
    return items


def _bbox(pts: np.ndarray) -> tuple[float, float, float, float]:
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def _layout_legend(draw, items, font, size, drawn):
    """The legend box in the image corner (bottom left, bottom right, top right) covering least of
    ``drawn`` (boxes of the caption, regions and reference region), and its rows."""
    if not items:
        return None, []
    heights = [draw.textbbox((0, 0), text, font=font)[3] for _, text in items]
    widths = [draw.textlength(text, font=font) for _, text in items]
    row_h = max(heights) + 6
    w = int(48 + max(widths) + 8)
    h = int(row_h * len(items) + 8)
    corners = [(4, size[1] - 4 - h), (size[0] - 4 - w, size[1] - 4 - h), (size[0] - 4 - w, 4)]
    boxes = [(x, y, x + w, y + h) for x, y in corners]
    box = min(boxes, key=lambda b: sum(_overlap(b, d, 0.0) for d in drawn))
    rows = [(kind, text, box[1] + 4 + i * row_h, row_h) for i, (kind, text) in enumerate(items)]
    return box, rows


def _draw_legend(draw, box, rows, font, lw) -> None:
    draw.rectangle(box, fill=(0, 0, 0), outline=(110, 110, 110))
    x = box[0] + 6
    for kind, text, y, row_h in rows:
        cy = y + row_h / 2
        if kind == "reference":
            _dashed(draw, np.array([[x, cy], [x + 30, cy]], dtype=float), _REFERENCE, max(1, lw - 1),
                    closed=False, dash=5.0)
        elif kind == "axis":
            _dashed(draw, np.array([[x, cy], [x + 30, cy]], dtype=float), _AXIS, 1, closed=False, dash=5.0)
        elif kind == "landmark":
            _cross(draw, x + 15, cy, max(3, lw + 1), max(1, lw - 1))
        else:
            draw.rectangle((x + 6, cy - row_h / 2 + 2, x + 26, cy + row_h / 2 - 2), outline=WARNING, width=2)
            draw.text((x + 16, cy), "?", font=font, fill=(255, 255, 255), anchor="mm")
        draw.text((x + 40, cy), text, font=font, fill=(255, 255, 255), anchor="lm")


def _cross(draw, x: float, y: float, r: float, width: int) -> None:
    draw.line([(x - r, y), (x + r, y)], fill=_LANDMARK, width=width)
    draw.line([(x, y - r), (x, y + r)], fill=_LANDMARK, width=width)


def _dashed(draw, pts: np.ndarray, colour, width: int, closed: bool = True, dash: float = 8.0) -> None:
    """Dashes of ``dash`` px along the arc length of the polyline (a dense polygon still looks dashed)."""
    p = np.vstack([pts, pts[:1]]) if closed else np.asarray(pts, dtype=float)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    total = float(seg.sum())
    if total <= 0:
        return
    s_all = np.concatenate([[0.0], np.cumsum(seg)])
    for start in np.arange(0.0, total, 2 * dash):
        s = np.concatenate([[start], s_all[(s_all > start) & (s_all < start + dash)], [min(start + dash, total)]])
        xy = np.column_stack([np.interp(s, s_all, p[:, 0]), np.interp(s, s_all, p[:, 1])])
        draw.line([tuple(q) for q in xy], fill=colour, width=width)
