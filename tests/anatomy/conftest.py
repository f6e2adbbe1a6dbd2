"""Small phantoms shared by the anatomy tests (rendered once per session)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from wristbme.anatomy.locator import locate


@cache
def phantom(laterality: str = "R", rotation_deg: float = 0.0, spacing_mm: float = 0.2, seed: int = 7,
            field: str = "wrist", site: str | None = "S01"):
    from wristbme.synth.phantom import HandSpec, render_phantom

    rng = np.random.default_rng(seed)
    spec = HandSpec.sample(rng, laterality=laterality, field=field, spacing_mm=spacing_mm,
                           rotation_deg=rotation_deg)
    return render_phantom(spec, seed=seed, site=site)


@cache
def located(laterality: str = "R", rotation_deg: float = 0.0, spacing_mm: float = 0.2, seed: int = 7):
    ph = phantom(laterality, rotation_deg, spacing_mm, seed)
    return ph, locate(ph.radiograph)


@pytest.fixture(scope="session")
def right_phantom():
    return located("R", 0.0)
