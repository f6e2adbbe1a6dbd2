"""A contact sheet (one PNG of thumbnails) of a synthetic cohort, labelled with pseudonyms only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from wristbme.errors import InputError


def contact_sheet(cohort_dir: str | Path, out_png: str | Path, *, max_images: int = 48, thumb_px: int = 200,
                  columns: int = 8) -> Path:
    """Tile up to ``max_images`` images of a cohort (spread over the sites) into ``out_png``.

    Each tile shows the image through ``wristbme.imaging.read_radiograph`` (bone bright, 1-99 percentile
    window) with its pseudonym (``S03-0012``), laterality, kind and grade sum. Unreadable (corrupt) files
    get a red cross.

    Raises
    ------
    InputError
        ``cohort_dir`` has no ``truth.json``.
    """
    from wristbme.errors import WristBmeError
    from wristbme.imaging import read_radiograph

    root = Path(cohort_dir)
    truth_path = root / "truth.json"
    if not truth_path.is_file():
        raise InputError(f"{truth_path} not found", path=root,
                         hint="give the folder written by 'wristbme synth cohort'")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    images = truth["images"]
    by_site: dict[str, list[dict]] = {}
    for im in images:
        by_site.setdefault(im["site"], []).append(im)
    chosen: list[dict] = []
    while len(chosen) < min(max_images, len(images)):
        added = False
        for site in sorted(by_site):
            if by_site[site] and len(chosen) < max_images:
                chosen.append(by_site[site].pop(0))
                added = True
        if not added:
            break
    rows = max(1, -(-len(chosen) // columns))
    label_h = 16
    sheet = Image.new("L", (columns * thumb_px, rows * (thumb_px + label_h) + 24), 0)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    draw.text((4, 4), f"SYNTHETIC DATA - wristbme synth, seed {truth.get('seed')}, effect size "
                      f"{truth.get('effect_size')} - not patients", fill=255, font=font)
    for k, im in enumerate(chosen):
        r, c = divmod(k, columns)
        x0, y0 = c * thumb_px, 24 + r * (thumb_px + label_h)
        try:
            rad = read_radiograph(root / im["file"])
            px = rad.pixels
            lo, hi = np.percentile(px, [1, 99])
            v = np.clip((px - lo) / max(hi - lo, 1e-6), 0, 1)
            tile = Image.fromarray((v * 255).astype(np.uint8))
            tile.thumbnail((thumb_px, thumb_px))
            sheet.paste(tile, (x0 + (thumb_px - tile.width) // 2, y0 + (thumb_px - tile.height) // 2))
        except WristBmeError:
            draw.line((x0, y0, x0 + thumb_px, y0 + thumb_px), fill=128, width=3)
            draw.line((x0 + thumb_px, y0, x0, y0 + thumb_px), fill=128, width=3)
        grades = im.get("grades") or {}
        gsum = sum(grades.values()) if grades else "-"
        draw.text((x0 + 3, y0 + thumb_px + 2), f"{im['pseudonym']} {im['laterality']} {im['kind']} BME{gsum}",
                  fill=255, font=font)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
