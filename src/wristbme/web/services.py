"""The only part of the web UI that talks to the study store and the scoring pipeline.

Routes call one method each and render what it returns (``wristbme.web.schemas`` views). Each method that
changes the store opens its own transaction, writes the audit event inside it, and commits once.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wristbme.bones import Bone
from wristbme.errors import AnatomyError, InputError, ModelError, NotFoundError
from wristbme.web import schemas as v
from wristbme.web.config import WebSettings
from wristbme.web.security import Role, WebUser, verify_password

WRIST = "wrist"
RESCORE_EVENT = "web.rescore"
CORRECTION_RUN_LABEL = "operator"
"""Label of the score run a correction makes: an operator's repeat of the image's score, which the study's
analysis (``study.analysis``) counts for inter-operator agreement and never as the primary run."""
MAX_POLYGON_POINTS = 400


class StudyServices:
    """Store-backed operations of the web UI, built once per app from validated settings."""

    def __init__(self, settings: WebSettings, store: Any | None = None) -> None:
        from wristbme.study.store import open_store

        self.settings = settings
        self.store = store if store is not None else open_store(settings.study_dir)
        self._render_locks: dict[tuple[int, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._stop = threading.Event()
        self._engine_lock = threading.Lock()
        self._artifacts: dict[str, Any] = {}

    def close(self) -> None:
        self._stop.set()
        self.store.close()

    def session(self) -> Session:
        return self.store.session()

    # -- users -------------------------------------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> WebUser | None:
        """The user when ``name``/``password`` match an active account; None otherwise (same time either way)."""
        from wristbme.study.models import User

        with self.session() as s:
            row = s.scalar(select(User).where(User.name == name.strip()))
        ok = verify_password(row.password_hash if row is not None and row.active else None, password)
        if not ok or row is None:
            return None
        return WebUser(name=row.name, role=Role(row.role))

    def user(self, name: str) -> WebUser | None:
        """The active user ``name`` (re-read on every request, so removing a user ends their session)."""
        from wristbme.study.models import User

        with self.session() as s:
            row = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
            return WebUser(name=row.name, role=Role(row.role)) if row is not None else None

    # -- dashboard ---------------------------------------------------------------------------------------
    def dashboard(self) -> v.Dashboard:
        from wristbme.study.models import (
            Case,
            Image,
            Intake,
            QcFinding,
            Quarantine,
            Site,
            StudyLock,
            Subject,
            Withdrawal,
        )

        with self.session() as s:
            sites = []
            per_site = dict(s.execute(select(Subject.site_code, func.count(Subject.id))
                                      .group_by(Subject.site_code)).all())
            eligible = dict(s.execute(select(Subject.site_code, func.count(Case.id)).join(Case)
                                      .where(Case.eligible.is_(True)).group_by(Subject.site_code)).all())
            images = dict(s.execute(select(Subject.site_code, func.count(Image.id)).join(Image)
                                    .group_by(Subject.site_code)).all())
            for site in s.scalars(select(Site).order_by(Site.code)):
                sites.append(v.SiteSummary(site.code, site.name or "", per_site.get(site.code, 0),
                                           eligible.get(site.code, 0), images.get(site.code, 0)))
            intakes = [v.IntakeSummary(i.id, i.site_code, i.disc_id, _iso(i.started_at), _iso(i.finished_at),
                                       dict(i.counts or {}))
                       for i in s.scalars(select(Intake).order_by(Intake.id.desc()).limit(50))]
            findings = dict(s.execute(select(QcFinding.code, func.count(QcFinding.id))
                                      .group_by(QcFinding.code).order_by(QcFinding.code)).all())
            quarantine = dict(s.execute(select(Quarantine.reason, func.count(Quarantine.id))
                                        .group_by(Quarantine.reason).order_by(Quarantine.reason)).all())
            reasons: Counter[str] = Counter()
            for rs in s.scalars(select(Case.eligibility_reasons).where(Case.eligible.is_(False))):
                reasons.update(str(r) for r in (rs or []) if r)
            flow = self._flow(s, quarantine)
            lock_row = s.scalar(select(StudyLock).where(StudyLock.active.is_(True))
                                .order_by(StudyLock.id.desc()).limit(1))
            n_withdrawals = s.scalar(select(func.count(Withdrawal.id))) or 0
            after_lock = s.scalar(select(func.count(Withdrawal.id)).where(Withdrawal.after_lock.is_(True))) or 0
        from wristbme.study.lifecycle import status

        facts = status(self.store)
        unchanged = (facts.get("lock") or {}).get("unchanged_since")
        lock = (v.LockState(True, _iso(lock_row.locked_at), lock_row.content_sha256, lock_row.n_subjects,
                            lock_row.n_images, after_lock, unchanged)
                if lock_row is not None else v.LockState(False, withdrawals_after_lock=after_lock))
        return v.Dashboard(self.store.config.protocol_name, sites, intakes, findings, quarantine,
                           dict(sorted(reasons.items())), flow, lock, n_withdrawals, self.synthetic,
                           dict(facts.get("data_use_period") or {}), dict(facts.get("integrity") or {}))

    @property
    def synthetic(self) -> bool:
        """True when the study's data are synthetic (said by study.toml's name or a ``SYNTHETIC`` marker)."""
        root = self.store.root
        return (root / "SYNTHETIC").exists() or "synthetic" in self.store.config.protocol_name.lower()

    def _flow(self, s: Session, quarantine: dict[str, int]) -> list[v.FlowStep]:
        """Received → ineligible (by reason) → withdrawn → QC-failed / no image → analysed."""
        from wristbme.study.models import Case, Image, Subject, Withdrawal

        n_subjects = s.scalar(select(func.count(Subject.id))) or 0
        n_withdrawn = s.scalar(select(func.count(Withdrawal.id))) or 0
        ineligible: Counter[str] = Counter()
        n_ineligible = 0
        for reasons in s.scalars(select(Case.eligibility_reasons).where(Case.eligible.is_(False))):
            n_ineligible += 1
            ineligible.update({str(r) for r in (reasons or ["unknown"])})
        no_case = n_subjects - (s.scalar(select(func.count(Case.id))) or 0)
        eligible_ids = set(s.scalars(select(Case.subject_id).where(Case.eligible.is_(True))))
        analysed: dict[int, str] = {}
        for subject_id, qc in s.execute(select(Image.subject_id, Image.qc_status).where(Image.analysed.is_(True))):
            if subject_id in eligible_ids:
                analysed[subject_id] = qc
        qc_failed = sum(1 for qc in analysed.values() if qc == "fail")
        no_image = len(eligible_ids) - len(analysed)
        n_analysed = len(analysed) - qc_failed
        return [
            v.FlowStep("received", n_subjects + n_withdrawn),
            v.FlowStep("withdrawn", n_withdrawn),
            v.FlowStep("ineligible", n_ineligible + no_case, dict(sorted(ineligible.items()))),
            v.FlowStep("no_image", no_image),
            v.FlowStep("qc_failed", qc_failed),
            v.FlowStep("analysed", n_analysed),
            v.FlowStep("quarantined_items", sum(quarantine.values()), quarantine),
        ]

    # -- cases -------------------------------------------------------------------------------------------
    def site_codes(self) -> list[str]:
        from wristbme.study.models import Site

        with self.session() as s:
            return list(s.scalars(select(Site.code).order_by(Site.code)))

    def list_cases(self, query: v.CaseFilter) -> list[v.CaseRow]:
        """Every subject as a case row, filtered and sorted as ``query`` says."""
        from sqlalchemy.orm import selectinload

        from wristbme.study.models import Image, Subject

        with self.session() as s:
            subjects = list(s.scalars(select(Subject).order_by(Subject.pseudonym).options(
                selectinload(Subject.case), selectinload(Subject.images).selectinload(Image.findings))))
            latest = self._latest_wrist_scores(s)
            n_corr = self._correction_counts(s)
            rows = [self._case_row(s, subj, latest, n_corr) for subj in subjects]
        rows = [r for r in rows if _matches(r, query)]
        return _sorted_rows(rows, query)

    def _case_row(self, s: Session, subj: Any, latest: dict[int, float], n_corr: dict[int, int]) -> v.CaseRow:
        image = _shown_image(subj.images)
        case = subj.case
        codes = tuple(sorted({f.code for f in image.findings})) if image is not None else ()
        return v.CaseRow(
            pseudonym=subj.pseudonym, site_code=subj.site_code, status=subj.status,
            eligible=case.eligible if case is not None else None,
            bme_present=case.bme_present if case is not None else None,
            mri_side=case.mri_side if case is not None else None,
            image_id=image.id if image is not None else None,
            laterality=image.laterality if image is not None else None,
            qc_status=image.qc_status if image is not None else None, qc_codes=codes,
            wrist_score=latest.get(image.id) if image is not None else None,
            n_corrections=n_corr.get(image.id, 0) if image is not None else 0)

    def _latest_wrist_scores(self, s: Session) -> dict[int, float]:
        from wristbme.study.models import Score

        out: dict[int, float] = {}
        for image_id, score in s.execute(select(Score.image_id, Score.score).where(Score.region == WRIST)
                                         .order_by(Score.run_id, Score.id)):
            out[image_id] = float(score)  # later runs overwrite earlier ones
        return out

    def _correction_counts(self, s: Session) -> dict[int, int]:
        from wristbme.study.models import Correction

        return dict(s.execute(select(Correction.image_id, func.count(Correction.id))
                              .group_by(Correction.image_id)).all())

    def neighbours(self, pseudonym: str) -> tuple[str | None, str | None]:
        """The cases before and after ``pseudonym`` in pseudonym order (None at either end)."""
        from wristbme.study.models import Subject

        with self.session() as s:
            before = s.scalar(select(Subject.pseudonym).where(Subject.pseudonym < pseudonym)
                              .order_by(Subject.pseudonym.desc()).limit(1))
            after = s.scalar(select(Subject.pseudonym).where(Subject.pseudonym > pseudonym)
                             .order_by(Subject.pseudonym).limit(1))
        return before, after

    def case(self, pseudonym: str, image_id: int | None = None) -> v.CaseView:
        """One case with its images; ``image_id`` picks which image to show (default: the analysed one)."""
        from wristbme.study.models import Subject

        with self.session() as s:
            subj = s.scalar(select(Subject).where(Subject.pseudonym == pseudonym))
            if subj is None:
                raise NotFoundError.localized("web.err.no_case", pseudonym=pseudonym)
            row = self._case_row(s, subj, self._latest_wrist_scores(s), self._correction_counts(s))
            images = [_image_summary(i) for i in sorted(subj.images, key=lambda i: (not i.analysed, i.id))]
            shown = next((i for i in images if i.id == image_id), None) if image_id is not None else (
                next((i for i in images if i.id == row.image_id), None))
            if image_id is not None and shown is None:
                raise NotFoundError.localized("web.err.image_not_in_case", image=image_id, pseudonym=pseudonym)
            case = subj.case
            return v.CaseView(
                row=row, age_years=case.age_years if case else None, sex=case.sex if case else None,
                duration_months=case.duration_months if case else None,
                eligibility_reasons=tuple(case.eligibility_reasons or ()) if case else (),
                grades=_grades(subj), images=images, image=shown)

    # -- images ------------------------------------------------------------------------------------------
    def _image_row(self, s: Session, image_id: int) -> Any:
        from wristbme.study.models import Image

        image = s.get(Image, int(image_id))
        if image is None:
            raise NotFoundError.localized("web.err.no_image", image=image_id)
        return image

    def image_detail(self, image_id: int) -> v.ImageDetail:
        """Anatomy (pixels), latest scores, MRI grades, corrections and audit entries of one image."""
        from wristbme.study.models import Correction

        with self.session() as s:
            image = self._image_row(s, image_id)
            summary = _image_summary(image)
            pseudonym = image.subject.pseudonym
            grades = _grades(image.subject)
            scores = self._latest_scores(s, image.id)
            corrections = [{"id": c.id, "operator": c.operator, "at": _iso(c.created_at), "note": c.note,
                            "n_landmarks": len((c.data or {}).get("landmarks_px", {})),
                            "n_regions": len((c.data or {}).get("regions_px", {}))}
                           for c in s.scalars(select(Correction).where(Correction.image_id == image.id)
                                              .order_by(Correction.id.desc()))]
            audit = self._audit_for_image(s, image.id)
        anatomy, anatomy_error = self._anatomy_view(image_id)
        long_side = max(summary.rows, summary.cols)
        scale = min(1.0, self.settings.preview_max_px / long_side)
        return v.ImageDetail(summary, pseudonym, anatomy, anatomy_error, scores, grades, corrections, audit, scale)

    def _latest_scores(self, s: Session, image_id: int) -> v.ScoreSet | None:
        from wristbme.study.models import Score, ScoreRun

        run = s.scalar(select(ScoreRun).join(Score).where(Score.image_id == image_id)
                       .order_by(ScoreRun.id.desc()).limit(1))
        if run is None:
            return None
        from wristbme.study.models import FeatureSet

        by_region = {r: float(sc) for r, sc in s.execute(select(Score.region, Score.score)
                                                         .where(Score.run_id == run.id, Score.image_id == image_id))}
        cache = s.scalar(select(FeatureSet.data).where(FeatureSet.run_id == run.id, FeatureSet.image_id == image_id))
        reasons = {str(k): str(r) for k, r in ((cache or {}).get("reasons") or {}).items() if r}
        if (cache or {}).get("wrist_reason"):
            reasons[WRIST] = str(cache["wrist_reason"])
        synthetic = bool((run.params or {}).get("synthetic")) or "synthetic" in (run.label or "").lower()
        return v.ScoreSet(run.id, run.model_id, run.model_version, run.label, run.operator, _iso(run.created_at),
                          by_region, synthetic or self.synthetic, reasons)

    def _audit_for_image(self, s: Session, image_id: int, limit: int = 50) -> list[v.AuditEntry]:
        from wristbme.study.models import AuditEvent

        out = []
        needle = f'"image_id":{int(image_id)}'
        for ev in s.scalars(select(AuditEvent).where(AuditEvent.detail.contains(needle))
                            .order_by(AuditEvent.id.desc()).limit(limit * 2)):
            detail = json.loads(ev.detail or "{}")
            if detail.get("image_id") == int(image_id):
                out.append(v.AuditEntry(ev.id, _iso(ev.at) or "", ev.event, ev.actor, detail))
        return out[:limit]

    def audit_tail(self, limit: int = 100) -> list[v.AuditEntry]:
        from wristbme.study.models import AuditEvent

        with self.session() as s:
            return [v.AuditEntry(ev.id, _iso(ev.at) or "", ev.event, ev.actor, json.loads(ev.detail or "{}"))
                    for ev in s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit))]

    def image_png(self, image_id: int, kind: str) -> Path:
        """Path of the cached 8-bit PNG of image ``image_id``: ``preview`` (long side ≤ preview_max_px) or
        ``full``. Rendered on first request into the image's derived folder; the path never comes from the
        request."""
        if kind not in ("preview", "full"):
            raise NotFoundError.localized("web.err.no_rendition", kind=kind)
        with self.session() as s:
            image = self._image_row(s, image_id)
            source = self.store.image_file(image)
            sha = image.sha256
        folder = self.store.derived_dir(int(image_id))
        name = f"{kind}-{self.settings.preview_max_px}.png" if kind == "preview" else "full.png"
        out = folder / name
        stamp = folder / f"{name}.sha256"
        if out.is_file() and stamp.is_file() and stamp.read_text() == sha:
            return out
        with self._locks_guard:
            lock = self._render_locks.setdefault((int(image_id), kind), threading.Lock())
        with lock:  # one renderer per image and rendition; other images are not held up
            if out.is_file() and stamp.is_file() and stamp.read_text() == sha:
                return out
            pixels = self._read(source).pixels
            _write_png(_to_uint8(pixels, self.settings.preview_max_px if kind == "preview" else None), out)
            stamp.write_text(sha)
        return out

    def warm_previews(self) -> int:
        """Render the missing previews, analysed images first (run in a background thread at start).

        Stops early when ``close()`` is called; an image that cannot be read is skipped (its page will say
        why). Returns how many previews were rendered.
        """
        from wristbme.study.models import Image

        with self.session() as s:
            ids = list(s.scalars(select(Image.id).order_by(Image.analysed.desc(), Image.id)))
        done = 0
        name = f"preview-{self.settings.preview_max_px}.png"
        for image_id in ids:
            if self._stop.is_set():
                break
            if (self.store.derived_dir(image_id, create=False) / name).is_file():
                continue
            try:
                self.image_png(image_id, "preview")
                done += 1
            except Exception:  # noqa: BLE001 - warming is best effort; the request path reports errors
                continue
        return done

    def _read(self, path: Path) -> Any:
        from wristbme.imaging import read_radiograph

        return read_radiograph(path)

    # -- anatomy and scoring -----------------------------------------------------------------------------
    def _anatomy_view(self, image_id: int) -> tuple[dict[str, Any] | None, str | None]:
        """The newest stored anatomy of the image as pixel coordinates (or None, with the reason)."""
        from wristbme.study.models import AnatomyResult

        with self.session() as s:
            row = s.scalar(select(AnatomyResult).where(AnatomyResult.image_id == int(image_id))
                           .order_by(AnatomyResult.id.desc()).limit(1))
            if row is None:
                return None, "not_located"
            data, corrected, method = dict(row.data or {}), row.corrected, row.method
        try:
            anatomy = _anatomy_from_json(data)
        except Exception:  # a stored anatomy this version cannot read
            return None, "unreadable"
        view = anatomy_pixels(anatomy)
        view["corrected"] = bool(corrected)
        view["method"] = method
        return view, None

    def save_correction(self, image_id: int, request: v.CorrectionRequest, user: WebUser) -> v.ImageDetail:
        """Apply an operator's edit, re-locate and re-score the image, store all of it, audit it, commit once.

        The correction (with the corrected anatomy) goes through ``study.service.record_correction``, the new
        scores through ``record_score_run`` (label ``operator``, the operator's name), and a
        ``web.rescore`` audit event ties them to the image. Nothing is stored when a step fails.

        Raises
        ------
        InputError
            The edit names an unknown landmark or bone, or has points outside the image.
        AnatomyError, ModelError
            The pipeline could not locate or score the corrected image.
        """
        from wristbme.anatomy import anatomy_to_json
        from wristbme.study.audit import audit
        from wristbme.study.models import AnatomyResult
        from wristbme.study.service import ScoreRow, record_correction, record_score_run

        with self.session() as s:
            image = self._image_row(s, image_id)
            rows, cols = image.rows, image.cols
            source = self.store.image_file(image)
            subject_key = self.store.subject_key(image.subject.pseudonym)
            site = image.subject.site_code
            current = s.scalar(select(AnatomyResult).where(AnatomyResult.image_id == image.id)
                               .order_by(AnatomyResult.id.desc()).limit(1))
            current_data = dict(current.data) if current is not None else None
        _check_request(request, rows, cols)
        radiograph = self._read(source)
        base = _anatomy_from_json(current_data) if current_data else None
        edits_mm = _edits_to_mm(request, base, radiograph)
        anatomy, by_region, model_id, model_version, notes = self._rescore(radiograph, edits_mm, base,
                                                                           image_id=int(image_id), site=site)
        scores = [ScoreRow(int(image_id), region, min(1.0, max(0.0, value / 100.0)), min(100.0, max(0.0, value)))
                  for region, value in by_region.items()]
        with self.session() as s, s.begin():
            correction = record_correction(s, image_id=int(image_id), operator=user.name,
                                           data=anatomy_to_json(anatomy), note=request.note,
                                           method=str(anatomy.method))
            run = record_score_run(s, model_id=model_id, model_version=model_version, scores=scores,
                                   operator=user.name, label=CORRECTION_RUN_LABEL,
                                   params={"image_id": int(image_id), "correction_id": correction.id,
                                           "source": "web"})
            audit(s, RESCORE_EVENT, {"image_id": int(image_id), "correction_id": correction.id, "run_id": run.id,
                                     "subject_key": subject_key,
                                     "landmarks_moved": sorted(request.landmarks),
                                     "regions_replaced": sorted(request.regions),
                                     "wrist_score": round(by_region[WRIST], 2) if WRIST in by_region else None,
                                     "not_scored": list(notes)},
                  actor=user.name)
        return replace(self.image_detail(image_id), score_notes=tuple(notes))

    def _rescore(self, radiograph: Any, edits_mm: dict[str, Any], base: Any | None, *, image_id: int = 0,
                 site: str | None = None) -> tuple[Any, dict[str, float], str, str, list[str]]:
        """Re-locate with the edits and score; returns (anatomy, {region: score 0–100}, model id, version,
        notes on what was not scored).

        The model is the one that scored the image last when its file is known (``params.model_path`` of
        that run), else the shipped demonstration model.
        """
        try:
            from wristbme.pipeline import score_radiograph
        except ImportError as exc:  # the engine is not part of this build
            raise ModelError.localized("web.err.no_pipeline", module=exc.name) from None
        artifact = self._artifact_for(image_id)
        result = score_radiograph(radiograph, artifact, corrections=edits_mm, site=site)
        return _unpack_score_result(result)

    def _artifact_for(self, image_id: int) -> Any:
        """The model to re-score an image with: the one that scored it last.

        Looked for in ``--model`` (``settings.model_path``), then that run's ``params.model_path``, then the
        shipped demonstration model; the artifact's id must equal the last run's ``model_id`` (scores of one
        image from two models would not be comparable).

        Raises
        ------
        ModelError
            The model that scored the image is not available here.
        """
        from wristbme.model.artifact import ModelArtifact, load_demo
        from wristbme.study.models import Score, ScoreRun

        with self.session() as s:
            run = s.scalar(select(ScoreRun).join(Score).where(Score.image_id == int(image_id))
                           .order_by(ScoreRun.id.desc()).limit(1))
            expected = run.model_id if run is not None else None
            run_path = (run.params or {}).get("model_path") if run is not None else None
        candidates = [str(p) for p in (self.settings.model_path, run_path) if p and Path(p).is_file()]
        with self._engine_lock:
            for key in [*candidates, "demo"]:
                if key not in self._artifacts:
                    try:
                        self._artifacts[key] = ModelArtifact.load(key) if key != "demo" else load_demo()
                    except ModelError:
                        if key != "demo" or expected is None:
                            raise
                        continue
                artifact = self._artifacts[key]
                if expected is None or artifact.model_id == expected:
                    return artifact
        raise ModelError.localized("web.error.model_missing", model=expected)

    # -- withdrawal --------------------------------------------------------------------------------------
    def subject_exists(self, pseudonym: str) -> bool:
        from wristbme.study.models import Subject

        with self.session() as s:
            return s.scalar(select(Subject.id).where(Subject.pseudonym == pseudonym)) is not None

    def withdraw(self, pseudonym: str, reason: str, user: WebUser) -> v.WithdrawalResult:
        """Withdraw a subject through the study's service (it removes data and files, and audits)."""
        from wristbme.study.lifecycle import withdraw

        if not reason.strip():
            raise InputError.localized("web.withdraw.no_reason")
        if not self.subject_exists(pseudonym):
            raise NotFoundError.localized("web.error.no_subject", pseudonym=pseudonym)
        report = withdraw(self.store, pseudonym, reason=reason.strip(), actor=user.name)
        return v.WithdrawalResult(pseudonym, dict(report.counts), bool(report.after_lock))

    # -- report ------------------------------------------------------------------------------------------
    def report_dir(self, lang: str = "en") -> Path | None:
        """The latest report folder for ``lang``.

        Roots, first found wins: ``--report-dir``, ``<study>/reports``, and ``<study>/../report`` (where
        ``wristbme demo`` writes). Within a root: its ``<lang>/`` folder when it holds a report (``wristbme
        analyze`` per language), else the newest sub-folder holding one, else the root itself.
        """
        roots = ([self.settings.report_dir] if self.settings.report_dir is not None
                 else [self.store.root / "reports", self.store.root.parent / "report"])
        for root in roots:
            if not root.is_dir():
                continue
            if _report_index(root / lang) is not None:
                return root / lang
            candidates = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                          and _report_index(p) is not None]
            if candidates:
                return max(candidates, key=lambda p: _report_index(p).stat().st_mtime)  # type: ignore[union-attr]
            if _report_index(root) is not None:
                return root
        return None

    def report_index(self, lang: str = "en") -> Path | None:
        folder = self.report_dir(lang)
        return _report_index(folder) if folder is not None else None


# -- helpers ---------------------------------------------------------------------------------------------------
def _report_index(folder: Path) -> Path | None:
    for name in ("index.html", "report.html"):
        if (folder / name).is_file():
            return folder / name
    htmls = sorted(folder.glob("report*.html"))
    return htmls[0] if htmls else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat(sep=" ") + " UTC" if value is not None else None


def _shown_image(images: list[Any]) -> Any | None:
    analysed = [i for i in images if i.analysed]
    pool = analysed or list(images)
    return min(pool, key=lambda i: i.id) if pool else None


def _image_summary(image: Any) -> v.ImageSummary:
    return v.ImageSummary(image.id, image.laterality, image.view, bool(image.analysed), image.rows, image.cols,
                          image.spacing_mm, image.qc_status, tuple(sorted({f.code for f in image.findings})),
                          image.manufacturer)


def _grades(subject: Any) -> dict[str, int | None]:
    known = {g.bone: g.grade for g in subject.grades}
    return {b.value: known.get(b.value) for b in Bone if b.value in known}


def _matches(row: v.CaseRow, q: v.CaseFilter) -> bool:
    if q.site and row.site_code != q.site:
        return False
    if q.bme == "yes" and row.bme_present is not True:
        return False
    if q.bme == "no" and row.bme_present is not False:
        return False
    if q.bme == "unknown" and row.bme_present is not None:
        return False
    flagged = bool(row.qc_codes) or row.qc_status in ("warn", "fail")
    if q.qc == "flagged" and not flagged:
        return False
    if q.qc == "clean" and flagged:
        return False
    return not (q.min_score is not None and (row.wrist_score is None or row.wrist_score < q.min_score))


def _sorted_rows(rows: list[v.CaseRow], q: v.CaseFilter) -> list[v.CaseRow]:
    def key(r: v.CaseRow) -> tuple:
        missing_last = (r.wrist_score is None) != q.descending  # unscored cases last either way
        if q.sort == "score":
            return (missing_last, r.wrist_score if r.wrist_score is not None else 0.0, r.pseudonym)
        if q.sort == "site":
            return (r.site_code, r.pseudonym)
        if q.sort == "bme":
            return ({True: 0, False: 1, None: 2}[r.bme_present], r.pseudonym)
        if q.sort == "qc":
            return ({"fail": 0, "warn": 1, "pass": 2, None: 3}.get(r.qc_status, 3), r.pseudonym)
        return (r.pseudonym,)

    return sorted(rows, key=key, reverse=q.descending)


def _to_uint8(pixels: np.ndarray, max_px: int | None) -> np.ndarray:
    """Window (0.5–99.5th percentile) to 8 bits, area-downsampled so the long side is ≤ ``max_px``.

    The percentiles come from a regular sample of about 512 × 512 pixels; NaN becomes black.
    """
    px = np.asarray(pixels, dtype=np.float32)
    if max_px is not None and max(px.shape) > max_px:
        factor = int(math.ceil(max(px.shape) / max_px))
        rows, cols = (px.shape[0] // factor) * factor, (px.shape[1] // factor) * factor
        px = px[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3),
                                                                                           dtype=np.float32)
    else:
        px = px.copy()
    sample = px[:: max(1, px.shape[0] // 512), :: max(1, px.shape[1] // 512)]
    finite = sample[np.isfinite(sample)]
    lo, hi = (np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0))
    if not hi > lo:
        hi = lo + 1.0
    px -= np.float32(lo)
    px *= np.float32(255.0 / (hi - lo))
    np.nan_to_num(px, copy=False, nan=0.0)
    np.clip(px, 0, 255, out=px)
    return px.astype(np.uint8)


def _write_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image as PILImage

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    PILImage.fromarray(array, mode="L").save(tmp, format="PNG", compress_level=1)
    os.replace(tmp, path)


def _anatomy_from_json(data: dict[str, Any]) -> Any:
    from wristbme.anatomy import anatomy_from_json

    return anatomy_from_json(data)


def anatomy_pixels(anatomy: Any) -> dict[str, Any]:
    """A ``WristAnatomy`` as the viewer draws it: landmarks and polygons in original-image pixels."""
    landmarks = {name: [round(float(c), 2) for c in anatomy.to_pixels(np.asarray(xy))]
                 for name, xy in anatomy.landmarks.items()}
    regions = {}
    for bone, region in anatomy.regions.items():
        poly = anatomy.to_pixels(region.polygon_mm)
        regions[Bone.parse(bone).value] = {"polygon": [[round(float(x), 2), round(float(y), 2)] for x, y in poly],
                                           "confidence": float(region.confidence),
                                           "qc_flags": list(region.qc_flags)}
    return {"landmarks": landmarks, "regions": regions, "qc_flags": list(anatomy.qc_flags),
            "confidence": float(anatomy.confidence)}


def _check_request(request: v.CorrectionRequest, rows: int, cols: int) -> None:
    from wristbme.anatomy.types import LANDMARKS

    if not request.landmarks and not request.regions:
        raise InputError.localized("web.err.nothing_moved")
    margin = 0.05 * max(rows, cols)

    def inside(x: float, y: float) -> bool:
        return (math.isfinite(x) and math.isfinite(y) and -margin <= x <= cols - 1 + margin
                and -margin <= y <= rows - 1 + margin)

    for name, (x, y) in request.landmarks.items():
        if name not in LANDMARKS:
            raise InputError.localized("web.err.unknown_landmark", name=name)
        if not inside(x, y):
            raise InputError.localized("web.err.outside", what=name, x=round(x, 1), y=round(y, 1), cols=cols, rows=rows)
    for bone, pts in request.regions.items():
        try:
            Bone(bone)
        except ValueError:
            raise InputError.localized("web.err.unknown_bone", bone=bone) from None
        if not 3 <= len(pts) <= MAX_POLYGON_POINTS:
            raise InputError.localized("web.err.polygon_size", bone=bone, max=MAX_POLYGON_POINTS, n=len(pts))
        for x, y in pts:
            if not inside(x, y):
                raise InputError.localized("web.err.outside", what=bone, x=round(x, 1), y=round(y, 1), cols=cols, rows=rows)


def _edits_to_mm(request: v.CorrectionRequest, base: Any | None, radiograph: Any) -> dict[str, Any]:
    """Pixel edits → the ``locate(corrections=...)`` form: ``{"landmarks": {name: [x_mm, y_mm]},
    "regions": {bone: [[x_mm, y_mm], ...]}}`` in the anatomy's spacing."""
    if base is not None:
        spacing = base.spacing_mm
    elif radiograph.spacing_mm is not None:
        spacing = radiograph.spacing_mm
    else:
        raise AnatomyError.localized("web.err.no_spacing")
    sx, sy = float(spacing[1]), float(spacing[0])
    return {"landmarks": {k: [x * sx, y * sy] for k, (x, y) in request.landmarks.items()},
            "regions": {k: [[x * sx, y * sy] for x, y in pts] for k, pts in request.regions.items()}}


def _unpack_score_result(result: Any) -> tuple[Any, dict[str, float], str, str, list[str]]:
    """``pipeline.ScoredImage`` → (anatomy, {region: score 0–100}, model id, model version, notes).

    Bones the model did not score (``None``, with a reason in the score) are left out; so is the wrist
    when too few bones were scored.
    """
    score = result.score
    by_region = {Bone.parse(b).value: float(value) for b, value in score.bones.items() if value is not None}
    if score.wrist is not None:
        by_region[WRIST] = float(score.wrist)
    notes = [f"{Bone.parse(b).value}: {reason}" for b, reason in score.reasons.items()]
    if score.wrist is None:
        notes.insert(0, f"wrist: {score.wrist_reason or 'not scored'}")
    if not by_region:
        raise ModelError.localized("web.err.nothing_scored")
    return result.anatomy, by_region, str(score.model_id), str(score.model_version), notes


__all__ = ["StudyServices", "anatomy_pixels"]
