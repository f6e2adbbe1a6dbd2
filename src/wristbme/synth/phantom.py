"""Synthetic PA hand/wrist radiographs with known anatomy and known bone marrow edema (BME).

``HandSpec`` describes one hand (sampled from a seeded generator), ``render_phantom`` draws it through a
simple X-ray physics chain, and ``Phantom`` carries the image with its ground truth.

Conventions
-----------
- Pixel coordinates are ``(x, y) = (col, row)``, (0, 0) at the centre of the top-left pixel. Masks,
  landmarks and axes are in the final image frame: after rotation, translation and, for a left hand,
  mirroring (a left hand is the mirror image of the right-hand anatomy).
- ``radiograph.pixels`` are the quantised output values (``0 .. 2**bits - 1``) as float32, bone bright.
- Randomness: ``HandSpec.sample`` draws a fixed number of values whatever the arguments, and
  ``render_phantom`` draws texture, BME geometry and noise from separate streams derived from ``seed``,
  none of which depends on the BME grades or the effect size. Hence, with ``effect_size=0``, images that
  differ only in their grades are identical (the pure null).

BME appearance is a *modelling hypothesis* (see ``docs/synth.md``): inside the affected part of a bone the
trabecular density drops and the fine trabecular texture loses contrast, both scaled by ``effect_size``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from wristbme.bones import RAMRIS_BONES, Bone
from wristbme.errors import ConfigError
from wristbme.imaging.radiograph import Laterality, Radiograph, SourceInfo, SpacingSource, View
from wristbme.synth import _physics, _shapes
from wristbme.synth._texture import fractal_field
from wristbme.synth.sites import SiteProfile, get_site

if TYPE_CHECKING:
    from wristbme.anatomy.types import WristAnatomy

FIELDS_MM = {
    "wrist": (-50.0, 50.0, -50.0, 54.0),
    "full": (-120.0, 80.0, -185.0, 80.0),
}
"""Field of view (x0, x1, y0, y1) in canonical mm (capitate near the origin) before rotation/translation."""

BME_DENSITY_LOSS = 0.12
"""Relative drop of trabecular density at full BME weight and ``effect_size=1`` (hypothesis)."""
BME_TEXTURE_SMOOTHING = 0.6
"""Share of the fine trabecular texture replaced by a smoothed copy at full weight, ``effect_size=1``."""
TRABECULAR_CONTRAST = 0.2
"""Relative standard deviation of trabecular density (texture amplitude)."""
TRABECULAR_CONTRAST_CARPAL = 0.15
"""The same for the carpal bones (their texture is finer and fainter on real radiographs)."""
TEXTURE_BETA = 2.6
"""Power-spectrum exponent of the trabecular texture of long bones (tuned with benchmarks/realism.py)."""
TEXTURE_BETA_CARPAL = 3.8
"""Power-spectrum exponent of the carpal bones' trabecular texture (tuned with benchmarks/realism.py)."""
BME_PREVALENCE = {Bone.RADIUS: 0.35, Bone.ULNA: 0.2, Bone.SCAPHOID: 0.35, Bone.LUNATE: 0.4,
                  Bone.TRIQUETRUM: 0.35, Bone.PISIFORM: 0.1, Bone.TRAPEZIUM: 0.2, Bone.TRAPEZOID: 0.2,
                  Bone.CAPITATE: 0.45, Bone.HAMATE: 0.3, Bone.MC1: 0.1, Bone.MC2: 0.2, Bone.MC3: 0.2,
                  Bone.MC4: 0.15, Bone.MC5: 0.15}
"""Per-bone probability of BME in a wrist that has BME (loosely after early-RA MRI cohorts)."""


@dataclass(frozen=True)
class RaChanges:
    """Early rheumatoid changes drawn into the phantom.

    Attributes
    ----------
    osteopenia : float
        0..1; periarticular trabecular density loss (up to 25 % at 1) in carpals and bone ends.
    jsn_mm : float
        Joint-space narrowing (mm) of the radiocarpal, midcarpal and carpometacarpal joints.
    erosions : tuple of (bone value, position 0..1 along the outline, radius mm)
        Small marginal erosions (cortical and trabecular defects).
    """

    osteopenia: float = 0.0
    jsn_mm: float = 0.0
    erosions: tuple[tuple[str, float, float], ...] = ()

    @classmethod
    def sample(cls, rng: np.random.Generator, rate: float = 0.5) -> RaChanges:
        """Draw changes; ``rate`` is the probability that a hand shows any. Always 16 draws."""
        u = rng.random(2)
        ost = rng.beta(1.5, 3.0)
        jsn = rng.uniform(0.2, 0.8)
        n_ero = min(4, rng.poisson(0.8))
        bones = rng.integers(0, len(RAMRIS_BONES), 4)
        pos = rng.random(4)
        rad = rng.uniform(0.6, 1.6, 4)
        if u[0] >= rate:
            return cls()
        erosions = tuple((RAMRIS_BONES[int(bones[i])].value, float(pos[i]), float(rad[i])) for i in range(n_ero))
        return cls(osteopenia=float(ost), jsn_mm=float(jsn) if u[1] < 0.5 else 0.0, erosions=erosions)


@dataclass(frozen=True)
class HandSpec:
    """Everything that defines one hand, apart from the render seed.

    Attributes
    ----------
    laterality : str
        ``"R"`` or ``"L"``.
    field : str
        ``"full"`` (whole hand and distal forearm, 200 x 265 mm) or ``"wrist"`` (100 x 104 mm).
    spacing_mm : float
        Pixel spacing in the object plane (mm), 0.05..0.5.
    sex : str
        ``"F"`` or ``"M"``.
    age_years : float
    rotation_deg : float
        In-plane rotation about the field centre (degrees; positive turns the fingers to the image right).
    translation_mm : (float, float)
        Shift (x, y) of the hand in the field (mm).
    scale : float
        Overall size factor (sex, age and individual variation).
    ulnar_variance_mm : float
        Positive: ulna longer than the radius at the DRUJ.
    bone_density : float
        Trabecular bone volume fraction (~0.15-0.35).
    finger_spread_deg : float
    anatomy_seed : int
        Seed of the shape jitter (same for both hands of one person).
    bme_grades : dict Bone -> int
        RAMRIS BME grade 0..3 for every bone.
    effect_size : float
        Scales the BME appearance; 0 means the image carries no trace of BME.
    ra_changes : RaChanges
    """

    laterality: str = "R"
    field: str = "wrist"
    spacing_mm: float = 0.15
    sex: str = "F"
    age_years: float = 50.0
    rotation_deg: float = 0.0
    translation_mm: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    ulnar_variance_mm: float = 0.0
    bone_density: float = 0.28
    finger_spread_deg: float = 0.0
    anatomy_seed: int = 0
    bme_grades: dict[Bone, int] = dc_field(default_factory=dict)
    effect_size: float = 1.0
    ra_changes: RaChanges = dc_field(default_factory=RaChanges)

    def __post_init__(self) -> None:
        lat = Laterality.parse(self.laterality)
        if lat is Laterality.UNKNOWN:
            raise ConfigError(f"HandSpec.laterality must be R or L, got {self.laterality!r}")
        object.__setattr__(self, "laterality", lat.value)
        if self.field not in FIELDS_MM:
            raise ConfigError(f"HandSpec.field must be one of {', '.join(FIELDS_MM)}, got {self.field!r}")
        if not 0.05 <= float(self.spacing_mm) <= 0.5:
            raise ConfigError(f"HandSpec.spacing_mm must be within 0.05..0.5 mm, got {self.spacing_mm}")
        if self.sex not in ("F", "M"):
            raise ConfigError(f"HandSpec.sex must be F or M, got {self.sex!r}")
        grades = {b: 0 for b in RAMRIS_BONES}
        for key, value in dict(self.bme_grades).items():
            try:
                bone = Bone.parse(key)
            except ValueError as exc:
                raise ConfigError(f"HandSpec.bme_grades: {exc}") from None
            g = int(value)
            if not 0 <= g <= 3:
                raise ConfigError(f"HandSpec.bme_grades[{bone.value}] must be 0..3 (RAMRIS), got {value!r}")
            grades[bone] = g
        object.__setattr__(self, "bme_grades", grades)
        if not np.isfinite(self.effect_size) or self.effect_size < 0:
            raise ConfigError(f"HandSpec.effect_size must be >= 0, got {self.effect_size}")

    @classmethod
    def sample(cls, rng: np.random.Generator, *, laterality: str = "R", field: str = "wrist",
               spacing_mm: float = 0.15, sex: str | None = None, age_years: float | None = None,
               rotation_deg: float | None = None, bme_grades: dict[Bone, int] | None = None,
               effect_size: float = 1.0, ra_changes: RaChanges | None = None, bme_rate: float = 0.5,
               ra_rate: float = 0.5) -> HandSpec:
        """Draw a hand. Unspecified values come from ``rng``; the number of draws never changes.

        Parameters
        ----------
        rng : numpy Generator
        laterality, field, spacing_mm, effect_size : see the attributes.
        sex, age_years, rotation_deg, bme_grades, ra_changes : optional
            Given values override the drawn ones.
        bme_rate : float
            Probability that a wrist has any BME when ``bme_grades`` is None.
        ra_rate : float
            Probability of visible early RA changes when ``ra_changes`` is None.
        """
        u = rng.random(4)
        s_sex = "F" if u[0] < 0.72 else "M"  # early RA cohorts are ~70 % women
        s_age = float(np.clip(rng.normal(55.0, 13.0), 20.0, 85.0))
        s_rot = float(np.clip(rng.normal(0.0, 5.0), -15.0, 15.0))
        trans = rng.normal(0.0, 4.0, 2)
        size_jit = rng.normal(1.0, 0.04)
        uv = rng.normal(0.0, 1.3)
        dens_jit = rng.normal(1.0, 0.08)
        spread = rng.normal(0.0, 4.0)
        anatomy_seed = int(rng.integers(0, 2**31 - 1))
        has_bme = rng.random()
        per_bone = rng.random(len(RAMRIS_BONES))
        grade_u = rng.random(len(RAMRIS_BONES))
        ra = RaChanges.sample(rng, ra_rate)
        sex_v = sex if sex is not None else s_sex
        age_v = float(age_years) if age_years is not None else s_age
        scale = (1.05 if sex_v == "M" else 0.95) * size_jit
        density = 0.38 * dens_jit
        if age_v > 50:  # post-menopausal / senile loss of trabecular bone
            density *= 1.0 - (0.006 if sex_v == "F" else 0.003) * (age_v - 50)
        if bme_grades is None:
            grades = {}
            for i, b in enumerate(RAMRIS_BONES):
                g = 0
                if has_bme < bme_rate and per_bone[i] < BME_PREVALENCE[b]:
                    g = 1 if grade_u[i] < 0.6 else 2 if grade_u[i] < 0.9 else 3
                grades[b] = g
        else:
            grades = dict(bme_grades)
        return cls(laterality=laterality, field=field, spacing_mm=spacing_mm, sex=sex_v, age_years=age_v,
                   rotation_deg=float(rotation_deg) if rotation_deg is not None else s_rot,
                   translation_mm=(float(trans[0]), float(trans[1])), scale=float(scale),
                   ulnar_variance_mm=float(uv), bone_density=float(density), finger_spread_deg=float(spread),
                   anatomy_seed=anatomy_seed, bme_grades=grades, effect_size=float(effect_size),
                   ra_changes=ra if ra_changes is None else ra_changes)

    def with_(self, **changes: object) -> HandSpec:
        """A copy with some attributes changed (e.g. ``laterality="L"``, ``effect_size=0``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Phantom:
    """A rendered hand and its ground truth (all in the final image frame, pixels ``(x=col, y=row)``).

    Attributes
    ----------
    spec : HandSpec
    seed : int
    radiograph : Radiograph
        Quantised values as float32, bone bright, ``spacing_mm`` the true object-plane spacing.
    bone_masks : dict Bone -> bool (rows, cols)
        Whole visible bone (the hamate includes its hook).
    region_masks : dict Bone -> bool (rows, cols)
        RAMRIS region: carpals whole; radius, ulna and metacarpal bases the first 10 mm from the joint.
    bme_masks : dict Bone -> bool (rows, cols)
        The part of the region drawn as oedematous (empty for grade 0).
    bme_fraction : dict Bone -> float
        Share of the region that is oedematous.
    landmarks_px : dict str -> (x, y)
        Names from ``wristbme.anatomy.types.LANDMARKS``; only landmarks inside the image.
    axes_px : dict str -> ((x, y) proximal, (x, y) distal)
    bme_grades : dict Bone -> int
    site_id : str
    max_value : int
        Top of the output range (``2**bits_stored - 1``).
    marker_bbox : (x0, y0, x1, y1) or None
        Pixel box of the lead L/R marker.
    """

    spec: HandSpec
    seed: int
    radiograph: Radiograph
    bone_masks: dict[Bone, np.ndarray]
    region_masks: dict[Bone, np.ndarray]
    bme_masks: dict[Bone, np.ndarray]
    bme_fraction: dict[Bone, float]
    landmarks_px: dict[str, tuple[float, float]]
    axes_px: dict[str, tuple[tuple[float, float], tuple[float, float]]]
    bme_grades: dict[Bone, int]
    site_id: str
    max_value: int
    marker_bbox: tuple[int, int, int, int] | None = None

    @property
    def spacing_mm(self) -> float:
        return self.spec.spacing_mm

    @property
    def landmarks_mm(self) -> dict[str, tuple[float, float]]:
        sp = self.spec.spacing_mm
        return {k: (x * sp, y * sp) for k, (x, y) in self.landmarks_px.items()}

    def truth_anatomy(self) -> WristAnatomy:
        """The ground truth as ``WristAnatomy`` (polygons from the region masks, in mm).

        Regions touching the image border carry the QC flag ``cropped``; landmarks outside the image are
        absent. ``method`` is ``"synth-truth"`` and every confidence is 1.
        """
        from skimage.measure import find_contours

        from wristbme.anatomy.types import Region, WristAnatomy

        sp = self.spec.spacing_mm
        shape = self.radiograph.shape
        regions = {}
        for bone, mask in self.region_masks.items():
            if mask.sum() < 9:
                continue
            padded = np.pad(mask, 1).astype(np.float32)
            contours = find_contours(padded, 0.5)
            if not contours:
                continue
            c = max(contours, key=len) - 1.0
            poly = np.column_stack([c[:, 1] * sp, c[:, 0] * sp])
            touches = bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
            regions[bone] = Region(bone=bone, polygon_mm=poly, confidence=1.0,
                                   qc_flags=("cropped",) if touches else ())
        landmarks = {k: (x * sp, y * sp) for k, (x, y) in self.landmarks_px.items()}
        axes = {k: ((p[0] * sp, p[1] * sp), (d[0] * sp, d[1] * sp)) for k, (p, d) in self.axes_px.items()}
        flags = ("cropped",) if any(r.qc_flags for r in regions.values()) else ()
        return WristAnatomy(spacing_mm=(sp, sp), image_shape=shape, landmarks=landmarks, regions=regions,
                            axes=axes, qc_flags=flags, confidence=1.0, method="synth-truth")


# ------------------------------------------------------------------------------------------------------------
# rendering


class _Frame:
    """Canonical mm → final pixel coordinates (rotation about the field centre, translation, mirroring)."""

    def __init__(self, spec: HandSpec) -> None:
        x0, x1, y0, y1 = FIELDS_MM[spec.field]
        self.sp = float(spec.spacing_mm)
        self.cols = int(round((x1 - x0) / self.sp))
        self.rows = int(round((y1 - y0) / self.sp))
        self.x0, self.y0 = x0, y0
        self.centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        a = np.deg2rad(spec.rotation_deg)
        self.angle = a
        self.rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        self.t = np.asarray(spec.translation_mm, dtype=float)
        self.mirror = False  # anatomy is drawn as a right hand; a left hand is flipped afterwards (exactly)

    def px(self, pts_mm: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(np.asarray(pts_mm, dtype=float))
        q = (p - self.centre) @ self.rot.T + self.centre + self.t
        out = np.column_stack([(q[:, 0] - self.x0) / self.sp, (q[:, 1] - self.y0) / self.sp])
        if self.mirror:
            out[:, 0] = (self.cols - 1) - out[:, 0]
        return out

    def direction(self, u: np.ndarray) -> np.ndarray:
        d = self.rot @ np.asarray(u, dtype=float)
        if self.mirror:
            d[0] = -d[0]
        return d

    def angle_px(self, angle_rad: float) -> float:
        d = self.direction(np.array([np.cos(angle_rad), np.sin(angle_rad)]))
        return float(np.arctan2(d[1], d[0]))


def _raster(poly_px: np.ndarray, shape: tuple[int, int], origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Boolean mask of a polygon given in (x, y) pixels, within a window whose top-left pixel is ``origin``.

    Pillow's scan-line fill (pixels whose centre is inside, plus the outline's pixels): ~100x faster than a
    point-in-polygon test on 200-vertex outlines.
    """
    img = Image.new("1", (int(shape[1]), int(shape[0])), 0)
    pts = [(float(x) - origin[1], float(y) - origin[0]) for x, y in poly_px]
    ImageDraw.Draw(img).polygon(pts, fill=1)
    return np.asarray(img, dtype=bool)


def _chord(depth_mm: np.ndarray, half_mm: float) -> np.ndarray:
    """Path length through a round profile of half thickness ``half_mm`` at ``depth_mm`` inside the edge."""
    d = np.clip(depth_mm, 0.0, half_mm)
    return 2.0 * np.sqrt(d * (2.0 * half_mm - d))


def _bbox(poly_px: np.ndarray, rows: int, cols: int, pad: int = 3) -> tuple[int, int, int, int] | None:
    r0 = max(int(np.floor(poly_px[:, 1].min())) - pad, 0)
    r1 = min(int(np.ceil(poly_px[:, 1].max())) + pad + 1, rows)
    c0 = max(int(np.floor(poly_px[:, 0].min())) - pad, 0)
    c1 = min(int(np.ceil(poly_px[:, 0].max())) + pad + 1, cols)
    if r1 - r0 < 2 or c1 - c0 < 2:
        return None
    return r0, r1, c0, c1


def render_phantom(spec: HandSpec, seed: int = 0, site: SiteProfile | str | None = None) -> Phantom:
    """Render ``spec`` as a PA radiograph.

    Parameters
    ----------
    spec : HandSpec
    seed : int
        Seeds trabecular texture, BME geometry, marker position and quantum noise (separate streams).
    site : SiteProfile, site id or None
        Physics, processing and bit depth; None uses ``sites.DEFAULT_PHYSICS``.

    Returns
    -------
    Phantom

    Raises
    ------
    ConfigError
        Unknown site id.

    Examples
    --------
    >>> import numpy as np
    >>> spec = HandSpec.sample(np.random.default_rng(0), spacing_mm=0.4)
    >>> ph = render_phantom(spec, seed=1)
    >>> ph.radiograph.pixels.dtype.name, ph.bone_masks[Bone.CAPITATE].any()
    ('float32', True)
    """
    prof = get_site(site)
    streams = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5717]).spawn(4)
    rng_tex, rng_bme, rng_noise, rng_misc = (np.random.default_rng(s) for s in streams)
    frame = _Frame(spec)
    rows, cols, sp = frame.rows, frame.cols, frame.sp
    full = spec.field == "full"
    anat = _shapes.build_anatomy(np.random.default_rng(spec.anatomy_seed), scale=spec.scale,
                                 ulnar_variance_mm=spec.ulnar_variance_mm, jsn_mm=spec.ra_changes.jsn_mm,
                                 trab_density=spec.bone_density, full_hand=full,
                                 finger_spread_deg=spec.finger_spread_deg)

    soft = _soft_map(anat, frame)
    bone = np.zeros((rows, cols), dtype=np.float32)
    bone_masks: dict[Bone, np.ndarray] = {}
    region_masks: dict[Bone, np.ndarray] = {}
    bme_masks: dict[Bone, np.ndarray] = {}
    bme_fraction: dict[Bone, float] = {}
    # BME geometry draws: always two per RAMRIS bone, in Bone order, whatever the grades.
    bme_draws = {b: (float(rng_bme.random()), float(rng_bme.uniform(0, 2 * np.pi))) for b in RAMRIS_BONES}
    erosions: dict[str, list[tuple[float, float]]] = {}
    for name, pos, rad in spec.ra_changes.erosions:
        erosions.setdefault(name, []).append((pos, rad))
    e = float(spec.effect_size)
    mirror = spec.laterality == "L"
    region_local: dict[Bone, tuple[tuple[int, int, int, int], np.ndarray]] = {}

    for shape in anat.bones:
        poly = frame.px(shape.outline_mm)
        box = _bbox(poly, rows, cols)
        # texture draws happen for every bone (even if outside the image) to keep streams aligned
        tex_seed = int(rng_tex.integers(0, 2**31 - 1))
        if box is None:
            continue
        r0, r1, c0, c1 = box
        sub = (r1 - r0, c1 - c0)
        mask = _raster(poly, sub, (r0, c0))
        if not mask.any():
            continue
        depth = ndi.distance_transform_edt(np.pad(mask, 1)).astype(np.float32)[1:-1, 1:-1] * np.float32(sp)
        depth = np.maximum(depth - np.float32(0.5 * sp), 0.0)
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float32)
        # cortical thickness: thin at the bone ends, thick along shafts
        s_mm = None
        if shape.axis is not None:
            bp = frame.px(np.asarray(shape.axis[0]))[0]
            u = frame.direction(np.asarray(shape.axis[1]))
            s_mm = ((xx - bp[0]) * u[0] + (yy - bp[1]) * u[1]) * np.float32(sp)
            ends = np.minimum(s_mm, np.float32(shape.length_mm) - s_mm)
            w_shaft = np.clip((ends - 10.0) / 15.0, 0.0, 1.0)
            cortex = shape.cortex_mm + (shape.cortex_shaft_mm - shape.cortex_mm) * w_shaft
        else:
            cortex = np.float32(shape.cortex_mm)
        half = np.float32(shape.half_thickness_mm)
        outer = _chord(depth, half)
        inner_half = np.maximum(half - cortex, np.float32(0.5))
        inner = _chord(depth - cortex, inner_half) * (depth > cortex)
        cort = np.maximum(outer - inner, 0.0)
        beta = TEXTURE_BETA if shape.axis is not None else TEXTURE_BETA_CARPAL
        tex = fractal_field(sub, sp, np.random.default_rng(tex_seed), beta=beta, corr_mm=shape.tex_corr_mm,
                            angle_rad=frame.angle_px(shape.tex_angle_rad), anisotropy=shape.tex_anisotropy,
                            ridge=0.25 if shape.axis is None else 0.1)
        density = np.full(sub, shape.trab_density, dtype=np.float32)
        # periarticular osteopenia (carpals whole, long bones within 15 mm of either end)
        if spec.ra_changes.osteopenia > 0 and shape.bone is not None:
            near = np.float32(1.0) if s_mm is None else np.clip(1.0 - (ends - 5.0) / 15.0, 0.0, 1.0)
            density *= 1.0 - 0.25 * spec.ra_changes.osteopenia * near

        b = shape.bone
        if b is not None and shape.name != "hook":
            region = mask.copy()
            if shape.band_mm is not None:
                region &= _raster(frame.px(shape.band_mm), sub, (r0, c0))
            frac_u, ang = bme_draws[b]
            g = spec.bme_grades.get(b, 0)
            affected = np.zeros(sub, dtype=bool)
            if g > 0 and region.any():
                frac = (g - 1 + 0.15 + 0.8 * frac_u) / 3.0
                if s_mm is not None:
                    key = s_mm[region]  # from the articular surface inwards
                    thr = np.quantile(key, frac)
                    affected = region & (s_mm <= thr)
                else:
                    d = frame.direction(np.array([np.cos(ang), np.sin(ang)]))
                    proj = xx * np.float32(d[0]) + yy * np.float32(d[1])
                    thr = np.quantile(proj[region], 1.0 - frac)
                    affected = region & (proj >= thr)
                bme_fraction[b] = float(affected.sum() / region.sum())
            else:
                bme_fraction[b] = 0.0
            if e > 0 and affected.any():
                w = ndi.gaussian_filter(affected.astype(np.float32), 0.8 / sp, truncate=2.5) * mask
                mix = np.clip(w * np.float32(BME_TEXTURE_SMOOTHING * e), 0.0, 1.0)
                smooth = ndi.gaussian_filter(tex, 0.3 / sp, truncate=2.5)
                smooth *= np.float32(0.8 / max(float(smooth.std()), 1e-6))
                tex = tex + mix * (smooth - tex)
                density *= np.clip(1.0 - np.float32(BME_DENSITY_LOSS * e) * w, 0.3, 1.0)
            _paste(bone_masks, b, mask, box, (rows, cols), mirror)
            _paste(region_masks, b, region, box, (rows, cols), mirror)
            _paste(bme_masks, b, affected, box, (rows, cols), mirror)
            region_local[b] = (box, region)
        elif b is not None:  # hamate hook joins the hamate's bone mask
            _paste(bone_masks, b, mask, box, (rows, cols), mirror)

        contrast = TRABECULAR_CONTRAST if shape.axis is not None else TRABECULAR_CONTRAST_CARPAL
        trab = np.maximum(density * (1.0 + np.float32(contrast) * tex), 0.0)
        areal = cort + inner * trab
        for pos, rad in erosions.get(shape.name, ()):
            k = int(pos * len(shape.outline_mm)) % len(shape.outline_mm)
            centre = frame.px(shape.outline_mm[k])[0]
            dist = np.hypot(xx - centre[0], yy - centre[1]) * np.float32(sp)
            areal *= np.clip((dist - rad) / 0.3 + 0.0, 0.15, 1.0)
        bone[r0:r1, c0:c1] += areal

    for b in RAMRIS_BONES:
        for store in (bone_masks, region_masks, bme_masks):
            store.setdefault(b, np.zeros((rows, cols), dtype=bool))
        bme_fraction.setdefault(b, 0.0)
    landmarks_px = _landmarks_px(anat, frame, region_local)
    axes_px = {k: (tuple(map(float, frame.px(np.asarray(p))[0])), tuple(map(float, frame.px(np.asarray(d))[0])))
               for k, (p, d) in anat.axes.items()}
    if mirror:  # the mirror image of the right hand, pixel for pixel (masks were pasted mirrored)
        bone = np.ascontiguousarray(bone[:, ::-1])
        soft = np.ascontiguousarray(soft[:, ::-1])
        landmarks_px = {k: (cols - 1 - x, y) for k, (x, y) in landmarks_px.items()}
        axes_px = {k: ((cols - 1 - p[0], p[1]), (cols - 1 - d[0], d[1])) for k, (p, d) in axes_px.items()}

    field_mask = _collimation(frame, prof, rng_misc)
    lead, marker_bbox = _marker(frame, prof, spec, rng_misc)
    quanta = _physics.expose(soft, bone, lead, field_mask, sp, prof, rng_noise)
    pixels = _physics.to_display(quanta, sp, prof, field_mask)
    radiograph = Radiograph(
        pixels=pixels, spacing_mm=(sp, sp), spacing_source=SpacingSource.USER,
        laterality=Laterality(spec.laterality), view=View.PA,
        source=SourceInfo(format="synthetic", modality=prof.modality, manufacturer=prof.manufacturer,
                          model=prof.model, detector_type=prof.detector_type, body_part="HAND",
                          bits_stored=prof.bits_stored, photometric="MONOCHROME2"))
    return Phantom(spec=spec, seed=int(seed), radiograph=radiograph, bone_masks=bone_masks,
                   region_masks=region_masks, bme_masks=bme_masks, bme_fraction=bme_fraction,
                   landmarks_px=landmarks_px, axes_px=axes_px, bme_grades=dict(spec.bme_grades),
                   site_id=prof.site_id, max_value=prof.max_value, marker_bbox=marker_bbox)


def _paste(store: dict[Bone, np.ndarray], bone: Bone, sub: np.ndarray, box: tuple[int, int, int, int],
           shape: tuple[int, int], mirror: bool = False) -> None:
    r0, r1, c0, c1 = box
    if mirror:
        c0, c1 = shape[1] - c1, shape[1] - c0
        sub = sub[:, ::-1]
    if bone not in store:
        store[bone] = np.zeros(shape, dtype=bool)
    store[bone][r0:r1, c0:c1] |= sub


def _soft_map(anat: _shapes.Anatomy, frame: _Frame) -> np.ndarray:
    """Soft-tissue thickness (mm), built on a ~0.5 mm grid and interpolated (it is smooth)."""
    rows, cols, sp = frame.rows, frame.cols, frame.sp
    f = max(1, int(round(0.5 / sp)))
    # a canvas 40 mm larger on each side, so that tissue leaving the image is not thinned at the border
    margin = int(np.ceil(40.0 / (sp * f)))
    srows, scols = -(-rows // f) + 2 * margin, -(-cols // f) + 2 * margin
    union = np.zeros((srows, scols), dtype=bool)
    r_sum = np.zeros((srows, scols), dtype=np.float32)
    w_sum = np.zeros((srows, scols), dtype=np.float32)
    for part in anat.soft:
        poly = frame.px(part.outline_mm) / f + margin
        m = _raster(poly + (0.5 / f - 0.5), (srows, scols))
        union |= m
        r_sum += m * np.float32(part.half_thickness_mm)
        w_sum += m
    if not union.any():
        return np.zeros((rows, cols), dtype=np.float32)
    # one smooth body: depth in the union, half thickness blended between the parts over ~10 mm
    sigma = 10.0 / (sp * f)
    half = _physics.lowpass(r_sum, sigma) / np.maximum(_physics.lowpass(w_sum, sigma), 1e-3)
    half = np.where(union, half, np.float32(10.0)).astype(np.float32)
    d = ndi.distance_transform_edt(union).astype(np.float32) * np.float32(sp * f)
    dc = np.minimum(d, half)
    out = 2.0 * np.sqrt(dc * (2.0 * half - dc))
    out = ndi.gaussian_filter(out.astype(np.float32), max(0.4 / (sp * f), 0.5))  # soft skin edge
    out = out[margin:srows - margin, margin:scols - margin]
    if f > 1:
        out = _physics.upsample_linear(out, f, (rows, cols))
    return np.ascontiguousarray(out, dtype=np.float32)


def _collimation(frame: _Frame, prof: SiteProfile, rng: np.random.Generator) -> np.ndarray:
    """1 inside the collimated field, 0 outside; margins 2-9 mm drawn from ``rng`` (always 5 draws)."""
    margins = rng.uniform(2.0, 9.0, 4) / frame.sp
    tilt = rng.normal(0.0, 0.6)
    rows, cols = frame.rows, frame.cols
    if not prof.collimation:
        return np.ones((rows, cols), dtype=np.float32)
    yy = np.arange(rows, dtype=np.float32)[:, None]
    xx = np.arange(cols, dtype=np.float32)[None, :]
    t = np.float32(np.tan(np.deg2rad(tilt)))
    xs = xx + t * (yy - rows / 2)
    ys = yy - t * (xx - cols / 2)
    m = (xs >= margins[0]) & (xs <= cols - 1 - margins[1]) & (ys >= margins[2]) & (ys <= rows - 1 - margins[3])
    return m.astype(np.float32)


def _marker(frame: _Frame, prof: SiteProfile, spec: HandSpec, rng: np.random.Generator
            ) -> tuple[np.ndarray | None, tuple[int, int, int, int] | None]:
    """A lead ``R``/``L`` marker near a top corner (radial side); returns lead thickness and its bbox."""
    jx, jy = rng.uniform(10.0, 16.0, 2)
    if not prof.lr_marker:
        return None, None
    from wristbme.synth._text import text_mask

    size_px = max(8, int(round(7.0 / frame.sp)))
    glyph = text_mask(spec.laterality, size_px)
    h, w = glyph.shape
    rows, cols = frame.rows, frame.cols
    r0 = int(jy / frame.sp)
    # the radial side is left for a right hand, right for a left hand (PA, mirrored)
    c0 = int(jx / frame.sp) if spec.laterality == "R" else cols - int(jx / frame.sp) - w
    r0 = min(max(r0, 0), rows - h)
    c0 = min(max(c0, 0), cols - w)
    lead = np.zeros((rows, cols), dtype=np.float32)
    lead[r0:r0 + h, c0:c0 + w] = glyph.astype(np.float32) * 1.0
    return lead, (c0, r0, c0 + w, r0 + h)


def _landmarks_px(anat: _shapes.Anatomy, frame: _Frame,
                  region_local: dict[Bone, tuple[tuple[int, int, int, int], np.ndarray]]
                  ) -> dict[str, tuple[float, float]]:
    """Landmarks in the (unmirrored) image frame; centres from the regions' bounding-box crops."""
    from wristbme.anatomy.types import LANDMARKS

    rows, cols = frame.rows, frame.cols
    out: dict[str, tuple[float, float]] = {}
    for name, p in anat.landmarks.items():
        x, y = frame.px(np.asarray(p))[0]
        out[name] = (float(x), float(y))
    for name in LANDMARKS:
        if name in out:
            continue
        bone_name = name[: -len("_centre")] if name.endswith("_centre") else name.split("_")[0]
        bone = Bone(bone_name.replace("_base", ""))
        if bone not in region_local:
            continue
        (r0, _, c0, _), mask = region_local[bone]
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        cy, cx = ys.mean(), xs.mean()
        if not mask[int(round(cy)), int(round(cx))]:  # non-convex: fall back to the deepest point
            dist = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
            cy, cx = np.unravel_index(int(np.argmax(dist)), mask.shape)
        out[name] = (float(cx) + c0, float(cy) + r0)
    # keep only landmarks inside the image, in LANDMARKS order
    return {k: out[k] for k in LANDMARKS if k in out
            and -0.5 <= out[k][0] <= cols - 0.5 and -0.5 <= out[k][1] <= rows - 0.5}
