"""The data contract between the study store and the report: :class:`StudyData`.

The store (or the synthetic generator) fills four parts; the report reads nothing else. Every frame is
checked by :meth:`StudyData.validated`, which names the frame, the column and the fix on a mismatch.
No part carries an identifier: patients are pseudonyms (``S03-0012``), images are opaque ids, dates are
reduced to intervals in days.

``wrists`` — one row per analysed wrist (the unit of analysis)
    ============== ========= =========================================================================
    column         dtype     meaning
    ============== ========= =========================================================================
    pseudonym      str       patient pseudonym, e.g. ``S03-0012`` (cluster for the bootstrap)
    site           str       site code, e.g. ``S03``
    laterality     str       ``left`` or ``right``; (pseudonym, laterality) is unique
    age_years      float     age at the radiograph, years
    sex            str       ``F`` or ``M``
    duration_months float    disease duration (symptom onset to radiograph), months
    interval_days  float     days between the radiograph and the MRI (absolute value)
    bme_present    bool      MRI reference standard: any RAMRIS BME grade >= 1 in the wrist
    grade_<bone>   Int64     RAMRIS BME grade 0–3 per bone, one column per :class:`wristbme.bones.Bone`
                             value (``grade_radius`` … ``grade_mc5``); <NA> = not assessable
    ============== ========= =========================================================================

``scores`` — one row per score the software produced
    ========== ===== ===========================================================================
    pseudonym  str   as in ``wrists``
    site       str   as in ``wrists``
    image_id   str   opaque image id (never a DICOM UID of the original)
    laterality str   ``left``/``right``
    bone       str   ``wrist`` for the wrist score, else a :class:`~wristbme.bones.Bone` value
    score      float calibrated BME score 0–100 (probability × 100)
    run_id     str   scoring run
    model_id   str   model that produced the score
    kind       str   ``primary``: the analysis score of the wrist's study radiograph (exactly one
                     per wrist and bone); ``retest``: a second radiograph of the same wrist (test–retest);
                     ``operator``: a radiograph of the same wrist acquired/processed by another operator;
                     ``reencode``: the primary image re-encoded (other transfer syntax/export) and
                     re-scored; ``rerun``: the primary image scored again in another run
    operator   str   pseudonymous operator code (e.g. ``S01-OP2``) or empty
    ========== ===== ===========================================================================

``flow`` — STARD participant flow, counts of **patients**
    ====== ===== ==============================================================================
    site   str   site code
    stage  str   ``received``, ``ineligible``, ``opted_out``, ``withdrawn``, ``qc_failed``,
                 ``analysed``
    reason str   reason code for ``ineligible``/``qc_failed`` (e.g. ``onset_over_2y``), else empty;
                 the report translates ``report.reason.<code>`` when the catalog has it
    n      int   patients
    ====== ===== ==============================================================================
    Per site: received = ineligible + opted_out + withdrawn + qc_failed + analysed (checked).

``provenance`` — :class:`Provenance`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from wristbme.bones import Bone
from wristbme.errors import ConfigError

BONE_VALUES = tuple(b.value for b in Bone)
GRADE_COLUMNS = tuple(f"grade_{b}" for b in BONE_VALUES)
WRIST_COLUMNS = ("pseudonym", "site", "laterality", "age_years", "sex", "duration_months", "interval_days",
                 "bme_present", *GRADE_COLUMNS)
SCORE_COLUMNS = ("pseudonym", "site", "image_id", "laterality", "bone", "score", "run_id", "model_id", "kind",
                 "operator")
FLOW_COLUMNS = ("site", "stage", "reason", "n")
SCORE_KINDS = ("primary", "retest", "operator", "reencode", "rerun")
FLOW_STAGES = ("received", "ineligible", "opted_out", "withdrawn", "qc_failed", "analysed")
LATERALITIES = ("left", "right")


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from.

    Attributes
    ----------
    software_version : str
        wristbme version that scored and analysed.
    model_id : str
        Model that produced the primary scores.
    model_summary : dict
        Training summary of the model (e.g. ``{"n_train": 240, "cv_auc": "0.81 (0.76–0.86)"}``); shown as
        a key/value table.
    study_toml_sha256 : str
        SHA-256 of the study's ``study.toml``.
    data_snapshot_sha256 : str
        SHA-256 of the analysed data snapshot (see :func:`snapshot_hash`).
    locked : bool
        Whether the study database was locked before analysis.
    withdrawals_since_lock : int
        Patients withdrawn after the lock (their data are not in the analysis).
    synthetic : bool
        True for synthetic data: the report carries a prominent banner.
    study_name : str
    prespecified_cutoff : float
        The pre-specified score cut-off (0–100), 50 by protocol.
    locked_at : str
        Lock date (ISO date) or empty; not a patient date.
    """

    software_version: str
    model_id: str
    model_summary: dict = field(default_factory=dict)
    study_toml_sha256: str = ""
    data_snapshot_sha256: str = ""
    locked: bool = False
    withdrawals_since_lock: int = 0
    synthetic: bool = False
    study_name: str = ""
    prespecified_cutoff: float = 50.0
    locked_at: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.prespecified_cutoff) <= 100.0:
            raise ConfigError(f"provenance.prespecified_cutoff={self.prespecified_cutoff!r} is outside 0–100")
        if int(self.withdrawals_since_lock) < 0:
            raise ConfigError("provenance.withdrawals_since_lock must be >= 0")


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"StudyData.{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"StudyData.{name}: columns {missing} are missing; see wristbme.report.contract")


def _check_values(frame: pd.DataFrame, name: str, column: str, allowed: tuple[str, ...]) -> None:
    bad = sorted(set(frame[column].astype(str)) - set(allowed))
    if bad:
        raise ConfigError(f"StudyData.{name}.{column}: values {bad[:5]} are not allowed; use one of {list(allowed)}")


@dataclass(frozen=True)
class StudyData:
    """Everything the report reads: ``wrists``, ``scores``, ``flow`` frames and the :class:`Provenance`.

    Build it, then call :meth:`validated` (``build_report`` does) to get typed, checked copies.
    """

    wrists: pd.DataFrame
    scores: pd.DataFrame
    flow: pd.DataFrame
    provenance: Provenance

    def validated(self) -> StudyData:
        """A copy with normalised dtypes, after checking every rule of the contract.

        Raises
        ------
        ConfigError
            Naming the frame, column and offending values.
        """
        _require(self.wrists, "wrists", WRIST_COLUMNS)
        _require(self.scores, "scores", SCORE_COLUMNS)
        _require(self.flow, "flow", FLOW_COLUMNS)
        w = self.wrists.copy()
        for col in ("pseudonym", "site", "laterality", "sex"):
            w[col] = w[col].astype(str)
        w["sex"] = w["sex"].str.upper().str[0]
        _check_values(w, "wrists", "laterality", LATERALITIES)
        _check_values(w, "wrists", "sex", ("F", "M"))
        for col in ("age_years", "duration_months", "interval_days"):
            w[col] = pd.to_numeric(w[col], errors="coerce").astype(float)
        w["bme_present"] = w["bme_present"].astype(bool)
        for col in GRADE_COLUMNS:
            g = pd.to_numeric(w[col], errors="coerce").astype("Int64")
            if ((g < 0) | (g > 3)).fillna(False).any():
                raise ConfigError(f"StudyData.wrists.{col}: RAMRIS BME grades must be 0–3")
            w[col] = g
        if w.duplicated(["pseudonym", "laterality"]).any():
            dup = w.loc[w.duplicated(["pseudonym", "laterality"]), ["pseudonym", "laterality"]].iloc[0].tolist()
            raise ConfigError(f"StudyData.wrists: wrist {dup} appears twice; one row per analysed wrist")
        s = self.scores.copy()
        for col in ("pseudonym", "site", "image_id", "laterality", "bone", "run_id", "model_id", "kind"):
            s[col] = s[col].astype(str)
        s["operator"] = s["operator"].fillna("").astype(str)
        s["score"] = pd.to_numeric(s["score"], errors="coerce").astype(float)
        _check_values(s, "scores", "kind", SCORE_KINDS)
        _check_values(s, "scores", "bone", ("wrist", *BONE_VALUES))
        _check_values(s, "scores", "laterality", LATERALITIES)
        if s["score"].isna().any() or ((s["score"] < 0) | (s["score"] > 100)).any():
            raise ConfigError("StudyData.scores.score: every score must be a number in 0–100")
        prim = s[s["kind"] == "primary"]
        if prim.duplicated(["pseudonym", "laterality", "bone"]).any():
            dup = prim.loc[prim.duplicated(["pseudonym", "laterality", "bone"]),
                           ["pseudonym", "laterality", "bone"]].iloc[0].tolist()
            raise ConfigError(f"StudyData.scores: more than one primary score for {dup}; mark repeats as "
                              "'rerun', 'reencode', 'retest' or 'operator'")
        keys = set(zip(w["pseudonym"], w["laterality"], strict=True))
        prim_wrist = prim[prim["bone"] == "wrist"]
        missing = keys - set(zip(prim_wrist["pseudonym"], prim_wrist["laterality"], strict=True))
        if missing:
            raise ConfigError(f"StudyData.scores: {len(missing)} analysed wrist(s) have no primary wrist score, "
                              f"e.g. {sorted(missing)[0]}")
        f = self.flow.copy()
        f["site"] = f["site"].astype(str)
        f["stage"] = f["stage"].astype(str)
        f["reason"] = f["reason"].fillna("").astype(str)
        f["n"] = pd.to_numeric(f["n"], errors="coerce").fillna(0).astype(int)
        _check_values(f, "flow", "stage", FLOW_STAGES)
        if (f["n"] < 0).any():
            raise ConfigError("StudyData.flow.n: counts must be >= 0")
        by = f.pivot_table(index="site", columns="stage", values="n", aggfunc="sum", fill_value=0)
        by = by.reindex(columns=list(FLOW_STAGES), fill_value=0)
        parts = by[list(FLOW_STAGES[1:])].sum(axis=1)
        off = by.index[parts != by["received"]].tolist()
        if off:
            raise ConfigError(f"StudyData.flow: for site(s) {off} received != ineligible + opted_out + withdrawn "
                              "+ qc_failed + analysed; the counts must add up")
        return StudyData(w.reset_index(drop=True), s.reset_index(drop=True), f.reset_index(drop=True),
                         self.provenance)

    def with_provenance(self, **changes) -> StudyData:
        return replace(self, provenance=replace(self.provenance, **changes))


def snapshot_hash(data: StudyData) -> str:
    """SHA-256 over the canonical CSV of ``wrists``, ``scores`` and ``flow`` (sorted rows, fixed columns)."""
    h = hashlib.sha256()
    for frame, cols, keys in ((data.wrists, WRIST_COLUMNS, ["pseudonym", "laterality"]),
                              (data.scores, SCORE_COLUMNS, ["pseudonym", "laterality", "bone", "kind", "image_id",
                                                            "run_id"]),
                              (data.flow, FLOW_COLUMNS, ["site", "stage", "reason"])):
        part = frame.loc[:, list(cols)].sort_values(keys, kind="mergesort").reset_index(drop=True)
        part = part.map(lambda v: f"{v:.6f}" if isinstance(v, float | np.floating) else v)
        h.update(part.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return h.hexdigest()
