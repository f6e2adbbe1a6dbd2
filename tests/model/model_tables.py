"""A quick random features table with a known effect (model tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wristbme.bones import RAMRIS_BONES
from wristbme.features.schema import feature_schema


def fake_table(n_patients: int = 36, n_sites: int = 3, effect: float = 1.0, seed: int = 0,
               images_per_patient: int = 1) -> pd.DataFrame:
    """Features drawn at random; BME bones get their first five features lowered by ``effect`` SDs;
    each site shifts every feature (a scanner effect)."""
    rng = np.random.default_rng(seed)
    schema = feature_schema()
    names = schema.names
    site_shift = {s: rng.normal(size=len(names)) for s in range(n_sites)}
    rows = []
    for p in range(n_patients):
        s = p % n_sites
        positive = rng.random() < 0.5
        grades = {b: (int(rng.integers(1, 4)) if positive and rng.random() < 0.4 else 0) for b in RAMRIS_BONES}
        for k in range(images_per_patient):
            for b in RAMRIS_BONES:
                x = rng.normal(size=len(names)) + site_shift[s]
                x[:5] -= effect * (grades[b] > 0)
                rows.append([f"P{p:03d}-{k}", f"P{p:03d}", f"S{s + 1:02d}", b.value, grades[b], "", *x])
    df = pd.DataFrame(rows, columns=["image_id", "patient_id", "site", "bone", "bme_grade", "excluded", *names])
    df.attrs["schema"] = schema.to_dict()
    return df


