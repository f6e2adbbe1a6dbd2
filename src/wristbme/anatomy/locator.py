"""``locate``: find the RAMRIS wrist bones on a PA radiograph by registering the wrist atlas.

Method (``wristbme.anatomy.atlas/1``)
------------------------------------
1. Canonical frame: mirror a left hand, so every hand is a right hand; the in-plane rotation is searched.
2. Global pose, coarse to fine: the enhanced mean wrist (``_enhance.enhance``) is matched by normalised
   cross-correlation over rotations (−54° … +54°), scales (hand size) and positions at 2 mm, then refined at
   1 mm. When the laterality is unknown both sides are tried and the better match wins.
3. Landmarks at 0.5 mm: each landmark's mean patch is matched in a small window around its pose-predicted
   position (penalised by distance), then the shape is regularised by the atlas shape modes (±2.5 SD); a
   match far from the model, or weak, falls back to the model position.
4. Regions: the atlas's mean outlines are warped to the found landmarks with a thin-plate spline.
5. QC: image- and region-level flags (``types.QC_FLAGS``) and confidences; see ``_qc``.
Everything is mapped back to the original image frame (mm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.interpolate import RBFInterpolator

from wristbme.anatomy import _geometry as geo
from wristbme.anatomy._enhance import enhance
from wristbme.anatomy._match import SkimageBank, ncc_bank, ncc_valid_stack
from wristbme.anatomy.atlas import PATCH_RES_MM, Atlas, default_atlases, similarity_fit
from wristbme.anatomy.types import LANDMARKS, QC_FLAGS, Region, WristAnatomy
from wristbme.bones import CARPALS, RAMRIS_BONES, Bone
from wristbme.errors import AnatomyError
from wristbme.imaging.radiograph import Laterality, Radiograph, View

METHOD = "wristbme.anatomy.atlas/1"
NOMINAL_SPACING_MM = 0.15
"""Spacing assumed for an uncalibrated image (then the scale search is widened and QC flags it)."""
COARSE_ANGLES_DEG = tuple(range(-54, 55, 6))
COARSE_SCALES = (0.72, 0.84, 0.96, 1.08, 1.2)
UNCALIBRATED_SCALES = (0.5, 0.6, 0.72, 0.84, 0.96, 1.08, 1.2, 1.4, 1.65)
ROTATION_LIMIT_DEG = 45.0
MIN_IMAGE_NCC = 0.18
"""Below this whole-wrist match the wrist is not identifiable (all regions flagged)."""
LOW_IMAGE_NCC = 0.28
"""Below this the image-level ``low_confidence`` flag is set."""
MIN_REGION_CONFIDENCE = 0.35
N_HYPOTHESES = 3
"""Distinct coarse poses carried to landmark refinement; the one whose landmarks match best wins."""


@dataclass
class Pose:
    """Where the atlas sits: ``atlas_to_canon`` (similarity, mm) in the canonical frame of (mirror, angle)."""

    mirror: bool
    angle_deg: float
    atlas_to_canon: np.ndarray
    score: float

    @property
    def scale(self) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.atlas_to_canon[:2, :2]))))


class _Image:
    """The radiograph at a few resolutions, with the matrices from each to the original mm frame."""

    def __init__(self, pixels: np.ndarray, spacing_mm: tuple[float, float]):
        self.shape = pixels.shape
        self.spacing = spacing_mm
        self.levels: dict[float, tuple[np.ndarray, tuple[float, float], np.ndarray]] = {}
        self._pixels = pixels
        self._enhanced: dict[tuple[float, bool, float], tuple[np.ndarray, tuple]] = {}
        self._integer_max: float | None | bool = False  # False: not looked at yet
        self.coarse_bank = SkimageBank()
        """Spectra and sums of the coarse templates (shared by every rotation of the coarse search)."""

    def level(self, target_mm: float) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
        """(pixels, spacing, level_mm → original_mm matrix) block-averaged to ≤ ``target_mm``/2."""
        if target_mm not in self.levels:
            if self._integer_max is False:
                self._integer_max = geo.integer_bound(self._pixels)
            px, sp = geo.downsample(self._pixels, self.spacing, target_mm / 2.0, integer_max=self._integer_max)
            fr = int(round(sp[0] / self.spacing[0]))
            fc = int(round(sp[1] / self.spacing[1]))
            to_orig = geo.translation((fc - 1) / 2.0 * self.spacing[1], (fr - 1) / 2.0 * self.spacing[0])
            self.levels[target_mm] = (px, sp, to_orig)
        return self.levels[target_mm]

    def canonical(self, res_mm: float, mirror: bool, angle_deg: float,
                  box: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
        """Canonical image at ``res_mm`` over ``box`` (xmin, ymin, xmax, ymax canonical mm; default: all).

        Returns (image with NaN outside, original→canonical matrix, origin_mm of pixel (0, 0)).
        """
        m = geo.canonical_matrix(self.shape, self.spacing, mirror=mirror, angle_deg=angle_deg)
        if box is None:
            box = geo.canonical_bounds(self.shape, self.spacing, m)
        origin = (box[0], box[1])
        shape = (max(2, int(np.ceil((box[3] - box[1]) / res_mm)) + 1),
                 max(2, int(np.ceil((box[2] - box[0]) / res_mm)) + 1))
        px, sp, to_orig = self.level(res_mm)
        img = geo.resample(px, sp, m @ to_orig, origin, shape, res_mm)
        return img, m, origin

    def enhanced_canonical(self, res_mm: float, mirror: bool, angle_deg: float) -> tuple[np.ndarray, tuple]:
        """``enhance`` of the whole canonical image at ``res_mm`` (cached: every atlas searches the same
        rotations); returns (enhanced image, origin_mm of pixel (0, 0))."""
        key = (res_mm, mirror, angle_deg)
        if key not in self._enhanced:
            img, _, origin = self.canonical(res_mm, mirror, angle_deg)
            self._enhanced[key] = (enhance(img, res_mm), origin)
        return self._enhanced[key]


def _zoom(template: np.ndarray, k: float) -> np.ndarray:
    return ndimage.zoom(template, k, order=1, prefilter=False) if abs(k - 1) > 1e-3 else template


def _pose_from_peak(ij: tuple[int, int], pads: tuple[int, int], origin_img: tuple[float, float], res: float,
                    k: float, origin_t: np.ndarray) -> np.ndarray:
    i0, j0 = ij[0] - pads[0], ij[1] - pads[1]
    return (geo.translation(origin_img[0] + j0 * res, origin_img[1] + i0 * res) @ geo.scaling(k)
            @ geo.translation(-origin_t[0], -origin_t[1]))


def _coarse_candidates(im: _Image, atlas: Atlas, mirrors: tuple[bool, ...], scales: tuple[float, ...],
                       n_keep: int = N_HYPOTHESES) -> list[Pose]:
    """The best ``n_keep`` distinct poses of the coarse template search (distinct: centre ≥ 10 mm apart or
    rotation ≥ 12° apart)."""
    coarse_res = max(atlas.templates)
    tmpl, origin_t = atlas.templates[coarse_res]
    zoomed = {k: _zoom(tmpl, k) for k in scales}
    centre_atlas = origin_t + np.array(tmpl.shape[::-1]) * coarse_res / 2.0
    # (score, mirror, angle, peak): poses are built only for the peaks the selection below looks at
    found: list[tuple[float, bool, float, tuple]] = []
    for mirror in mirrors:
        for angle in COARSE_ANGLES_DEG:
            enh, origin = im.enhanced_canonical(coarse_res, mirror, float(angle))
            maps = im.coarse_bank.match(enh, list(zoomed.values()))
            for k, (ncc, pr, pc) in zip(zoomed, maps, strict=True):
                # a few local maxima per map
                peaks = _peaks(ncc, 3, int(8.0 / coarse_res))
                for ij in peaks:
                    found.append((float(ncc[ij]), mirror, float(angle), (ij, (pr, pc), origin, k)))
    found.sort(key=lambda f: -f[0])  # stable: equal scores keep the search order
    kept: list[Pose] = []
    centres: list[np.ndarray] = []
    for score, p_mirror, p_angle, (ij, pads, p_origin, p_k) in found:
        p = Pose(p_mirror, p_angle, _pose_from_peak(ij, pads, p_origin, coarse_res, p_k, origin_t), score)
        c = _orig_centre(im, p, centre_atlas)
        if all(np.hypot(*(c - cq)) >= 10.0 or p.mirror != q.mirror or abs(p.angle_deg - q.angle_deg) >= 12
               for q, cq in zip(kept, centres, strict=True)):
            kept.append(p)
            centres.append(c)
        if len(kept) >= n_keep:
            break
    return kept


def _peaks(ncc: np.ndarray, n: int, min_dist: int) -> list[tuple[int, int]]:
    out = []
    work = ncc.copy()
    for _ in range(n):
        ij = np.unravel_index(int(np.argmax(work)), work.shape)
        if not np.isfinite(work[ij]) or work[ij] <= -1:
            break
        out.append((int(ij[0]), int(ij[1])))
        work[max(0, ij[0] - min_dist):ij[0] + min_dist + 1, max(0, ij[1] - min_dist):ij[1] + min_dist + 1] = -2
    return out


def _orig_centre(im: _Image, pose: Pose, centre_atlas: np.ndarray) -> np.ndarray:
    m = geo.canonical_matrix(im.shape, im.spacing, mirror=pose.mirror, angle_deg=pose.angle_deg)
    return geo.apply(np.linalg.inv(m) @ pose.atlas_to_canon, centre_atlas[None])[0]


def _refine_pose(im: _Image, atlas: Atlas, best: Pose) -> Pose:
    """Refine a coarse pose at the fine template resolution (rotation ±3°, scale ±5 %, position)."""
    fine_res = sorted(atlas.templates)[0]
    tmpl, origin_t = atlas.templates[fine_res]
    refined = None
    base_scale = best.scale
    centre_atlas = origin_t + np.array(tmpl.shape[::-1]) * fine_res / 2.0
    for dangle in (-3.0, 0.0, 3.0):
        angle = best.angle_deg + dangle
        c_canon = geo.apply(best.atlas_to_canon, centre_atlas[None])[0]
        c_canon = geo.apply(geo.rotation(dangle), c_canon[None])[0]
        half = np.array(tmpl.shape[::-1]) * fine_res * base_scale * 1.05 / 2.0 + 8.0
        box = (c_canon[0] - half[0], c_canon[1] - half[1], c_canon[0] + half[0], c_canon[1] + half[1])
        img, _, origin = im.canonical(fine_res, best.mirror, angle, box)
        enh = enhance(img, fine_res)
        ks = [base_scale * dk for dk in (0.95, 1.0, 1.05)]
        for k, (ncc, pr, pc) in zip(ks, ncc_bank(enh, [_zoom(tmpl, k) for k in ks]), strict=True):
            a, b = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
            ij = (int(a), int(b))
            if refined is None or ncc[ij] > refined.score:
                refined = Pose(best.mirror, float(angle),
                               _pose_from_peak(ij, (pr, pc), origin, fine_res, k, origin_t), float(ncc[ij]))
    return refined if refined is not None else best


def _fit_shape(points: np.ndarray, weights: np.ndarray, atlas: Atlas, fixed: np.ndarray | None = None,
               clamp_sd: float = 2.5) -> np.ndarray:
    """Closest plausible shape (canonical mm) to ``points`` (L, 2) with per-point ``weights``."""
    w = weights.copy()
    if fixed is not None:
        w = np.where(fixed, 1e3, w)
    model = points.copy()
    for _ in range(3):
        s = similarity_fit(atlas.mean_shape, points, w + 1e-6)
        sinv = np.linalg.inv(s)
        local = geo.apply(sinv, points) - atlas.mean_shape
        # weighted projection: points with little weight are taken from the current model
        cur = geo.apply(sinv, model) - atlas.mean_shape
        blend = (w[:, None] / (w.max() + 1e-9)) * local + (1 - w[:, None] / (w.max() + 1e-9)) * cur
        b = atlas.modes @ blend.reshape(-1)
        b = np.clip(b, -clamp_sd * atlas.mode_sd, clamp_sd * atlas.mode_sd)
        recon = atlas.mean_shape + (b @ atlas.modes).reshape(-1, 2)
        model = geo.apply(s, recon)
    return model


def _fit_quality(pose: Pose, conf: np.ndarray) -> float:
    """How well a hypothesis fits: whole-wrist match plus the mean local landmark match."""
    return float(pose.score + np.mean(conf))


def _refine_landmarks(im: _Image, atlas: Atlas, pose: Pose, fixed: dict[int, np.ndarray] | None = None,
                      start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Landmarks (L, 2) in canonical mm with per-landmark confidence; also the 0.5 mm canonical image."""
    res = PATCH_RES_MM
    k = pose.scale
    init = geo.apply(pose.atlas_to_canon, atlas.mean_shape) if start is None else start
    lo, hi = init.min(axis=0) - 30.0 * k, init.max(axis=0) + 30.0 * k
    img, m, origin = im.canonical(res, pose.mirror, pose.angle_deg, (lo[0], lo[1], hi[0], hi[1]))
    enh = enhance(img, res)
    valid = np.isfinite(img)
    pts = init.copy()
    conf = np.zeros(len(init))
    fixed = fixed or {}
    fixed_mask = np.zeros(len(init), dtype=bool)
    for i, p in fixed.items():
        pts[i] = p
        fixed_mask[i] = True
    patches = np.stack([_zoom(p, k) for p in atlas.patches])
    ph, pw = patches.shape[1:]
    for radius_mm, sigma_mm in ((6.0, 4.0), (3.0, 2.5)):
        cand = pts.copy()
        r = int(np.ceil(radius_mm * k / res))
        yy, xx = np.mgrid[0:2 * r + 1, 0:2 * r + 1]
        d2 = ((yy - r) ** 2 + (xx - r) ** 2) * res * res
        penalty = 0.5 * d2 / (sigma_mm * k) ** 2 * 0.15
        todo, corners, windows = [], [], []
        for i, p in enumerate(pts):
            if fixed_mask[i]:
                conf[i] = 1.0
                continue
            c = ((p[0] - origin[0]) / res, (p[1] - origin[1]) / res)
            if not valid[np.clip(int(round(c[1])), 0, valid.shape[0] - 1),
                         np.clip(int(round(c[0])), 0, valid.shape[1] - 1)]:
                conf[i] = 0.0
                continue
            r0, c0 = int(round(c[1])) - r - ph // 2, int(round(c[0])) - r - pw // 2
            todo.append(i)
            corners.append((r0, c0))
            windows.append(_crop(enh, r0, c0, 2 * r + ph, 2 * r + pw))
        maps = ncc_valid_stack(np.stack(windows), patches[todo]) if todo else np.zeros((0, 1, 1), np.float32)
        for i, (r0, c0), ncc in zip(todo, corners, maps, strict=True):
            score = ncc - penalty
            a, b = np.unravel_index(int(np.argmax(score)), score.shape)
            da, db = _subpixel_offset(score, int(a), int(b))
            cand[i] = (origin[0] + (c0 + b + db + pw // 2) * res, origin[1] + (r0 + a + da + ph // 2) * res)
            conf[i] = float(max(ncc[a, b], 0.0))
        model = _fit_shape(cand, np.maximum(conf, 0.02), atlas, fixed_mask)
        dist = np.linalg.norm(cand - model, axis=1)
        trust = (conf > 0.3) & (dist < 3.0 * k)
        pts = np.where(trust[:, None] | fixed_mask[:, None], cand, model)
        conf = np.where(trust | fixed_mask, conf, conf * 0.5)
    return pts, np.clip(conf, 0, 1), enh, (origin, res, m, dist / k)


def _subpixel_offset(score: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """Offset (rows, cols), each within ±0.5 pixel, of the vertex of a parabola through the peak ``score[a, b]``
    and its two neighbours along each axis. Without it landmarks snap to the 0.5 mm matching grid, and a
    small rotation or shift of the image moves them by a whole grid step."""

    def vertex(m1: float, c: float, p1: float) -> float:
        den = m1 - 2.0 * c + p1
        return float(np.clip(0.5 * (m1 - p1) / den, -0.5, 0.5)) if den < -1e-12 else 0.0

    da = vertex(score[a - 1, b], score[a, b], score[a + 1, b]) if 0 < a < score.shape[0] - 1 else 0.0
    db = vertex(score[a, b - 1], score[a, b], score[a, b + 1]) if 0 < b < score.shape[1] - 1 else 0.0
    return da, db


def _crop(img: np.ndarray, r0: int, c0: int, h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w), dtype=img.dtype)
    rs, cs = max(r0, 0), max(c0, 0)
    re, ce = min(r0 + h, img.shape[0]), min(c0 + w, img.shape[1])
    if re > rs and ce > cs:
        out[rs - r0:re - r0, cs - c0:ce - c0] = img[rs:re, cs:ce]
    return out


ANCHORS = {Bone.RADIUS: "radius_articular_mid", Bone.ULNA: "ulna_articular_mid",
           **{b: f"{b.value}_centre" for b in CARPALS},
           **{Bone(f"mc{i}"): f"mc{i}_base_centre" for i in range(1, 6)}}
"""The landmark each region is attached to."""


def _local_warp(warp, atlas: Atlas, pts: np.ndarray, bone: Bone, poly_atlas: np.ndarray) -> np.ndarray:
    """Map an atlas outline rigidly-affinely with its anchor landmark: the outline follows the landmark
    exactly, and takes the local rotation/scale (Jacobian) of the thin-plate warp there."""
    i = LANDMARKS.index(ANCHORS[bone])
    a = atlas.mean_shape[i]
    h = 2.0
    probe = np.array([a, a + [h, 0.0], a + [0.0, h]])
    w = warp(probe)
    jac = np.column_stack([(w[1] - w[0]) / h, (w[2] - w[0]) / h])
    return pts[i] + (poly_atlas - a) @ jac.T


def _tps(src: np.ndarray, dst: np.ndarray):
    ok = np.all(np.isfinite(src), 1) & np.all(np.isfinite(dst), 1)
    return RBFInterpolator(src[ok], dst[ok], kernel="thin_plate_spline", smoothing=0.0, degree=1)


# ------------------------------------------------------------------------------------------- public
def locate(radiograph: Radiograph, *, corrections: dict | None = None,
           atlas: Atlas | tuple[Atlas, ...] | list[Atlas] | None = None,
           diagnostics: dict | None = None) -> WristAnatomy:
    """Locate landmarks and the 15 RAMRIS wrist regions on a PA wrist or hand radiograph.

    Parameters
    ----------
    radiograph : Radiograph
        Bone bright; any spacing (``None`` → ``NOMINAL_SPACING_MM`` and the ``uncalibrated`` flag), either
        side (``laterality`` U → both are tried), in-plane rotation up to ±45°, full hand or wrist crop.
    corrections : dict, optional
        Operator edits, JSON-able: ``{"landmarks": {name: [x_mm, y_mm]}, "regions": {bone: [[x_mm, y_mm],
        ...]}}`` in the original frame. Moved landmarks are fixed and the rest of the shape is re-fitted;
        replaced polygons are kept as given (confidence 1, no flags).
    atlas : Atlas or sequence of Atlas, optional
        Defaults to the shipped atlases; with several, the best-fitting one is kept.
    diagnostics : dict, optional
        Filled with the QC cues (for calibration and debugging).

    Returns
    -------
    WristAnatomy
        In mm of the original image frame. Regions whose ``qc_flags`` are non-empty must not be scored
        silently.

    Raises
    ------
    AnatomyError
        The image is too small (under 20 mm on a side) to hold a wrist, or the corrections are malformed.
    """
    atlases = default_atlases() if atlas is None else ((atlas,) if isinstance(atlas, Atlas) else tuple(atlas))
    pixels = radiograph.pixels
    flags: set[str] = set(radiograph.qc_flags) & set(QC_FLAGS)
    spacing = radiograph.spacing_mm
    scales: tuple[float, ...] = COARSE_SCALES
    if spacing is None:
        spacing = (NOMINAL_SPACING_MM, NOMINAL_SPACING_MM)
        flags.add("uncalibrated")
        scales = UNCALIBRATED_SCALES
    size_mm = np.array(pixels.shape) * np.array(spacing)
    if size_mm.min() < 20.0:
        raise AnatomyError(f"image of {size_mm[1]:.0f} x {size_mm[0]:.0f} mm is too small to hold a wrist",
                           hint="check the pixel spacing (--spacing MM) or the image")
    if radiograph.view in (View.LATERAL, View.OBLIQUE):
        flags.add("not_pa_view")
    mirrors = {Laterality.RIGHT: (False,), Laterality.LEFT: (True,)}.get(radiograph.laterality, (False, True))
    corr = _parse_corrections(corrections)

    im = _Image(pixels, spacing)
    hypotheses = []
    n_keep = N_HYPOTHESES if len(atlases) == 1 else max(1, N_HYPOTHESES - 1)
    for k, at in enumerate(atlases):
        for cand in _coarse_candidates(im, at, mirrors, scales, n_keep):
            p = _refine_pose(im, at, cand)
            fitted = _refine_landmarks(im, at, p, None)
            hypotheses.append((_fit_quality(p, fitted[1]), k, p, fitted))
    hypotheses.sort(key=lambda h: -h[0])
    _, k_best, pose, (pts, conf, enh, grid) = hypotheses[0]
    atlas = atlases[k_best]
    m_canon = geo.canonical_matrix(pixels.shape, spacing, mirror=pose.mirror, angle_deg=pose.angle_deg)
    canon_to_orig = np.linalg.inv(m_canon)
    fixed = {LANDMARKS.index(n): geo.apply(m_canon, np.asarray(p)[None])[0] for n, p in corr["landmarks"].items()}
    if fixed:
        pts, conf, enh, grid = _refine_landmarks(im, atlas, pose, fixed, start=pts)

    from wristbme.anatomy import _qc

    warp = _tps(atlas.mean_shape, pts)
    regions: dict[Bone, Region] = {}
    canon_polys: dict[Bone, np.ndarray] = {}
    img_conf = float(np.clip((pose.score - MIN_IMAGE_NCC) / (0.5 - MIN_IMAGE_NCC), 0.0, 1.0))
    region_conf = _qc.region_confidence(conf, img_conf)
    for bone in RAMRIS_BONES:
        if bone in corr["regions"]:
            regions[bone] = Region(bone, corr["regions"][bone], 1.0, ())
            continue
        poly_atlas = atlas.polygons.get(bone)
        if poly_atlas is None:
            continue
        canon_polys[bone] = _local_warp(warp, atlas, pts, bone, poly_atlas)
        poly_orig = geo.apply(canon_to_orig, canon_polys[bone])
        regions[bone] = Region(bone, poly_orig, region_conf[bone], ())
    reference = None
    if atlas.reference is not None:
        reference = geo.apply(canon_to_orig, warp(atlas.reference))
    landmarks: dict[str, tuple[float, float]] = {}
    for n, p in zip(LANDMARKS, pts, strict=True):
        q = geo.apply(canon_to_orig, p[None])[0]
        landmarks[n] = (float(q[0]), float(q[1]))
    for bone in corr["regions"]:  # a replaced carpal/MC polygon moves its centre unless that was set too
        name = _centre_name(bone)
        if name and name not in corr["landmarks"]:
            c = np.asarray(corr["regions"][bone]).mean(axis=0)
            landmarks[name] = (float(c[0]), float(c[1]))
    for n, p in corr["landmarks"].items():
        landmarks[n] = (float(p[0]), float(p[1]))
    axes = _axes(pts, canon_to_orig, atlas, pose)

    anatomy = WristAnatomy(
        spacing_mm=(float(spacing[0]), float(spacing[1])), image_shape=(int(pixels.shape[0]), int(pixels.shape[1])),
        landmarks=landmarks, regions=regions,
        axes=axes, reference_region=reference, qc_flags=(), confidence=img_conf,
        method=METHOD + ("+corrected" if corrections else ""),
    )
    cues = _qc.image_cues(enh, grid[0], grid[1], pts, canon_polys, conf, pose, atlas, residual_mm=grid[3],
                          image=im)
    if diagnostics is not None:
        diagnostics.update(cues)
    return _qc.apply_qc(anatomy, radiograph, pose=pose, flags=flags, cues=cues, corrected=set(corr["regions"]),
                        corrections=corrections)


def _centre_name(bone: Bone) -> str | None:
    if bone in CARPALS:
        return f"{bone.value}_centre"
    if bone.value.startswith("mc"):
        return f"{bone.value}_base_centre"
    return None


def _axes(pts: np.ndarray, canon_to_orig: np.ndarray, atlas: Atlas, pose: Pose) -> dict:
    """Radius axis (proximal → articular midpoint) and MC3 axis (base → distal) from the located shape."""
    k = pose.scale
    ra = pts[LANDMARKS.index("radius_articular_mid")]
    mc3 = pts[LANDMARKS.index("mc3_base_centre")]
    cap = pts[LANDMARKS.index("capitate_centre")]
    # the forearm is vertical in the canonical frame; MC3 continues the capitate → MC3 base line
    radius_axis = (ra + [0.0, 40.0 * k], ra)
    d = mc3 - cap
    d = d / (np.linalg.norm(d) + 1e-9)
    mc3_axis = (mc3, mc3 + d * 50.0 * k)

    def back(p):
        return tuple(map(float, geo.apply(canon_to_orig, np.asarray(p)[None])[0]))

    return {"radius_axis": (back(radius_axis[0]), back(radius_axis[1])),
            "mc3_axis": (back(mc3_axis[0]), back(mc3_axis[1]))}


def _parse_corrections(corrections: dict | None) -> dict:
    out: dict = {"landmarks": {}, "regions": {}}
    if not corrections:
        return out
    if not isinstance(corrections, dict):
        raise AnatomyError(f"corrections must be a dict, got {type(corrections).__name__}",
                           hint='use {"landmarks": {name: [x_mm, y_mm]}, "regions": {bone: [[x_mm, y_mm], ...]}}')
    unknown = set(corrections) - {"landmarks", "regions"}
    if unknown:
        raise AnatomyError(f"corrections has unknown keys {sorted(unknown)}", hint="allowed: landmarks, regions")
    for name, p in (corrections.get("landmarks") or {}).items():
        if name not in LANDMARKS:
            raise AnatomyError(f"corrections: unknown landmark {name!r}", hint=f"one of {', '.join(LANDMARKS)}")
        arr = np.asarray(p, dtype=float)
        if arr.shape != (2,) or not np.all(np.isfinite(arr)):
            raise AnatomyError(f"corrections: landmark {name!r} must be [x_mm, y_mm], got {p!r}")
        out["landmarks"][name] = arr
    for bone, poly in (corrections.get("regions") or {}).items():
        try:
            b = Bone.parse(bone)
        except ValueError as exc:
            raise AnatomyError(f"corrections: {exc}") from exc
        arr = np.asarray(poly, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 3 or not np.all(np.isfinite(arr)):
            raise AnatomyError(f"corrections: region {b.value!r} must be at least 3 [x_mm, y_mm] points")
        out["regions"][b] = arr
    return out
