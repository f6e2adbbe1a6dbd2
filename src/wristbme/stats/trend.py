"""Rank correlation and trend across ordered groups: Spearman's ρ and the Jonckheere–Terpstra test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import DEFAULT_CONF, Estimate, as_float_array, check_conf, same_length


@dataclass(frozen=True)
class SpearmanResult:
    """Spearman's rank correlation.

    Attributes
    ----------
    rho : Estimate
        ρ with the Fisher-z interval using the Bonett–Wright variance (1 + ρ²/2)/(n − 3).
    p : float
        Two-sided p of ρ = 0 (t approximation with n − 2 df, as ``scipy.stats.spearmanr``).
    n : int
    """

    rho: Estimate
    p: float
    n: int


def spearman(x, y, *, conf: float = DEFAULT_CONF) -> SpearmanResult:
    """Spearman's ρ (Pearson correlation of midranks) with p value and confidence interval.

    Parameters
    ----------
    x, y : array_like of float, shape (n,)
    conf : float

    Returns
    -------
    SpearmanResult

    References
    ----------
    Bonett DG, Wright TA (2000). Sample size requirements for estimating Pearson, Kendall and Spearman
    correlations. Psychometrika 65:23–28. doi:10.1007/BF02294183

    Examples
    --------
    >>> round(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]).rho.value, 3)
    0.8
    """
    conf = check_conf(conf)
    a, b = as_float_array(x, "x"), as_float_array(y, "y")
    n = same_length(x=a, y=b)
    if n < 4:
        raise ConfigError(f"spearman: needs at least 4 pairs for an interval, got {n}")
    res = sps.spearmanr(a, b)
    rho = float(res.statistic)
    if not np.isfinite(rho):
        nan = float("nan")
        return SpearmanResult(Estimate(nan, nan, nan, conf, "fisher-z-bonett-wright"), nan, n)
    z = float(sps.norm.ppf(1 - (1 - conf) / 2))
    se = np.sqrt((1 + rho**2 / 2) / (n - 3))
    zr = np.arctanh(np.clip(rho, -0.9999999999, 0.9999999999))
    return SpearmanResult(Estimate(rho, float(np.tanh(zr - z * se)), float(np.tanh(zr + z * se)), conf,
                                   "fisher-z-bonett-wright"), float(res.pvalue), n)


@dataclass(frozen=True)
class JonckheereResult:
    """Jonckheere–Terpstra test for an ordered trend.

    Attributes
    ----------
    statistic : float
        J = Σ_{u<v} U_uv, U_uv the Mann–Whitney count of (x in group u, y in group v) pairs with x < y
        (ties ½), groups in the stated order.
    mean, variance : float
        Null mean and tie-corrected null variance.
    z : float
        (J − mean)/√variance (no continuity correction).
    p : float
        p for ``alternative``.
    alternative : str
    group_sizes : dict
    """

    statistic: float
    mean: float
    variance: float
    z: float
    p: float
    alternative: str
    group_sizes: dict


def jonckheere_terpstra(values, groups, *, order=None, alternative: str = "increasing") -> JonckheereResult:
    """Jonckheere–Terpstra test of an ordered trend of ``values`` across ``groups``.

    Parameters
    ----------
    values : array_like of float, shape (N,)
        E.g. the BME score of each wrist.
    groups : array_like, shape (N,)
        Ordered group of each value (e.g. RAMRIS grade 0–3).
    order : sequence, optional
        The group order; default: sorted distinct groups. Groups not listed are refused.
    alternative : {"increasing", "decreasing", "two-sided"}

    Returns
    -------
    JonckheereResult

    Notes
    -----
    E0(J) = (N² − Σ n_i²)/4. With tie groups of sizes t_j (Hollander, Wolfe & Chicken 2014, eq. 6.19):

    Var0(J) = [N(N−1)(2N+5) − Σ n_i(n_i−1)(2n_i+5) − Σ t_j(t_j−1)(2t_j+5)]/72
    + [Σ n_i(n_i−1)(n_i−2)][Σ t_j(t_j−1)(t_j−2)] / (36 N(N−1)(N−2))
    + [Σ n_i(n_i−1)][Σ t_j(t_j−1)] / (8 N(N−1)).

    The p value uses the normal approximation.

    References
    ----------
    Jonckheere AR (1954). A distribution-free k-sample test against ordered alternatives. Biometrika
    41:133–145. doi:10.1093/biomet/41.1-2.133 ; Terpstra TJ (1952). Indag Math 14:327–333.
    Hollander M, Wolfe DA, Chicken E (2014). Nonparametric Statistical Methods, 3rd ed., Wiley, §6.2.
    doi:10.1002/9781119196037

    Examples
    --------
    >>> r = jonckheere_terpstra([1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 2, 2])
    >>> r.statistic
    12.0
    """
    x = as_float_array(values, "values")
    g = np.asarray(groups)
    same_length(values=x, groups=g)
    if alternative not in ("increasing", "decreasing", "two-sided"):
        raise ConfigError(f"jonckheere_terpstra: alternative={alternative!r}; use 'increasing', "
                          "'decreasing' or 'two-sided'")
    levels = list(order) if order is not None else sorted(pd.unique(g).tolist())
    unknown = set(pd.unique(g).tolist()) - set(levels)
    if unknown:
        raise ConfigError(f"jonckheere_terpstra: groups {sorted(map(str, unknown))} are not in order={levels}")
    samples = [x[g == lev] for lev in levels]
    samples = [s for s in samples if len(s)]
    if len(samples) < 2:
        raise ConfigError(f"jonckheere_terpstra: needs at least 2 non-empty groups, got {len(samples)}")
    j = 0.0
    for u in range(len(samples)):
        for v in range(u + 1, len(samples)):
            a, b = np.sort(samples[u]), samples[v]
            less = np.searchsorted(a, b, side="left")
            leq = np.searchsorted(a, b, side="right")
            j += float(np.sum(less) + 0.5 * np.sum(leq - less))
    sizes = np.array([len(s) for s in samples], dtype=float)
    n = float(sizes.sum())
    _, t = np.unique(x, return_counts=True)
    t = t.astype(float)
    mean = (n**2 - np.sum(sizes**2)) / 4.0
    var = ((n * (n - 1) * (2 * n + 5) - np.sum(sizes * (sizes - 1) * (2 * sizes + 5))
            - np.sum(t * (t - 1) * (2 * t + 5))) / 72.0)
    if n > 2:
        var += np.sum(sizes * (sizes - 1) * (sizes - 2)) * np.sum(t * (t - 1) * (t - 2)) / (36.0 * n * (n - 1) * (n - 2))
    var += np.sum(sizes * (sizes - 1)) * np.sum(t * (t - 1)) / (8.0 * n * (n - 1))
    z = (j - mean) / np.sqrt(var) if var > 0 else float("nan")
    if alternative == "increasing":
        p = float(sps.norm.sf(z))
    elif alternative == "decreasing":
        p = float(sps.norm.cdf(z))
    else:
        p = float(2 * sps.norm.sf(abs(z)))
    present = [lev for lev in levels if np.any(g == lev)]
    return JonckheereResult(j, float(mean), float(var), float(z), p, alternative,
                            {str(lev): int(np.sum(g == lev)) for lev in present})
