"""Study statistics: pure functions over arrays and frames, each with its formula, convention and reference.

Families (shared prefix, shared conventions):

* reliability — :func:`icc`, :func:`icc_anova`, :func:`sem`, :func:`sdc`, :func:`within_subject_cv`,
  :func:`bland_altman`;
* categorical agreement — :func:`cohen_kappa`;
* ROC — :func:`roc_auc`, :func:`roc_curve`, :func:`roc_auc_bootstrap`, :func:`delong_test`,
  :func:`delong_covariance`, :func:`youden_cutoff`, :func:`diagnostic_metrics`, :func:`proportion_ci`;
* clustered bootstrap — :func:`cluster_bootstrap_weights`, :func:`bootstrap_clustered`;
* trend — :func:`spearman`, :func:`jonckheere_terpstra`;
* meta-analysis — :func:`meta_auc`;
* adjusted model — :func:`adjusted_model`.

Every interval is returned with its level and method (:class:`Estimate`). Tested against published values
(``tests/data/stats/*.json``) and against pingouin / scikit-learn / statsmodels. See docs/statistics.md.
"""

from wristbme.stats._common import DEFAULT_CONF, Estimate
from wristbme.stats.agreement import KappaResult, cohen_kappa, kappa_weight_matrix
from wristbme.stats.meta import MetaResult, meta_auc
from wristbme.stats.models import ADJUSTED_MODEL_COLUMNS, TERM_SCALES, AdjustedModel, adjusted_model
from wristbme.stats.reliability import (
    ICC_COLUMNS,
    BlandAltmanResult,
    IccAnova,
    bland_altman,
    icc,
    icc_anova,
    sdc,
    sem,
    within_subject_cv,
)
from wristbme.stats.roc import (
    AucResult,
    DelongTestResult,
    DiagnosticMetrics,
    YoudenResult,
    bootstrap_clustered,
    cluster_bootstrap_weights,
    delong_covariance,
    delong_test,
    diagnostic_metrics,
    percentile_interval,
    proportion_ci,
    roc_auc,
    roc_auc_bootstrap,
    roc_curve,
    weighted_auc,
    weighted_proportion,
    youden_cutoff,
)
from wristbme.stats.trend import JonckheereResult, SpearmanResult, jonckheere_terpstra, spearman

__all__ = [
    "ADJUSTED_MODEL_COLUMNS", "DEFAULT_CONF", "ICC_COLUMNS", "TERM_SCALES",
    "AdjustedModel", "AucResult", "BlandAltmanResult", "DelongTestResult", "DiagnosticMetrics", "Estimate",
    "IccAnova", "JonckheereResult", "KappaResult", "MetaResult", "SpearmanResult", "YoudenResult",
    "adjusted_model", "bland_altman", "bootstrap_clustered", "cluster_bootstrap_weights", "cohen_kappa",
    "delong_covariance", "delong_test", "diagnostic_metrics", "icc", "icc_anova", "jonckheere_terpstra",
    "kappa_weight_matrix", "meta_auc", "percentile_interval", "proportion_ci", "roc_auc", "roc_auc_bootstrap",
    "roc_curve", "sdc", "sem", "spearman", "weighted_auc", "weighted_proportion", "within_subject_cv",
    "youden_cutoff",
]
