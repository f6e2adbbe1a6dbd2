"""Simulated re-acquisitions: seeded, named, physically consistent copies."""

from __future__ import annotations

import numpy as np
import pytest

from wristbme.synth.phantom import HandSpec
from wristbme.synth.reacquire import PHANTOM_CONDITIONS, perturbed_copies, phantom_reacquisitions


@pytest.fixture(scope="module")
def copies():
    spec = HandSpec.sample(np.random.default_rng(3), field="wrist", spacing_mm=0.3)
    return phantom_reacquisitions(spec, seed=5, site="S02")


def test_phantom_reacquisitions_are_the_named_conditions_and_seeded(copies):
    assert tuple(copies) == PHANTOM_CONDITIONS
    spec = HandSpec.sample(np.random.default_rng(3), field="wrist", spacing_mm=0.3)
    again = phantom_reacquisitions(spec, seed=5, site="S02")
    for name in PHANTOM_CONDITIONS:
        np.testing.assert_array_equal(copies[name].pixels, again[name].pixels)


def test_exposure_copies_are_new_acquisitions_of_the_same_wrist(copies):
    base = copies["base"].pixels.astype(np.float64)
    for name in ("exposure-20%", "exposure+20%"):
        other = copies[name].pixels.astype(np.float64)
        assert other.shape == base.shape and not np.array_equal(other, base)  # new quantum noise
        q = 0.8 if name == "exposure-20%" else 1.2
        # same anatomy: after undoing the gain the images agree closely
        assert np.corrcoef((other / q).ravel(), base.ravel())[0, 1] > 0.97


def test_geometric_copies_keep_the_field_and_state_the_new_spacing(copies):
    base = copies["base"]
    assert copies["rot+5"].shape == base.shape and copies["rot+5"].spacing_mm == base.spacing_mm
    fine = copies["spacing0.10"]
    assert fine.spacing_mm == (0.10, 0.10)
    assert fine.shape[0] * 0.10 == pytest.approx(base.shape[0] * base.spacing_mm[0], abs=0.2)


def test_gain_copies_are_an_exact_gain_and_noise_has_the_stated_size(copies):
    base = copies["base"]
    out = perturbed_copies(base, seed=1, spacings_mm=(0.15, 0.2), gain=True, order=1)
    assert {"spacing0.15", "spacing0.20", "exposure-20%", "exposure+20%"} <= set(out)
    np.testing.assert_allclose(out["exposure+20%"].pixels, base.pixels * np.float32(1.2), rtol=1e-6)
    lo, hi = np.percentile(base.pixels, [1, 99])
    added = out["noise"].pixels.astype(np.float64) - base.pixels
    assert np.std(added) == pytest.approx(0.01 * (hi - lo), rel=0.05)


def test_a_radiograph_without_spacing_is_refused(copies):
    from dataclasses import replace

    with pytest.raises(ValueError, match="spacing"):
        perturbed_copies(replace(copies["base"], spacing_mm=None), seed=0)
