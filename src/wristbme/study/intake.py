"""Lead side: receive a disc into the study store.

Order of work (each unit its own transaction, so a crash loses at most the unit in progress):

1. verify ``manifest.json``: every listed file present with its size and SHA-256; nothing unlisted;
2. each ``cases.csv`` row: schema, pseudonym of the disc's site, no identifier, not withdrawn; eligibility
   re-applied from the derived values; stored (unchanged row: no-op; changed row: replaced, audited);
3. each DICOM file: staged (fsynced) → read (``read_radiograph``) → checked (no identifier left, CR/DX,
   hand or wrist, PA, laterality, no burned-in text, subject known and eligible, not a duplicate) → rows
   inserted and the file renamed to its content address → commit. The same file again is a no-op; a file
   with the same (keyed) SOP Instance UID but new content replaces the old one (audited);
4. subjects of the disc are finalised: the analysed image (PA, on the MRI side) is chosen, and the
   subject's status set.

Refusals become ``quarantine`` records (reason code + detail naming attributes, never values); the
refused bytes are not copied into the study folder. Reason codes are listed in docs/study.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wristbme.bones import Bone
from wristbme.errors import InputError, StoreError, WristBmeError
from wristbme.study.audit import audit
from wristbme.study.eligibility import Derived, check
from wristbme.study.models import (
    Case,
    CaseGrade,
    Image,
    Intake,
    QcFinding,
    QcStatus,
    Quarantine,
    StudyLock,
    Subject,
    SubjectStatus,
    Withdrawal,
    utcnow,
)
from wristbme.study.site import CASE_COLUMNS, CASES_FILE, DISC_FORMAT, MANIFEST, PROVISION_FILE, PSEUDONYM_RE
from wristbme.study.store import Store

DATE_LIKE = re.compile(r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})|(^\d{8}$)|([明大昭平令MTSHR]\s*\d{1,2}[./年])")
ALLOWED_MODALITIES = ("CR", "DX")
HAND_WRIST = ("HAND", "WRIST", "HANDWRIST", "HAND WRIST", "WRISTHAND", "EXTREMITY", "UPPER EXTREMITY", "UPPEREXTREMITY")


class Refusal:
    """Reason codes for refused files and rows."""

    MANIFEST_MISMATCH = "manifest_mismatch"
    MISSING_FILE = "missing_file"
    NOT_IN_MANIFEST = "not_in_manifest"
    IDENTIFIER_PRESENT = "identifier_present"
    BURNED_IN_TEXT = "burned_in_text"
    UNREADABLE = "unreadable"
    NOT_CR_DX = "not_cr_dx"
    NOT_HAND_WRIST = "not_hand_wrist"
    NOT_PA_VIEW = "not_pa_view"
    LATERALITY_UNKNOWN = "laterality_unknown"
    NO_CASE_ROW = "no_case_row"
    INELIGIBLE_SUBJECT = "ineligible_subject"
    WITHDRAWN_SUBJECT = "withdrawn_subject"
    WRONG_SITE = "wrong_site"
    DUPLICATE_IMAGE = "duplicate_image"
    INVALID_CASE_ROW = "invalid_case_row"


@dataclass
class RefusedItem:
    item: str
    reason: str
    detail: str = ""


@dataclass
class IntakeReport:
    """What an intake did. ``refused`` lists each refusal by file (or ``cases.csv:<row>``) and reason."""

    intake_id: int
    site: str
    disc_id: str
    manifest_sha256: str
    repeat: bool = False
    accepted: int = 0
    unchanged: int = 0
    replaced: int = 0
    cases_added: int = 0
    cases_updated: int = 0
    cases_unchanged: int = 0
    opted_out_at_site: int = 0
    refused: list[RefusedItem] = field(default_factory=list)
    findings: Counter = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        by = Counter(r.reason for r in self.refused)
        return {"accepted": self.accepted, "unchanged": self.unchanged, "replaced": self.replaced,
                "cases_added": self.cases_added, "cases_updated": self.cases_updated,
                "cases_unchanged": self.cases_unchanged, "refused": len(self.refused),
                "opted_out_at_site": self.opted_out_at_site, **{f"refused_{k}": v for k, v in sorted(by.items())}}

    def to_dict(self) -> dict:
        return {"intake_id": self.intake_id, "site": self.site, "disc_id": self.disc_id,
                "manifest_sha256": self.manifest_sha256, "repeat": self.repeat, "counts": self.counts(),
                "refused": [asdict(r) for r in self.refused], "findings": dict(self.findings)}


def active_lock(session: Session) -> StudyLock | None:
    return session.scalar(select(StudyLock).where(StudyLock.active.is_(True)).order_by(StudyLock.id.desc()).limit(1))


def check_data_use_period(store: Store, command: str, *, today: dt.date | None = None) -> str | None:
    """None inside the data-use period; outside it a warning text (audited), or ``StoreError`` when enforced."""
    cfg = store.config
    today = today or dt.date.today()
    if cfg.in_data_use_period(today):
        return None
    with store.session() as s, s.begin():
        audit(s, "period.outside", {"command": command, "start": cfg.data_use_start.isoformat(),
                                    "end": cfg.data_use_end.isoformat(), "enforced": cfg.enforce_period})
    if cfg.enforce_period:
        raise StoreError.localized("study.period_enforced", start=cfg.data_use_start, end=cfg.data_use_end)
    return f"outside the data-use period {cfg.data_use_start}..{cfg.data_use_end}"


def read_manifest(disc: Path) -> tuple[dict, str]:
    path = disc / MANIFEST
    if not path.is_file():
        raise InputError.localized("study.err.no_manifest", path=disc)
    data = path.read_bytes()
    try:
        manifest = json.loads(data)
    except ValueError:
        raise InputError.localized("study.err.bad_manifest", path=path) from None
    if manifest.get("format") != DISC_FORMAT or not isinstance(manifest.get("files"), list):
        raise InputError.localized("study.err.bad_manifest", path=path)
    return manifest, hashlib.sha256(data).hexdigest()


def _quarantine(s: Session, intake_id: int, ref: RefusedItem, *, sha256: str | None = None,
                subject_id: int | None = None) -> None:
    exists = s.scalar(select(Quarantine.id).where(Quarantine.intake_id == intake_id, Quarantine.item == ref.item,
                                                  Quarantine.reason == ref.reason))
    if exists is None:
        s.add(Quarantine(intake_id=intake_id, item=ref.item, sha256=sha256, reason=ref.reason, detail=ref.detail,
                         subject_id=subject_id))


def intake(store: Store, disc: str | Path, *, actor: str | None = None,
           progress: Callable[[int, int], None] | None = None) -> IntakeReport:
    """Receive a disc (see module docstring).

    Raises
    ------
    InputError
        No readable manifest on the disc.
    StoreError
        The study is locked, the disc's site is not in study.toml, or the data-use period is enforced.
    """
    disc = Path(disc)
    if not disc.is_dir():
        raise InputError.localized("study.err.disc_missing", path=disc)
    with store.exclusive():
        return _intake_locked(store, disc, actor=actor, progress=progress)


def _intake_locked(store: Store, disc: Path, *, actor: str | None,
                   progress: Callable[[int, int], None] | None) -> IntakeReport:
    check_data_use_period(store, "intake")
    with store.session() as s:
        if active_lock(s) is not None:
            raise StoreError.localized("study.locked_intake")
    manifest, manifest_sha = read_manifest(disc)
    site = str(manifest.get("site", ""))
    if site not in store.config.site_codes:
        raise StoreError.localized("study.err.unknown_site", path=disc / MANIFEST, site=site or "?")
    store.reconcile()

    with store.session() as s, s.begin():
        row = s.scalar(select(Intake).where(Intake.manifest_sha256 == manifest_sha).order_by(Intake.id).limit(1))
        repeat = row is not None and row.finished_at is not None
        if row is None:
            row = Intake(manifest_sha256=manifest_sha, site_code=site, disc_id=str(manifest.get("disc_id", ""))[:64],
                         software_version=str(manifest.get("software", {}).get("version", ""))[:64],
                         profile=str(manifest.get("profile", ""))[:200], counts={})
            s.add(row)
            s.flush()
            audit(s, "intake.start", {"intake_id": row.id, "site": site, "manifest_sha256": manifest_sha}, actor=actor)
        intake_id = row.id
    report = IntakeReport(intake_id=intake_id, site=site, disc_id=str(manifest.get("disc_id", "")),
                          manifest_sha256=manifest_sha, repeat=repeat,
                          opted_out_at_site=int(manifest.get("counts", {}).get("opted_out", 0) or 0))

    # 1. manifest
    verified: dict[str, str] = {}
    listed = set()
    for entry in manifest["files"]:
        rel = str(entry.get("path", ""))
        listed.add(rel)
        path = disc / rel
        if not rel or ".." in Path(rel).parts or Path(rel).is_absolute():
            report.refused.append(RefusedItem(rel or "?", Refusal.MANIFEST_MISMATCH, "path leaves the disc"))
            continue
        if not path.is_file():
            report.refused.append(RefusedItem(rel, Refusal.MISSING_FILE, "listed in manifest.json, not on the disc"))
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if len(data) != entry.get("size") or sha != entry.get("sha256"):
            report.refused.append(RefusedItem(rel, Refusal.MANIFEST_MISMATCH, "size or SHA-256 differs from manifest.json"))
            continue
        verified[rel] = sha
    for path in sorted(disc.rglob("*")):
        rel = path.relative_to(disc).as_posix()
        if path.is_file() and rel != MANIFEST and rel not in listed:
            report.refused.append(RefusedItem(rel, Refusal.NOT_IN_MANIFEST, "on the disc but not in manifest.json"))

    # 2. cases
    disc_subjects: dict[str, int] = {}
    if CASES_FILE in verified:
        _intake_cases(store, disc / CASES_FILE, site, intake_id, report, disc_subjects, actor)
    elif CASES_FILE not in {r.item for r in report.refused}:
        report.refused.append(RefusedItem(CASES_FILE, Refusal.MISSING_FILE, "the disc has no cases.csv"))

    # 3. images
    image_files = [rel for rel in verified if rel not in (CASES_FILE, PROVISION_FILE, "DICOMDIR")]
    for i, rel in enumerate(sorted(image_files)):
        _intake_image(store, disc / rel, rel, verified[rel], site, intake_id, report, disc_subjects, actor)
        if progress:
            progress(i + 1, len(image_files))

    # refusals found before a transaction (manifest, cases) are recorded now
    with store.session() as s, s.begin():
        for ref in report.refused:
            _quarantine(s, intake_id, ref)

    # 4. subjects
    with store.session() as s, s.begin():
        for subject_id in sorted(set(disc_subjects.values())):
            finalize_subject(s, subject_id, intake_id=intake_id)
        row = s.get(Intake, intake_id)
        row.finished_at = utcnow()
        row.counts = report.counts()
        audit(s, "intake.repeat" if repeat else "intake.done",
              {"intake_id": intake_id, "site": site, "counts": report.counts()}, actor=actor)
    return report


def _cell_date_like(values: list[str]) -> bool:
    return any(DATE_LIKE.search(v or "") for v in values)


def _intake_cases(store: Store, path: Path, site: str, intake_id: int, report: IntakeReport,
                  disc_subjects: dict[str, int], actor: str | None) -> None:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    unknown = [h for h in header if h not in CASE_COLUMNS]
    if unknown or "pseudonym" not in header:
        report.refused.append(RefusedItem(CASES_FILE, Refusal.IDENTIFIER_PRESENT if unknown else Refusal.INVALID_CASE_ROW,
                                          f"unexpected column(s): {', '.join(unknown)}" if unknown
                                          else "no pseudonym column"))
        return
    withdrawn = _withdrawn_keys(store)
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        item = f"{CASES_FILE}:{n}"
        row = dict(zip(header, cells, strict=False))
        pseudonym = row.get("pseudonym", "").strip()
        m = PSEUDONYM_RE.match(pseudonym)
        if not m:
            report.refused.append(RefusedItem(item, Refusal.IDENTIFIER_PRESENT, "pseudonym column holds a non-pseudonym ID"))
            continue
        if m.group(1) != site or row.get("site", site) != site:
            report.refused.append(RefusedItem(item, Refusal.WRONG_SITE, f"pseudonym is not of site {site}"))
            continue
        if _cell_date_like([v for k, v in row.items() if k != "pseudonym"]):
            report.refused.append(RefusedItem(item, Refusal.IDENTIFIER_PRESENT, "a cell holds a date"))
            continue
        if store.subject_key(pseudonym) in withdrawn:
            report.refused.append(RefusedItem(item, Refusal.WITHDRAWN_SUBJECT, "subject was withdrawn (opt-out)"))
            continue
        try:
            values = _parse_case(row)
        except ValueError as exc:
            report.refused.append(RefusedItem(item, Refusal.INVALID_CASE_ROW, str(exc)))
            continue
        canonical = json.dumps({k: row.get(k, "") for k in CASE_COLUMNS if k != "n_images"}, sort_keys=True)
        row_sha = hashlib.sha256(canonical.encode()).hexdigest()
        derived = Derived(values["age_years"], values["duration_months"], values["interval_days"], values["xray_year"])
        reasons = [r.value for r in check(derived, store.config)]
        with store.session() as s, s.begin():
            subject = s.scalar(select(Subject).where(Subject.pseudonym == pseudonym))
            if subject is None:
                subject = Subject(pseudonym=pseudonym, site_code=site)
                s.add(subject)
                s.flush()
            disc_subjects[pseudonym] = subject.id
            case = s.scalar(select(Case).where(Case.subject_id == subject.id))
            if case is not None and case.row_sha256 == row_sha:
                report.cases_unchanged += 1
                continue
            if case is None:
                case = Case(subject_id=subject.id, row_sha256=row_sha)
                s.add(case)
                report.cases_added += 1
            else:
                report.cases_updated += 1
                audit(s, "case.corrected", {"subject_key": store.subject_key(pseudonym), "intake_id": intake_id},
                      actor=actor)
            for k in ("age_years", "sex", "duration_months", "interval_days", "xray_year", "mri_side", "bme_present"):
                setattr(case, k, values[k])
            case.eligible = not reasons
            case.eligibility_reasons = reasons
            case.row_sha256 = row_sha
            case.intake_id = intake_id
            s.execute(delete(CaseGrade).where(CaseGrade.subject_id == subject.id))
            s.execute(delete(QcFinding).where(QcFinding.subject_id == subject.id, QcFinding.image_id.is_(None)))
            for bone, grade in values["grades"].items():
                s.add(CaseGrade(subject_id=subject.id, bone=bone.value, grade=grade))
            missing = [b.value for b, g in values["grades"].items() if g is None]
            if missing or values["bme_present"] is None:
                # without BME presence the reference standard is missing: the subject cannot be analysed
                severity = QcStatus.FAIL if values["bme_present"] is None else QcStatus.WARN
                s.add(QcFinding(subject_id=subject.id, intake_id=intake_id, code="missing_grades",
                                severity=severity.value, detail=", ".join(missing) or "bme_present"))
                report.findings["missing_grades"] += 1
            site_eligible = row.get("eligible", "").strip()
            if site_eligible in ("0", "1") and (site_eligible == "1") != (not reasons):
                s.add(QcFinding(subject_id=subject.id, intake_id=intake_id, code="eligibility_mismatch",
                                severity=QcStatus.WARN.value,
                                detail="the site's eligibility differs from the lead's re-check"))
                report.findings["eligibility_mismatch"] += 1


def _parse_case(row: dict[str, str]) -> dict:
    def num(key: str, kind=float, required: bool = True):
        text = (row.get(key) or "").strip()
        if not text:
            if required:
                raise ValueError(f"{key} is empty")
            return None
        try:
            return kind(float(text)) if kind is int else kind(text)
        except ValueError:
            raise ValueError(f"{key} is not a number") from None

    sex = (row.get("sex") or "").strip().upper()
    side = (row.get("mri_side") or "").strip().upper()
    if sex not in ("M", "F", "O"):
        raise ValueError("sex must be M, F or O")
    if side not in ("R", "L"):
        raise ValueError("mri_side must be R or L")
    bme = (row.get("bme_present") or "").strip()
    if bme not in ("0", "1", ""):
        raise ValueError("bme_present must be 0, 1 or empty")
    grades: dict[Bone, int | None] = {}
    for bone in Bone:
        text = (row.get(f"grade_{bone.value}") or "").strip()
        if not text:
            grades[bone] = None
            continue
        if text not in ("0", "1", "2", "3"):
            raise ValueError(f"grade_{bone.value} must be 0-3 or empty")
        grades[bone] = int(text)
    return {"age_years": num("age_years"), "sex": sex, "duration_months": num("duration_months"),
            "interval_days": num("interval_days", int), "xray_year": num("xray_year", int), "mri_side": side,
            "bme_present": None if bme == "" else bme == "1", "grades": grades}


def _withdrawn_keys(store: Store) -> set[str]:
    with store.session() as s:
        return set(s.scalars(select(Withdrawal.subject_key)))


def _intake_image(store: Store, path: Path, rel: str, sha: str, site: str, intake_id: int, report: IntakeReport,
                  disc_subjects: dict[str, int], actor: str | None) -> None:
    import pydicom

    from wristbme.deid.burnedin import detect_text
    from wristbme.deid.check import residual_identifiers
    from wristbme.imaging import read_radiograph

    def refuse(reason: str, detail: str, subject_id: int | None = None) -> None:
        ref = RefusedItem(rel, reason, detail)
        report.refused.append(ref)
        with store.session() as s, s.begin():
            _quarantine(s, intake_id, ref, subject_id=subject_id)

    with store.session() as s:
        existing = s.scalar(select(Image.id).where(Image.sha256 == sha))
    if existing is not None:
        report.unchanged += 1
        return
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        refuse(Refusal.MANIFEST_MISMATCH, "file changed while being read")
        return
    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
    except Exception:
        refuse(Refusal.UNREADABLE, "not a readable DICOM file")
        return
    pseudonym = str(ds.get("PatientID", "") or "").strip()
    findings = residual_identifiers(ds, pseudonym=pseudonym if PSEUDONYM_RE.match(pseudonym) else None)
    if findings:
        refuse(Refusal.IDENTIFIER_PRESENT, ", ".join(sorted({str(f) for f in findings})))
        return
    if not pseudonym.startswith(site + "-"):
        refuse(Refusal.WRONG_SITE, f"pseudonym is not of site {site}")
        return
    if store.subject_key(pseudonym) in _withdrawn_keys(store):
        refuse(Refusal.WITHDRAWN_SUBJECT, "subject was withdrawn (opt-out)")
        return
    with store.session() as s:
        subject = s.scalar(select(Subject).where(Subject.pseudonym == pseudonym))
        case = s.scalar(select(Case).where(Case.subject_id == subject.id)) if subject else None
        subject_id = subject.id if subject else None
        eligible = bool(case and case.eligible)
    if case is None:
        refuse(Refusal.NO_CASE_ROW, "no case row for this image's subject")
        return
    if not eligible:
        refuse(Refusal.INELIGIBLE_SUBJECT, "subject is not eligible; images are not kept", subject_id)
        return
    modality = str(ds.get("Modality", "") or "").upper()
    if modality not in ALLOWED_MODALITIES:
        refuse(Refusal.NOT_CR_DX, f"Modality is {modality or 'empty'}, expected CR or DX", subject_id)
        return
    body = str(ds.get("BodyPartExamined", "") or "").strip().upper()
    if body and body not in HAND_WRIST:
        refuse(Refusal.NOT_HAND_WRIST, f"BodyPartExamined is {body}, expected HAND or WRIST", subject_id)
        return
    staged = store.stage(data, sha256=sha)  # only files with no identifier in the header get here
    try:
        try:
            rg = read_radiograph(staged.tmp_path)
        except WristBmeError as exc:
            refuse(Refusal.UNREADABLE, type(exc).__name__, subject_id)
            return
        except Exception as exc:  # decoder crashes are refusals too
            refuse(Refusal.UNREADABLE, type(exc).__name__, subject_id)
            return
        view = rg.view.value
        if view not in ("PA", "UNKNOWN"):
            refuse(Refusal.NOT_PA_VIEW, f"view is {view}, expected PA", subject_id)
            return
        laterality = rg.laterality.value
        if laterality not in ("R", "L"):
            refuse(Refusal.LATERALITY_UNKNOWN, "neither ImageLaterality nor Laterality says R or L", subject_id)
            return
        if str(ds.get("BurnedInAnnotation", "")).upper() == "YES" or detect_text(rg.pixels):
            refuse(Refusal.BURNED_IN_TEXT, "text found in the pixels", subject_id)
            return
        pixel_sha = hashlib.sha256(rg.pixels.tobytes()).hexdigest()
        sop = str(ds.SOPInstanceUID)
        with store.session() as s, s.begin():
            old = s.scalar(select(Image).where(Image.sop_instance_uid == sop))
            twin = s.scalar(select(Image.id).where(Image.pixel_sha256 == pixel_sha, Image.sop_instance_uid != sop))
            if twin is not None:
                ref = RefusedItem(rel, Refusal.DUPLICATE_IMAGE, f"same pixels as stored image {twin}")
                report.refused.append(ref)
                _quarantine(s, intake_id, ref, subject_id=subject_id)
                return
            replaced = None
            if old is not None:
                replaced = (old.id, old.sha256)
                s.delete(old)
                s.flush()
                audit(s, "image.replaced", {"old_image_id": old.id, "intake_id": intake_id}, actor=actor)
            spacing = rg.spacing_mm
            image = Image(sha256=staged.sha256, sop_instance_uid=sop, pixel_sha256=pixel_sha, subject_id=subject_id,
                          laterality=laterality, view=view, analysed=False, rows=rg.shape[0], cols=rg.shape[1],
                          spacing_row_mm=spacing[0] if spacing else None,
                          spacing_col_mm=spacing[1] if spacing else None,
                          spacing_source=rg.spacing_source.value, transfer_syntax=rg.source.transfer_syntax,
                          manufacturer=(rg.source.manufacturer or None), model=(rg.source.model or None),
                          modality=modality, body_part=body or None, photometric=rg.source.photometric,
                          bits_stored=rg.source.bits_stored, size_bytes=staged.size_bytes, intake_id=intake_id,
                          burned_in="masked" if _was_masked(ds) else "none")
            s.add(image)
            s.flush()
            status = QcStatus.PASS
            notes = []
            if view == "UNKNOWN":
                notes.append(("view_unknown", "ViewPosition absent; assumed PA"))
            if not body:
                notes.append(("body_part_unknown", "BodyPartExamined absent"))
            if spacing is None:
                notes.append(("uncalibrated", "no pixel spacing in the header"))
            for flag in rg.qc_flags:
                if flag not in {n for n, _ in notes}:
                    notes.append((flag, "reader"))
            for code, detail in notes:
                s.add(QcFinding(image_id=image.id, subject_id=subject_id, intake_id=intake_id, code=code,
                                severity=QcStatus.WARN.value, detail=detail))
                report.findings[code] += 1
                status = QcStatus.WARN
            image.qc_status = status.value
            store.place(staged)
        disc_subjects[pseudonym] = subject_id
        if replaced is not None:
            report.replaced += 1
            with store.session() as s:
                still = s.scalar(select(Image.id).where(Image.sha256 == replaced[1]))
            store.remove_image_files([] if still else [replaced[1]], [replaced[0]])
        else:
            report.accepted += 1
    finally:
        store.discard(staged)


def _was_masked(ds) -> bool:
    for item in ds.get("DeidentificationMethodCodeSequence", []) or []:
        if str(item.get("CodeValue", "")) == "113101":
            return True
    return False


def finalize_subject(s: Session, subject_id: int, *, intake_id: int | None = None) -> None:
    """Choose the analysed image (PA, MRI side, not QC-failed, lowest id) and set the subject's status."""
    subject = s.get(Subject, subject_id)
    if subject is None:
        return
    case = s.scalar(select(Case).where(Case.subject_id == subject_id))
    images = list(s.scalars(select(Image).where(Image.subject_id == subject_id).order_by(Image.id)))
    chosen = None
    if case is not None:
        for img in images:
            if img.laterality == case.mri_side and img.view in ("PA", "UNKNOWN") and img.qc_status != QcStatus.FAIL.value:
                chosen = img
                break
    for img in images:
        img.analysed = img is chosen
    s.execute(delete(QcFinding).where(QcFinding.subject_id == subject_id, QcFinding.image_id.is_(None),
                                      QcFinding.code.in_(("no_image", "no_analysed_image"))))
    if case is None:
        subject.status = SubjectStatus.INCOMPLETE.value
    elif not case.eligible:
        subject.status = SubjectStatus.INELIGIBLE.value
    elif case.bme_present is None:
        subject.status = SubjectStatus.INCOMPLETE.value  # finding missing_grades (fail) was added at intake
    elif chosen is None:
        subject.status = SubjectStatus.INCOMPLETE.value
        code = "no_image" if not images else "no_analysed_image"
        s.add(QcFinding(subject_id=subject_id, intake_id=intake_id, code=code, severity=QcStatus.FAIL.value,
                        detail="no usable PA X-ray of the MRI side"))
    else:
        subject.status = SubjectStatus.ELIGIBLE.value
