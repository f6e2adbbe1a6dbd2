"""Agreement of categorical ratings: Cohen's kappa, unweighted and weighted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from wristbme.errors import ConfigError
from wristbme.stats._common import DEFAULT_CONF, Estimate, check_conf, same_length


@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa with its standard errors.

    Attributes
    ----------
    kappa : Estimate
        κ with the Wald interval κ ± z·SE (SE under the alternative).
    se : float
        Asymptotic SE of κ (Fleiss, Cohen & Everitt 1969), used for the interval.
    se0 : float
        SE under H0: κ = 0, used for the test.
    z : float
        κ / se0.
    p : float
        Two-sided normal p of z.
    n : int
        Rated items.
    weights : str
        ``"none"``, ``"linear"`` or ``"quadratic"``.
    categories : tuple
        Ordered categories used for the table (and for the weights' index spacing).
    observed_agreement, expected_agreement : float
        Weighted p_o and p_e.
    """

    kappa: Estimate
    se: float
    se0: float
    z: float
    p: float
    n: int
    weights: str
    categories: tuple
    observed_agreement: float
    expected_agreement: float


def kappa_weight_matrix(n_categories: int, weights: str | None) -> np.ndarray:
    """Agreement weights w_ij (1 on the diagonal) for ``n_categories`` equally spaced categories.

    ``None``: identity; ``"linear"``: 1 − |i−j|/(c−1); ``"quadratic"``: 1 − (i−j)²/(c−1)².
    """
    c = n_categories
    idx = np.arange(c)
    diff = np.abs(idx[:, None] - idx[None, :]).astype(float)
    if weights is None or weights == "none":
        return np.eye(c)
    if c < 2:
        return np.ones((c, c))
    if weights == "linear":
        return 1.0 - diff / (c - 1)
    if weights == "quadratic":
        return 1.0 - diff**2 / (c - 1) ** 2
    raise ConfigError(f"cohen_kappa: weights={weights!r} is not known; use None, 'linear' or 'quadratic'")


def cohen_kappa(a: Sequence, b: Sequence, *, weights: str | None = None, categories: Sequence | None = None,
                conf: float = DEFAULT_CONF) -> KappaResult:
    """Cohen's kappa between two raters, optionally linearly or quadratically weighted.

    Parameters
    ----------
    a, b : sequence, shape (n,)
        Ratings of the same n items by two raters (numbers or labels).
    weights : {None, "linear", "quadratic"}
        Disagreement weighting; weights use the index spacing of ``categories``.
    categories : sequence, optional
        The ordered category set. Default: the sorted union of the values observed in ``a`` and ``b``
        (R ``irr::kappa2`` and ``sklearn`` convention). Pass the full scale (e.g. RAMRIS 0–3) when a grade
        may be unobserved: it changes weighted kappas. A rating outside ``categories`` is refused.
    conf : float
        Confidence level.

    Returns
    -------
    KappaResult

    Notes
    -----
    With the joint proportions p_ij, margins p_i·, p_·j and weights w_ij:
    p_o = Σ w_ij p_ij, p_e = Σ w_ij p_i· p_·j, κ = (p_o − p_e)/(1 − p_e).
    With w̄_i· = Σ_j p_·j w_ij and w̄_·j = Σ_i p_i· w_ij (Fleiss, Cohen & Everitt 1969):

    * Var0(κ) = [Σ p_i· p_·j (w_ij − (w̄_i· + w̄_·j))² − p_e²] / (n (1 − p_e)²)
    * Var(κ)  = [Σ p_ij (w_ij − (w̄_i· + w̄_·j)(1 − κ))² − (κ − p_e(1 − κ))²] / (n (1 − p_e)²)

    References
    ----------
    Cohen J (1968). Weighted kappa. Psychol Bull 70:213–220. doi:10.1037/h0026256
    Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted kappa.
    Psychol Bull 72:323–327. doi:10.1037/h0028106

    Examples
    --------
    >>> r = cohen_kappa([0, 1, 1, 2, 2, 0], [0, 1, 2, 2, 2, 1])
    >>> round(r.kappa.value, 4)
    0.5
    """
    conf = check_conf(conf)
    x = np.asarray(a, dtype=object)
    y = np.asarray(b, dtype=object)
    n = same_length(a=x, b=y)
    if n < 2:
        raise ConfigError(f"cohen_kappa: needs at least 2 rated items, got {n}")
    if categories is None:
        cats = tuple(sorted(set(x.tolist()) | set(y.tolist())))
    else:
        cats = tuple(categories)
        outside = (set(x.tolist()) | set(y.tolist())) - set(cats)
        if outside:
            raise ConfigError(f"cohen_kappa: ratings {sorted(map(str, outside))[:5]} are not in categories {list(cats)}")
    index = {c: i for i, c in enumerate(cats)}
    c = len(cats)
    table = np.zeros((c, c))
    np.add.at(table, ([index[v] for v in x.tolist()], [index[v] for v in y.tolist()]), 1.0)
    w = kappa_weight_matrix(c, weights)
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float(np.sum(w * p))
    pe = float(np.sum(w * np.outer(row, col)))
    if np.isclose(pe, 1.0):
        nan = float("nan")
        return KappaResult(Estimate(nan, nan, nan, conf, "wald"), nan, nan, nan, nan, n,
                           weights or "none", cats, po, pe)
    kappa = (po - pe) / (1 - pe)
    wi = w @ col  # w̄_i.
    wj = row @ w  # w̄_.j
    sum_w = wi[:, None] + wj[None, :]
    var0 = (np.sum(np.outer(row, col) * (w - sum_w) ** 2) - pe**2) / (n * (1 - pe) ** 2)
    var = (np.sum(p * (w - sum_w * (1 - kappa)) ** 2) - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    se0 = float(np.sqrt(max(var0, 0.0)))
    se = float(np.sqrt(max(var, 0.0)))
    zq = float(sps.norm.ppf(1 - (1 - conf) / 2))
    z = kappa / se0 if se0 > 0 else float("nan")
    pval = float(2 * sps.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    return KappaResult(Estimate(float(kappa), float(kappa - zq * se), float(kappa + zq * se), conf, "wald"),
                       se, se0, float(z), pval, n, weights or "none", cats, po, pe)
