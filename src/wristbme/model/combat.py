"""ComBat site harmonisation with separate ``fit`` and ``transform`` (parametric empirical Bayes).

Why not ``neuroCombat.neuroCombatFromTraining``: in neuroCombat 0.2.12 it is marked "under development",
it refuses batches not seen in training (so leave-one-site-out cannot use it) and it re-adds the *average*
covariate effect instead of each sample's own, which distorts features when a covariate (here: the bone)
has a large effect. This class follows the same model (Johnson, Li & Rabinovic 2007,
doi:10.1093/biostatistics/kxj037; Fortin et al. 2018) and, fitted on a training set, reproduces
``neuroCombat(...)['data']`` on that set (a test checks it); ``transform`` applies the fitted parameters,
keeping each sample's covariate effect.

A site not seen in training gets its own location/scale estimated from the rows given to ``transform``
(no labels used) with ComBat's usual per-site empirical-Bayes priors; ``unseen_sites`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _design_covariates(categories: np.ndarray, levels: tuple[str, ...]) -> np.ndarray:
    """One-hot of ``categories`` over ``levels`` minus the first level (n, len(levels) - 1)."""
    cats = np.asarray(categories).astype(str)
    return np.stack([(cats == lv).astype(np.float64) for lv in levels[1:]], axis=1) if len(levels) > 1 \
        else np.zeros((len(cats), 0))


def _eb(s: np.ndarray, gamma_bar: float, t2: float, a: float, b: float, conv: float = 1e-4):
    """Parametric EB posterior location/scale for one batch of standardised data ``s`` (n, p)."""
    n = s.shape[0]
    g_hat = s.mean(axis=0)
    d_hat = s.var(axis=0, ddof=1) if n > 1 else np.ones(s.shape[1])
    g_old, d_old = g_hat.copy(), d_hat.copy()
    for _ in range(1000):
        g_new = (t2 * n * g_hat + d_old * gamma_bar) / (t2 * n + d_old)
        sum2 = ((s - g_new) ** 2).sum(axis=0)
        d_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
        change = max(np.max(np.abs(g_new - g_old) / np.maximum(np.abs(g_old), 1e-12)),
                     np.max(np.abs(d_new - d_old) / np.maximum(np.abs(d_old), 1e-12)))
        g_old, d_old = g_new, d_new
        if change <= conv:
            break
    return g_old, d_old


def _priors(gamma_hat: np.ndarray, delta_hat: np.ndarray) -> tuple[float, float, float, float]:
    m, v = float(delta_hat.mean()), float(delta_hat.var(ddof=1))
    v = max(v, 1e-12)
    return float(gamma_hat.mean()), float(gamma_hat.var(ddof=1)), (2 * v + m ** 2) / v, (m * v + m ** 3) / v


@dataclass
class ComBat:
    """Fitted ComBat parameters. Use ``ComBat.fit(...)`` then ``transform(...)``."""

    sites: tuple[str, ...] = ()
    covariate_levels: tuple[str, ...] = ()
    grand_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    beta_cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    var_pooled: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gamma_star: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    delta_star: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    priors: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    unseen_sites: tuple[str, ...] = ()

    @classmethod
    def fit(cls, data: np.ndarray, sites, covariate) -> ComBat:
        """Fit on ``data`` (n_samples, n_features) with per-sample ``sites`` and one categorical ``covariate``
        whose effect is preserved (the bone). Needs >= 2 samples per site."""
        Y = np.asarray(data, dtype=np.float64)
        site_arr = np.asarray(sites).astype(str)
        levels_site = tuple(sorted(set(site_arr)))
        levels_cov = tuple(sorted(set(np.asarray(covariate).astype(str))))
        n = Y.shape[0]
        B = np.stack([(site_arr == s).astype(np.float64) for s in levels_site], axis=1)
        C = _design_covariates(covariate, levels_cov)
        design = np.concatenate([B, C], axis=1)
        beta, *_ = np.linalg.lstsq(design, Y, rcond=None)
        k = len(levels_site)
        n_per = B.sum(axis=0)
        if np.any(n_per < 2):
            from wristbme.errors import ModelError

            small = [str(s) for s, c in zip(levels_site, n_per, strict=True) if c < 2]
            raise ModelError(f"ComBat: sites {small} have fewer than 2 rows; drop them or train without --combat")
        grand = (n_per / n) @ beta[:k]
        resid = Y - design @ beta
        var_pooled = np.maximum((resid ** 2).mean(axis=0), 1e-12)
        stand_mean = grand + C @ beta[k:]
        s = (Y - stand_mean) / np.sqrt(var_pooled)
        gammas, deltas, priors = [], [], []
        for j, site in enumerate(levels_site):
            rows = site_arr == site
            g_hat = s[rows].mean(axis=0)
            d_hat = s[rows].var(axis=0, ddof=1)
            pr = _priors(g_hat, d_hat)
            g, d = _eb(s[rows], *pr)
            gammas.append(g)
            deltas.append(d)
            priors.append(pr)
            del j
        return cls(levels_site, levels_cov, grand, beta[k:], var_pooled, np.array(gammas), np.array(deltas),
                   np.array(priors))

    def transform(self, data: np.ndarray, sites, covariate) -> np.ndarray:
        """Harmonise ``data`` with the fitted parameters (see the module docstring for unseen sites)."""
        Y = np.asarray(data, dtype=np.float64)
        site_arr = np.asarray(sites).astype(str)
        C = _design_covariates(covariate, self.covariate_levels)
        stand_mean = self.grand_mean + C @ self.beta_cov
        s = (Y - stand_mean) / np.sqrt(self.var_pooled)
        out = np.empty_like(s)
        unseen = []
        mean_prior = self.priors.mean(axis=0)
        for site in sorted(set(site_arr)):
            rows = site_arr == site
            if site in self.sites:
                j = self.sites.index(site)
                g, d = self.gamma_star[j], self.delta_star[j]
            else:
                unseen.append(site)
                sr = s[rows]
                if sr.shape[0] >= 2:  # ComBat's own rule: priors from this site's features
                    g, d = _eb(sr, *_priors(sr.mean(axis=0), sr.var(axis=0, ddof=1)))
                else:
                    g, d = _eb(sr, *mean_prior)
            out[rows] = (s[rows] - g) / np.sqrt(d)
        self.unseen_sites = tuple(unseen)
        return out * np.sqrt(self.var_pooled) + stand_mean
