"""Images a wrist study should refuse: a lateral wrist view, a chest-like and a foot-like radiograph.

They are deliberately simpler than the PA phantom (capsules and ellipses through the same physics chain),
but carry the features a checker keys on: a lateral projection with superimposed radius/ulna and carpals,
lung fields with ribs, or a long foot with metatarsals.
"""

from __future__ import annotations

import numpy as np

from wristbme.synth import _physics
from wristbme.synth._texture import fractal_field
from wristbme.synth.sites import SiteProfile

KINDS = ("lateral", "chest", "foot")


def _capsule_depth(xx: np.ndarray, yy: np.ndarray, p0, p1, radius: float) -> np.ndarray:
    """Depth (mm) inside a capsule from ``p0`` to ``p1`` of ``radius`` (negative outside)."""
    p0 = np.asarray(p0, dtype=np.float32)
    d = np.asarray(p1, dtype=np.float32) - p0
    L2 = float(d @ d) or 1e-6
    t = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / L2, 0.0, 1.0)
    dist = np.hypot(xx - (p0[0] + t * d[0]), yy - (p0[1] + t * d[1]))
    return radius - dist


def _ellipse_depth(xx, yy, c, a, b, angle=0.0) -> np.ndarray:
    ca, sa = np.cos(angle), np.sin(angle)
    u = ((xx - c[0]) * ca + (yy - c[1]) * sa) / a
    v = (-(xx - c[0]) * sa + (yy - c[1]) * ca) / b
    r = np.sqrt(u * u + v * v)
    return (1.0 - r) * min(a, b)


def _chord(depth: np.ndarray, half: float) -> np.ndarray:
    d = np.clip(depth, 0.0, half)
    return 2.0 * np.sqrt(d * (2.0 * half - d))


def _bone(depth: np.ndarray, half: float, cortex: float, trab: float, tex: np.ndarray) -> np.ndarray:
    outer = _chord(depth, half)
    inner = _chord(depth - cortex, max(half - cortex, 0.5)) * (depth > cortex)
    return (outer - inner) + inner * trab * (1.0 + 0.25 * tex)


def render_other(kind: str, rng: np.random.Generator, site: SiteProfile, spacing_mm: float = 0.3,
                 laterality: str = "R") -> np.ndarray:
    """Output values (bone bright, ``0 .. site.max_value``) of a non-PA-wrist image.

    Parameters
    ----------
    kind : str
        ``lateral`` (wrist, 100 x 120 mm), ``chest`` (260 x 300 mm) or ``foot`` (140 x 260 mm).
    rng : Generator
    site : SiteProfile
    spacing_mm : float
    laterality : str
        Lateral view: mirrors the image for a left wrist.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    size_mm = {"lateral": (100.0, 120.0), "chest": (260.0, 300.0), "foot": (140.0, 260.0)}[kind]
    cols, rows = int(size_mm[0] / spacing_mm), int(size_mm[1] / spacing_mm)
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32) * np.float32(spacing_mm)
    tex = fractal_field((rows, cols), spacing_mm, rng, beta=2.6, corr_mm=0.3, anisotropy=1.5,
                        angle_rad=np.pi / 2, ridge=0.3)
    soft = np.zeros((rows, cols), np.float32)
    bone = np.zeros((rows, cols), np.float32)
    j = rng.normal(0.0, 1.0, 8)
    if kind == "lateral":
        cx = 50.0 + 2 * j[0]
        soft = _chord(_capsule_depth(xx, yy, (cx, -50), (cx + 2, 200), 24.0), 30.0)
        bone += _bone(_capsule_depth(xx, yy, (cx, 72), (cx, 200), 10.5), 10.0, 2.0, 0.35, tex)  # radius+ulna
        bone += _bone(_capsule_depth(xx, yy, (cx + 3, 74), (cx + 3, 200), 7.0), 7.0, 1.8, 0.35, tex)
        bone += _bone(_ellipse_depth(xx, yy, (cx, 62), 9.0, 6.5), 9.0, 0.5, 0.4, tex)  # lunate
        bone += _bone(_ellipse_depth(xx, yy, (cx + 1, 48), 8.5, 11.0), 9.0, 0.5, 0.4, tex)  # capitate
        bone += _bone(_ellipse_depth(xx, yy, (cx - 7, 55), 7.0, 12.0, 0.5), 7.0, 0.5, 0.35, tex)  # scaphoid
        bone += _bone(_ellipse_depth(xx, yy, (cx + 9, 58), 5.0, 5.0), 5.0, 0.5, 0.35, tex)  # pisiform
        for k in range(4):
            bone += _bone(_capsule_depth(xx, yy, (cx + k * 1.2 - 2, 36), (cx + k * 2.0 - 3, -20), 4.5),
                          4.5, 1.5, 0.35, tex)
        bone += _bone(_capsule_depth(xx, yy, (cx - 10, 45), (cx - 22, 5), 5.0), 5.0, 1.5, 0.35, tex)
    elif kind == "chest":
        soft = _chord(_ellipse_depth(xx, yy, (130, 160), 125.0, 150.0), 110.0) * 1.0
        for side in (-1, 1):
            lung = _ellipse_depth(xx, yy, (130 + side * 55, 140), 48.0, 95.0)
            soft -= 0.8 * _chord(lung, 45.0)
            for k in range(9):
                y0 = 60 + k * 20 + j[k % 8]
                bone += _bone(_capsule_depth(xx, yy, (130 + side * 10, y0), (130 + side * 105, y0 + 25), 4.0),
                              4.0, 1.0, 0.3, tex)
        bone += _bone(_capsule_depth(xx, yy, (130, 20), (130, 290), 14.0), 16.0, 2.0, 0.35, tex) * 1.5
        bone += _bone(_ellipse_depth(xx, yy, (130, 170), 40.0, 60.0), 30.0, 0.0, 0.0, tex) * 0.0
        soft += _chord(_ellipse_depth(xx, yy, (140, 175), 45.0, 55.0), 50.0) * 0.6  # heart
        np.maximum(soft, 0.0, out=soft)
    else:  # foot
        cx = 70.0 + 2 * j[0]
        soft = _chord(_capsule_depth(xx, yy, (cx, 40), (cx, 240), 42.0), 30.0)
        bone += _bone(_ellipse_depth(xx, yy, (cx + 8, 225), 22.0, 35.0), 22.0, 1.0, 0.35, tex)  # calcaneus
        bone += _bone(_ellipse_depth(xx, yy, (cx - 5, 180), 17.0, 16.0), 15.0, 0.8, 0.35, tex)  # talus/navicular
        for k in range(5):
            x0 = cx - 24 + k * 12
            bone += _bone(_capsule_depth(xx, yy, (x0 + k, 150), (x0 - (2 - k) * 4, 85), 5.0), 5.0, 1.6, 0.35, tex)
            bone += _bone(_capsule_depth(xx, yy, (x0 - (2 - k) * 4.5, 78), (x0 - (2 - k) * 5, 45), 4.5),
                          4.5, 1.3, 0.35, tex)
    field = np.ones((rows, cols), np.float32)
    quanta = _physics.expose(soft.astype(np.float32), bone.astype(np.float32), None, field, spacing_mm, site, rng)
    out = _physics.to_display(quanta, spacing_mm, site, field)
    if kind == "lateral" and laterality == "L":
        out = out[:, ::-1].copy()
    return out
