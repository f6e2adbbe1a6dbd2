"""Random-effects meta-analysis of per-site estimates (site AUCs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import DEFAULT_CONF, Estimate, as_float_array, check_conf, same_length

META_METHODS = ("DL", "REML")


@dataclass(frozen=True)
class MetaResult:
    """Random-effects pooled estimate and heterogeneity.

    Attributes
    ----------
    pooled : Estimate
        μ̂ = Σ w*_i y_i / Σ w*_i with w*_i = 1/(v_i + τ²); Wald interval μ̂ ± z/√Σw*.
    se : float
    tau2 : float
        Between-site variance τ² (DerSimonian–Laird or REML).
    q : float
        Cochran's Q with fixed-effect weights, df = k − 1.
    q_p : float
    i2 : float
        I² in percent: 100·τ²/(τ² + s²), s² the typical within-study variance
        (k−1)Σw/((Σw)² − Σw²) (Higgins & Thompson 2002; equals (Q − df)/Q for DL).
    prediction : tuple[float, float]
        Prediction interval μ̂ ± t_{k−2}·√(τ² + se²) (Higgins, Thompson & Spiegelhalter 2009); NaN for k < 3.
    k : int
    method : str
    """

    pooled: Estimate
    se: float
    tau2: float
    q: float
    q_p: float
    i2: float
    prediction: tuple[float, float]
    k: int
    method: str


def _reml_tau2(y: np.ndarray, v: np.ndarray, start: float, *, tol: float = 1e-10, max_iter: int = 1000) -> float:
    tau2 = max(0.0, start)
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        # Fisher scoring step of the restricted log-likelihood (Viechtbauer 2005, eq. 9)
        new = np.sum(w**2 * ((y - mu) ** 2 - v)) / np.sum(w**2) + 1.0 / np.sum(w)
        new = max(0.0, float(new))
        if abs(new - tau2) < tol * max(1.0, tau2):
            return new
        tau2 = new
    return tau2


def meta_auc(estimates, variances, *, method: str = "REML", conf: float = DEFAULT_CONF,
             scale: str = "identity") -> MetaResult:
    """Random-effects meta-analysis of site estimates (e.g. AUCs with DeLong variances).

    Parameters
    ----------
    estimates : array_like of float, shape (k,)
        Per-site estimates y_i (pooled on their own scale; for AUCs the raw scale).
    variances : array_like of float, shape (k,)
        Their sampling variances v_i (> 0).
    method : {"DL", "REML"}
        τ² estimator: DerSimonian–Laird moment estimator, or restricted maximum likelihood by Fisher
        scoring from the DL value (truncated at 0).
    conf : float
    scale : {"identity", "logit"}
        ``"logit"`` pools logit(y) with delta-method variances v/(y(1−y))² and back-transforms the pooled
        value, its interval and the prediction interval (so they stay inside (0, 1), as AUCs must);
        ``tau2``, ``q``, ``i2`` and ``se`` are then on the logit scale. Estimates must lie in (0, 1).

    Returns
    -------
    MetaResult

    References
    ----------
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177–188.
    doi:10.1016/0197-2456(86)90046-2 ; Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
    estimators in the random-effects model. J Educ Behav Stat 30:261–293. doi:10.3102/10769986030003261 ;
    Higgins JPT, Thompson SG (2002). Stat Med 21:1539–1558. doi:10.1002/sim.1186 ; Higgins JPT, Thompson
    SG, Spiegelhalter DJ (2009). J R Stat Soc A 172:137–159. doi:10.1111/j.1467-985X.2008.00552.x

    Examples
    --------
    >>> r = meta_auc([0.80, 0.75, 0.85], [0.001, 0.002, 0.0015], method="DL")
    >>> round(r.pooled.value, 3)
    0.803
    """
    conf = check_conf(conf)
    if method not in META_METHODS:
        raise ConfigError(f"meta_auc: method={method!r} is not known; use 'DL' or 'REML'")
    y = as_float_array(estimates, "estimates")
    v = as_float_array(variances, "variances")
    k = same_length(estimates=y, variances=v)
    if k < 2:
        raise ConfigError(f"meta_auc: needs at least 2 sites, got {k}")
    if np.any(v <= 0):
        raise ConfigError("meta_auc: every variance must be > 0; a site with zero variance cannot be weighted")
    if scale not in ("identity", "logit"):
        raise ConfigError(f"meta_auc: scale={scale!r} is not known; use 'identity' or 'logit'")
    if scale == "logit":
        if np.any((y <= 0) | (y >= 1)):
            raise ConfigError("meta_auc: scale='logit' needs every estimate strictly between 0 and 1")
        v = v / (y * (1 - y)) ** 2
        y = np.log(y / (1 - y))
    w = 1.0 / v
    mu_fe = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu_fe) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2_dl = max(0.0, (q - (k - 1)) / c)
    tau2 = tau2_dl if method == "DL" else _reml_tau2(y, v, tau2_dl)
    ws = 1.0 / (v + tau2)
    mu = float(np.sum(ws * y) / np.sum(ws))
    se = float(1.0 / np.sqrt(np.sum(ws)))
    z = float(sps.norm.ppf(1 - (1 - conf) / 2))
    s2 = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    i2 = float(100.0 * tau2 / (tau2 + s2))
    if k >= 3:
        tq = float(sps.t.ppf(1 - (1 - conf) / 2, k - 2))
        half = tq * np.sqrt(tau2 + se**2)
        pred = (mu - half, mu + half)
    else:
        pred = (float("nan"), float("nan"))
    lo, hi = mu - z * se, mu + z * se
    if scale == "logit":
        def expit(x: float) -> float:
            return float(1.0 / (1.0 + np.exp(-x)))

        mu, lo, hi = expit(mu), expit(lo), expit(hi)
        pred = (expit(pred[0]), expit(pred[1])) if np.all(np.isfinite(pred)) else pred
    return MetaResult(Estimate(mu, lo, hi, conf, f"random-effects-{method}-{scale}"), se, float(tau2), q,
                      float(sps.chi2.sf(q, k - 1)), i2, (float(pred[0]), float(pred[1])), k, method)
