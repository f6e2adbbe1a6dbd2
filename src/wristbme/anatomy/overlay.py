"""A picture of a located wrist for a clinician: radiograph, regions labelled by bone, landmarks, QC flags.

Regions with QC flags are drawn dashed in orange and listed under the flags; optional per-bone scores
(0–100) fill the regions with a colour scale (blue 0 → red 100) and a legend.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from wristbme.anatomy.types import LANDMARKS, WristAnatomy
from wristbme.bones import Bone
from wristbme.i18n import t

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
_FLAGGED = (255, 140, 0)


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
        Language of labels and flag texts.
    """
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
        _dashed(draw, to_img(anatomy.reference_region), (170, 170, 170), max(1, lw - 1))
    for bone in Bone:
        reg = anatomy.regions.get(bone)
        if reg is None:
            continue
        poly = to_img(reg.polygon_mm)
        colour = _COLOURS[bone]
        if reg.qc_flags:
            _dashed(draw, poly, _FLAGGED, lw)
        else:
            draw.line([tuple(p) for p in np.vstack([poly, poly[:1]])], fill=colour, width=lw)
        c = poly.mean(axis=0)
        text = _SHORT[bone] if label_lang == "en" else bone.label("ja").replace("中手骨基部", "MC")
        if bone in score_map:
            text += f" {score_map[bone]:.0f}"
        _label(draw, c, text, font, colour if not reg.qc_flags else _FLAGGED)
    r = max(3, lw + 1)
    for name in LANDMARKS:
        p = anatomy.landmarks.get(name)
        if p is None:
            continue
        x, y = to_img(np.asarray(p))
        draw.line([(x - r, y), (x + r, y)], fill=(255, 40, 40), width=max(1, lw - 1))
        draw.line([(x, y - r), (x, y + r)], fill=(255, 40, 40), width=max(1, lw - 1))
    for a, b in anatomy.axes.values():
        pa, pb = to_img(np.asarray(a)), to_img(np.asarray(b))
        _dashed(draw, np.array([pa, pb]), (255, 255, 255), 1, closed=False)
    # caption
    lines = []
    if anatomy.qc_flags:
        lines.append(t("anatomy.overlay.flags", lang,
                       flags=", ".join(t(f"anatomy.qc.{q}", label_lang) for q in anatomy.qc_flags)))
    else:
        lines.append(t("anatomy.overlay.no_flags", label_lang))
    lines.append(t("anatomy.overlay.confidence", label_lang, value=f"{anatomy.confidence:.2f}"))
    flagged = [b for b in Bone if b in anatomy.regions and anatomy.regions[b].qc_flags]
    missing = [b for b in Bone if b not in anatomy.regions]
    if flagged or missing:
        lines.append(t("anatomy.overlay.flagged_regions", label_lang,
                       bones=", ".join(_SHORT[b] for b in flagged + missing)))
    if anatomy.corrections:
        lines.append(t("anatomy.overlay.corrected", label_lang))
    if score_map:
        lines.append(t("anatomy.overlay.score_legend", label_lang))
    y = 6
    for line in lines:
        box = draw.textbbox((8, y), line, font=small)
        draw.rectangle((box[0] - 4, box[1] - 2, box[2] + 4, box[3] + 2), fill=(0, 0, 0))
        draw.text((8, y), line, font=small, fill=(255, 255, 255))
        y = box[3] + 6
    if score_map:
        w = min(200, size[0] // 4)
        for i in range(w):
            draw.line([(8 + i, y), (8 + i, y + 10)], fill=_score_colour(100.0 * i / max(w - 1, 1)))
    return np.asarray(base)


def save_overlay(radiograph, anatomy: WristAnatomy, path: str | Path, *, scores: dict | None = None,
                 lang: str = "en") -> Path:
    """Render (``render_overlay``) and write a PNG; returns the path."""
    from PIL import Image

    out = Path(path)
    Image.fromarray(render_overlay(radiograph, anatomy, scores=scores, lang=lang)).save(out)
    return out


def _label(draw, centre, text: str, font, colour) -> None:
    box = draw.textbbox((0, 0), text, font=font, anchor="mm")
    w, h = box[2] - box[0], box[3] - box[1]
    x, y = float(centre[0]), float(centre[1])
    draw.rectangle((x - w / 2 - 3, y - h / 2 - 2, x + w / 2 + 3, y + h / 2 + 2), fill=(0, 0, 0))
    draw.text((x, y), text, font=font, fill=colour, anchor="mm")


def _dashed(draw, pts: np.ndarray, colour, width: int, closed: bool = True, dash: float = 8.0) -> None:
    p = np.vstack([pts, pts[:1]]) if closed else np.asarray(pts)
    for a, b in zip(p[:-1], p[1:], strict=True):
        seg = np.linalg.norm(b - a)
        n = max(1, int(seg / dash))
        for i in range(0, n, 2):
            s, e = a + (b - a) * i / n, a + (b - a) * min(i + 1, n) / n
            draw.line([tuple(s), tuple(e)], fill=colour, width=width)
