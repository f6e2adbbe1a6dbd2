"""ROC analysis: AUC with DeLong variance, paired DeLong test, ROC points, Youden cut-off, diagnostic
metrics at a cut-off, binomial intervals, and a patient-clustered bootstrap.

Conventions
-----------
* ``y`` is the reference standard (1/True = condition present, e.g. MRI BME present); ``score`` is the
  index test. **Higher scores mean "more likely positive"**; the direction is never flipped automatically
  (pROC's ``direction="<"``). A score that works backwards gets AUC < 0.5.
* Ties between a positive and a negative count 1/2 in the AUC.
* At a cut-off c a case is test-positive when ``score >= c``. The Youden cut-off is reported as the
  midpoint between two consecutive distinct scores (pROC convention), where ``>=`` and ``>`` agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import (
    DEFAULT_CONF,
    Estimate,
    as_binary_array,
    as_float_array,
    check_conf,
    same_length,
)

PROPORTION_CI_METHODS = ("wilson", "clopper-pearson")


def _midrank(x: np.ndarray) -> np.ndarray:
    return sps.rankdata(x, method="average", axis=-1)


def _split(y, score, name: str = "score") -> tuple[np.ndarray, np.ndarray]:
    yy = as_binary_array(y, "y")
    s = as_float_array(score, name)
    same_length(y=yy, **{name: s})
    pos, neg = s[yy], s[~yy]
    if len(pos) == 0 or len(neg) == 0:
        raise ConfigError(f"ROC: needs both positives and negatives in y, got {len(pos)} positive and "
                          f"{len(neg)} negative; an AUC is undefined without both")
    return pos, neg


def _delong_components(y, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """AUCs and placement values V10 (k×m), V01 (k×n) for k score rows (fast midrank algorithm)."""
    yy = as_binary_array(y, "y")
    if scores.shape[1] != len(yy):
        raise ConfigError(f"ROC: y has {len(yy)} values but scores have {scores.shape[1]}")
    pos, neg = scores[:, yy], scores[:, ~yy]
    m, n = pos.shape[1], neg.shape[1]
    if m == 0 or n == 0:
        raise ConfigError(f"ROC: needs both positives and negatives in y, got {m} positive and {n} negative")
    tx, ty = _midrank(pos), _midrank(neg)
    tz = _midrank(np.concatenate([pos, neg], axis=1))
    auc = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return auc, v10, v01, m, n


def delong_covariance(y, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of several scores on the same subjects and their DeLong covariance matrix.

    Parameters
    ----------
    y : array_like of bool or 0/1, shape (N,)
    scores : array_like, shape (k, N)
        k index tests measured on the same N subjects.

    Returns
    -------
    aucs : ndarray, shape (k,)
    cov : ndarray, shape (k, k)
        S10/m + S01/n with S10, S01 the sample covariances (n−1) of the placement values.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more correlated
    receiver operating characteristic curves: a nonparametric approach. Biometrics 44:837–845.
    doi:10.2307/2531595 ; Sun X, Xu W (2014). Fast implementation of DeLong's algorithm. IEEE Signal
    Process Lett 21:1389–1393. doi:10.1109/LSP.2014.2337313
    """
    s = np.atleast_2d(np.asarray(scores, dtype=float))
    if not np.all(np.isfinite(s)):
        raise ConfigError("delong_covariance: scores contain NaN or infinite values; drop them first")
    auc, v10, v01, m, n = _delong_components(y, s)
    if m < 2 or n < 2:
        raise ConfigError(f"DeLong variance needs at least 2 positives and 2 negatives, got {m} and {n}")
    cov = np.atleast_2d(np.cov(v10, ddof=1)) / m + np.atleast_2d(np.cov(v01, ddof=1)) / n
    return auc, cov


@dataclass(frozen=True)
class AucResult:
    """Empirical AUC with its DeLong variance and Wald interval (clipped to [0, 1]).

    Attributes
    ----------
    auc : Estimate
    variance : float
    n_positive, n_negative : int
    """

    auc: Estimate
    variance: float
    n_positive: int
    n_negative: int


def roc_auc(y, score, *, conf: float = DEFAULT_CONF) -> AucResult:
    """Area under the empirical ROC curve with DeLong variance and confidence interval.

    Parameters
    ----------
    y : array_like of bool or 0/1, shape (N,)
        Reference standard.
    score : array_like of float, shape (N,)
        Index test; higher = more likely positive.
    conf : float
        Confidence level.

    Returns
    -------
    AucResult
        ``auc.value`` = P(score_pos > score_neg) + ½ P(tie); interval AUC ± z·√var (DeLong), clipped to
        [0, 1] as pROC does.

    Raises
    ------
    ConfigError
        No positives or no negatives, fewer than 2 of either, non-finite scores, length mismatch.

    References
    ----------
    DeLong et al. (1988), doi:10.2307/2531595 ; Robin X et al. (2011). pROC. BMC Bioinformatics 12:77.
    doi:10.1186/1471-2105-12-77

    Examples
    --------
    >>> round(roc_auc([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]).auc.value, 4)
    0.8889
    """
    conf = check_conf(conf)
    _split(y, score)
    aucs, cov = delong_covariance(y, [as_float_array(score, "score")])
    auc, var = float(aucs[0]), float(cov[0, 0])
    z = float(sps.norm.ppf(1 - (1 - conf) / 2))
    half = z * np.sqrt(max(var, 0.0))
    yy = as_binary_array(y, "y")
    return AucResult(Estimate(auc, float(max(0.0, auc - half)), float(min(1.0, auc + half)), conf, "delong"), var,
                     int(yy.sum()), int((~yy).sum()))


@dataclass(frozen=True)
class DelongTestResult:
    """Paired DeLong comparison of AUC(score1) − AUC(score2).

    Attributes
    ----------
    auc1, auc2 : float
    difference : Estimate
        AUC1 − AUC2 with its Wald interval.
    variance : float
        Var1 + Var2 − 2 Cov.
    covariance : float
    z, p : float
        Test of equal AUCs (``alternative`` as requested).
    alternative : str
    """

    auc1: float
    auc2: float
    difference: Estimate
    variance: float
    covariance: float
    z: float
    p: float
    alternative: str


def delong_test(y, score1, score2, *, alternative: str = "two-sided", conf: float = DEFAULT_CONF) -> DelongTestResult:
    """DeLong test of two correlated AUCs measured on the same subjects.

    Parameters
    ----------
    y : array_like, shape (N,)
    score1, score2 : array_like of float, shape (N,)
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: AUC1 > AUC2.
    conf : float

    Returns
    -------
    DelongTestResult
        z = (AUC1 − AUC2)/√(V1 + V2 − 2C); two-sided p = 2Φ(−|z|).

    References
    ----------
    DeLong et al. (1988), doi:10.2307/2531595
    """
    conf = check_conf(conf)
    if alternative not in ("two-sided", "greater", "less"):
        raise ConfigError(f"delong_test: alternative={alternative!r}; use 'two-sided', 'greater' or 'less'")
    s1, s2 = as_float_array(score1, "score1"), as_float_array(score2, "score2")
    aucs, cov = delong_covariance(y, np.vstack([s1, s2]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = np.sqrt(max(var, 0.0))
    z = diff / se if se > 0 else float("nan")
    if alternative == "two-sided":
        p = float(2 * sps.norm.sf(abs(z)))
    elif alternative == "greater":
        p = float(sps.norm.sf(z))
    else:
        p = float(sps.norm.cdf(z))
    q = float(sps.norm.ppf(1 - (1 - conf) / 2))
    return DelongTestResult(float(aucs[0]), float(aucs[1]), Estimate(diff, diff - q * se, diff + q * se, conf, "delong"),
                            var, float(cov[0, 1]), float(z), p, alternative)


def roc_curve(y, score) -> pd.DataFrame:
    """Empirical ROC points, one per distinct score plus the (0, 0) corner.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold`` (descending; first row +inf), ``fpr``, ``tpr`` (= sensitivity),
        ``specificity``. At ``threshold`` t a case is positive when score >= t.
    """
    pos, neg = _split(y, score)
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tp = len(pos) - np.searchsorted(pos_sorted, thresholds, side="left")
    fp = len(neg) - np.searchsorted(neg_sorted, thresholds, side="left")
    tpr = np.concatenate([[0.0], tp / len(pos)])
    fpr = np.concatenate([[0.0], fp / len(neg)])
    return pd.DataFrame({"threshold": np.concatenate([[np.inf], thresholds]), "fpr": fpr, "tpr": tpr,
                         "specificity": 1.0 - fpr})


@dataclass(frozen=True)
class YoudenResult:
    """The cut-off maximising J = sensitivity + specificity − 1.

    Attributes
    ----------
    cutoff : float
        Midpoint between two consecutive distinct scores (±inf at the extremes).
    sensitivity, specificity, j : float
    """

    cutoff: float
    sensitivity: float
    specificity: float
    j: float


def youden_cutoff(y, score) -> YoudenResult:
    """Youden-optimal cut-off over the pROC candidate thresholds.

    Candidates are −inf, the midpoints between consecutive distinct scores, and +inf; a case is positive
    when score > cut-off. Ties in J are broken toward the lowest cut-off (highest sensitivity).

    References
    ----------
    Youden WJ (1950). Index for rating diagnostic tests. Cancer 3:32–35.
    doi:10.1002/1097-0142(1950)3:1<32::AID-CNCR2820030106>3.0.CO;2-3
    """
    pos, neg = _split(y, score)
    u = np.unique(np.concatenate([pos, neg]))
    cands = np.concatenate([[-np.inf], (u[:-1] + u[1:]) / 2.0, [np.inf]])
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    sens = (len(pos) - np.searchsorted(pos_sorted, cands, side="right")) / len(pos)
    spec = np.searchsorted(neg_sorted, cands, side="right") / len(neg)
    j = sens + spec - 1.0
    i = int(np.flatnonzero(np.isclose(j, j.max(), rtol=0, atol=1e-12))[0])
    return YoudenResult(float(cands[i]), float(sens[i]), float(spec[i]), float(j[i]))


def proportion_ci(k: int, n: int, *, method: str = "wilson", conf: float = DEFAULT_CONF) -> Estimate:
    """A binomial proportion k/n with its confidence interval.

    Parameters
    ----------
    k, n : int
        Successes and trials (n = 0 gives NaN).
    method : {"wilson", "clopper-pearson"}
        Wilson score interval, or the exact Clopper–Pearson interval from beta quantiles.
    conf : float

    Returns
    -------
    Estimate

    References
    ----------
    Wilson EB (1927). J Am Stat Assoc 22:209–212. doi:10.1080/01621459.1927.10502953
    Clopper CJ, Pearson ES (1934). Biometrika 26:404–413. doi:10.1093/biomet/26.4.404
    Newcombe RG (1998). Stat Med 17:857–872. doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Examples
    --------
    >>> e = proportion_ci(26, 41)
    >>> round(e.ci_lower, 4), round(e.ci_upper, 4)
    (0.4812, 0.7641)
    """
    conf = check_conf(conf)
    if method not in PROPORTION_CI_METHODS:
        raise ConfigError(f"proportion_ci: method={method!r} is not known; use one of {PROPORTION_CI_METHODS}")
    k, n = int(k), int(n)
    if n < 0 or k < 0 or k > n:
        raise ConfigError(f"proportion_ci: need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, conf, method)
    alpha = 1 - conf
    p = k / n
    if method == "wilson":
        z = sps.norm.ppf(1 - alpha / 2)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lo, hi = centre - half, centre + half
    else:
        lo = 0.0 if k == 0 else sps.beta.ppf(alpha / 2, k, n - k + 1)
        hi = 1.0 if k == n else sps.beta.ppf(1 - alpha / 2, k + 1, n - k)
    return Estimate(float(p), float(max(0.0, lo)), float(min(1.0, hi)), conf, method)


@dataclass(frozen=True)
class DiagnosticMetrics:
    """Accuracy of the rule ``score >= cutoff`` against the reference standard.

    Attributes
    ----------
    cutoff : float
    tp, fp, tn, fn : int
    sensitivity, specificity, ppv, npv : Estimate
        Each a proportion with its interval (method in ``.method``). PPV/NPV are for the prevalence of
        this sample.
    """

    cutoff: float
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate


def diagnostic_metrics(y, score, cutoff: float, *, method: str = "wilson", conf: float = DEFAULT_CONF) -> DiagnosticMetrics:
    """Sensitivity, specificity, PPV and NPV of ``score >= cutoff`` with binomial intervals.

    Parameters
    ----------
    y : array_like of bool or 0/1, shape (N,)
    score : array_like of float, shape (N,)
    cutoff : float
        In score units (e.g. the pre-specified 50 on the 0–100 BME score).
    method : {"wilson", "clopper-pearson"}
    conf : float

    Returns
    -------
    DiagnosticMetrics
    """
    yy = as_binary_array(y, "y")
    s = as_float_array(score, "score")
    same_length(y=yy, score=s)
    pred = s >= float(cutoff)
    tp = int(np.sum(pred & yy))
    fp = int(np.sum(pred & ~yy))
    tn = int(np.sum(~pred & ~yy))
    fn = int(np.sum(~pred & yy))
    return DiagnosticMetrics(float(cutoff), tp, fp, tn, fn,
                             proportion_ci(tp, tp + fn, method=method, conf=conf),
                             proportion_ci(tn, tn + fp, method=method, conf=conf),
                             proportion_ci(tp, tp + fp, method=method, conf=conf),
                             proportion_ci(tn, tn + fn, method=method, conf=conf))


# ---------------------------------------------------------------------------------------------------------
# Clustered bootstrap


def cluster_bootstrap_weights(clusters, *, n_boot: int, seed: int) -> np.ndarray:
    """Frequency weights of a cluster (patient) bootstrap.

    Each replicate draws as many clusters as there are, with replacement; an observation's weight is the
    number of times its cluster was drawn. Every statistic that accepts frequency weights is then
    evaluated on all replicates at once.

    Parameters
    ----------
    clusters : array_like, shape (N,)
        Cluster label of each observation (e.g. the patient pseudonym).
    n_boot : int
        Replicates B (>= 1).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same weights.

    Returns
    -------
    ndarray of float, shape (B, N)
    """
    if int(n_boot) < 1:
        raise ConfigError(f"bootstrap: n_boot={n_boot!r} must be >= 1")
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters)), sort=True)
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    if n_clusters == 0:
        raise ConfigError("bootstrap: no observations to resample")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(int(n_boot), n_clusters))
    counts = np.zeros((int(n_boot), n_clusters))
    rows = np.repeat(np.arange(int(n_boot)), n_clusters)
    np.add.at(counts, (rows, draws.ravel()), 1.0)
    return counts[:, codes]


def weighted_auc(y, score, weights: np.ndarray) -> np.ndarray:
    """AUC with frequency weights, for one (N,) or many (B, N) weight vectors.

    AUC_w = Σ_i Σ_j w_i w_j [ψ(x_i, y_j)] / (Σ_i w_i · Σ_j w_j) over positives i and negatives j, with
    ψ = 1 if x_i > y_j, ½ if tied. Rows whose positives or negatives all have weight 0 give NaN.
    """
    yy = as_binary_array(y, "y")
    s = as_float_array(score, "score")
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    if w.shape[1] != len(s):
        raise ConfigError(f"weighted_auc: weights have {w.shape[1]} columns for {len(s)} observations")
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    starts = np.flatnonzero(np.concatenate([[True], s_sorted[1:] != s_sorted[:-1]]))
    wp = np.add.reduceat(w[:, order] * yy[order], starts, axis=1)
    wn = np.add.reduceat(w[:, order] * (~yy[order]), starts, axis=1)
    below = np.cumsum(wn, axis=1) - wn
    num = np.sum(wp * (below + 0.5 * wn), axis=1)
    den = wp.sum(axis=1) * wn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out if np.ndim(weights) > 1 else out[:1]


def percentile_interval(replicates, *, conf: float = DEFAULT_CONF) -> tuple[float, float]:
    """Percentile interval of bootstrap ``replicates`` (NaN replicates ignored)."""
    conf = check_conf(conf)
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if len(r) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(r, [(1 - conf) / 2, 1 - (1 - conf) / 2])
    return float(lo), float(hi)


def bootstrap_clustered(statistic: Callable[[np.ndarray], np.ndarray], clusters, *, n_boot: int = 1000,
                        seed: int = 0, conf: float = DEFAULT_CONF) -> Estimate:
    """Percentile interval of a weighted statistic under a cluster (patient) bootstrap.

    Parameters
    ----------
    statistic : callable
        ``statistic(weights)`` with ``weights`` of shape (B, N) returns B values; called once with the
        all-ones weights (shape (1, N)) for the point estimate and once with the bootstrap weights.
    clusters : array_like, shape (N,)
    n_boot, seed, conf
        Replicates, seed, confidence level.

    Returns
    -------
    Estimate
        ``method="bootstrap-cluster-percentile"``.

    References
    ----------
    Field CA, Welsh AH (2007). Bootstrapping clustered data. J R Stat Soc B 69:369–390.
    doi:10.1111/j.1467-9868.2007.00593.x
    """
    n = len(np.asarray(clusters))
    value = float(np.asarray(statistic(np.ones((1, n))))[0])
    reps = np.asarray(statistic(cluster_bootstrap_weights(clusters, n_boot=n_boot, seed=seed)))
    lo, hi = percentile_interval(reps, conf=conf)
    return Estimate(value, lo, hi, conf, "bootstrap-cluster-percentile")


def roc_auc_bootstrap(y, score, clusters, *, n_boot: int = 1000, seed: int = 0,
                      conf: float = DEFAULT_CONF) -> Estimate:
    """AUC with a patient-clustered percentile bootstrap interval (for non-independent wrists).

    Parameters
    ----------
    y, score : array_like, shape (N,)
    clusters : array_like, shape (N,)
        Patient of each observation; whole patients are resampled.
    n_boot, seed, conf

    Returns
    -------
    Estimate
    """
    _split(y, score)
    return bootstrap_clustered(lambda w: weighted_auc(y, score, w), clusters, n_boot=n_boot, seed=seed, conf=conf)


def weighted_proportion(success, eligible, weights: np.ndarray) -> np.ndarray:
    """Σ w·success·eligible / Σ w·eligible for each weight row (NaN where the denominator is 0)."""
    s = np.asarray(success, dtype=float)
    e = np.asarray(eligible, dtype=float)
    w = np.atleast_2d(weights)
    num = w @ (s * e)
    den = w @ e
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
