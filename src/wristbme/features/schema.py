"""The feature schema: every feature's name, family, unit, physical scale and definition, and its hash.

A model artifact stores the schema hash it was trained on and refuses features with another hash, so any
change here (a feature added, a scale or bin width changed, the analysis spacing changed) makes old models
refuse new features instead of silently mis-scoring them. ``docs/features.md`` is the long form.

Units: ``ref`` is the normalised density unit (0 = soft tissue, 1 = reference bone; see ``density``),
``mm`` millimetres, ``1`` dimensionless, ``bit`` Shannon entropy in bits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

SCHEMA_VERSION = 5
"""Bump when a definition changes without a name change. 5: a finer LBP (0.4 mm)."""

DEFAULT_SPACING_MM = 0.2
"""Analysis spacing: every region is resampled to this isotropic pixel size before any feature."""
PRESMOOTH_MM = 0.10
"""Gaussian sigma (mm) applied before resampling: a fixed physical resolution for every input pixel size.
0.10 since schema v4: once the regions stopped moving (v3), 0.08-0.15 mm gave the same re-acquisition ICC
and 0.10 mm the better discrimination (docs/features.md, "Measured trade-off")."""

GLCM_DISTANCES_MM = (0.4, 1.0, 2.0)
"""Co-occurrence offsets (Chebyshev distance, IBSI convention) in mm."""
GLCM_BIN_WIDTH_REF = 0.1
"""Fixed bin width (IBSI 'fixed bin size') in normalised density units."""
GLCM_RANGE_REF = (-0.5, 2.5)
"""Re-segmentation range in ref units: values outside are clipped to the first/last bin."""

VARIOGRAM_LAGS_MM = (0.2, 0.4, 0.6, 1.0, 1.4, 2.0)
"""Lags of the directional variograms used for the Hurst exponent (0.2–2 mm)."""

LBP_POINTS = 8
LBP_RADIUS_MM = 0.6
LBP_QUANTUM_REF = 0.01
"""Grey-level step (ref units) of the integer image the LBP compares."""
LBP_FINE_RADIUS_MM = 0.4
"""Radius of the second, finer LBP (schema v5). The synthetic BME smooths the trabecular texture below about
1 mm; at 0.4 mm the LBP sees that loss more directly than at 0.6 mm (docs/features.md, "Schema v5")."""

WAVELET = "db2"
WAVELET_LEVELS = 3

RIM_MM = 0.8
"""Width of the subchondral rim band (inside the bone outline)."""
CORE_MIN_DEPTH_MM = 1.5
"""Pixels at least this deep inside the outline form the trabecular core."""
EDGE_SIGMA_MM = 0.3
"""Gaussian derivative scale for the edge gradient."""

TEXTURE_MIN_DEPTH_MM = 0.6
"""Texture families (fractal, GLCM, LBP, wavelet) use the trabecular part of the region: pixels at least
this deep inside the outline (the whole region when that is under ``extract.MIN_REGION_AREA_MM2``). The
cortical rim and the region's edge otherwise dominate the texture, and move with the region's placement."""

FOCAL_SECTORS = 6
"""Angular sectors of the trabecular core compared by the focal features (see ``focal``)."""
FOCAL_SHARPNESS = 4
"""Exponent of the soft sector weight ((1 + cos(angle from the sector centre)) / 2) ** FOCAL_SHARPNESS."""
FOCAL_MIN_DEPTH_MM = 0.6
"""Core of the focal features: pixels at least this deep inside the outline (leaves the cortex out)."""
FOCAL_DOG_MM = (0.2, 0.5)
"""Sigmas (mm) of the difference of Gaussians whose energy measures trabecular contrast per sector."""


@dataclass(frozen=True)
class FeatureDef:
    """One feature: stable name, family, unit and a one-line definition."""

    name: str
    family: str
    unit: str
    definition: str


def _glcm_defs() -> list[FeatureDef]:
    out = []
    for d in GLCM_DISTANCES_MM:
        tag = f"{d:.1f}mm".replace(".", "p")
        out += [
            FeatureDef(f"texture_glcm_contrast_{tag}", "glcm", "ref^2",
                       f"IBSI contrast sum (i-j)^2 p(i,j) of the symmetric GLCM at {d} mm, bin width "
                       f"{GLCM_BIN_WIDTH_REF} ref, averaged over 4 directions"),
            FeatureDef(f"texture_glcm_joint_entropy_{tag}", "glcm", "bit",
                       f"IBSI joint entropy -sum p log2 p of the GLCM at {d} mm"),
            FeatureDef(f"texture_glcm_idm_{tag}", "glcm", "1",
                       f"IBSI inverse difference moment sum p/(1+(i-j)^2) at {d} mm (= skimage 'homogeneity')"),
            FeatureDef(f"texture_glcm_correlation_{tag}", "glcm", "1",
                       f"IBSI correlation of the GLCM at {d} mm"),
            FeatureDef(f"texture_glcm_asm_{tag}", "glcm", "1",
                       f"IBSI angular second moment sum p^2 at {d} mm (= skimage 'ASM')"),
        ]
    return out


FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef("density_mean", "density", "ref", "mean normalised density over the region"),
    FeatureDef("density_median", "density", "ref", "median normalised density over the region"),
    FeatureDef("density_sd", "density", "ref", "standard deviation of normalised density"),
    FeatureDef("density_p10", "density", "ref", "10th percentile of normalised density"),
    FeatureDef("density_p90", "density", "ref", "90th percentile of normalised density"),
    FeatureDef("density_core_mean", "density", "ref",
               f"mean normalised density of pixels >= {CORE_MIN_DEPTH_MM} mm inside the outline"),
    FeatureDef("texture_variogram_0p2mm", "fractal", "ref^2",
               "semivariogram at 0.2 mm lag, averaged over 4 directions (fine-scale roughness)"),
    FeatureDef("texture_variogram_1p0mm", "fractal", "ref^2",
               "semivariogram at 1.0 mm lag, averaged over 4 directions"),
    FeatureDef("texture_hurst", "fractal", "1",
               "Hurst exponent H: half the log-log slope of the direction-averaged semivariogram over "
               "0.2-2 mm (fractal dimension = 3 - H)"),
    FeatureDef("texture_hurst_anisotropy", "fractal", "1",
               "max - min of the directional Hurst exponents over 0, 45, 90, 135 degrees"),
    FeatureDef("texture_variogram_anisotropy", "fractal", "1",
               "log ratio of the largest to the smallest directional semivariogram at 1.0 mm"),
    *_glcm_defs(),
    FeatureDef("texture_lbp_entropy", "lbp", "bit",
               f"entropy of the rotation-invariant uniform LBP histogram (P={LBP_POINTS}, R={LBP_RADIUS_MM} mm, "
               f"grey step {LBP_QUANTUM_REF} ref)"),
    FeatureDef("texture_lbp_flat_fraction", "lbp", "1", "fraction of LBP codes 0 or P (spots and flats)"),
    FeatureDef("texture_lbp_edge_fraction", "lbp", "1", "fraction of LBP codes P/2-1 .. P/2+1 (edges)"),
    FeatureDef("texture_lbp_nonuniform_fraction", "lbp", "1", "fraction of non-uniform LBP codes"),
    FeatureDef("texture_lbp_entropy_0p4mm", "lbp", "bit",
               f"entropy of the rotation-invariant uniform LBP histogram at R={LBP_FINE_RADIUS_MM} mm "
               f"(P={LBP_POINTS}, grey step {LBP_QUANTUM_REF} ref)"),
    FeatureDef("texture_lbp_flat_fraction_0p4mm", "lbp", "1",
               f"fraction of LBP codes 0 or P at R={LBP_FINE_RADIUS_MM} mm"),
    FeatureDef("texture_lbp_nonuniform_fraction_0p4mm", "lbp", "1",
               f"fraction of non-uniform LBP codes at R={LBP_FINE_RADIUS_MM} mm"),
    *(FeatureDef(f"texture_wavelet_energy_l{j}", "wavelet", "ref^2",
                 f"mean squared stationary {WAVELET} detail coefficient (H+V+D) at level {j} "
                 f"(scale about {0.2 * 2 ** (j - 1):.1f}-{0.2 * 2 ** j:.1f} mm at 0.2 mm spacing)")
      for j in range(1, WAVELET_LEVELS + 1)),
    *(FeatureDef(f"texture_wavelet_relenergy_l{j}", "wavelet", "1",
                 f"level-{j} detail energy as a fraction of all detail energy")
      for j in range(1, WAVELET_LEVELS + 1)),
    FeatureDef("subchondral_plate_contrast", "subchondral", "ref",
               f"mean density of the {RIM_MM} mm rim inside the outline minus the core mean"),
    FeatureDef("subchondral_edge_contrast", "subchondral", "ref",
               f"mean density of the {RIM_MM} mm rim minus the {RIM_MM} mm band outside (other bones excluded)"),
    FeatureDef("subchondral_edge_gradient", "subchondral", "ref/mm",
               f"median gradient magnitude (Gaussian derivative, sigma {EDGE_SIGMA_MM} mm) on the outline"),
    FeatureDef("subchondral_sharpness", "subchondral", "1/mm",
               "edge gradient divided by the absolute edge contrast (1 / edge width)"),
    FeatureDef("focal_density_drop", "focal", "ref",
               f"largest drop of a sector's mean density below the median sector ({FOCAL_SECTORS} soft angular "
               f"sectors of the core >= {FOCAL_MIN_DEPTH_MM} mm deep, starting at the forearm axis)"),
    FeatureDef("focal_texture_loss", "focal", "1",
               f"largest drop of a sector's log band-pass energy (difference of Gaussians, sigma "
               f"{FOCAL_DOG_MM[0]}-{FOCAL_DOG_MM[1]} mm) below the median sector"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


@dataclass(frozen=True)
class FeatureSchema:
    """The ordered feature list plus the analysis spacing; ``hash`` identifies it."""

    features: tuple[FeatureDef, ...]
    spacing_mm: float
    version: int = SCHEMA_VERSION

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the names, units, definitions, spacing and version."""
        payload = json.dumps({"version": self.version, "spacing_mm": round(float(self.spacing_mm), 6),
                              "presmooth_mm": PRESMOOTH_MM,
                              "features": [[f.name, f.unit, f.definition] for f in self.features]},
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"version": self.version, "spacing_mm": self.spacing_mm, "hash": self.hash,
                "features": [{"name": f.name, "family": f.family, "unit": f.unit, "definition": f.definition}
                             for f in self.features]}


def feature_schema(spacing_mm: float = DEFAULT_SPACING_MM) -> FeatureSchema:
    """The schema at analysis spacing ``spacing_mm`` (mm)."""
    return FeatureSchema(FEATURES, float(spacing_mm))
