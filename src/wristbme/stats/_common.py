"""Shared result type and input normalisers of :mod:`wristbme.stats`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from wristbme.errors import ConfigError

DEFAULT_CONF = 0.95
"""Default confidence level of every interval in :mod:`wristbme.stats`."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    value : float
        The estimate (NaN when it cannot be computed, e.g. no positives).
    ci_lower, ci_upper : float
        Limits of the ``conf`` confidence interval.
    conf : float
        Confidence level, e.g. 0.95.
    method : str
        How the interval was computed (``"wilson"``, ``"delong"``, ``"bootstrap-cluster-percentile"``...).
    """

    value: float
    ci_lower: float
    ci_upper: float
    conf: float = DEFAULT_CONF
    method: str = ""

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def check_conf(conf: float) -> float:
    """Return ``conf`` as float after checking 0 < conf < 1."""
    try:
        value = float(conf)
    except (TypeError, ValueError):
        raise ConfigError(f"conf={conf!r} is not a number; pass a confidence level such as 0.95") from None
    if not 0.0 < value < 1.0:
        raise ConfigError(f"conf={conf!r} is outside (0, 1); pass a confidence level such as 0.95")
    return value


def as_float_array(values, name: str, *, allow_nan: bool = False) -> np.ndarray:
    """1-D float array from ``values``; refuses non-numbers and (unless allowed) NaN/inf, naming ``name``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: values are not numeric; pass numbers (got {type(values).__name__})") from None
    if arr.ndim != 1:
        raise ConfigError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ConfigError(f"{name}: {bad} value(s) are NaN or infinite; drop or impute them first")
    return arr


def as_binary_array(values, name: str) -> np.ndarray:
    """1-D bool array from 0/1 or bool ``values``; anything else is refused."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ConfigError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    try:
        num = arr.astype(float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected 0/1 or True/False labels, got {arr.dtype} values") from None
    if not np.all(np.isin(num, (0.0, 1.0))):
        found = sorted(set(np.unique(num[~np.isin(num, (0.0, 1.0))]).tolist()))[:5]
        raise ConfigError(f"{name}: expected 0/1 or True/False labels, found {found}")
    return num.astype(bool)


def same_length(**arrays: np.ndarray) -> int:
    """The common length of ``arrays``; refuses a mismatch naming each length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ConfigError(f"inputs differ in length: {lengths}; pass paired observations")
    return next(iter(lengths.values()))
