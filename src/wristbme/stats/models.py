"""The adjusted model: MRI BME ~ score + age + sex + disease duration, with site as a random effect."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import DEFAULT_CONF, check_conf

ADJUSTED_MODEL_COLUMNS = ("bme_present", "score", "age_years", "sex", "duration_months", "site", "pseudonym")
"""Columns :func:`adjusted_model` reads (one row per wrist)."""

TERM_SCALES = {"score_per10": 10.0, "age_per10y": 10.0, "female": 1.0, "duration_per12m": 12.0}
"""Units of each model term: odds ratios are per 10 score points, per 10 years of age, female vs male,
and per 12 months of disease duration."""

ADJUSTED_METHODS = ("mixed-vb", "glm-cluster")


@dataclass(frozen=True)
class AdjustedModel:
    """Fitted adjusted model.

    Attributes
    ----------
    method : str
        ``"mixed-vb"`` or ``"glm-cluster"`` (see :func:`adjusted_model`).
    terms : pandas.DataFrame
        One row per term (``TERM_SCALES`` keys): ``term``, ``odds_ratio``, ``ci_lower``, ``ci_upper``,
        ``p`` (NaN for the Bayesian fit), ``interval`` (``"credible-vb"`` or ``"wald-cluster-robust"``).
    site_sd : float
        SD of the site random intercept on the log-odds scale (posterior mean of exp(log-SD); NaN for the
        GLM, where sites are fixed effects).
    site_sd_interval : tuple[float, float]
    n_obs, n_patients, n_sites : int
    description : str
        What was fitted, in one sentence (English; the report translates by ``method``).
    """

    method: str
    terms: pd.DataFrame
    site_sd: float
    site_sd_interval: tuple[float, float]
    n_obs: int
    n_patients: int
    n_sites: int
    description: str


def _design(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ADJUSTED_MODEL_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"adjusted_model: columns {missing} are missing; expected {list(ADJUSTED_MODEL_COLUMNS)}")
    d = frame.loc[:, list(ADJUSTED_MODEL_COLUMNS)].dropna()
    sex = d["sex"].astype(str).str.upper().str[0]
    if not sex.isin(["F", "M"]).all():
        bad = sorted(set(d.loc[~sex.isin(["F", "M"]), "sex"].astype(str)))[:3]
        raise ConfigError(f"adjusted_model: sex values {bad} are not F/M")
    out = pd.DataFrame({
        "y": d["bme_present"].astype(bool).astype(float).to_numpy(),
        "score_per10": d["score"].astype(float).to_numpy() / TERM_SCALES["score_per10"],
        "age_per10y": d["age_years"].astype(float).to_numpy() / TERM_SCALES["age_per10y"],
        "female": (sex == "F").astype(float).to_numpy(),
        "duration_per12m": d["duration_months"].astype(float).to_numpy() / TERM_SCALES["duration_per12m"],
        "site": d["site"].astype(str).to_numpy(),
        "patient": d["pseudonym"].astype(str).to_numpy(),
    })
    # Centre every term (score at 50, the others at their sample means): slopes and odds ratios are
    # unchanged, but the intercept is no longer correlated with them, which the mean-field variational
    # posterior of the mixed model needs for honest (not too narrow) posterior SDs.
    out["score_per10"] -= 50.0 / TERM_SCALES["score_per10"]
    for term in ("age_per10y", "female", "duration_per12m"):
        out[term] -= out[term].mean()
    if out["y"].nunique() < 2:
        raise ConfigError("adjusted_model: bme_present has a single value; a logistic model needs both outcomes")
    if len(out) < 20:
        raise ConfigError(f"adjusted_model: only {len(out)} complete wrists; need at least 20")
    return out


def adjusted_model(frame: pd.DataFrame, *, method: str = "mixed-vb", conf: float = DEFAULT_CONF,
                   seed: int = 0) -> AdjustedModel:
    """Logistic model of MRI BME on the score adjusted for age, sex and disease duration.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per wrist with :data:`ADJUSTED_MODEL_COLUMNS`; rows with a missing value are dropped.
        ``sex`` is ``F``/``M`` (first letter, case-insensitive).
    method : {"mixed-vb", "glm-cluster"}
        ``"mixed-vb"`` (primary): logit P(BME) = β0 + β·terms + u_site, u_site ~ N(0, σ²), fitted by
        ``statsmodels`` ``BinomialBayesMixedGLM.fit_vb`` (mean-field variational Bayes, Gaussian priors
        with the statsmodels defaults: fixed-effect SD 2 on the log-odds scale per unit of each scaled term
        fe_p=2, log-SD prior SD vcp_p=1). Intervals are ± z·posterior SD (approximate credible intervals).
        ``"glm-cluster"`` (sensitivity): ordinary logistic GLM with site as fixed effects
        (``C(site)``) and Wald intervals from a cluster-robust covariance by patient (two wrists of one
        patient are not independent).
    conf : float
    seed : int
        Seed of the random starting values of the variational fit (the fit is deterministic given it).

    Returns
    -------
    AdjustedModel

    Notes
    -----
    All terms are centred (score at 50, the others at their sample means) before fitting; this changes the
    intercept only. Mean-field VB ignores posterior correlations, so without centring its posterior SDs
    would be far too small.

    Why these two: statsmodels has no frequentist logistic GLMM (no Laplace/adaptive-quadrature fit); its
    variational-Bayes binomial mixed GLM is the only way to treat site as a random effect there. With few
    sites the random-effect variance is poorly identified, so the fixed-site GLM with patient-clustered
    errors is reported beside it. Neither models the patient as a random effect; the two wrists of a patient
    are handled by the cluster-robust covariance in the GLM only.

    References
    ----------
    Seabold S, Perktold J (2010). statsmodels. Proc 9th Python in Science Conf. doi:10.25080/Majora-92bf1922-011
    Blei DM, Kucukelbir A, McAuliffe JD (2017). Variational inference: a review for statisticians.
    J Am Stat Assoc 112:859–877. doi:10.1080/01621459.2017.1285773
    """
    conf = check_conf(conf)
    if method not in ADJUSTED_METHODS:
        raise ConfigError(f"adjusted_model: method={method!r} is not known; use one of {ADJUSTED_METHODS}")
    d = _design(frame)
    z = float(sps.norm.ppf(1 - (1 - conf) / 2))
    terms = list(TERM_SCALES)
    n_sites = int(d["site"].nunique())
    n_patients = int(d["patient"].nunique())
    rhs = " + ".join(terms)
    if method == "mixed-vb":
        if n_sites < 2:
            raise ConfigError("adjusted_model: a site random effect needs at least 2 sites; use method='glm-cluster'")
        from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

        model = BinomialBayesMixedGLM.from_formula(f"y ~ {rhs}", {"site": "0 + C(site)"}, d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit_vb(rng=np.random.default_rng(seed))
        names = list(model.exog_names)
        mean = pd.Series(res.fe_mean, index=names)
        sd = pd.Series(res.fe_sd, index=names)
        rows = [(t, float(np.exp(mean[t])), float(np.exp(mean[t] - z * sd[t])), float(np.exp(mean[t] + z * sd[t])),
                 float("nan"), "credible-vb") for t in terms]
        log_sd, log_sd_sd = float(res.vcp_mean[0]), float(res.vcp_sd[0])
        site_sd = float(np.exp(log_sd))
        site_int = (float(np.exp(log_sd - z * log_sd_sd)), float(np.exp(log_sd + z * log_sd_sd)))
        desc = ("Bayesian logistic mixed model (statsmodels BinomialBayesMixedGLM, variational Bayes): "
                "fixed effects score, age, sex, disease duration; random intercept per site.")
    else:
        import statsmodels.api as sm
        import statsmodels.formula.api as smf

        groups = pd.factorize(d["patient"])[0]
        formula = f"y ~ {rhs}" + (" + C(site)" if n_sites > 1 else "")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = smf.glm(formula, d, family=sm.families.Binomial()).fit(cov_type="cluster",
                                                                          cov_kwds={"groups": groups})
        ci = res.conf_int(alpha=1 - conf)
        rows = [(t, float(np.exp(res.params[t])), float(np.exp(ci.loc[t, 0])), float(np.exp(ci.loc[t, 1])),
                 float(res.pvalues[t]), "wald-cluster-robust") for t in terms]
        site_sd, site_int = float("nan"), (float("nan"), float("nan"))
        desc = ("Logistic GLM with site as fixed effects and patient-clustered robust standard errors "
                "(statsmodels GLM Binomial, cov_type='cluster').")
    table = pd.DataFrame(rows, columns=["term", "odds_ratio", "ci_lower", "ci_upper", "p", "interval"])
    return AdjustedModel(method, table, site_sd, site_int, len(d), n_patients, n_sites, desc)
