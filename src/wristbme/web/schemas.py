"""What the web UI shows and accepts: view objects built by ``services``, never store rows.

None of these carries an identifier: subjects appear by pseudonym, images by store id.
Coordinates sent to the browser are original-image pixels, ``(x, y) = (column, row)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class SiteSummary:
    code: str
    name: str
    n_subjects: int
    n_eligible: int
    n_images: int


@dataclass(frozen=True)
class IntakeSummary:
    id: int
    site_code: str
    disc_id: str
    started_at: str
    finished_at: str | None
    counts: dict[str, Any]


@dataclass(frozen=True)
class FlowStep:
    """One box of the STARD-like flow: ``key`` names its catalog label; ``by_reason`` splits it."""

    key: str
    n: int
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LockState:
    locked: bool
    locked_at: str | None = None
    content_sha256: str | None = None
    n_subjects: int | None = None
    n_images: int | None = None
    withdrawals_after_lock: int = 0
    unchanged: bool | None = None
    """The analysis set still hashes to the locked content hash."""


@dataclass(frozen=True)
class Dashboard:
    protocol_name: str
    sites: list[SiteSummary]
    intakes: list[IntakeSummary]
    qc_findings: dict[str, int]
    quarantine: dict[str, int]
    eligibility_reasons: dict[str, int]
    flow: list[FlowStep]
    lock: LockState
    n_withdrawals: int
    synthetic: bool
    data_use: dict[str, Any] = field(default_factory=dict)
    """``start``, ``end`` (ISO dates), ``enforced`` and ``inside`` (today within the period)."""
    integrity: dict[str, Any] = field(default_factory=dict)
    """``missing_files``, ``orphan_files``, ``audit_ok``, ``audit_events`` (from ``study.lifecycle.status``)."""


@dataclass(frozen=True)
class CaseRow:
    pseudonym: str
    site_code: str
    status: str
    eligible: bool | None
    bme_present: bool | None
    mri_side: str | None
    image_id: int | None
    laterality: str | None
    qc_status: str | None
    qc_codes: tuple[str, ...]
    wrist_score: float | None
    n_corrections: int


@dataclass(frozen=True)
class CaseFilter:
    """Query of the case list. ``bme``: yes/no/unknown; ``qc``: flagged/clean; ``sort``: see SORT_KEYS."""

    site: str | None = None
    bme: str | None = None
    qc: str | None = None
    sort: str = "pseudonym"
    descending: bool = False
    min_score: float | None = None


SORT_KEYS = ("pseudonym", "site", "bme", "qc", "score")
BME_VALUES = ("yes", "no", "unknown")
QC_VALUES = ("flagged", "clean")


@dataclass(frozen=True)
class ImageSummary:
    id: int
    laterality: str
    view: str
    analysed: bool
    rows: int
    cols: int
    spacing_mm: tuple[float, float] | None
    qc_status: str
    qc_codes: tuple[str, ...]
    manufacturer: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    event: str
    actor: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class CaseView:
    row: CaseRow
    age_years: float | None
    sex: str | None
    duration_months: float | None
    eligibility_reasons: tuple[str, ...]
    grades: dict[str, int | None]
    images: list[ImageSummary]
    image: ImageSummary | None
    """The image shown (the analysed one unless another is chosen)."""


@dataclass(frozen=True)
class ScoreSet:
    """Scores of one image from one run: 0–100 per bone (``Bone`` values) and ``wrist``."""

    run_id: int
    model_id: str
    model_version: str
    label: str | None
    operator: str | None
    created_at: str
    by_region: dict[str, float]
    synthetic: bool
    reasons: dict[str, str] = field(default_factory=dict)
    """Why a region (``wrist`` included) has no score, when the run recorded it."""


@dataclass(frozen=True)
class ImageDetail:
    """Everything the viewer draws for one image (pixels in original-image coordinates)."""

    image: ImageSummary
    pseudonym: str
    anatomy: dict[str, Any] | None
    """``{"landmarks": {name: [x, y]}, "regions": {bone: {"polygon": [[x, y], ...], "confidence": c,
    "qc_flags": [...]}}, "qc_flags": [...], "confidence": c, "method": str, "corrected": bool}``."""
    anatomy_error: str | None
    scores: ScoreSet | None
    grades: dict[str, int | None]
    corrections: list[dict[str, Any]]
    audit: list[AuditEntry]
    preview_scale: float
    """Preview width / full width."""
    score_notes: tuple[str, ...] = ()
    """Why regions (or the wrist) were not scored, from the re-scoring just done (empty otherwise)."""


@dataclass(frozen=True)
class CorrectionRequest:
    """An operator's edit in original-image pixels: moved landmarks and/or replaced polygons."""

    landmarks: dict[str, tuple[float, float]]
    regions: dict[str, list[tuple[float, float]]]
    note: str | None = None


@dataclass(frozen=True)
class WithdrawalResult:
    pseudonym: str
    counts: dict[str, Any]
    after_lock: bool


def to_jsonable(value: Any) -> Any:
    """Views (dataclasses, enums, tuples, NaN) as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(x) for x in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
