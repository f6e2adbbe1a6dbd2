"""Parametric PA anatomy of a right hand and wrist, in millimetres.

Canonical frame: PA view of a right hand, fingers up. ``x`` grows to the image right (towards the ulna),
``y`` grows downwards (proximally); the origin is near the centre of the capitate. The default layout of
the carpal bones was taken from the mean of hand-placed bone points on 18 real adult RA wrist radiographs
(RAM-W600, ``../shared/data/radiographs/ramw600/bone_points.csv``, spacing ~0.16 mm), aligned on the
capitate and the radius→MC3 axis; outlines are drawn around those points from textbook shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wristbme.bones import Bone

# ----------------------------------------------------------------------------------------------------------
# data


@dataclass
class BoneShape:
    """One bone of the phantom in canonical mm.

    Attributes
    ----------
    name : str
        ``radius``, ``ulna``, carpal names, ``mc1``..``mc5``, ``pp1``..``pp5`` (proximal phalanges),
        ``mp2``..``mp5`` / ``dp1`` (middle / distal phalanges), ``hook`` (hamulus ring, part of the hamate).
    bone : Bone or None
        The RAMRIS region it belongs to (None for phalanges).
    outline_mm : ndarray (N, 2)
        Closed outline, (x, y) in mm.
    half_thickness_mm : float
        Half of the bone's antero-posterior thickness; the chord profile is ``2*sqrt(d*(2R-d))``.
    cortex_mm, cortex_shaft_mm : float
        Cortical thickness at the ends and along the shaft (long bones).
    trab_density : float
        Trabecular areal density relative to cortical bone (bone volume fraction, ~0.2-0.35).
    axis : ((x, y), (ux, uy)) or None
        For long bones: the articular end point and the unit direction into the bone.
    length_mm : float
        Long bones: length along ``axis``.
    band_mm : ndarray (M, 2) or None
        Long bones with a RAMRIS region: polygon of the first 10 mm from the articular surface.
    tex_angle_rad, tex_anisotropy, tex_corr_mm : float
        Trabecular texture orientation (direction of elongation), anisotropy (>=1) and correlation length.
    """

    name: str
    bone: Bone | None
    outline_mm: np.ndarray
    half_thickness_mm: float
    cortex_mm: float = 0.8
    cortex_shaft_mm: float = 0.8
    trab_density: float = 0.28
    axis: tuple[tuple[float, float], tuple[float, float]] | None = None
    length_mm: float = 0.0
    band_mm: np.ndarray | None = None
    tex_angle_rad: float = 0.0
    tex_anisotropy: float = 1.3
    tex_corr_mm: float = 0.9
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class SoftShape:
    """A soft-tissue part: outline and half thickness (mm)."""

    name: str
    outline_mm: np.ndarray
    half_thickness_mm: float


@dataclass
class Anatomy:
    bones: list[BoneShape]
    soft: list[SoftShape]
    landmarks: dict[str, tuple[float, float]]
    axes: dict[str, tuple[tuple[float, float], tuple[float, float]]]


# ----------------------------------------------------------------------------------------------------------
# geometry helpers


def smooth_closed(points: np.ndarray, n: int = 160, iterations: int = 3) -> np.ndarray:
    """Chaikin corner cutting of a closed polygon, then resampling to ``n`` points by arc length."""
    p = np.asarray(points, dtype=np.float64)
    for _ in range(iterations):
        q = np.roll(p, -1, axis=0)
        p = np.concatenate([0.75 * p + 0.25 * q, 0.25 * p + 0.75 * q], axis=1).reshape(-1, 2)
    closed = np.vstack([p, p[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.column_stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])])


def _rot(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s], [s, c]])


def _long_bone(base: tuple[float, float], angle_deg: float, length: float, w_base: float, w_shaft: float,
               w_head: float, *, base_shape: str = "flat", head: str = "round",
               jitter: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outline of a tubular bone from its proximal articular midpoint ``base`` and direction.

    ``angle_deg`` is measured from "straight up" (−y), positive towards the ulna (+x). Returns the outline,
    the base point and the unit direction pointing distally (into the bone from the base).
    """
    a = np.deg2rad(angle_deg)
    u = np.array([np.sin(a), -np.cos(a)])  # distal direction
    v = np.array([np.cos(a), np.sin(a)])  # across, towards ulnar side
    s = np.array([0.0, 0.06, 0.16, 0.3, 0.5, 0.7, 0.82, 0.9, 0.95]) * length
    w = np.array([w_base, w_base * 0.98, (w_base + w_shaft) / 2 * 0.98, w_shaft, w_shaft * 0.95, w_shaft,
                  (w_shaft + w_head) / 2, w_head, w_head * 0.96])
    if jitter is not None:
        w = w * (1.0 + jitter[: len(w)])
    right = [np.asarray(base) + si * u + wi / 2 * v for si, wi in zip(s, w, strict=True)]
    left = [np.asarray(base) + si * u - wi / 2 * v for si, wi in zip(s, w, strict=True)]
    cap = []
    r = w[-1] / 2
    centre = np.asarray(base) + s[-1] * u
    if head == "round":
        for th in np.linspace(0, np.pi, 9)[1:-1]:
            cap.append(centre + r * np.cos(th) * v + r * 0.75 * np.sin(th) * u)
    else:  # flat-ish phalanx base/head
        for th in np.linspace(0, np.pi, 7)[1:-1]:
            cap.append(centre + r * np.cos(th) * v + r * 0.35 * np.sin(th) * u)
    if base_shape == "concave":
        base_pts = [np.asarray(base) - 0.8 * u - 0.45 * w_base * v, np.asarray(base) + 0.6 * u,
                    np.asarray(base) - 0.8 * u + 0.45 * w_base * v]
    elif base_shape == "notched":  # MC2: fork embracing the trapezoid
        base_pts = [np.asarray(base) - 1.2 * u - 0.45 * w_base * v, np.asarray(base) + 1.0 * u - 0.1 * w_base * v,
                    np.asarray(base) - 0.3 * u + 0.2 * w_base * v, np.asarray(base) - 1.0 * u + 0.45 * w_base * v]
    else:
        base_pts = [np.asarray(base) - 0.6 * u - 0.4 * w_base * v, np.asarray(base) - 0.9 * u,
                    np.asarray(base) - 0.6 * u + 0.4 * w_base * v]
    # order: along the +v side distally, around the head, back along the -v side, across the base
    pts = [*right, *cap, *reversed(left), *base_pts]
    return np.array(pts), np.asarray(base, dtype=float), u


def _band(base: np.ndarray, u: np.ndarray, width: float, depth_mm: float = 10.0, back_mm: float = 3.0) -> np.ndarray:
    v = np.array([-u[1], u[0]])
    return np.array([base - back_mm * u - width * v, base - back_mm * u + width * v,
                     base + depth_mm * u + width * v, base + depth_mm * u - width * v])


def _curve_band(curve: np.ndarray, u: np.ndarray, depth_mm: float = 10.0, extend_mm: float = 6.0,
                back_mm: float = 4.0) -> np.ndarray:
    """Polygon covering ``depth_mm`` beyond a polyline ``curve`` along ``u`` (and ``back_mm`` before it)."""
    c = np.asarray(curve, dtype=float)
    t0 = c[0] - c[1]
    t0 /= np.linalg.norm(t0)
    t1 = c[-1] - c[-2]
    t1 /= np.linalg.norm(t1)
    c = np.vstack([c[0] + extend_mm * t0, c, c[-1] + extend_mm * t1])
    return np.vstack([c - back_mm * u, (c + depth_mm * u)[::-1]])


# ----------------------------------------------------------------------------------------------------------
# the template (canonical right hand, capitate at the origin)

# Carpal outlines: control points (x, y) in mm, smoothed by corner cutting.
CARPAL_POINTS: dict[Bone, list[tuple[float, float]]] = {
    Bone.CAPITATE: [(0.5, 10.0), (4.5, 8.5), (6.2, 4.0), (5.2, -1.0), (6.4, -6.0), (6.2, -10.0), (2.0, -11.6),
                    (-3.5, -11.6), (-6.4, -10.0), (-6.2, -5.0), (-4.6, -0.5), (-5.2, 4.5), (-3.6, 8.8)],
    Bone.HAMATE: [(7.9, -10.2), (13.5, -11.8), (19.5, -10.6), (22.4, -7.2), (20.5, -2.0), (16.5, 3.5),
                  (12.5, 7.6), (9.0, 8.6), (7.4, 4.0), (6.6, -2.0), (7.6, -6.5)],
    Bone.LUNATE: [(1.2, 10.8), (4.5, 12.4), (8.6, 11.8), (12.4, 9.2), (15.0, 11.8), (14.8, 16.8), (11.6, 21.0),
                  (6.4, 22.4), (2.0, 20.6), (-0.4, 15.8)],
    Bone.TRIQUETRUM: [(13.6, 6.4), (16.6, 2.4), (21.0, 1.0), (24.6, 3.4), (26.0, 7.6), (23.6, 11.6),
                      (18.8, 13.8), (15.6, 12.6), (13.2, 9.4)],
    Bone.PISIFORM: [(19.0, 1.2), (22.5, -0.8), (25.8, 1.0), (26.6, 4.6), (24.4, 8.0), (20.8, 8.2), (18.6, 5.0)],
    Bone.SCAPHOID: [(-1.8, 15.2), (-1.6, 19.6), (-5.0, 22.0), (-10.0, 20.6), (-14.6, 16.6), (-17.6, 11.0),
                    (-19.4, 5.0), (-18.2, 1.8), (-14.4, 2.4), (-11.0, 5.6), (-7.6, 8.0), (-4.4, 10.4)],
    Bone.TRAPEZIUM: [(-15.6, -6.0), (-19.5, -8.6), (-24.5, -8.8), (-28.5, -5.8), (-29.2, -0.8), (-26.4, 4.2),
                     (-21.4, 5.4), (-17.0, 3.4), (-15.2, -1.0)],
    Bone.TRAPEZOID: [(-7.6, -9.4), (-10.8, -11.2), (-14.6, -10.2), (-16.6, -5.8), (-15.6, -0.2), (-11.6, 1.6),
                     (-7.8, 0.4), (-6.6, -4.0)],
}
CARPAL_HALF_THICKNESS_MM = {
    Bone.CAPITATE: 10.5, Bone.HAMATE: 9.5, Bone.LUNATE: 9.5, Bone.TRIQUETRUM: 7.5, Bone.PISIFORM: 3.8,
    Bone.SCAPHOID: 8.0, Bone.TRAPEZIUM: 8.0, Bone.TRAPEZOID: 7.0,
}
HOOK_CENTRE_MM = (15.0, -3.0)
CARPAL_GROWTH = {Bone.CAPITATE: 1.24, Bone.HAMATE: 1.22, Bone.LUNATE: 1.22, Bone.TRIQUETRUM: 1.18,
                 Bone.PISIFORM: 1.12, Bone.SCAPHOID: 1.2, Bone.TRAPEZIUM: 1.18, Bone.TRAPEZOID: 1.22}
"""Growth of the control polygons about their centroids (the smoothing rounds corners off)."""

RADIUS_POINTS = [(-16.6, 15.0), (-12.0, 18.2), (-5.0, 21.2), (2.0, 22.6), (9.0, 23.2), (12.8, 23.6),
                 (13.4, 27.0), (12.6, 32.0), (11.0, 40.0), (9.6, 52.0), (9.0, 70.0), (8.6, 100.0), (8.4, 130.0),
                 (-10.8, 130.0), (-11.0, 100.0), (-12.0, 70.0), (-14.0, 52.0), (-18.0, 38.0), (-20.2, 28.0),
                 (-19.6, 21.0)]
RADIUS_ARTICULAR = [(-16.6, 15.0), (-12.0, 18.2), (-5.0, 21.2), (2.0, 22.6), (9.0, 23.2), (12.8, 23.6)]
ULNA_POINTS = [(26.0, 14.4), (28.6, 18.0), (29.8, 23.6), (28.8, 30.0), (26.8, 40.0), (25.6, 55.0), (25.2, 80.0),
               (25.0, 130.0), (16.0, 130.0), (16.0, 80.0), (16.4, 55.0), (16.4, 40.0), (16.0, 30.0), (16.2, 25.4),
               (18.6, 22.8), (22.6, 21.6), (24.4, 18.6)]
ULNA_ARTICULAR = [(15.4, 25.0), (18.6, 22.8), (22.6, 21.6), (24.4, 18.6), (26.0, 14.4), (28.6, 18.0)]

# metacarpals: base articular midpoint (mm), angle from vertical (deg, + towards ulna), length,
# base / shaft / head width (mm), base shape
METACARPALS = {
    1: ((-27.5, -7.0), -30.0, 44.0, 15.0, 9.0, 13.5, "concave"),
    2: ((-12.4, -11.8), -7.0, 67.0, 14.0, 8.5, 14.0, "notched"),
    3: ((-0.6, -12.2), -1.0, 64.0, 13.0, 8.5, 14.0, "flat"),
    4: ((9.8, -12.0), 6.0, 57.0, 10.5, 7.5, 12.5, "flat"),
    5: ((18.4, -10.8), 13.0, 53.0, 11.5, 8.0, 12.0, "flat"),
}
MC_BASE_SHIFT_MM = 0.5
"""Metacarpal bases moved proximally so that they overlap the distal carpal row as on real PA views."""
# proximal phalanges (length, base w, shaft w, head w); middle phalanges (thumb: distal phalanx)
PROXIMAL_PHALANGES = {1: (31.0, 13.0, 9.0, 11.0), 2: (40.0, 14.0, 9.0, 11.0), 3: (45.0, 14.5, 9.5, 11.5),
                      4: (42.0, 13.5, 9.0, 11.0), 5: (33.0, 12.0, 8.0, 9.5)}
SECOND_PHALANGES = {1: (23.0, 11.0, 7.0, 8.0), 2: (24.0, 11.0, 7.5, 8.5), 3: (28.0, 11.5, 8.0, 9.0),
                     4: (27.0, 11.0, 7.5, 8.5), 5: (20.0, 9.5, 6.5, 7.5)}
TERMINAL_PHALANGES = {2: (18.0, 9.0, 5.5, 7.0), 3: (20.0, 9.5, 5.8, 7.2), 4: (19.0, 9.0, 5.5, 7.0),
                      5: (16.0, 8.0, 5.0, 6.2)}
"""Distal phalanges of fingers 2-5 (length, base, shaft, tuft width in mm); the thumb's is in SECOND."""
FINGER_SPREAD_DEG = {1: -8.0, 2: -3.0, 3: 0.0, 4: 3.0, 5: 6.0}


def build_anatomy(rng: np.random.Generator, *, scale: float, ulnar_variance_mm: float, jsn_mm: float,
                  trab_density: float, full_hand: bool, finger_spread_deg: float = 0.0) -> Anatomy:
    """The phantom's bones and soft tissue, jittered by ``rng`` (shape jitter ~0.4 mm, position ~0.6 mm).

    The number of draws from ``rng`` does not depend on any argument, so callers can keep streams aligned.
    """
    bones: list[BoneShape] = []
    capitate_c = np.array([0.0, 0.0])
    finger_tips: dict[int, np.ndarray] = {}

    def jit(pts: list[tuple[float, float]], amount: float = 0.4) -> np.ndarray:
        p = np.asarray(pts, dtype=float)
        return p + rng.normal(0.0, amount, size=p.shape)

    # carpals --------------------------------------------------------------------------------------------
    carpal_offsets = {}
    for bone, pts in CARPAL_POINTS.items():
        p = jit(pts)
        p = p.mean(axis=0) + (p - p.mean(axis=0)) * CARPAL_GROWTH.get(bone, 1.1)
        shift = rng.normal(0.0, 0.5, size=2)
        c = p.mean(axis=0)
        # joint-space narrowing: pull bones towards the capitate
        d = c - capitate_c
        n = np.linalg.norm(d)
        if n > 1e-6:
            shift = shift - jsn_mm * d / n * min(1.0, n / 10.0)
        carpal_offsets[bone] = shift
        outline = smooth_closed((p + shift) * scale)
        tex_angle = rng.uniform(-np.pi, np.pi)
        bones.append(BoneShape(
            name=bone.value, bone=bone, outline_mm=outline,
            half_thickness_mm=CARPAL_HALF_THICKNESS_MM[bone] * scale * rng.uniform(0.92, 1.08),
            cortex_mm=0.38 * scale * rng.uniform(0.85, 1.15), cortex_shaft_mm=0.38 * scale,
            trab_density=trab_density * rng.uniform(0.9, 1.1), tex_angle_rad=tex_angle,
            tex_anisotropy=rng.uniform(1.0, 1.5), tex_corr_mm=rng.uniform(0.14, 0.2)))
    # hook of the hamate: an end-on ring projected over the hamate body
    hc = (np.array(HOOK_CENTRE_MM) + carpal_offsets[Bone.HAMATE]) * scale + rng.normal(0, 0.3, 2)
    th = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    hook = np.column_stack([hc[0] + 3.2 * scale * np.cos(th), hc[1] + 4.2 * scale * np.sin(th)])
    bones.append(BoneShape(name="hook", bone=Bone.HAMATE, outline_mm=smooth_closed(hook, 60, 1),
                           half_thickness_mm=2.2 * scale, cortex_mm=0.5 * scale, cortex_shaft_mm=0.5 * scale,
                           trab_density=trab_density * 0.5, tex_anisotropy=1.0))

    # radius and ulna --------------------------------------------------------------------------------------
    forearm_shift = np.array([0.0, jsn_mm]) + rng.normal(0.0, 0.5, size=2)
    rad = jit(RADIUS_POINTS, 0.35) + forearm_shift
    rad_art = np.asarray(RADIUS_ARTICULAR) + forearm_shift
    rad_art = rad_art + (rad[: len(rad_art)] - (np.asarray(RADIUS_POINTS[: len(rad_art)]) + forearm_shift))
    uv = np.array([0.0, -ulnar_variance_mm])  # positive variance: ulna longer (more distal)
    uln = jit(ULNA_POINTS, 0.35) + forearm_shift + uv
    uln_art = np.asarray(ULNA_ARTICULAR) + forearm_shift + uv
    radius_outline = smooth_closed(rad * scale, 220, 3)
    ulna_outline = smooth_closed(uln * scale, 200, 3)
    down = np.array([0.0, 1.0])
    bones.append(BoneShape(
        name="radius", bone=Bone.RADIUS, outline_mm=radius_outline, half_thickness_mm=11.0 * scale,
        cortex_mm=0.8 * scale, cortex_shaft_mm=2.4 * scale, trab_density=trab_density * rng.uniform(0.9, 1.1),
        axis=(tuple(rad_art[3] * scale), (0.0, 1.0)), length_mm=110.0 * scale,
        band_mm=_curve_band(rad_art * scale, down, 10.0),
        tex_angle_rad=np.pi / 2 + rng.normal(0, 0.08), tex_anisotropy=rng.uniform(2.0, 3.0),
        tex_corr_mm=rng.uniform(0.25, 0.35)))
    bones.append(BoneShape(
        name="ulna", bone=Bone.ULNA, outline_mm=ulna_outline, half_thickness_mm=7.5 * scale,
        cortex_mm=0.8 * scale, cortex_shaft_mm=2.2 * scale, trab_density=trab_density * rng.uniform(0.9, 1.1),
        axis=(tuple(uln_art[2] * scale), (0.0, 1.0)), length_mm=110.0 * scale,
        band_mm=_curve_band(uln_art * scale, down, 10.0),
        tex_angle_rad=np.pi / 2 + rng.normal(0, 0.08), tex_anisotropy=rng.uniform(2.0, 3.0),
        tex_corr_mm=rng.uniform(0.25, 0.35)))

    # metacarpals and phalanges ----------------------------------------------------------------------------
    for i, (base, ang, length, wb, ws, wh, base_shape) in METACARPALS.items():
        b = (np.asarray(base) + np.array([0.0, MC_BASE_SHIFT_MM]) + rng.normal(0.0, 0.5, 2)
             - np.array([0.0, jsn_mm])) * scale
        a = ang + rng.normal(0.0, 2.0) + (finger_spread_deg * (i - 3) / 2 if i > 1 else 0.0)
        L = length * scale * rng.uniform(0.95, 1.05)
        wj = rng.normal(0.0, 0.03, 9)
        outline, base_pt, u = _long_bone(b, a, L, wb * scale, ws * scale, wh * scale, base_shape=base_shape,
                                         jitter=wj)
        bones.append(BoneShape(
            name=f"mc{i}", bone=Bone(f"mc{i}"), outline_mm=smooth_closed(outline, 200, 3),
            half_thickness_mm=(wb * 0.42) * scale, cortex_mm=0.8 * scale, cortex_shaft_mm=2.0 * scale,
            trab_density=trab_density * rng.uniform(0.9, 1.1), axis=(tuple(base_pt), tuple(u)), length_mm=L,
            band_mm=_band(base_pt, u, wb * scale, 10.0),
            tex_angle_rad=float(np.arctan2(u[1], u[0])), tex_anisotropy=rng.uniform(1.8, 2.6),
            tex_corr_mm=rng.uniform(0.25, 0.35)))
        # phalanges (drawn always, kept only for a full hand, so rng use does not depend on the field)
        tip = base_pt + u * L
        pa = a + FINGER_SPREAD_DEG[i] * (0.3 if i == 1 else 1.0) + rng.normal(0.0, 2.0) + finger_spread_deg * (i - 3) / 3
        pl, pbw, psw, phw = PROXIMAL_PHALANGES[i]
        pl = pl * scale * rng.uniform(0.95, 1.05)
        pb = tip + u * 2.2 * scale
        pout, pbase, pu = _long_bone(pb, pa, pl, pbw * scale, psw * scale, phw * scale, base_shape="concave",
                                     head="flat", jitter=rng.normal(0.0, 0.03, 9))
        ml, mbw, msw, mhw = SECOND_PHALANGES[i]
        ml = ml * scale * rng.uniform(0.95, 1.05)
        mb = pbase + pu * (pl + 2.0 * scale)
        ma = pa + rng.normal(0.0, 2.0)
        mout, mbase, mu = _long_bone(mb, ma, ml, mbw * scale, msw * scale, mhw * scale, base_shape="concave",
                                     head="flat", jitter=rng.normal(0.0, 0.03, 9))
        dl, dbw, dsw, dhw = TERMINAL_PHALANGES.get(i, (18.0, 9.0, 5.5, 7.0))
        dl = dl * scale * rng.uniform(0.95, 1.05)
        db = mbase + mu * (ml + 1.8 * scale)
        da = ma + rng.normal(0.0, 1.5)
        dout, dbase, du = _long_bone(db, da, dl, dbw * scale, dsw * scale, dhw * scale, base_shape="concave",
                                     head="round", jitter=rng.normal(0.0, 0.03, 9))
        finger_tips[i] = (mbase + mu * (ml + 4.0 * scale)) if i == 1 else (dbase + du * (dl + 4.0 * scale))
        if full_hand:
            parts = [(f"pp{i}", pout, pbase, pu, pl, pbw),
                     (f"{'dp' if i == 1 else 'mp'}{i}", mout, mbase, mu, ml, mbw)]
            if i > 1:
                parts.append((f"dp{i}", dout, dbase, du, dl, dbw))
            for nm, out, bp, uu, ll, bw in parts:
                bones.append(BoneShape(
                    name=nm, bone=None, outline_mm=smooth_closed(out, 160, 3), half_thickness_mm=bw * 0.4 * scale,
                    cortex_mm=0.7 * scale, cortex_shaft_mm=1.6 * scale, trab_density=trab_density,
                    axis=(tuple(bp), tuple(uu)), length_mm=ll, tex_angle_rad=float(np.arctan2(uu[1], uu[0])),
                    tex_anisotropy=1.6, tex_corr_mm=0.9))

    # soft tissue ------------------------------------------------------------------------------------------
    soft = _soft_tissue(bones, scale, rng, finger_tips)

    # landmarks and axes --------------------------------------------------------------------------------------
    landmarks, axes = _landmarks(bones)
    return Anatomy(bones=bones, soft=soft, landmarks=landmarks, axes=axes)


def _bone(bones: list[BoneShape], name: str) -> BoneShape | None:
    for b in bones:
        if b.name == name:
            return b
    return None


def _soft_tissue(bones: list[BoneShape], scale: float, rng: np.random.Generator,
                 finger_tips: dict[int, np.ndarray]) -> list[SoftShape]:
    """Forearm, palm, thumb and one capsule per finger, ending 4 mm beyond the last phalanx."""
    w = rng.uniform(0.95, 1.08)
    mc = {i: _bone(bones, f"mc{i}") for i in range(1, 6)}
    mc5 = mc[5]
    mc2 = mc[2]
    assert mc5 is not None and mc2 is not None and mc[1] is not None
    b5, u5 = np.asarray(mc5.axis[0]), np.asarray(mc5.axis[1])
    b2, u2 = np.asarray(mc2.axis[0]), np.asarray(mc2.axis[1])
    v5 = np.array([-u5[1], u5[0]])
    b1, u1 = np.asarray(mc[1].axis[0]), np.asarray(mc[1].axis[1])
    v1 = np.array([-u1[1], u1[0]])
    s = scale
    v2 = np.array([-u2[1], u2[0]])
    l1, l2, l5 = mc[1].length_mm, mc2.length_mm, mc5.length_mm
    forearm = [(-38.0 * s * w, 200.0 * s), (-37.0 * s * w, 60.0 * s), (-35.0 * s * w, 30.0 * s),
               (-33.0 * s * w, 10.0 * s), (40.0 * s * w, 10.0 * s), (41.5 * s * w, 30.0 * s),
               (43.0 * s * w, 60.0 * s), (44.0 * s * w, 200.0 * s)]
    palm = [
        (-35.0 * s * w, 30.0 * s), (-33.0 * s * w, 14.0 * s), tuple(b1 - v1 * 11 * s - u1 * 2 * s),
        tuple(b1 - v1 * 10 * s + u1 * l1 * 0.6), tuple(b1 + v1 * 9 * s + u1 * l1 * 0.75),
        tuple(b2 - v2 * 10 * s + u2 * l2 * 0.55), tuple(b2 - v2 * 10 * s + u2 * l2 * 1.02),
        tuple(b5 + v5 * 10 * s + u5 * l5 * 1.02), tuple(b5 + v5 * 13 * s + u5 * l5 * 0.5),
        tuple(b5 + v5 * 14 * s), (40.0 * s * w, 14.0 * s), (41.5 * s * w, 30.0 * s)]
    soft = [SoftShape("forearm", smooth_closed(np.asarray(forearm), 120, 3), 20.0 * s * w),
            SoftShape("palm", smooth_closed(np.asarray(palm), 200, 3), 15.0 * s)]
    thumb = [tuple(b1 + u1 * l1 * 0.3 + v1 * o * s) for o in (-10.5, 9.0)]
    t_len = float((finger_tips[1] - b1) @ u1)
    thumb += [tuple(b1 + u1 * t_len + v1 * 9.0 * s), tuple(b1 + u1 * t_len - v1 * 10.5 * s)]
    soft.append(SoftShape("thumb", smooth_closed(np.asarray(thumb), 60, 2), 10.0 * s))
    for i in range(2, 6):
        m = mc[i]
        assert m is not None
        p = _bone(bones, f"pp{i}")
        base = np.asarray(m.axis[0]) + np.asarray(m.axis[1]) * m.length_mm * 0.85
        if p is not None:
            u = np.asarray(p.axis[1])
        else:
            u = np.asarray(m.axis[1])
        v = np.array([-u[1], u[0]])
        half_w = (9.5 if i in (2, 3, 4) else 8.5) * s
        length = float((finger_tips[i] - base) @ u)
        cap = [base + v * half_w, base + u * length + v * half_w * 0.8, base + u * (length + half_w * 0.4),
               base + u * length - v * half_w * 0.8, base - v * half_w]
        soft.append(SoftShape(f"finger{i}", smooth_closed(np.asarray(cap), 60, 2), half_w * 0.9))
    return soft


def _landmarks(bones: list[BoneShape]) -> tuple[dict[str, tuple[float, float]],
                                                dict[str, tuple[tuple[float, float], tuple[float, float]]]]:
    lm: dict[str, tuple[float, float]] = {}
    rad = _bone(bones, "radius")
    uln = _bone(bones, "ulna")
    assert rad is not None and uln is not None
    ro = rad.outline_mm
    x_min = ro[:, 0].min()
    radial = ro[ro[:, 0] < x_min + 8.0]
    tip = radial[np.argmin(radial[:, 1])]
    inward = np.array([0.0, 0.6])  # landmarks on distal outlines are moved 0.6 mm into the bone
    tip = tip + inward
    lm["radial_styloid_tip"] = (float(tip[0]), float(tip[1]))
    uo = uln.outline_mm
    utip = uo[np.argmin(uo[:, 1])] + inward
    lm["ulnar_styloid_tip"] = (float(utip[0]), float(utip[1]))
    # radius articular midpoint: on the distal outline, halfway between styloid tip and ulnar corner
    x_max = ro[:, 0].max()
    xm = 0.5 * (tip[0] + x_max)
    near = ro[(np.abs(ro[:, 0] - xm) < 1.5) & (ro[:, 1] < ro[:, 1].min() + 25)]
    p = near[np.argmin(near[:, 1])] + inward
    lm["radius_articular_mid"] = (float(p[0]), float(p[1]))
    ux_min = uo[:, 0].min()
    uxm = ux_min + 0.4 * (utip[0] - ux_min)
    near = uo[(np.abs(uo[:, 0] - uxm) < 1.5) & (uo[:, 1] < uo[:, 1].min() + 25)]
    p = near[np.argmin(near[:, 1])] + inward
    lm["ulna_articular_mid"] = (float(p[0]), float(p[1]))
    axes: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
    ra = np.asarray(lm["radius_articular_mid"])
    prox_y = ra[1] + 45.0
    row = ro[np.abs(ro[:, 1] - prox_y) < 3.0]
    prox = np.array([0.5 * (row[:, 0].min() + row[:, 0].max()), prox_y]) if len(row) >= 2 else ra + (0, 45.0)
    axes["radius_axis"] = ((float(prox[0]), float(prox[1])), (float(ra[0]), float(ra[1])))
    mc3 = _bone(bones, "mc3")
    assert mc3 is not None and mc3.axis is not None
    b3, u3 = np.asarray(mc3.axis[0]), np.asarray(mc3.axis[1])
    d3 = b3 + u3 * mc3.length_mm
    axes["mc3_axis"] = ((float(b3[0]), float(b3[1])), (float(d3[0]), float(d3[1])))
    return lm, axes
