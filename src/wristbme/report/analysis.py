"""Every number of the report, computed from a validated :class:`StudyData`.

:func:`analyze` returns :class:`Analysis`: ``numbers`` (a JSON-able nested dict, language-free; written as
``numbers.json``) and ``figures`` (frames the plots are drawn from). The bootstrap is seeded: the same data,
``n_boot`` and ``seed`` give identical numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, is_dataclass

import numpy as np
import pandas as pd

from wristbme.errors import ConfigError
from wristbme.report.contract import BONE_VALUES, GRADE_COLUMNS, StudyData
from wristbme.stats import (
    Estimate,
    adjusted_model,
    bland_altman,
    cluster_bootstrap_weights,
    diagnostic_metrics,
    icc,
    jonckheere_terpstra,
    meta_auc,
    percentile_interval,
    proportion_ci,
    roc_auc,
    roc_curve,
    spearman,
    weighted_auc,
    weighted_proportion,
    youden_cutoff,
)

MIN_PAIRS = 5
"""Fewest paired scores for a reliability analysis; fewer and the section says 'not available'."""


@dataclass
class Analysis:
    """Numbers (JSON-able) and the data behind each figure."""

    numbers: dict
    figures: dict = field(default_factory=dict)


def jsonable(value):
    """Plain JSON types: dataclasses → dicts, NumPy → Python, NaN/inf → None."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is pd.NA:
        return None
    return value


def _est(value: float, lo: float, hi: float, method: str, conf: float) -> dict:
    return jsonable(Estimate(float(value), float(lo), float(hi), conf, method))


def _boot_est(point: float, reps: np.ndarray, conf: float) -> dict:
    lo, hi = percentile_interval(reps, conf=conf)
    return _est(point, lo, hi, "bootstrap-cluster-percentile", conf)


def _primary(data: StudyData) -> pd.DataFrame:
    s = data.scores
    prim = s[(s["kind"] == "primary") & (s["bone"] == "wrist")][["pseudonym", "laterality", "score", "image_id"]]
    frame = data.wrists.merge(prim, on=["pseudonym", "laterality"], how="inner", validate="one_to_one")
    return frame.sort_values(["site", "pseudonym", "laterality"], kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
def _flow(data: StudyData) -> dict:
    f = data.flow
    by_site = {}
    for site, g in f.groupby("site", sort=True):
        by_site[site] = {stage: int(g.loc[g["stage"] == stage, "n"].sum())
                         for stage in ("received", "ineligible", "opted_out", "withdrawn", "qc_failed", "analysed")}
    total = {stage: sum(v[stage] for v in by_site.values()) for stage in next(iter(by_site.values()), {})}
    reasons = {}
    for stage in ("ineligible", "qc_failed"):
        g = f[(f["stage"] == stage) & (f["reason"] != "")]
        reasons[stage] = {r: int(n) for r, n in g.groupby("reason", sort=True)["n"].sum().items()}
    return {"by_site": by_site, "total": total, "reasons": reasons,
            "wrists_analysed": int(len(data.wrists)),
            "patients_analysed_in_data": int(data.wrists["pseudonym"].nunique())}


def _describe(frame: pd.DataFrame, conf: float) -> dict:
    pats = frame.drop_duplicates("pseudonym")
    grades = frame[list(GRADE_COLUMNS)].astype("float")
    max_grade = grades.max(axis=1, skipna=True)
    k = int(frame["bme_present"].sum())
    n = len(frame)

    def q(series: pd.Series) -> dict:
        x = series.dropna().to_numpy(float)
        if len(x) == 0:
            return {"median": None, "q1": None, "q3": None}
        return {"median": float(np.median(x)), "q1": float(np.quantile(x, 0.25)), "q3": float(np.quantile(x, 0.75))}

    return jsonable({
        "n_patients": int(len(pats)), "n_wrists": int(n),
        "age_mean": float(pats["age_years"].mean()), "age_sd": float(pats["age_years"].std(ddof=1)) if len(pats) > 1 else None,
        "female_n": int((pats["sex"] == "F").sum()),
        "female_pct": float(100 * (pats["sex"] == "F").mean()) if len(pats) else None,
        "duration_months": q(pats["duration_months"]),
        "interval_days": q(frame["interval_days"]),
        "bme_prevalence": asdict(proportion_ci(k, n, conf=conf)),
        "max_grade_counts": {str(g): int((max_grade == g).sum()) for g in range(4)},
    })


def _site_auc(primary: pd.DataFrame, n_boot: int, seed: int, conf: float) -> tuple[dict, dict]:
    out, curves = {}, {}
    for i, (site, g) in enumerate(primary.groupby("site", sort=True)):
        y, s = g["bme_present"].to_numpy(), g["score"].to_numpy()
        entry = {"n_wrists": int(len(g)), "n_patients": int(g["pseudonym"].nunique()), "n_positive": int(y.sum())}
        if y.sum() >= 2 and (~y).sum() >= 2:
            r = roc_auc(y, s, conf=conf)
            w = cluster_bootstrap_weights(g["pseudonym"].to_numpy(), n_boot=n_boot, seed=seed + 1 + i)
            entry.update({"auc": jsonable(r.auc), "variance": r.variance,
                          "auc_bootstrap": _boot_est(r.auc.value, weighted_auc(y, s, w), conf)})
            curves[site] = roc_curve(y, s)
        else:
            entry.update({"auc": None, "variance": None, "auc_bootstrap": None})
        out[site] = entry
    return jsonable(out), curves


def _heterogeneity(site_auc: dict, conf: float) -> dict | None:
    usable = [(s, v["auc"]["value"], v["variance"]) for s, v in site_auc.items()
              if v["auc"] is not None and v["variance"] and v["variance"] > 0]
    if len(usable) < 2:
        return None
    aucs = [u[1] for u in usable]
    var = [u[2] for u in usable]
    res = {}
    for method in ("REML", "DL"):
        m = meta_auc(aucs, var, method=method, conf=conf, scale="logit")
        res[method] = {"pooled": jsonable(m.pooled), "se_logit": m.se, "tau2_logit": m.tau2,
                       "tau_logit": math.sqrt(m.tau2), "scale": "logit",
                       "q": m.q, "q_df": m.k - 1, "q_p": m.q_p, "i2": m.i2, "prediction": list(m.prediction), "k": m.k}
    res["sites"] = [u[0] for u in usable]
    return jsonable(res)


def _pairs(data: StudyData, primary: pd.DataFrame, kind: str) -> pd.DataFrame:
    s = data.scores
    other = s[(s["kind"] == kind) & (s["bone"] == "wrist")].sort_values(["image_id", "run_id"], kind="mergesort")
    other = other.drop_duplicates(["pseudonym", "laterality"])[["pseudonym", "laterality", "score", "operator"]]
    merged = primary[["pseudonym", "site", "laterality", "score", "operator_primary"]].merge(
        other.rename(columns={"score": "score2", "operator": "operator2"}), on=["pseudonym", "laterality"])
    return merged


def _weighted_reliability(first: np.ndarray, second: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SEM (agreement) and CV% for every weight row; closed forms of the k = 2 two-way ANOVA."""
    d = second - first
    m = (first + second) / 2
    sw = w.sum(axis=1)
    md = (w @ d) / sw
    vd = (w @ d**2 - sw * md**2) / np.maximum(sw - 1, 1)
    var_rater = np.maximum(md**2 / 2 - vd / (2 * sw), 0.0)
    sem = np.sqrt(var_rater + vd / 2)
    ok = m != 0
    ratio = np.where(ok, (d**2 / 2) / np.where(ok, m, 1.0) ** 2, 0.0)
    cv = 100 * np.sqrt((w @ ratio) / np.maximum(w @ ok.astype(float), 1e-300))
    return sem, cv


def _reliability(pairs: pd.DataFrame, n_boot: int, seed: int, conf: float) -> tuple[dict | None, pd.DataFrame | None]:
    n = len(pairs)
    if n < MIN_PAIRS:
        return jsonable({"n_pairs": n, "available": False}), None
    a, b = pairs["score"].to_numpy(float), pairs["score2"].to_numpy(float)
    long = pd.DataFrame({"target": np.concatenate([np.arange(n), np.arange(n)]),
                         "rater": ["first"] * n + ["second"] * n, "rating": np.concatenate([a, b])})
    out: dict = {"n_pairs": n, "n_patients": int(pairs["pseudonym"].nunique()), "available": True}
    d = b - a
    if np.ptp(d) == 0 and np.all(d == 0):
        out.update({"identical": True})
        return jsonable(out), None
    table = icc(long, "target", "rater", "rating", conf=conf).set_index("type")
    for form in ("ICC1", "ICC2", "ICC3"):
        row = table.loc[form]
        out[form] = {**_est(row["icc"], row["ci_lower"], row["ci_upper"], "F-based", conf),
                     "f": row["f"], "df1": row["df1"], "df2": row["df2"], "p": row["p"]}
    ba = bland_altman(b, a, conf=conf)
    out["bland_altman"] = {"bias": jsonable(ba.bias), "sd": ba.sd, "multiplier": ba.loa_multiplier,
                           "loa_lower": jsonable(ba.loa_lower), "loa_upper": jsonable(ba.loa_upper),
                           "slope": ba.slope, "slope_ci": list(ba.slope_ci), "slope_p": ba.slope_p}
    w = cluster_bootstrap_weights(pairs["pseudonym"].to_numpy(), n_boot=n_boot, seed=seed)
    sem0, cv0 = _weighted_reliability(a, b, np.ones((1, n)))
    sem_b, cv_b = _weighted_reliability(a, b, w)
    z = 1.959963984540054 if conf == 0.95 else float(__import__("scipy.stats").stats.norm.ppf(1 - (1 - conf) / 2))
    out["sem"] = _boot_est(sem0[0], sem_b, conf)
    out["sdc"] = _boot_est(z * math.sqrt(2) * sem0[0], z * math.sqrt(2) * sem_b, conf)
    out["cv_pct"] = _boot_est(cv0[0], cv_b, conf)
    out["identical"] = False
    plot = pd.DataFrame({"mean": (a + b) / 2, "diff": d})
    return jsonable(out), plot


def _software(data: StudyData, primary: pd.DataFrame, conf: float) -> dict:
    out = {}
    for kind in ("reencode", "rerun"):
        pairs = _pairs(data, primary, kind)
        n = len(pairs)
        entry: dict = {"n_pairs": n}
        if n:
            d = pairs["score2"].to_numpy(float) - pairs["score"].to_numpy(float)
            entry.update({"identical_n": int(np.sum(np.abs(d) < 1e-9)),
                          "identical_pct": asdict(proportion_ci(int(np.sum(np.abs(d) < 1e-9)), n, conf=conf)),
                          "max_abs_diff": float(np.max(np.abs(d))), "mean_abs_diff": float(np.mean(np.abs(d)))})
            if n >= 3 and np.ptp(d) > 0:
                ba = bland_altman(pairs["score2"].to_numpy(float), pairs["score"].to_numpy(float), conf=conf)
                entry["bland_altman"] = {"bias": jsonable(ba.bias), "loa_lower": jsonable(ba.loa_lower),
                                         "loa_upper": jsonable(ba.loa_upper)}
        out[kind] = entry
    return jsonable(out)


def _metrics_boot(y: np.ndarray, s: np.ndarray, cutoff: float, w: np.ndarray, conf: float) -> dict:
    dm = diagnostic_metrics(y, s, cutoff, conf=conf)
    pred = s >= cutoff
    boot = {
        "sensitivity": weighted_proportion(pred, y, w), "specificity": weighted_proportion(~pred, ~y, w),
        "ppv": weighted_proportion(y, pred, w), "npv": weighted_proportion(~y, ~pred, w),
    }
    out = {"cutoff": cutoff, "tp": dm.tp, "fp": dm.fp, "tn": dm.tn, "fn": dm.fn}
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        wilson = getattr(dm, name)
        out[name] = _boot_est(wilson.value, boot[name], conf)
        out[f"{name}_wilson"] = jsonable(wilson)
    return out


def _per_bone(data: StudyData, primary: pd.DataFrame, w: np.ndarray, conf: float) -> dict:
    s = data.scores
    idx = primary.set_index(["pseudonym", "laterality"]).index
    pos = pd.Series(np.arange(len(primary)), index=idx)
    out = {}
    for bone in BONE_VALUES:
        b = s[(s["kind"] == "primary") & (s["bone"] == bone)][["pseudonym", "laterality", "score"]]
        m = primary[["pseudonym", "laterality", f"grade_{bone}"]].merge(b, on=["pseudonym", "laterality"])
        m = m[m[f"grade_{bone}"].notna()]
        entry: dict = {"n_wrists": int(len(m))}
        if len(m):
            y = (m[f"grade_{bone}"].astype(int) >= 1).to_numpy()
            entry["prevalence"] = asdict(proportion_ci(int(y.sum()), len(y), conf=conf))
            if y.sum() >= 2 and (~y).sum() >= 2:
                sc = m["score"].to_numpy(float)
                r = roc_auc(y, sc, conf=conf)
                cols = pos.loc[list(zip(m["pseudonym"], m["laterality"], strict=True))].to_numpy()
                entry["auc"] = jsonable(r.auc)
                entry["auc_bootstrap"] = _boot_est(r.auc.value, weighted_auc(y, sc, w[:, cols]), conf)
        out[bone] = entry
    return jsonable(out)


def _by_grade(primary: pd.DataFrame, conf: float) -> tuple[dict, pd.DataFrame]:
    grades = primary[list(GRADE_COLUMNS)].astype(float)
    max_grade = grades.max(axis=1, skipna=True)
    total = grades.sum(axis=1, skipna=True)
    frame = pd.DataFrame({"max_grade": max_grade, "total": total, "score": primary["score"]}).dropna()
    groups = {}
    for g in range(4):
        x = frame.loc[frame["max_grade"] == g, "score"].to_numpy()
        if len(x):
            groups[str(g)] = {"n": len(x), "median": float(np.median(x)), "q1": float(np.quantile(x, 0.25)),
                              "q3": float(np.quantile(x, 0.75))}
    out: dict = {"groups": groups}
    if frame["max_grade"].nunique() >= 2:
        jt = jonckheere_terpstra(frame["score"], frame["max_grade"].astype(int), alternative="increasing")
        out["jonckheere"] = {"statistic": jt.statistic, "z": jt.z, "p": jt.p, "alternative": jt.alternative}
    if len(frame) >= 4:
        sp = spearman(frame["score"], frame["total"], conf=conf)
        out["spearman_total"] = {"rho": jsonable(sp.rho), "p": sp.p, "n": sp.n}
    return jsonable(out), frame


def _calibration(primary: pd.DataFrame, w: np.ndarray, conf: float) -> tuple[dict, pd.DataFrame]:
    import statsmodels.api as sm

    y = primary["bme_present"].to_numpy().astype(float)
    p = np.clip(primary["score"].to_numpy(float) / 100.0, 1e-4, 1 - 1e-4)
    lp = np.log(p / (1 - p))
    groups = pd.factorize(primary["pseudonym"])[0]
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slope_fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit(
            cov_type="cluster", cov_kwds={"groups": groups})
        citl_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit(
            cov_type="cluster", cov_kwds={"groups": groups})
    ci = slope_fit.conf_int(alpha=1 - conf)
    out["slope"] = _est(slope_fit.params[1], ci[1][0], ci[1][1], "wald-cluster-robust", conf)
    ci0 = citl_fit.conf_int(alpha=1 - conf)
    out["intercept_in_the_large"] = _est(citl_fit.params[0], ci0[0][0], ci0[0][1], "wald-cluster-robust", conf)
    sq = (p - y) ** 2
    out["brier"] = _boot_est(float(sq.mean()), (w @ sq) / w.sum(axis=1), conf)
    bins = pd.qcut(primary["score"].rank(method="first"), q=10, labels=False)
    rows = []
    for b, g in primary.groupby(bins, sort=True):
        k, n = int(g["bme_present"].sum()), len(g)
        e = proportion_ci(k, n, conf=conf)
        rows.append({"bin": int(b), "n": n, "mean_predicted": float(g["score"].mean() / 100),
                     "observed": e.value, "ci_lower": e.ci_lower, "ci_upper": e.ci_upper})
    table = pd.DataFrame(rows)
    out["bins"] = jsonable(rows)
    return jsonable(out), table


def _adjusted(primary: pd.DataFrame, conf: float) -> dict:
    out = {}
    for method in ("mixed-vb", "glm-cluster"):
        try:
            res = adjusted_model(primary, method=method, conf=conf)
        except ConfigError as exc:
            out[method] = {"available": False, "reason": str(exc)}
            continue
        out[method] = {"available": True, "terms": res.terms.to_dict(orient="records"), "site_sd": res.site_sd,
                       "site_sd_interval": list(res.site_sd_interval), "n_obs": res.n_obs,
                       "n_patients": res.n_patients, "n_sites": res.n_sites, "description": res.description}
    return jsonable(out)


def analyze(data: StudyData, *, n_boot: int = 1000, seed: int = 0, conf: float = 0.95) -> Analysis:
    """Compute every number of the report.

    Parameters
    ----------
    data : StudyData
        Validated or not (validated here).
    n_boot : int
        Patient-clustered bootstrap replicates (>= 50).
    seed : int
        Seed of every bootstrap.
    conf : float
        Confidence level of every interval.

    Returns
    -------
    Analysis
    """
    if int(n_boot) < 50:
        raise ConfigError(f"analyze: bootstrap={n_boot} replicates are too few for a percentile interval; use >= 50")
    data = data.validated()
    prov = data.provenance
    primary = _primary(data)
    if primary.empty:
        raise ConfigError("analyze: no analysed wrist has a primary score; nothing to analyse")
    ops = data.scores[(data.scores["kind"] == "primary") & (data.scores["bone"] == "wrist")][
        ["pseudonym", "laterality", "operator"]].rename(columns={"operator": "operator_primary"})
    primary = primary.merge(ops, on=["pseudonym", "laterality"], how="left")
    y = primary["bme_present"].to_numpy()
    s = primary["score"].to_numpy(float)
    figures: dict = {}
    numbers: dict = {
        "meta": jsonable({"synthetic": prov.synthetic, "bootstrap": int(n_boot), "seed": int(seed), "conf": conf,
                          "prespecified_cutoff": prov.prespecified_cutoff, "software_version": prov.software_version,
                          "model_id": prov.model_id, "study_name": prov.study_name,
                          "data_snapshot_sha256": prov.data_snapshot_sha256,
                          "study_toml_sha256": prov.study_toml_sha256, "locked": prov.locked,
                          "locked_at": prov.locked_at, "withdrawals_since_lock": prov.withdrawals_since_lock,
                          "model_summary": prov.model_summary}),
        "flow": _flow(data),
    }
    baseline = {site: _describe(g, conf) for site, g in primary.groupby("site", sort=True)}
    baseline["all"] = _describe(primary, conf)
    numbers["baseline"] = baseline
    site_auc, site_curves = _site_auc(primary, n_boot, seed, conf)
    numbers["site_auc"] = site_auc
    numbers["heterogeneity"] = _heterogeneity(site_auc, conf)
    figures["site_curves"] = site_curves
    for kind, key in (("retest", "test_retest"), ("operator", "inter_operator")):
        rel, plot = _reliability(_pairs(data, primary, kind), n_boot, seed, conf)
        numbers[key] = rel
        figures[f"ba_{key}"] = plot
    numbers["software"] = _software(data, primary, conf)
    acc: dict = {"n_wrists": int(len(primary)), "n_patients": int(primary["pseudonym"].nunique()),
                 "n_positive": int(y.sum()),
                 "prevalence": asdict(proportion_ci(int(y.sum()), len(y), conf=conf))}
    if y.sum() >= 2 and (~y).sum() >= 2:
        w = cluster_bootstrap_weights(primary["pseudonym"].to_numpy(), n_boot=n_boot, seed=seed)
        r = roc_auc(y, s, conf=conf)
        acc["auc_delong"] = jsonable(r.auc)
        acc["auc"] = _boot_est(r.auc.value, weighted_auc(y, s, w), conf)
        yc = youden_cutoff(y, s)
        acc["prespecified"] = _metrics_boot(y, s, float(prov.prespecified_cutoff), w, conf)
        acc["youden"] = {**_metrics_boot(y, s, yc.cutoff, w, conf), "j": yc.j}
        figures["roc_pooled"] = roc_curve(y, s)
        numbers["per_bone"] = _per_bone(data, primary, w, conf)
        numbers["calibration"], figures["calibration"] = _calibration(primary, w, conf)
    else:
        numbers["per_bone"] = {}
        numbers["calibration"] = None
    numbers["accuracy"] = jsonable(acc)
    numbers["by_grade"], figures["by_grade"] = _by_grade(primary, conf)
    numbers["adjusted"] = _adjusted(primary, conf)
    return Analysis(numbers=jsonable(numbers), figures=figures)
