"""Feature robustness screen: keep the features that survive re-acquisition of the same wrist.

Radiomic features differ in how much they move when the same wrist is imaged again (small rotation, another
exposure, pixel size or noise). A feature that moves as much between two acquisitions as between two
patients cannot carry a reproducible score, however well it separates BME in one acquisition. Following
the perturbation approach of Zwanenburg et al. (Sci Rep 2019;9:614), every feature's ICC(2,1) is measured
across the re-acquisitions of a set of images and features under ``MIN_FEATURE_ICC`` are left out of the
model. The screen uses no labels, so it leaks nothing into validation.

The ICC is measured on what the classifier sees: the within-wrist contrast of the feature (per-bone z-score
minus its image's median, ``engine.context_features``), with (source image, bone) as the target and the
acquisition as the rater.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wristbme.errors import ConfigError, ModelError
from wristbme.stats import icc

MIN_FEATURE_ICC = 0.80
"""Features with a re-acquisition ICC(2,1) below this are not used by the model."""

REQUIRED_COLUMNS = ("source_image", "condition", "bone")


def feature_reproducibility(table: pd.DataFrame, feature_names: tuple[str, ...] | list[str]) -> pd.Series:
    """ICC(2,1) per feature of its within-wrist contrast across re-acquisitions.

    Parameters
    ----------
    table : DataFrame
        One row per (source image, condition, bone): columns ``source_image`` (the wrist), ``condition``
        (the acquisition), ``bone`` and the features; rows with a non-empty ``excluded`` are dropped.
    feature_names : sequence of str

    Returns
    -------
    Series of float indexed by feature name (NaN where it cannot be computed, e.g. a constant feature).

    Raises
    ------
    ModelError
        Missing columns, or fewer than 2 complete targets or 2 conditions.
    """
    from wristbme.model.engine import _bone_stats, context_features

    missing = [c for c in (*REQUIRED_COLUMNS, *feature_names) if c not in table.columns]
    if missing:
        raise ModelError(f"robustness: the perturbation table lacks columns {missing[:5]}")
    t = table
    if "excluded" in t.columns:
        t = t[t["excluded"].fillna("").astype(str) == ""]
    t = t.reset_index(drop=True)
    X = t[list(feature_names)].to_numpy(dtype=np.float64)
    med = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
    X = np.where(np.isfinite(X), X, np.where(np.isfinite(med), med, 0.0))
    bones = t["bone"].astype(str).to_numpy()
    acquisition = (t["source_image"].astype(str) + "|" + t["condition"].astype(str)).to_numpy()
    mu, sd = _bone_stats(X, bones)
    ctx = context_features(X, bones, acquisition, mu, sd)
    target = (t["source_image"].astype(str) + "|" + t["bone"].astype(str)).to_numpy()
    frame = pd.DataFrame(ctx, columns=list(feature_names))
    frame["target"], frame["condition"] = target, t["condition"].astype(str).to_numpy()
    frame = frame.drop_duplicates(["target", "condition"])
    out = {}
    for name in feature_names:
        try:
            table_icc = icc(frame, "target", "condition", name)
        except ConfigError as exc:
            raise ModelError(f"robustness: {exc}; need at least 2 images with every condition") from None
        out[name] = float(table_icc.set_index("type").loc["ICC2", "icc"])
    return pd.Series(out, name="icc2_1")


def robust_features(icc: pd.Series, min_icc: float = MIN_FEATURE_ICC) -> tuple[str, ...]:
    """Feature names whose ICC is at least ``min_icc``, in the order of ``icc``; ModelError if none is."""
    keep = tuple(str(n) for n, v in icc.items() if np.isfinite(v) and v >= min_icc)
    if not keep:
        raise ModelError(f"robustness: no feature reaches ICC {min_icc}; the best is {icc.max():.2f}")
    return keep


__all__ = ["MIN_FEATURE_ICC", "feature_reproducibility", "robust_features"]
