"""ComBat fit/transform against neuroCombat, and its handling of unseen sites."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from wristbme.errors import ModelError
from wristbme.model.combat import ComBat


def _data(seed=0, n=90, p=5):
    rng = np.random.default_rng(seed)
    site = rng.choice(["a", "b", "c"], n)
    bone = rng.choice(["x", "y", "z"], n)
    Y = (rng.normal(size=(n, p)) + (site == "b")[:, None] * 1.5 + (bone == "y")[:, None] * 3.0
         + (site == "c")[:, None] * rng.normal(size=(n, p)) * 2)
    return Y, site, bone


def test_fit_transform_reproduces_neurocombat_on_training_data():
    neuro = pytest.importorskip("neuroCombat")
    Y, site, bone = _data()
    with contextlib.redirect_stdout(io.StringIO()):
        ref = neuro.neuroCombat(Y.T.copy(), pd.DataFrame({"site": site, "bone": bone}), "site",
                                categorical_cols=["bone"])["data"].T
    ours = ComBat.fit(Y, site, bone).transform(Y, site, bone)
    # both iterate the EB fixed point to a relative change of 1e-4; their stopping rules differ slightly
    assert np.allclose(ours, ref, rtol=1e-4, atol=1e-4)


def test_transform_of_held_out_rows_uses_fitted_parameters_and_keeps_bone_effect():
    Y, site, bone = _data(1, n=150)
    train, test = np.arange(100), np.arange(100, 150)
    cb = ComBat.fit(Y[train], site[train], bone[train])
    out = cb.transform(Y[test], site[test], bone[test])
    assert cb.unseen_sites == ()
    # the bone effect (3.0 for 'y') survives harmonisation
    diff = out[bone[test] == "y"].mean() - out[bone[test] == "x"].mean()
    assert diff == pytest.approx(3.0, abs=0.6)
    # site b's shift of 1.5 is removed
    assert abs(out[site[test] == "b"].mean() - out[site[test] == "a"].mean()) < 0.6


def test_unseen_site_is_estimated_from_its_rows_and_named():
    Y, site, bone = _data(2)
    cb = ComBat.fit(Y[site != "c"], site[site != "c"], bone[site != "c"])
    out = cb.transform(Y[site == "c"] + 5.0, site[site == "c"], bone[site == "c"])
    assert cb.unseen_sites == ("c",)
    assert abs(out.mean() - Y[site != "c"].mean()) < 1.0


def test_site_with_one_row_is_refused():
    Y, site, bone = _data(3)
    site = site.astype(object)
    site[0] = "lonely"
    with pytest.raises(ModelError, match="lonely"):
        ComBat.fit(Y, site, bone)
