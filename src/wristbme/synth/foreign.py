"""Foreign material on a rendered phantom: a metal ring, a plate with screws, a plaster or fibreglass cast.

Image-space post-processing of ``Phantom.radiograph.pixels`` (the phantom itself is not re-rendered). Each
object is drawn as an extra log-attenuation map ``A`` (natural-log units, like ``_physics.expose``'s
``att``), blurred by the site's detector blur and passed through the site's vendor processing
(``A + edge_gain (A - G) - range_compression G``, G its Gaussian low pass), then added to the displayed
values on the linear (pre-gamma) scale with the display range held fixed at ``DISPLAY_RANGE_LOG`` log
units (as when exposure recognition leaves the implant out of the auto-ranging). Metal is opaque: it ends
up at the white point with the dark edge-enhancement halo real processed images show around implants.

Every function is pure: it takes the phantom and a seed and returns a new ``Foreign`` (pixels and the
material's footprint mask); ``with_pixels`` makes the radiograph to feed to ``locate``. Synthetic only:
the shapes and attenuations are plausible, not measured on real casts or implants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from wristbme.bones import Bone
from wristbme.errors import ConfigError
from wristbme.synth import _physics
from wristbme.synth.sites import get_site

if TYPE_CHECKING:
    from wristbme.imaging.radiograph import Radiograph
    from wristbme.synth.phantom import Phantom

DISPLAY_RANGE_LOG = 2.8
"""Log-attenuation units spanned by the output range of a phantom (``_physics.to_display``'s ``hi - lo``):
measured 2.0-3.9 over the 8 sites, wrist and full fields (3 hands each; median 2.6)."""
METAL_LOG = 6.0
"""Attenuation of an implant or ring (steel, titanium, gold ≥ 1 mm at ~30 keV): opaque."""
PLASTER_MU_PER_MM = 0.12
"""Linear attenuation of set plaster of Paris (porous gypsum, ~1.1 g/cm^3) at ~30 keV (assumed)."""
FIBREGLASS_MU_PER_MM = 0.06
"""Linear attenuation of resin-impregnated fibreglass tape at ~30 keV (assumed; much lighter than plaster)."""
KINDS = ("ring", "plate", "plaster_cast", "fibreglass_cast")
"""Foreign material (``cast_or_metal`` must flag it). Not in it: ``add_marker`` (a lead side marker, which
must not be flagged)."""
MARKER_SIZES_MM = (5.0, 15.0)
"""Range of the nominal letter size (font size, as ``phantom._marker``'s 7 mm) of ``add_marker``."""


@dataclass(frozen=True)
class Foreign:
    """A phantom image with foreign material added.

    Attributes
    ----------
    kind : str
        One of ``KINDS``.
    pixels : float32 (rows, cols)
        Displayed values, same range as the phantom's (``0 .. max_value``), bone bright.
    mask : bool (rows, cols)
        Footprint of the material (where its attenuation is ≥ 5 % of its maximum).
    """

    kind: str
    pixels: np.ndarray
    mask: np.ndarray


def with_pixels(phantom: Phantom, pixels: np.ndarray) -> Radiograph:
    """The phantom's radiograph with ``pixels`` replaced (spacing, laterality and view kept)."""
    return replace(phantom.radiograph, pixels=np.asarray(pixels, dtype=np.float32))


def add_foreign(phantom: Phantom, kind: str, seed: int = 0) -> Foreign:
    """Dispatch to ``add_ring``, ``add_plate`` or ``add_cast`` by ``kind`` (one of ``KINDS``)."""
    if kind == "ring":
        return add_ring(phantom, seed)
    if kind == "plate":
        return add_plate(phantom, seed)
    if kind in ("plaster_cast", "fibreglass_cast"):
        return add_cast(phantom, seed, material=kind.split("_")[0])
    raise ConfigError(f"foreign kind must be one of {', '.join(KINDS)}, got {kind!r}")


# ------------------------------------------------------------------------------------------------ objects
def add_ring(phantom: Phantom, seed: int = 0) -> Foreign:
    """A metal ring on a finger: on the proximal phalanx when it is in the image, else on the metacarpal
    shaft (wrist-only fields; anatomically impossible, but the same object for the detector), at least
    10 mm inside the image border. Finger (MC2-MC5, the first one with room), band width 3-7 mm and
    position are drawn from ``seed``."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xF01])
    u = rng.random(4)
    sp = phantom.spacing_mm
    rows, cols = phantom.radiograph.shape
    band_mm = 3.0 + 4.0 * u[1]
    choice = None
    for k in np.roll(np.arange(2, 6), -int(u[0] * 4)):  # MC2..MC5, first one drawn from seed
        name = f"mc{k}_base_centre"
        if name not in phantom.landmarks_px or phantom.bone_masks[Bone(f"mc{k}")].sum() < 10:
            continue
        base_mm = np.array(phantom.landmarks_px[name]) * sp
        base, along, across, length, half_w = _bone_frame(phantom.bone_masks[Bone(f"mc{k}")], sp, base_mm)
        finger_half = 0.8 * half_w + 2.5  # shaft half width (the mask includes the wide base) + soft tissue
        spots = [base + along * (length + 18.0 + 6.0 * u[2])]  # proximal phalanx
        spots += [base + along * length * f for f in np.roll((0.7, 0.6, 0.5, 0.4, 0.3), int(u[3] * 5))]
        for centre in spots:
            # the whole band at least 10 mm inside the border (collimation is up to 9 mm wide)
            ends = [centre + across * finger_half, centre - across * finger_half,
                    centre + along * band_mm / 2, centre - along * band_mm / 2]
            if all(_inside(e, sp, rows, cols, margin_mm=10.0) for e in ends):
                choice = (centre, along, across, finger_half)
                break
        if choice is not None:
            break
    if choice is None:
        raise ConfigError("foreign: no finger with room for a ring in this phantom; use another phantom")
    centre, along, across, finger_half = choice
    s, t = _local_coords(phantom.radiograph.shape, sp, centre, along, across)
    # a band around the finger: path through a hollow cylinder (outer radius finger_half + wall, wall 1.5 mm)
    wall = 1.5
    path = _chord(t, finger_half + wall) - _chord(t, finger_half)
    path = np.where(np.abs(s) <= band_mm / 2.0, path, 0.0)
    att = np.minimum(path * 10.0, METAL_LOG)  # metal: ~1 mm already opaque
    return _finish(phantom, "ring", att)


def add_plate(phantom: Phantom, seed: int = 0) -> Foreign:
    """A volar distal-radius plate: a shaft 9-12 mm wide and 35-55 mm long along the radius, ending in a
    T-shaped head 20-26 mm wide 4-8 mm proximal of the articular surface, with 3-5 shaft screws (round
    heads) and 3-5 distal locking screws (lines across the radius), all opaque."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xF02])
    sp = phantom.spacing_mm
    lm = phantom.landmarks_px
    art = np.array(lm["radius_articular_mid"]) * sp
    (px, py), (dx, dy) = phantom.axes_px["radius_axis"]
    along = np.array([dx - px, dy - py], dtype=float)
    along /= np.linalg.norm(along) + 1e-9  # proximal → distal
    across = np.array([-along[1], along[0]])
    u = rng.random(6)
    shaft_w, shaft_len = 9.0 + 3.0 * u[0], 35.0 + 20.0 * u[1]
    head_w, gap = 20.0 + 6.0 * u[2], 4.0 + 4.0 * u[3]
    head_h = 9.0
    top = art - along * gap  # distal end of the plate
    s, t = _local_coords(phantom.radiograph.shape, sp, top, along, across)
    # s: distal positive from the plate's distal end; t: across the radius
    t = t - (u[4] - 0.5) * 3.0
    shaft = (s <= -head_h + 0.5) & (s >= -head_h - shaft_len) & (np.abs(t) <= shaft_w / 2)
    head = (s <= 0) & (s > -head_h) & (np.abs(t) <= head_w / 2 - np.maximum(0, -s - head_h + 3) * 0.8)
    plate = shaft | head
    n_shaft, n_lock = 3 + int(u[5] * 3), 3 + int(rng.random() * 3)
    screws = np.zeros_like(plate)
    for i in range(n_shaft):
        c = -head_h - (i + 0.5) * shaft_len / n_shaft
        screws |= (s - c) ** 2 + t ** 2 <= 2.2 ** 2
    for i in range(n_lock):  # distal locking screws: from the head towards the subchondral bone
        tc = (i - (n_lock - 1) / 2) * (head_w - 5.0) / max(n_lock - 1, 1)
        tilt = np.deg2rad(rng.normal(0.0, 6.0))
        ds = (s + head_h / 2) * np.cos(tilt) - (t - tc) * np.sin(tilt)
        dt = (s + head_h / 2) * np.sin(tilt) + (t - tc) * np.cos(tilt)
        screws |= (np.abs(dt) <= 1.2) & (ds >= -head_h / 2) & (ds <= head_h / 2 + gap - 1.5 - 1.5 * rng.random())
    att = np.where(plate | screws, METAL_LOG, 0.0)
    return _finish(phantom, "plate", att)


def add_cast(phantom: Phantom, seed: int = 0, *, material: str = "plaster") -> Foreign:
    """A short-arm cast: a hollow elliptical tube (depth 0.65 x width) around the forearm, wrist and palm,
    following the limb's outline (skin measured on the image every 4 mm, smoothed, plus 2-5 mm padding),
    from the proximal border to 20-45 mm distal of the MC bases, with a rounded distal edge. ``material``
    ``"plaster"`` (wall 4-7 mm, faint irregular texture) or ``"fibreglass"`` (wall 2-4 mm, a ±45° weave of
    2.2-2.8 mm period). The wall's tangential path makes the bright rims along the cast's sides."""
    if material not in ("plaster", "fibreglass"):
        raise ConfigError(f"cast material must be plaster or fibreglass, got {material!r}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xF03 if material == "plaster" else 0xF04])
    sp = phantom.spacing_mm
    lm = phantom.landmarks_px
    rad, uln = np.array(lm["radius_articular_mid"]) * sp, np.array(lm["ulna_articular_mid"]) * sp
    (px, py), (dx, dy) = phantom.axes_px["radius_axis"]
    along = np.array([dx - px, dy - py], dtype=float)
    along /= np.linalg.norm(along) + 1e-9
    across = np.array([-along[1], along[0]])
    u = rng.random(5)
    centre = (rad + uln) / 2.0
    mc = np.mean([np.array(lm[f"mc{i}_base_centre"]) * sp for i in range(2, 6) if f"mc{i}_base_centre" in lm],
                 axis=0)
    reach = float(np.dot(mc - centre, along)) + 20.0 + 25.0 * u[2]
    wall = (4.0 + 3.0 * u[1]) if material == "plaster" else (2.0 + 2.0 * u[1])
    mu = PLASTER_MU_PER_MM if material == "plaster" else FIBREGLASS_MU_PER_MM
    s, t = _local_coords(phantom.radiograph.shape, sp, centre, along, across)
    # the cast follows the limb: skin extent measured every 4 mm along the axis, widened by the padding
    levels = np.arange(-120.0, reach + 4.0, 4.0)
    ext = np.array([_forearm_extent(phantom, centre + along * lv, across) for lv in levels])
    ok = np.isfinite(ext[:, 0])
    if not ok.any():
        raise ConfigError("foreign: no forearm found in this phantom for a cast")
    ext = np.column_stack([np.interp(levels, levels[ok], ext[ok, j]) for j in (0, 1)])
    pad = 2.0 + 3.0 * u[0]
    lo_s = np.interp(s, levels, _smooth(ext[:, 0], 7)) - pad
    hi_s = np.interp(s, levels, _smooth(ext[:, 1], 7)) + pad
    a_in = (hi_s - lo_s) / 2.0
    tc = t - (hi_s + lo_s) / 2.0
    b_in = 0.65 * a_in
    path = _ellipse_chord(tc, a_in + wall, b_in + wall) - _ellipse_chord(tc, a_in, b_in)
    end = np.clip((reach - s) / 3.0, 0.0, 1.0)  # rounded distal edge over 3 mm
    dens = np.ones_like(s)
    if material == "fibreglass":
        period = 2.2 + 0.6 * u[4]
        ph1, ph2 = rng.uniform(0, 2 * np.pi, 2)
        w1 = np.sin(2 * np.pi * (s + t) / (period * np.sqrt(2)) + ph1)
        w2 = np.sin(2 * np.pi * (s - t) / (period * np.sqrt(2)) + ph2)
        dens += 0.18 * (np.abs(w1) + np.abs(w2) - 4 / np.pi) / 2
    else:
        from wristbme.synth._texture import fractal_field

        tex = fractal_field(s.shape, 2.8, rng)
        dens += 0.06 * (tex - tex.mean()) / (tex.std() + 1e-9)
    att = mu * path * end * dens
    return _finish(phantom, f"{material}_cast", att, rerange=True)


def add_marker(phantom: Phantom, seed: int = 0, *, size_mm: float | None = None, letter: str | None = None,
               max_landmark_mm: float = 15.0, solid: bool = False) -> Foreign:
    """A lead side marker (``R`` or ``L``) lying on the hand's soft tissue, the way a marker placed on the
    detector beside a tight wrist field ends up under the thumb or fingers.

    The glyph is ``phantom._marker``'s (Pillow's default font, lead 1 mm: opaque), at a nominal size
    ``size_mm`` (default drawn from ``MARKER_SIZES_MM``), rotated by a right angle plus up to ±20° and
    mirrored half the time (a marker placed face down), all drawn from ``seed``. Its centre lies within
    ``max_landmark_mm`` of a landmark (carpal centres, MC bases, styloids) and the whole glyph, widened by
    1 mm, on soft tissue (brighter than the air/tissue Otsu threshold, 1.5 mm away from every bone) at least
    10 mm inside the image border. ``letter`` defaults to the phantom's side. Not ``cast_or_metal``: the
    locator must not flag it (``Foreign.kind`` is ``"marker"``). ``solid``: the glyph's convex hull filled
    with the same metal instead (``kind`` ``"metal_block"``: a piece of metal of the marker's size at the same
    place, which must be flagged). Raises ``ConfigError`` when no such place exists."""
    from scipy import ndimage as ndi
    from skimage.filters import threshold_otsu

    from wristbme.synth._text import text_mask

    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xF05])
    u = rng.random(5)
    sp = phantom.spacing_mm
    lo, hi = MARKER_SIZES_MM
    size = float(size_mm) if size_mm is not None else lo + (hi - lo) * u[0]
    letter = letter or ("L" if phantom.spec.laterality == "L" else "R")
    glyph = text_mask(letter, max(8, int(round(size / sp))))
    if u[1] < 0.5:
        glyph = glyph[:, ::-1]
    angle = 90.0 * int(u[2] * 4) + 40.0 * (u[3] - 0.5)
    glyph = ndi.rotate(glyph.astype(np.float32), angle, order=1, reshape=True) > 0.5
    px = phantom.radiograph.pixels
    rows, cols = px.shape
    bone = np.zeros(px.shape, dtype=bool)
    for m in phantom.bone_masks.values():
        bone |= m
    exposed = px < phantom.max_value
    vals = px[exposed & ~bone]
    tissue = px > threshold_otsu(vals[:: max(1, vals.size // 200_000)])
    near_bone = ndi.distance_transform_edt(~bone) * sp < 1.5
    ok = tissue & exposed & ~near_bone
    # the glyph's footprint widened by 1 mm must fit: erode by it (structure: the widened glyph)
    grown = ndi.binary_dilation(np.pad(glyph, int(np.ceil(1.0 / sp))), iterations=int(np.ceil(1.0 / sp)))
    f = max(1, int(round(0.5 / sp)))  # work on a ~0.5 mm grid
    small = ok[::f, ::f]
    fp = grown[::f, ::f]
    fits = ndi.binary_erosion(small, structure=fp, border_value=0)
    yy, xx = np.mgrid[0:small.shape[0], 0:small.shape[1]].astype(np.float32) * f
    lm = np.array(list(phantom.landmarks_px.values()), dtype=np.float32)
    near = np.zeros(small.shape, dtype=bool)
    for x, y in lm:
        near |= np.hypot(xx - x, yy - y) * sp <= max_landmark_mm
    m = 10.0 / sp + max(glyph.shape) / 2.0
    inside = (yy >= m) & (yy <= rows - 1 - m) & (xx >= m) & (xx <= cols - 1 - m)
    cand = np.argwhere(fits & near & inside)
    if cand.size == 0:
        raise ConfigError("foreign: no soft tissue near the wrist with room for a marker in this phantom; "
                          "use another phantom or a smaller size_mm")
    r, c = cand[int(u[4] * len(cand))] * f
    h, w = glyph.shape
    r0, c0 = int(r - h // 2), int(c - w // 2)
    att = np.zeros(px.shape, dtype=np.float32)
    if solid:  # placed by the letter, so both land at the same place
        from skimage.morphology import convex_hull_image

        glyph = convex_hull_image(glyph)
    att[r0:r0 + h, c0:c0 + w] = np.where(glyph, np.float32(METAL_LOG), np.float32(0.0))
    return _finish(phantom, "metal_block" if solid else "marker", att)


# ----------------------------------------------------------------------------------------------- helpers
def _finish(phantom: Phantom, kind: str, att: np.ndarray, rerange: bool = False) -> Foreign:
    """Blur, process and add the attenuation map ``att`` (log units) to the phantom's displayed values.

    ``rerange``: redo the top of the auto-ranging (the site's upper output percentile of the exposed
    pixels maps to white again), as exposure recognition does for a cast that covers most of the field;
    the black point (air) is kept."""
    from scipy import ndimage as ndi

    site = get_site(phantom.site_id)
    sp = phantom.spacing_mm
    att = np.asarray(att, dtype=np.float32)
    mask = att >= 0.05 * float(att.max()) if att.max() > 0 else np.zeros(att.shape, dtype=bool)
    att = ndi.gaussian_filter(att, site.blur_mm / sp, mode="nearest", truncate=3.0)
    g = _physics.lowpass(att, site.processing_sigma_mm / sp)
    dp = att + np.float32(site.edge_gain) * (att - g) - np.float32(site.range_compression) * g
    top = float(phantom.max_value)
    px = phantom.radiograph.pixels
    v = np.clip(px / top, 0.0, 1.0) ** np.float32(1.0 / site.gamma)
    v = v + dp / np.float32(DISPLAY_RANGE_LOG)
    if rerange:
        exposed = px < top
        hi = float(np.percentile(v[exposed][:: max(1, int(exposed.sum() // 200_000))], site.output_percentiles[1]))
        v = v / max(hi, 1e-3)
    v = np.clip(v, 0.0, 1.0) ** np.float32(site.gamma)
    out = np.rint(v * np.float32(top)).astype(np.float32)
    out = np.where(px >= top, np.maximum(out, px), out)  # collimated (unexposed) stays white
    return Foreign(kind=kind, pixels=out, mask=mask)


def _bone_frame(mask: np.ndarray, sp: float, base_mm: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(proximal end mm, unit axis proximal → distal, unit across, visible length mm, half width mm) of a
    long bone's mask from its principal axis; ``base_mm`` (x, y) is a point near its proximal end."""
    rr, cc = np.nonzero(mask)
    if rr.size < 10:
        raise ConfigError("foreign: the metacarpal chosen for the ring is not in the image; use another seed")
    pts = np.column_stack([cc, rr]).astype(float) * sp
    mean = pts.mean(axis=0)
    _, v = np.linalg.eigh(np.cov((pts - mean).T))
    axis = v[:, 1]
    if np.dot(mean - base_mm, axis) < 0:
        axis = -axis
    proj = (pts - mean) @ axis
    across = np.array([-axis[1], axis[0]])
    half_w = float(np.percentile(np.abs((pts - mean) @ across), 95))
    base = mean + axis * float(proj.min())
    return base, axis, across, float(np.ptp(proj)), half_w


def _forearm_extent(phantom: Phantom, centre_mm: np.ndarray, across: np.ndarray) -> tuple[float, float]:
    """(lower, upper) offsets (mm along ``across`` from ``centre_mm``) of the skin on a line across the
    limb: where the displayed value rises above air by a tenth of the soft-tissue level (NaN when the line
    misses the image)."""
    from scipy import ndimage as ndi

    sp = phantom.spacing_mm
    px = phantom.radiograph.pixels
    t = np.arange(-80.0, 80.0, 0.5)
    xy = centre_mm[None, :] + t[:, None] * across[None, :]
    vals = ndi.map_coordinates(px, [xy[:, 1] / sp, xy[:, 0] / sp], order=1, cval=np.nan)
    ok = np.isfinite(vals) & (vals < phantom.max_value)
    if ok.sum() < 10:
        return np.nan, np.nan
    air, tissue = np.percentile(vals[ok], [2, 50])
    # white pixels count as body (saturated bone would otherwise split the limb)
    body = np.isfinite(vals) & (vals > air + 0.1 * (tissue - air))
    if not body.any():
        return np.nan, np.nan
    # the run of body pixels around the axis (noise or a marker further out does not count)
    lab, _ = ndi.label(body)
    mid = int(np.argmin(np.abs(t)))
    keep = lab[mid] if lab[mid] else lab[np.nonzero(lab)[0][np.argmin(np.abs(np.nonzero(lab)[0] - mid))]]
    idx = np.nonzero(lab == keep)[0]
    return float(t[idx[0]]), float(t[idx[-1]])


def _smooth(v: np.ndarray, n: int = 3) -> np.ndarray:
    """Running mean over ``n`` samples (edges: shorter windows)."""
    k = np.ones(n) / n
    num = np.convolve(v, k, mode="same")
    den = np.convolve(np.ones_like(v), k, mode="same")
    return num / den


def _local_coords(shape: tuple[int, int], sp: float, origin_mm: np.ndarray, along: np.ndarray,
                  across: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, t) mm of every pixel along ``along`` and ``across`` from ``origin_mm`` (x, y)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    dx, dy = xx * sp - origin_mm[0], yy * sp - origin_mm[1]
    return (dx * along[0] + dy * along[1]).astype(np.float32), (dx * across[0] + dy * across[1]).astype(np.float32)


def _inside(p_mm: np.ndarray, sp: float, rows: int, cols: int, margin_mm: float) -> bool:
    x, y = p_mm / sp
    m = margin_mm / sp
    return bool(m <= x <= cols - 1 - m and m <= y <= rows - 1 - m)


def _chord(t: np.ndarray, r: float) -> np.ndarray:
    """Path length (mm) through a circle of radius ``r`` at offset ``t`` from its centre."""
    return 2.0 * np.sqrt(np.clip(r * r - t * t, 0.0, None))


def _ellipse_chord(t: np.ndarray, a: float, b: float) -> np.ndarray:
    """Path length (mm) along the beam through an ellipse of half-width ``a`` (image plane) and half-depth
    ``b`` at offset ``t``."""
    return 2.0 * b * np.sqrt(np.clip(1.0 - (t / a) ** 2, 0.0, None))
