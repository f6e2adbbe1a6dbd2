"""The study store schema (SQLAlchemy 2 typed ORM).

One database per study (SQLite file ``store.sqlite`` in the study folder by default, PostgreSQL by URL).
The schema is created and upgraded by the Alembic migrations in ``wristbme/study/migrations``; never by
``create_all``. Rows never hold a patient identifier: subjects are known by pseudonym (``S03-0012``),
images by the SHA-256 of the stored, de-identified file and by the keyed-hash UIDs written at the site.

Tables, by who writes them
--------------------------
intake (``wristbme intake``): ``sites``, ``subjects``, ``cases``, ``case_grades``, ``images``,
``qc_findings``, ``intakes``, ``quarantine``.
withdrawal / lock / audit: ``withdrawals``, ``study_locks``, ``audit_events`` (append-only, hash chain).
engine and web UI: ``anatomy_results``, ``corrections``, ``score_runs``, ``scores``, ``features``, ``users``.

Every table that belongs to one subject reaches it by foreign keys with ``ON DELETE CASCADE``, so deleting
the ``subjects`` row removes every derived row (withdrawal relies on this and then checks it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRIST = "wrist"
"""``scores.region`` value for the whole-wrist score (other values are ``wristbme.bones.Bone`` values)."""


def utcnow() -> dt.datetime:
    """Timezone-aware UTC now (stored naive UTC in SQLite, timestamptz-free everywhere for portability)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class SubjectStatus(StrEnum):
    """Where a subject stands after intake."""

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"
    """Case row present but no usable analysed image (or the reverse is impossible: no case, no subject)."""


class QcStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    """A participating site (code ``S01`` … from study.toml)."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    subjects: Mapped[list[Subject]] = relationship(back_populates="site")


class Subject(Base):
    """One patient, known only by pseudonym (``S03-0012``)."""

    __tablename__ = "subjects"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SubjectStatus.INCOMPLETE.value)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="subjects")
    case: Mapped[Case | None] = relationship(back_populates="subject", cascade="all, delete-orphan",
                                             passive_deletes=True, uselist=False)
    grades: Mapped[list[CaseGrade]] = relationship(back_populates="subject", cascade="all, delete-orphan",
                                                   passive_deletes=True)
    images: Mapped[list[Image]] = relationship(back_populates="subject", cascade="all, delete-orphan",
                                               passive_deletes=True)


class Case(Base):
    """The analysis variables of one subject: derived values only, never a date.

    ``eligibility_reasons`` is a list of reason codes (``wristbme.study.eligibility.Reason`` values); empty
    when eligible. ``row_sha256`` is the hash of the normalised case row, so a re-sent unchanged row is a
    no-op and a changed one is a correction.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), unique=True)
    age_years: Mapped[float | None] = mapped_column(Float)
    sex: Mapped[str | None] = mapped_column(String(1))
    duration_months: Mapped[float | None] = mapped_column(Float)
    interval_days: Mapped[int | None] = mapped_column(Integer)
    xray_year: Mapped[int | None] = mapped_column(Integer)
    mri_side: Mapped[str | None] = mapped_column(String(1))
    bme_present: Mapped[bool | None] = mapped_column(Boolean)
    eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    eligibility_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    row_sha256: Mapped[str] = mapped_column(String(64))
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    subject: Mapped[Subject] = relationship(back_populates="case")


class CaseGrade(Base):
    """MRI RAMRIS BME grade of one bone (``Bone`` value), 0–3, or None when not graded."""

    __tablename__ = "case_grades"
    __table_args__ = (
        UniqueConstraint("subject_id", "bone"),
        CheckConstraint("grade IS NULL OR (grade >= 0 AND grade <= 3)", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    bone: Mapped[str] = mapped_column(String(16))
    grade: Mapped[int | None] = mapped_column(Integer)

    subject: Mapped[Subject] = relationship(back_populates="grades")


class Intake(Base):
    """One disc received (``wristbme intake``): its manifest hash and what became of its files."""

    __tablename__ = "intakes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    site_code: Mapped[str] = mapped_column(String(8))
    disc_id: Mapped[str] = mapped_column(String(64))
    software_version: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Image(Base):
    """One stored, de-identified radiograph.

    The file is ``images/<sha256[:2]>/<sha256>.dcm`` under the study folder (``Store.image_file``);
    derived files (overlays, caches) live in ``derived/<id>/`` (``Store.derived_dir``).
    ``analysed`` is True for the X-ray of the MRI side, the one the study scores.
    ``sop_instance_uid`` is the site's keyed-hash UID (never the original); it identifies the same image
    across re-sent discs, so a corrected file replaces the one it corrects.
    """

    __tablename__ = "images"
    __table_args__ = (Index("ix_images_subject_analysed", "subject_id", "analysed"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    pixel_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    """SHA-256 of the decoded pixels (float32, bone bright): finds the same image sent under another UID."""
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    laterality: Mapped[str] = mapped_column(String(1))
    view: Mapped[str] = mapped_column(String(8))
    analysed: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
    spacing_row_mm: Mapped[float | None] = mapped_column(Float)
    spacing_col_mm: Mapped[float | None] = mapped_column(Float)
    spacing_source: Mapped[str] = mapped_column(String(64))
    transfer_syntax: Mapped[str | None] = mapped_column(String(64))
    manufacturer: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(4))
    body_part: Mapped[str | None] = mapped_column(String(32))
    photometric: Mapped[str | None] = mapped_column(String(16))
    bits_stored: Mapped[int | None] = mapped_column(Integer)
    burned_in: Mapped[str] = mapped_column(String(16), default="none")
    """``none``, ``masked`` (blanked at the site) or ``flagged`` (text found, left in place)."""
    qc_status: Mapped[str] = mapped_column(String(8), default=QcStatus.PASS.value)
    size_bytes: Mapped[int] = mapped_column(Integer)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    subject: Mapped[Subject] = relationship(back_populates="images")
    findings: Mapped[list[QcFinding]] = relationship(back_populates="image", cascade="all, delete-orphan",
                                                     passive_deletes=True)

    @property
    def spacing_mm(self) -> tuple[float, float] | None:
        """(row, col) pixel spacing in mm, or None when uncalibrated."""
        if self.spacing_row_mm is None or self.spacing_col_mm is None:
            return None
        return (self.spacing_row_mm, self.spacing_col_mm)


class QcFinding(Base):
    """A quality or eligibility finding about an image or a subject (codes in docs/study.md)."""

    __tablename__ = "qc_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(8), default=QcStatus.WARN.value)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    image: Mapped[Image | None] = relationship(back_populates="findings")


class Quarantine(Base):
    """A disc file or case row refused at intake, with the reason.

    Only the record is kept: the refused bytes are not copied into the study (they may carry an
    identifier); the disc itself is the quarantined copy. ``item`` is the file's path on the disc or
    ``cases.csv:<row>``; ``subject_id`` links it to a known subject so withdrawal removes it too.
    """

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(48))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Withdrawal(Base):
    """A subject withdrawn (opt-out). Holds a keyed hash of the pseudonym, never the pseudonym."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64), unique=True)
    site_code: Mapped[str] = mapped_column(String(8))
    withdrawn_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after_lock: Mapped[bool] = mapped_column(Boolean, default=False)
    was_analysed: Mapped[bool] = mapped_column(Boolean, default=False)


class StudyLock(Base):
    """A freeze of the analysis set (``wristbme study lock``); the newest row with ``active`` is in force."""

    __tablename__ = "study_locks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    n_subjects: Mapped[int] = mapped_column(Integer)
    n_images: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only audit trail; ``hash = sha256(prev_hash + canonical event)`` (see ``study.audit``).

    Database triggers refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    """Canonical JSON (sorted keys); never an identifier."""
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row (id 1) holding the newest audit hash; writers lock it so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


# --- derived: engine and web UI --------------------------------------------------------------------------

class AnatomyResult(Base):
    """Located anatomy of one image (``WristAnatomy`` as JSON), automatic or after correction."""

    __tablename__ = "anatomy_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Correction(Base):
    """An operator's correction of an image's anatomy (audited)."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    operator: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ScoreRun(Base):
    """One scoring run: which model, with which parameters, when, over which analysis set."""

    __tablename__ = "score_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    operator: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(100))
    """Free label, e.g. ``retest`` or ``operator-B``, for reproducibility analyses."""

    scores: Mapped[list[Score]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                               passive_deletes=True)


class Score(Base):
    """Calibrated BME probability and 0–100 score for one region (``Bone`` value or ``wrist``) of an image."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("run_id", "image_id", "region"),
        CheckConstraint("probability >= 0 AND probability <= 1", name="probability_range"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(16))
    probability: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)

    run: Mapped[ScoreRun] = relationship(back_populates="scores")


class FeatureSet(Base):
    """Optional cache of an image's features for a run (JSON ``{region: {feature: value}}``)."""

    __tablename__ = "features"
    __table_args__ = (UniqueConstraint("run_id", "image_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class User(Base):
    """A web UI user; ``password_hash`` is an argon2 hash; role ``viewer``, ``operator`` or ``admin``."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="role_values"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


SUBJECT_TABLES = ("cases", "case_grades", "images", "qc_findings", "quarantine", "anatomy_results",
                  "corrections", "scores", "features")
"""Tables whose rows belong to one subject (directly or through an image); withdrawal empties them."""
