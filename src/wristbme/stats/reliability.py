"""Reliability and agreement of continuous measurements: ICC, Bland–Altman, SEM, SDC, within-subject CV.

Conventions
-----------
* Data for :func:`icc` and :func:`sem` are *long*: one row per (target, rater) with one rating. Targets with
  a missing rating are dropped (complete-case two-way ANOVA); a duplicated (target, rater) is refused.
* Confidence intervals of ICCs are the F-based intervals of Shrout & Fleiss (1979) and McGraw & Wong (1996);
  the absolute-agreement forms use the Satterthwaite approximation for the denominator df. Limits are
  **not** clipped (a lower limit may be below 0, and below -1 for ICC(1,k)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import DEFAULT_CONF, Estimate, as_float_array, check_conf, same_length

ICC_COLUMNS = ("type", "mcgraw_wong", "description", "icc", "f", "df1", "df2", "p", "ci_lower", "ci_upper")
"""Columns of the table returned by :func:`icc`, in order."""

_ICC_ROWS = (
    ("ICC1", "ICC(1)", "one-way random effects, absolute agreement, single rater"),
    ("ICC2", "ICC(A,1)", "two-way random effects, absolute agreement, single rater"),
    ("ICC3", "ICC(C,1)", "two-way mixed effects, consistency, single rater"),
    ("ICC1k", "ICC(k)", "one-way random effects, absolute agreement, mean of k raters"),
    ("ICC2k", "ICC(A,k)", "two-way random effects, absolute agreement, mean of k raters"),
    ("ICC3k", "ICC(C,k)", "two-way mixed effects, consistency, mean of k raters"),
)


@dataclass(frozen=True)
class IccAnova:
    """Mean squares of the two-way ANOVA without replication behind every ICC.

    Attributes
    ----------
    n_targets, n_raters : int
        n subjects and k raters (complete cases only).
    ms_rows : float
        MSR, between-target mean square, df n-1.
    ms_cols : float
        MSC, between-rater mean square, df k-1.
    ms_error : float
        MSE, residual mean square, df (n-1)(k-1).
    ms_within : float
        MSW, within-target mean square of the one-way model, df n(k-1).
    n_dropped : int
        Targets dropped because a rating was missing.
    """

    n_targets: int
    n_raters: int
    ms_rows: float
    ms_cols: float
    ms_error: float
    ms_within: float
    n_dropped: int = 0


def _wide(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> tuple[np.ndarray, int]:
    for col in (targets, raters, ratings):
        if col not in data.columns:
            raise ConfigError(f"icc: column {col!r} is not in the data (columns: {list(data.columns)})")
    if data.duplicated([targets, raters]).any():
        dup = data.loc[data.duplicated([targets, raters], keep=False), [targets, raters]].iloc[0].tolist()
        raise ConfigError(f"icc: target/rater {dup} is rated more than once; average or drop repeats first")
    wide = data.pivot(index=targets, columns=raters, values=ratings).astype(float)
    complete = wide.dropna(axis=0, how="any")
    n_dropped = len(wide) - len(complete)
    x = complete.to_numpy()
    if x.shape[1] < 2:
        raise ConfigError(f"icc: needs at least 2 raters in column {raters!r}, found {x.shape[1]}")
    if x.shape[0] < 2:
        raise ConfigError(f"icc: needs at least 2 targets with every rating present, found {x.shape[0]}")
    return x, n_dropped


def icc_anova(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> IccAnova:
    """Mean squares MSR, MSC, MSE and MSW of a complete targets × raters layout.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per (target, rater).
    targets, raters, ratings : str
        Column names.

    Returns
    -------
    IccAnova
    """
    x, n_dropped = _wide(data, targets, raters, ratings)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_total = np.sum((x - grand) ** 2)
    ss_error = ss_total - ss_rows - ss_cols
    return IccAnova(
        n_targets=n, n_raters=k,
        ms_rows=ss_rows / (n - 1),
        ms_cols=ss_cols / (k - 1),
        ms_error=ss_error / ((n - 1) * (k - 1)),
        ms_within=(ss_cols + ss_error) / (n * (k - 1)),
        n_dropped=n_dropped,
    )


def _defined_ratio(numerator: float, denominator: float, scale: float) -> float:
    """``numerator / denominator``, or NaN when the denominator is zero up to round-off relative to ``scale``."""
    if abs(denominator) <= 1e-12 * max(abs(scale), 1e-300):
        return float("nan")
    return numerator / denominator


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, conf: float = DEFAULT_CONF) -> pd.DataFrame:
    """All six intraclass correlation coefficients with F tests and F-based confidence intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per (target, rater) with a numeric rating.
    targets, raters, ratings : str
        Column names of the subject, the rater (or occasion, operator...) and the measurement.
    conf : float
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per form, columns :data:`ICC_COLUMNS`: ``type`` (Shrout–Fleiss name), ``mcgraw_wong``
        (McGraw–Wong name), ``description``, ``icc``, ``f`` and its ``df1``, ``df2``, ``p`` (test of
        ICC = 0), and the interval ``ci_lower``, ``ci_upper``. ``df.attrs["anova"]`` holds the
        :class:`IccAnova`.

    Raises
    ------
    ConfigError
        A column is missing, a (target, rater) is duplicated, or fewer than 2 complete targets or 2 raters.

    Notes
    -----
    With n targets, k raters and the mean squares of :func:`icc_anova`:

    * ICC(1) = (MSR − MSW)/(MSR + (k−1)MSW); ICC(k) = (MSR − MSW)/MSR; F = MSR/MSW on (n−1, n(k−1)).
    * ICC(C,1) = (MSR − MSE)/(MSR + (k−1)MSE); ICC(C,k) = (MSR − MSE)/MSR; F = MSR/MSE on (n−1, (n−1)(k−1)).
    * ICC(A,1) = (MSR − MSE)/(MSR + (k−1)MSE + k(MSC − MSE)/n); ICC(A,k) = (MSR − MSE)/(MSR + (MSC − MSE)/n).
      F = MSR/MSE, tested on (n−1, ν) with the Satterthwaite ν of McGraw & Wong (1996, Table 7), as R's
      ``irr::icc`` does (``psych``/``pingouin`` use (n−1)(k−1) for this p value).

    Intervals: with F_L = F / F_{1−α/2}(df1, df2) and F_U = F · F_{1−α/2}(df2, df1), the single-rater forms
    are (F_L − 1)/(F_L + k − 1) … and the k-rater forms 1 − 1/F_L …; ICC(A,1) uses the McGraw–Wong
    formula with ν, and ICC(A,k) the Spearman–Brown step-up of the ICC(A,1) limits. Limits are not clipped;
    an ICC(A,k) limit whose ICC(A,1) limit is ≤ −1/(k−1) (where the step-up is undefined) is NaN.

    References
    ----------
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability.
    Psychol Bull 86:420–428. doi:10.1037/0033-2909.86.2.420
    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation coefficients.
    Psychol Methods 1:30–46. doi:10.1037/1082-989X.1.1.30

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"s": [1, 1, 2, 2, 3, 3], "r": ["a", "b"] * 3, "y": [1.0, 1.2, 2.0, 2.1, 3.0, 2.8]})
    >>> round(float(icc(d, "s", "r", "y").set_index("type").loc["ICC2", "icc"]), 3)
    0.982
    """
    conf = check_conf(conf)
    a = icc_anova(data, targets, raters, ratings)
    n, k = a.n_targets, a.n_raters
    msr, msc, mse, msw = a.ms_rows, a.ms_cols, a.ms_error, a.ms_within
    alpha = 1.0 - conf
    q = 1.0 - alpha / 2.0
    rows = []

    def f_limits(f: float, df1: float, df2: float) -> tuple[float, float]:
        return f / sps.f.ppf(q, df1, df2), f * sps.f.ppf(q, df2, df1)

    # one-way
    df1, df2_w, df2_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    f1 = msr / msw
    p1 = float(sps.f.sf(f1, df1, df2_w))
    fl, fu = f_limits(f1, df1, df2_w)
    icc1 = (msr - msw) / (msr + (k - 1) * msw)
    icc1k = (msr - msw) / msr
    # two-way consistency
    f3 = msr / mse
    p3 = float(sps.f.sf(f3, df1, df2_e))
    fl3, fu3 = f_limits(f3, df1, df2_e)
    icc3 = (msr - mse) / (msr + (k - 1) * mse)
    icc3k = (msr - mse) / msr
    # two-way absolute agreement
    # their denominators contain MSC − MSE and can vanish: the ICC is then undefined (NaN), not ±inf by round-off
    scale = msr + msc + mse + msw
    icc2 = _defined_ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n, scale)
    icc2k = _defined_ratio(msr - mse, msr + (msc - mse) / n, scale)
    aa = k * icc2 / (n * (1.0 - icc2))
    bb = 1.0 + k * icc2 * (n - 1) / (n * (1.0 - icc2))
    nu = (aa * msc + bb * mse) ** 2 / ((aa * msc) ** 2 / (k - 1) + (bb * mse) ** 2 / ((n - 1) * (k - 1)))
    p2 = float(sps.f.sf(f3, df1, nu))
    f_star_l = sps.f.ppf(q, n - 1, nu)
    f_star_u = sps.f.ppf(q, nu, n - 1)
    c = k * msc + (k * n - k - n) * mse
    lo2 = n * (msr - f_star_l * mse) / (f_star_l * c + n * msr)
    hi2 = n * (f_star_u * msr - mse) / (c + n * f_star_u * msr)

    def step_up(r: float) -> float:
        # Spearman–Brown is undefined (sign flip) when r <= -1/(k-1): report NaN rather than a wrong limit
        return k * r / (1.0 + (k - 1) * r) if 1.0 + (k - 1) * r > 0 else float("nan")

    values = {
        "ICC1": (icc1, f1, df1, df2_w, p1, (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)),
        "ICC2": (icc2, f3, df1, nu, p2, lo2, hi2),
        "ICC3": (icc3, f3, df1, df2_e, p3, (fl3 - 1) / (fl3 + k - 1), (fu3 - 1) / (fu3 + k - 1)),
        "ICC1k": (icc1k, f1, df1, df2_w, p1, 1 - 1 / fl, 1 - 1 / fu),
        "ICC2k": (icc2k, f3, df1, nu, p2, step_up(lo2), step_up(hi2)),
        "ICC3k": (icc3k, f3, df1, df2_e, p3, 1 - 1 / fl3, 1 - 1 / fu3),
    }
    for name, mw, desc in _ICC_ROWS:
        value, f, d1, d2, p, lo, hi = values[name]
        rows.append((name, mw, desc, float(value), float(f), float(d1), float(d2), p, float(lo), float(hi)))
    table = pd.DataFrame(rows, columns=list(ICC_COLUMNS))
    table.attrs["anova"] = a
    table.attrs["conf"] = conf
    return table


def sem(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, kind: str = "agreement") -> float:
    """Standard error of measurement from the two-way ANOVA, in the units of ``ratings``.

    Parameters
    ----------
    data, targets, raters, ratings
        As for :func:`icc`.
    kind : {"agreement", "consistency"}
        ``"agreement"``: SEM = sqrt(σ²_rater + σ²_error) = sqrt((MSC − MSE)/n + MSE) (systematic
        differences between raters/occasions count as error); ``"consistency"``: SEM = sqrt(MSE).
        A negative variance component (MSC < MSE) is set to 0.

    Returns
    -------
    float

    References
    ----------
    de Vet HCW, Terwee CB, Knol DL, Bouter LM (2006). When to use agreement versus reliability measures.
    J Clin Epidemiol 59:1033–1039. doi:10.1016/j.jclinepi.2005.10.015
    """
    a = icc_anova(data, targets, raters, ratings)
    if kind == "consistency":
        return float(np.sqrt(a.ms_error))
    if kind == "agreement":
        var_rater = max(0.0, (a.ms_cols - a.ms_error) / a.n_targets)
        return float(np.sqrt(var_rater + a.ms_error))
    raise ConfigError(f"sem: kind={kind!r} is not known; use 'agreement' or 'consistency'")


def sdc(sem_value: float, *, conf: float = DEFAULT_CONF, n_measurements: int = 1) -> float:
    """Smallest detectable change: z_{1−α/2} · √2 · SEM / √m.

    Parameters
    ----------
    sem_value : float
        Standard error of measurement (units of the measurement).
    conf : float
        Confidence level (0.95 gives the usual SDC95 = 1.96·√2·SEM).
    n_measurements : int
        m, number of repeated measurements averaged per occasion.

    Returns
    -------
    float
        In the units of the measurement.

    References
    ----------
    de Vet HCW et al. (2006), doi:10.1016/j.jclinepi.2005.10.015; Weir JP (2005). Quantifying test-retest
    reliability using the intraclass correlation coefficient and the SEM. J Strength Cond Res 19:231–240.
    doi:10.1519/15184.1

    Examples
    --------
    >>> round(sdc(1.0), 4)
    2.7718
    """
    conf = check_conf(conf)
    if not np.isfinite(sem_value) or sem_value < 0:
        raise ConfigError(f"sdc: sem_value={sem_value!r} must be a finite number >= 0")
    if n_measurements < 1:
        raise ConfigError(f"sdc: n_measurements={n_measurements!r} must be >= 1")
    z = sps.norm.ppf(1 - (1 - conf) / 2)
    return float(z * np.sqrt(2.0) * sem_value / np.sqrt(n_measurements))


def within_subject_cv(data: pd.DataFrame, targets: str, ratings: str) -> float:
    """Within-subject coefficient of variation, in percent, by the root-mean-square method.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data with repeated ``ratings`` per ``targets`` (any number ≥ 2 per target; targets with one
        rating are ignored).
    targets, ratings : str
        Column names.

    Returns
    -------
    float
        CV_w = 100 · sqrt(mean_i(s_i² / m_i²)), s_i the SD (n−1) and m_i the mean of target i. NaN when no
        target has two ratings. Targets whose mean is 0 are excluded (their CV is undefined).

    References
    ----------
    Bland JM, Altman DG (1996). Measurement error proportional to the mean. BMJ 313:106.
    doi:10.1136/bmj.313.7049.106 ; Hyslop NP, White WH (2009). Estimating precision using duplicate
    measurements. J Air Waste Manag Assoc 59:1032–1039. doi:10.3155/1047-3289.59.9.1032

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"s": [1, 1, 2, 2], "y": [9.0, 11.0, 18.0, 22.0]})
    >>> round(within_subject_cv(d, "s", "y"), 3)
    14.142
    """
    for col in (targets, ratings):
        if col not in data.columns:
            raise ConfigError(f"within_subject_cv: column {col!r} is not in the data")
    g = data.groupby(targets)[ratings]
    count, mean, var = g.count(), g.mean(), g.var(ddof=1)
    keep = (count >= 2) & (mean != 0)
    if not keep.any():
        return float("nan")
    return float(100.0 * np.sqrt(np.mean((var[keep] / mean[keep] ** 2).to_numpy())))


@dataclass(frozen=True)
class BlandAltmanResult:
    """Bland–Altman agreement of paired measurements, d = a − b.

    Attributes
    ----------
    n : int
        Pairs.
    bias : Estimate
        Mean difference with its t interval.
    sd : float
        SD of d (n−1 denominator).
    loa_multiplier : float
        Multiplier of the SD in the limits (1.96, or 2 as in the 1986 paper).
    loa_lower, loa_upper : Estimate
        Limits of agreement bias ∓ multiplier·sd with their intervals (method in ``.method``).
    se_bias : float
        s/√n.
    se_loa : float
        Approximate SE of a limit (per ``loa_ci_method``; NaN for the exact method).
    slope, intercept : float
        Proportional-bias regression d = intercept + slope·(a + b)/2 (ordinary least squares).
    slope_ci : tuple[float, float]
        t interval of the slope.
    slope_p : float
        Two-sided p of slope = 0.
    """

    n: int
    bias: Estimate
    sd: float
    loa_multiplier: float
    loa_lower: Estimate
    loa_upper: Estimate
    se_bias: float
    se_loa: float
    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    slope_p: float


def bland_altman(a, b, *, conf: float = DEFAULT_CONF, loa_multiplier: float | None = None,
                 loa_ci_method: str = "exact") -> BlandAltmanResult:
    """Bland–Altman bias, limits of agreement with confidence intervals, and proportional bias.

    Parameters
    ----------
    a, b : array_like of float, shape (n,)
        Paired measurements; d = a − b.
    conf : float
        Confidence level of every interval; also sets the default LoA multiplier z_{(1+conf)/2}.
    loa_multiplier : float, optional
        SD multiplier of the limits (default 1.96 for conf 0.95; 2.0 reproduces the 1986 paper).
    loa_ci_method : {"exact", "bland-altman-1999", "bland-altman-1986"}
        Interval of each limit. ``"exact"``: the exact parametric interval from the non-central t
        distribution (Carkeet 2015): d̄ + s·t'_{q}(n−1, λ)/√n with λ = multiplier·√n, q = α/2 and 1−α/2.
        ``"bland-altman-1999"``: limit ± t_{1−α/2,n−1}·s·sqrt(1/n + z²/(2(n−1))).
        ``"bland-altman-1986"``: limit ± t_{1−α/2,n−1}·sqrt(3s²/n).

    Returns
    -------
    BlandAltmanResult

    Raises
    ------
    ConfigError
        Lengths differ, fewer than 3 pairs, non-finite values, unknown method.

    References
    ----------
    Bland JM, Altman DG (1986). Lancet 327:307–310. doi:10.1016/S0140-6736(86)90837-8
    Bland JM, Altman DG (1999). Measuring agreement in method comparison studies. Stat Methods Med Res
    8:135–160. doi:10.1177/096228029900800204
    Carkeet A (2015). Exact parametric confidence intervals for Bland–Altman limits of agreement. Optom Vis
    Sci 92:e71–e80. doi:10.1097/OPX.0000000000000513

    Examples
    --------
    >>> r = bland_altman([10.0, 12.0, 11.0, 13.0], [9.0, 12.5, 10.0, 12.0])
    >>> round(r.bias.value, 3)
    0.625
    """
    conf = check_conf(conf)
    x = as_float_array(a, "a")
    y = as_float_array(b, "b")
    n = same_length(a=x, b=y)
    if n < 3:
        raise ConfigError(f"bland_altman: needs at least 3 pairs, got {n}")
    d = x - y
    mean_d = float(d.mean())
    s = float(d.std(ddof=1))
    alpha = 1 - conf
    t = float(sps.t.ppf(1 - alpha / 2, n - 1))
    z = float(sps.norm.ppf(1 - alpha / 2))
    mult = z if loa_multiplier is None else float(loa_multiplier)
    se_bias = s / np.sqrt(n)
    bias = Estimate(mean_d, float(mean_d - t * se_bias), float(mean_d + t * se_bias), conf, "t")
    lo, hi = mean_d - mult * s, mean_d + mult * s
    if loa_ci_method == "exact":
        lam = mult * np.sqrt(n)
        q_lo = float(sps.nct.ppf(alpha / 2, n - 1, lam))
        q_hi = float(sps.nct.ppf(1 - alpha / 2, n - 1, lam))
        se_loa = float("nan")
        upper = Estimate(hi, mean_d + s * q_lo / np.sqrt(n), mean_d + s * q_hi / np.sqrt(n), conf, "exact-nct")
        lower = Estimate(lo, mean_d - s * q_hi / np.sqrt(n), mean_d - s * q_lo / np.sqrt(n), conf, "exact-nct")
    elif loa_ci_method in ("bland-altman-1999", "bland-altman-1986"):
        if loa_ci_method == "bland-altman-1999":
            se_loa = s * np.sqrt(1 / n + mult**2 / (2 * (n - 1)))
        else:
            se_loa = float(np.sqrt(3 * s**2 / n))
        lower = Estimate(lo, lo - t * se_loa, lo + t * se_loa, conf, loa_ci_method)
        upper = Estimate(hi, hi - t * se_loa, hi + t * se_loa, conf, loa_ci_method)
    else:
        raise ConfigError(f"bland_altman: loa_ci_method={loa_ci_method!r} is not known; use 'exact', "
                          "'bland-altman-1999' or 'bland-altman-1986'")
    avg = (x + y) / 2
    if np.ptp(avg) > 0:
        reg = sps.linregress(avg, d)
        slope, intercept, se_slope, p = float(reg.slope), float(reg.intercept), float(reg.stderr), float(reg.pvalue)
        t2 = float(sps.t.ppf(1 - alpha / 2, n - 2))
        slope_ci = (slope - t2 * se_slope, slope + t2 * se_slope)
    else:
        slope, intercept, p, slope_ci = float("nan"), float("nan"), float("nan"), (float("nan"), float("nan"))
    return BlandAltmanResult(n=n, bias=bias, sd=s, loa_multiplier=mult, loa_lower=lower, loa_upper=upper,
                             se_bias=float(se_bias), se_loa=float(se_loa), slope=slope, intercept=intercept,
                             slope_ci=slope_ci, slope_p=p)
