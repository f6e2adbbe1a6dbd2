"""A clearly synthetic :class:`StudyData` for tests, benchmarks and the standalone demo report.

Nothing here is patient data; the provenance says ``synthetic=True`` and the report shows the banner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from wristbme import __version__
from wristbme.bones import Bone
from wristbme.errors import ConfigError
from wristbme.report.contract import BONE_VALUES, Provenance, StudyData, snapshot_hash

# per-bone prevalence offsets on the latent (log-odds) scale: carpal bones and the distal radius/ulna carry
# BME more often than the metacarpal bases, roughly as in early-RA MRI series
_BONE_OFFSET = {
    Bone.RADIUS: -0.4, Bone.ULNA: -1.0, Bone.SCAPHOID: 0.0, Bone.LUNATE: -0.2, Bone.TRIQUETRUM: -0.6,
    Bone.PISIFORM: -1.8, Bone.TRAPEZIUM: -1.2, Bone.TRAPEZOID: -1.3, Bone.CAPITATE: 0.1, Bone.HAMATE: -0.5,
    Bone.MC1: -2.2, Bone.MC2: -1.6, Bone.MC3: -1.5, Bone.MC4: -1.9, Bone.MC5: -2.0,
}
_INELIGIBLE_REASONS = ("onset_over_2y", "outside_imaging_window", "no_mri_within_window")
_QC_REASONS = ("anatomy_not_located", "not_pa_view")


def _sigmoid(x):
    return expit(x)


def synthetic_study_data(n_patients: int = 200, n_sites: int = 4, seed: int = 0, effect: float = 1.0, *,
                         retest_fraction: float = 0.25, operator_fraction: float = 0.15,
                         reencode_fraction: float = 0.1) -> StudyData:
    """A synthetic multicentre study with two wrists per patient.

    Parameters
    ----------
    n_patients : int
        Analysed patients (each contributes a left and a right wrist).
    n_sites : int
        Sites ``S01`` … (1–99).
    seed : int
        Seed of every random draw; the same arguments give identical data.
    effect : float
        Strength of the link between the latent BME burden and the score (0 = a useless score; 1 gives a
        wrist AUC around 0.8).
    retest_fraction, operator_fraction, reencode_fraction : float
        Fractions of wrists with a second radiograph, a second operator, and a re-encoded copy.

    Returns
    -------
    StudyData
        With ``provenance.synthetic = True``.
    """
    if n_patients < 10:
        raise ConfigError(f"synthetic_study_data: n_patients={n_patients} is too small; use at least 10")
    if not 1 <= n_sites <= 99:
        raise ConfigError(f"synthetic_study_data: n_sites={n_sites} must be 1–99")
    rng = np.random.default_rng(seed)
    sites = [f"S{i:02d}" for i in range(1, n_sites + 1)]
    site_of = np.sort(rng.integers(0, n_sites, n_patients))
    site_shift = rng.normal(0, 0.35, n_sites)          # calibration shift per site (X-ray system)
    site_noise = rng.uniform(0.8, 1.3, n_sites)         # score noise per site
    counter = {s: 0 for s in sites}
    wrist_rows, score_rows = [], []
    image_no = 0

    def new_image() -> str:
        nonlocal image_no
        image_no += 1
        return f"IMG-{image_no:06d}"

    for p in range(n_patients):
        si = int(site_of[p])
        site = sites[si]
        counter[site] += 1
        pseudonym = f"{site}-{counter[site]:04d}"
        age = float(np.clip(rng.normal(56, 13), 20, 88))
        sex = "F" if rng.random() < 0.74 else "M"
        duration = float(rng.uniform(0.5, 24.0))
        burden_patient = rng.normal(-0.9 - 0.02 * (duration - 12), 1.0)
        for side in ("left", "right"):
            burden = burden_patient + rng.normal(0, 0.6) + (0.15 if side == "right" else 0.0)
            grades = {}
            bone_latent = {}
            for bone in Bone:
                z = burden + _BONE_OFFSET[bone] + rng.normal(0, 0.7)
                bone_latent[bone.value] = z
                grade = int(np.searchsorted([0.0, 1.4, 2.6], z, side="right"))
                grades[f"grade_{bone.value}"] = grade if rng.random() > 0.01 else pd.NA
            valid = [g for g in grades.values() if g is not pd.NA]
            wrist_rows.append({"pseudonym": pseudonym, "site": site, "laterality": side, "age_years": round(age, 1),
                               "sex": sex, "duration_months": round(duration, 1),
                               "interval_days": float(rng.integers(0, 61)), "bme_present": bool(max(valid) >= 1),
                               **grades})
            logit = effect * 1.1 * (burden + 0.8) + site_shift[si] + rng.normal(0, site_noise[si])
            primary_operator = f"{site}-OP1"
            image = new_image()
            wrist_score = 100 * _sigmoid(logit)
            base = {"pseudonym": pseudonym, "site": site, "laterality": side, "model_id": "synthetic-demo-model",
                    "run_id": "run-0001"}
            score_rows.append({**base, "image_id": image, "bone": "wrist", "score": wrist_score, "kind": "primary",
                               "operator": primary_operator})
            for bone in BONE_VALUES:
                bl = effect * 1.2 * (bone_latent[bone] + 0.3) + site_shift[si] + rng.normal(0, 1.6)
                score_rows.append({**base, "image_id": image, "bone": bone, "score": 100 * _sigmoid(bl),
                                   "kind": "primary", "operator": primary_operator})
            if rng.random() < retest_fraction:
                score_rows.append({**base, "image_id": new_image(), "bone": "wrist", "kind": "retest",
                                   "score": 100 * _sigmoid(logit + rng.normal(0, 0.35)), "operator": primary_operator})
            if rng.random() < operator_fraction:
                score_rows.append({**base, "image_id": new_image(), "bone": "wrist", "kind": "operator",
                                   "score": 100 * _sigmoid(logit + 0.1 + rng.normal(0, 0.45)),
                                   "operator": f"{site}-OP2"})
            if rng.random() < reencode_fraction:
                score_rows.append({**base, "image_id": image + "-J2K", "bone": "wrist", "kind": "reencode",
                                   "score": float(np.clip(wrist_score + rng.normal(0, 0.15), 0, 100)),
                                   "run_id": "run-0002", "operator": primary_operator})
                score_rows.append({**base, "image_id": image, "bone": "wrist", "kind": "rerun",
                                   "score": wrist_score, "run_id": "run-0002", "operator": primary_operator})
    wrists = pd.DataFrame(wrist_rows)
    for col in wrists.columns:
        if col.startswith("grade_"):
            wrists[col] = wrists[col].astype("Int64")
    scores = pd.DataFrame(score_rows)
    scores["score"] = scores["score"].clip(0, 100)
    flow_rows = []
    for site in sites:
        analysed = int(np.sum(np.array(sites)[site_of] == site))
        parts = {"analysed": analysed}
        for reason in _INELIGIBLE_REASONS:
            flow_rows.append({"site": site, "stage": "ineligible", "reason": reason, "n": int(rng.integers(0, 6))})
        for reason in _QC_REASONS:
            flow_rows.append({"site": site, "stage": "qc_failed", "reason": reason, "n": int(rng.integers(0, 3))})
        parts["opted_out"] = int(rng.integers(0, 3))
        parts["withdrawn"] = int(rng.integers(0, 2))
        for stage, n in parts.items():
            flow_rows.append({"site": site, "stage": stage, "reason": "", "n": n})
        received = sum(r["n"] for r in flow_rows if r["site"] == site)
        flow_rows.append({"site": site, "stage": "received", "reason": "", "n": received})
    flow = pd.DataFrame(flow_rows)
    provenance = Provenance(
        software_version=__version__, model_id="synthetic-demo-model",
        model_summary={"training_data": "synthetic", "n_train_wrists": 0, "note": "demo model, no real training"},
        study_toml_sha256="", locked=True, locked_at="", withdrawals_since_lock=0, synthetic=True,
        study_name="wristbme synthetic demo study")
    data = StudyData(wrists, scores, flow, provenance)
    return data.with_provenance(data_snapshot_sha256=snapshot_hash(data))
