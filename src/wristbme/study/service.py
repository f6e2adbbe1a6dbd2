"""Service functions over the store for the engine, report and web UI.

All functions are keyword-only after the session and never commit: the caller owns the unit of work::

    store = open_store(study_dir)
    with store.session() as s, s.begin():
        images = list_analysis_images(s)
        run = record_score_run(s, model_id="wristbme-bme", model_version="1.0", params={...},
                               scores=[ScoreRow(image_id=..., region="wrist", probability=0.3, score=30.0)])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wristbme.bones import Bone
from wristbme.errors import NotFoundError, PermissionDeniedError, StoreError
from wristbme.study.audit import audit
from wristbme.study.models import (
    WRIST,
    AnatomyResult,
    Case,
    Correction,
    FeatureSet,
    Image,
    QcStatus,
    Role,
    Score,
    ScoreRun,
    Subject,
    SubjectStatus,
    User,
)


@dataclass(frozen=True)
class ScoreRow:
    """One score to record: ``region`` is a ``Bone`` value or ``"wrist"``; ``score`` in 0–100."""

    image_id: int
    region: str
    probability: float
    score: float


def list_analysis_images(session: Session, *, include_qc_failed: bool = False, site: str | None = None
                         ) -> list[Image]:
    """The analysed images (X-ray of the MRI side) of eligible subjects, QC-failed ones excluded by default.

    Ordered by site, then pseudonym. Each ``Image`` has ``.subject`` (pseudonym, site) loaded on access.
    """
    q = (select(Image).join(Subject).join(Case, Case.subject_id == Subject.id)
         .where(Image.analysed.is_(True), Case.eligible.is_(True),
                Subject.status == SubjectStatus.ELIGIBLE.value)
         .order_by(Subject.site_code, Subject.pseudonym, Image.id))
    if not include_qc_failed:
        q = q.where(Image.qc_status != QcStatus.FAIL.value)
    if site:
        q = q.where(Subject.site_code == site)
    return list(session.scalars(q))


def get_image(session: Session, image_id: int) -> Image:
    """The image with this store id.

    Raises
    ------
    NotFoundError
    """
    image = session.get(Image, int(image_id))
    if image is None:
        raise NotFoundError(f"image {image_id} is not in the store", hint="list images with `wristbme status`")
    return image


def get_subject(session: Session, pseudonym: str) -> Subject:
    """The subject with this pseudonym.

    Raises
    ------
    NotFoundError
    """
    subject = session.scalar(select(Subject).where(Subject.pseudonym == pseudonym.strip().upper()))
    if subject is None:
        raise NotFoundError(f"subject {pseudonym} is not in the store", hint="check the pseudonym (e.g. S03-0012)")
    return subject


def _region(value: str) -> str:
    if value == WRIST:
        return WRIST
    try:
        return Bone.parse(value).value
    except ValueError:
        raise StoreError(f"score region {value!r} is neither a bone nor 'wrist'",
                         hint="use wristbme.bones.Bone values or 'wrist'") from None


def record_score_run(session: Session, *, model_id: str, model_version: str, params: dict[str, Any] | None = None,
                     scores: Iterable[ScoreRow] = (), operator: str | None = None, label: str | None = None
                     ) -> ScoreRun:
    """Record a scoring run and its scores (audited as ``score.run``).

    Raises
    ------
    StoreError
        A probability outside [0, 1] or a score outside [0, 100], or an unknown region.
    NotFoundError
        A score names an image that is not in the store.
    """
    run = ScoreRun(model_id=model_id, model_version=model_version, params=dict(params or {}),
                   operator=operator, label=label)
    session.add(run)
    session.flush()
    n = add_scores(session, run_id=run.id, scores=scores)
    audit(session, "score.run", {"run_id": run.id, "model_id": model_id, "model_version": model_version,
                                 "n_scores": n, "label": label}, actor=operator)
    return run


def add_scores(session: Session, *, run_id: int, scores: Iterable[ScoreRow]) -> int:
    """Add scores to an existing run (e.g. image by image); returns how many were added."""
    run = session.get(ScoreRun, run_id)
    if run is None:
        raise NotFoundError(f"score run {run_id} does not exist")
    n = 0
    known: set[int] = set()
    for row in scores:
        if not 0.0 <= float(row.probability) <= 1.0:
            raise StoreError(f"image {row.image_id} {row.region}: probability {row.probability} outside [0, 1]")
        if not 0.0 <= float(row.score) <= 100.0:
            raise StoreError(f"image {row.image_id} {row.region}: score {row.score} outside [0, 100]")
        if row.image_id not in known:
            get_image(session, row.image_id)
            known.add(row.image_id)
        session.add(Score(run_id=run_id, image_id=int(row.image_id), region=_region(row.region),
                          probability=float(row.probability), score=float(row.score)))
        n += 1
    session.flush()
    return n


def record_features(session: Session, *, run_id: int, image_id: int, data: dict[str, Any]) -> FeatureSet:
    """Cache an image's features for a run (replaces an earlier cache of the same run and image)."""
    get_image(session, image_id)
    row = session.scalar(select(FeatureSet).where(FeatureSet.run_id == run_id, FeatureSet.image_id == image_id))
    if row is None:
        row = FeatureSet(run_id=run_id, image_id=image_id, data=data)
        session.add(row)
    else:
        row.data = data
    session.flush()
    return row


def record_anatomy(session: Session, *, image_id: int, data: dict[str, Any], method: str,
                   corrected: bool = False) -> AnatomyResult:
    """Store a located anatomy (``WristAnatomy`` as JSON) for an image."""
    get_image(session, image_id)
    row = AnatomyResult(image_id=image_id, data=data, method=method, corrected=corrected)
    session.add(row)
    session.flush()
    return row


def latest_anatomy(session: Session, *, image_id: int) -> AnatomyResult | None:
    """The newest anatomy of an image (a corrected one when it is newer), or None."""
    return session.scalar(select(AnatomyResult).where(AnatomyResult.image_id == image_id)
                          .order_by(AnatomyResult.id.desc()).limit(1))


def record_correction(session: Session, *, image_id: int, operator: str, data: dict[str, Any],
                      note: str | None = None, method: str = "correction") -> Correction:
    """Record an operator's correction of an image's anatomy and store the corrected anatomy (audited).

    ``data`` is the corrected ``WristAnatomy`` JSON; it becomes the image's newest anatomy result with
    ``corrected=True``.
    """
    get_image(session, image_id)
    row = Correction(image_id=image_id, operator=operator, data=data, note=note)
    session.add(row)
    session.add(AnatomyResult(image_id=image_id, data=data, method=method, corrected=True))
    session.flush()
    audit(session, "correction", {"image_id": image_id, "correction_id": row.id}, actor=operator)
    return row


# -- users --------------------------------------------------------------------------------------------------

def create_user(session: Session, *, name: str, password: str, role: str | Role = Role.VIEWER) -> User:
    """Add a web user with an argon2 password hash (audited)."""
    from argon2 import PasswordHasher

    role = Role(role).value
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise StoreError(f"user {name!r} already exists", hint="choose another name")
    if len(password) < 8:
        raise StoreError("password is shorter than 8 characters", hint="use a longer password")
    user = User(name=name, password_hash=PasswordHasher().hash(password), role=role)
    session.add(user)
    session.flush()
    audit(session, "user.create", {"user": name, "role": role})
    return user


def authenticate(session: Session, *, name: str, password: str) -> User | None:
    """The active user when the password matches, else None (same work either way)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    hasher = PasswordHasher()
    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    stored = user.password_hash if user else hasher.hash("not-a-user-password")
    try:
        hasher.verify(stored, password)
    except VerificationError:
        return None
    return user


def require_role(user: User, allowed: Sequence[str | Role]) -> None:
    """Raise ``PermissionDeniedError`` unless the user's role is one of ``allowed``."""
    names = {Role(r).value for r in allowed}
    if user.role not in names:
        raise PermissionDeniedError(f"user {user.name!r} with role {user.role} may not do this",
                                    hint=f"needs role {' or '.join(sorted(names))}")
