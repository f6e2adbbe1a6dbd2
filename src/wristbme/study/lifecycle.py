"""Withdrawal (opt-out), study lock, and the status summary.

Withdrawal removes, in one transaction, the subject row and through ``ON DELETE CASCADE`` every row that
belongs to it (case, grades, images, QC findings, quarantine records, anatomy, corrections, scores,
features); then the image files and ``derived/<image_id>/`` folders; then SQLite's write-ahead log is
checkpointed and truncated (``secure_delete`` is on, so freed pages are zeroed). What stays is a
``withdrawals`` row and an audit event holding a keyed hash of the pseudonym (HMAC under the study key),
the date, the reason and the counts: enough to refuse the subject at any later intake, nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from wristbme.errors import ConfigError
from wristbme.study.audit import audit, verify_chain
from wristbme.study.intake import active_lock, check_data_use_period
from wristbme.study.models import (
    AnatomyResult,
    Case,
    CaseGrade,
    Correction,
    FeatureSet,
    Image,
    Intake,
    QcFinding,
    Quarantine,
    Score,
    Site,
    StudyLock,
    Subject,
    Withdrawal,
)
from wristbme.study.site import PSEUDONYM_RE
from wristbme.study.store import Store


@dataclass
class WithdrawalReport:
    subject_key: str
    already: bool
    after_lock: bool
    counts: dict[str, int]
    purged: bool = True
    """False when PostgreSQL could not rewrite the tables yet (``VACUUM FULL`` waits for locks)."""


def withdraw(store: Store, pseudonym: str, *, reason: str, actor: str | None = None,
             today: dt.date | None = None) -> WithdrawalReport:
    """Withdraw a subject (see module docstring). Idempotent: a second call removes nothing more.

    Raises
    ------
    ConfigError
        Not a pseudonym, or of a site not in study.toml; empty reason.
    """
    pseudonym = pseudonym.strip().upper()
    m = PSEUDONYM_RE.match(pseudonym)
    if not m:
        raise ConfigError.localized("study.bad_pseudonym", value=pseudonym)
    if m.group(1) not in store.config.site_codes:
        raise ConfigError(f"site {m.group(1)} is not in study.toml", hint="check the pseudonym")
    if not reason.strip():
        raise ConfigError.localized("study.err.empty_reason")
    check_data_use_period(store, "withdraw")
    with store.exclusive():
        return _withdraw_locked(store, pseudonym, m.group(1), reason=reason, actor=actor, today=today)


def _withdraw_locked(store: Store, pseudonym: str, site: str, *, reason: str, actor: str | None,
                     today: dt.date | None) -> WithdrawalReport:
    key = store.subject_key(pseudonym)
    with store.session() as s, s.begin():
        subject = s.scalar(select(Subject).where(Subject.pseudonym == pseudonym))
        existing = s.scalar(select(Withdrawal).where(Withdrawal.subject_key == key))
        locked = active_lock(s) is not None
        counts: dict[str, int] = {}
        shas: list[str] = []
        ids: list[int] = []
        was_analysed = False
        if subject is not None:
            images = list(s.scalars(select(Image).where(Image.subject_id == subject.id)))
            ids = [i.id for i in images]
            shas = [i.sha256 for i in images]
            was_analysed = any(i.analysed for i in images)

            def n(model, col) -> int:
                return int(s.scalar(select(func.count()).select_from(model).where(col.in_(ids))) or 0) if ids else 0

            counts = {"images": len(images), "scores": n(Score, Score.image_id),
                      "features": n(FeatureSet, FeatureSet.image_id), "anatomy": n(AnatomyResult, AnatomyResult.image_id),
                      "corrections": n(Correction, Correction.image_id),
                      "cases": int(s.scalar(select(func.count()).select_from(Case).where(Case.subject_id == subject.id))),
                      "grades": int(s.scalar(select(func.count()).select_from(CaseGrade)
                                             .where(CaseGrade.subject_id == subject.id))),
                      "qc_findings": int(s.scalar(select(func.count()).select_from(QcFinding)
                                                  .where(QcFinding.subject_id == subject.id))),
                      "quarantine": int(s.scalar(select(func.count()).select_from(Quarantine)
                                                 .where(Quarantine.subject_id == subject.id)))}
            s.delete(subject)
            s.flush()
        if existing is None:
            s.add(Withdrawal(subject_key=key, site_code=site, withdrawn_on=today or dt.date.today(),
                             reason=reason.strip(), counts=counts, after_lock=locked, was_analysed=was_analysed))
        elif counts:
            merged = Counter(existing.counts or {})
            merged.update(counts)
            existing.counts = dict(merged)
        audit(s, "withdraw", {"subject_key": key, "site": site, "reason": reason.strip(), "counts": counts,
                              "after_lock": locked, "repeat": existing is not None}, actor=actor)
    store.remove_image_files(shas, ids)
    purged = store.purge_deleted(("subjects", "cases", "case_grades", "images", "qc_findings", "quarantine",
                                  "anatomy_results", "corrections", "scores", "features"))
    return WithdrawalReport(subject_key=key, already=existing is not None and subject is None, after_lock=locked,
                            counts=counts, purged=purged)


def content_hash(session) -> tuple[str, int, int]:
    """SHA-256 over the analysis set: every case row and grade, and every analysed image's file hash.

    Returns (hex digest, number of subjects, number of analysed images).
    """
    h = hashlib.sha256()
    n_subjects = n_images = 0
    rows = session.execute(select(Subject.pseudonym, Subject.status, Case.row_sha256, Case.eligible)
                           .join(Case, Case.subject_id == Subject.id).order_by(Subject.pseudonym)).all()
    for r in rows:
        h.update(json.dumps([r.pseudonym, r.status, r.row_sha256, bool(r.eligible)]).encode())
        n_subjects += 1
    for sha, pseudonym in session.execute(select(Image.sha256, Subject.pseudonym).join(Subject)
                                          .where(Image.analysed.is_(True)).order_by(Subject.pseudonym, Image.sha256)):
        h.update(f"{pseudonym}:{sha}".encode())
        n_images += 1
    return h.hexdigest(), n_subjects, n_images


def lock(store: Store, *, note: str | None = None, actor: str | None = None) -> tuple[StudyLock, bool]:
    """Freeze the analysis set. Returns (lock, created); an existing active lock is returned unchanged."""
    check_data_use_period(store, "lock")
    with store.session() as s, s.begin():
        current = active_lock(s)
        if current is not None:
            return current, False
        digest, n_subjects, n_images = content_hash(s)
        row = StudyLock(content_sha256=digest, n_subjects=n_subjects, n_images=n_images, note=note)
        s.add(row)
        s.flush()
        audit(s, "study.lock", {"lock_id": row.id, "content_sha256": digest, "subjects": n_subjects,
                                "images": n_images}, actor=actor)
        return row, True


def unlock(store: Store, *, reason: str, actor: str | None = None) -> bool:
    """Lift the active lock (audited). Returns False when the study was not locked."""
    if not reason.strip():
        raise ConfigError.localized("study.err.empty_reason")
    with store.session() as s, s.begin():
        current = active_lock(s)
        if current is None:
            return False
        current.active = False
        audit(s, "study.unlock", {"lock_id": current.id, "reason": reason.strip()}, actor=actor)
        return True


def status(store: Store) -> dict:
    """Sites, subjects, images, eligibility and QC findings, quarantine, withdrawals, lock and integrity."""
    cfg = store.config
    with store.session() as s:
        sites = []
        for code in [c for c in s.scalars(select(Site.code).order_by(Site.code))]:
            by_status = dict(s.execute(select(Subject.status, func.count()).where(Subject.site_code == code)
                                       .group_by(Subject.status)).all())
            n_images = s.scalar(select(func.count(Image.id)).join(Subject).where(Subject.site_code == code)) or 0
            n_analysed = s.scalar(select(func.count(Image.id)).join(Subject)
                                  .where(Subject.site_code == code, Image.analysed.is_(True))) or 0
            n_withdrawn = s.scalar(select(func.count(Withdrawal.id)).where(Withdrawal.site_code == code)) or 0
            n_discs = s.scalar(select(func.count(Intake.id)).where(Intake.site_code == code)) or 0
            sites.append({"site": code, "discs": n_discs, "subjects": sum(by_status.values()),
                          "eligible": by_status.get("eligible", 0), "ineligible": by_status.get("ineligible", 0),
                          "incomplete": by_status.get("incomplete", 0), "images": n_images, "analysed": n_analysed,
                          "withdrawn": n_withdrawn})
        reasons: Counter[str] = Counter()
        for (rs,) in s.execute(select(Case.eligibility_reasons).where(Case.eligible.is_(False))):
            reasons.update(rs or [])
        findings = dict(s.execute(select(QcFinding.code, func.count()).group_by(QcFinding.code)).all())
        quarantine = dict(s.execute(select(Quarantine.reason, func.count()).group_by(Quarantine.reason)).all())
        n_withdrawn = s.scalar(select(func.count(Withdrawal.id))) or 0
        after_lock = s.scalar(select(func.count(Withdrawal.id)).where(Withdrawal.after_lock.is_(True))) or 0
        current = active_lock(s)
        lock_info = None
        if current is not None:
            digest, _, _ = content_hash(s)
            lock_info = {"locked_at": current.locked_at.isoformat(), "content_sha256": current.content_sha256,
                         "subjects": current.n_subjects, "images": current.n_images,
                         "unchanged_since": digest == current.content_sha256}
        chain = verify_chain(s)
        shas = set(s.scalars(select(Image.sha256)))
    missing = sum(1 for sha in shas if not store.image_path(sha).is_file())
    on_disk = {p.name[:-4] for p in store.images_dir.glob("??/*.dcm")} if store.images_dir.exists() else set()
    return {
        "study": cfg.protocol_name,
        "data_use_period": {"start": cfg.data_use_start.isoformat(), "end": cfg.data_use_end.isoformat(),
                            "enforced": cfg.enforce_period, "inside": cfg.in_data_use_period()},
        "sites": sites,
        "ineligible_reasons": dict(reasons),
        "qc_findings": findings,
        "quarantine": quarantine,
        "withdrawals": {"total": n_withdrawn, "after_lock": after_lock},
        "lock": lock_info,
        "integrity": {"missing_files": missing, "orphan_files": len(on_disk - shas), "audit_ok": chain.ok,
                      "audit_events": chain.n_events},
    }


__all__ = ["WithdrawalReport", "withdraw", "lock", "unlock", "status", "content_hash"]
