"""Site side: the site folder (secret, linkage table, opt-out register, provision records) and packaging.

``SITEDIR`` never leaves the site::

    site.json             {"site": "S03"}
    secret.key            the site's key for keyed-hash UIDs (mode 0600)
    linkage.csv           対応表: patient_id, pseudonym, first_provided (UTC)
    optout.csv            opt-out register: patient_id, added (UTC), note
    provisions/<id>.json  record of each provision: what, when, to whom, how

``package`` builds a disc folder: DICOMDIR + de-identified DICOM + ``cases.csv`` (pseudonyms and derived
values only) + ``manifest.json`` (every file with SHA-256 and size, counts, software, profile).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wristbme import __version__
from wristbme.bones import Bone
from wristbme.errors import ConfigError, InputError
from wristbme.study.casesheet import CaseRow, CellError, read_case_sheet, read_table
from wristbme.study.config import SITE_CODE, StudyConfig
from wristbme.study.eligibility import check, derive

DISC_FORMAT = "wristbme-disc/1"
MANIFEST = "manifest.json"
CASES_FILE = "cases.csv"
PROVISION_FILE = "provision.json"
PSEUDONYM_RE = re.compile(r"^(S\d{2})-(\d{4})$")
CASE_COLUMNS = ("pseudonym", "site", "age_years", "sex", "duration_months", "interval_days", "xray_year",
                "mri_side", "bme_present", "eligible", "ineligible_reasons", "n_images",
                *(f"grade_{b.value}" for b in Bone))
"""Columns of the disc's ``cases.csv``; nothing else is written (no name, ID, or date)."""


class ExclusionReason:
    """Why the site left something off the disc (codes in the package report and provision record)."""

    UNREADABLE = "unreadable"
    NOT_AN_IMAGE = "not_an_image"
    NO_CASE_ROW = "no_case_row"
    OPTED_OUT = "opted_out"
    CASE_ROW_INVALID = "case_row_invalid"
    INELIGIBLE = "ineligible"
    DUPLICATE_IMAGE = "duplicate_image"
    BURNED_IN_TEXT = "burned_in_text"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{secrets.token_hex(3)}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class SiteDir:
    """The site's private folder. ``SiteDir.open(path, site="S03")`` creates it on first use."""

    def __init__(self, path: Path, site: str) -> None:
        self.path = path
        self.site = site

    @classmethod
    def open(cls, path: str | Path, *, site: str | None = None) -> SiteDir:
        """Open (or create) a site folder.

        Raises
        ------
        ConfigError
            The folder belongs to another site, or no site code is known.
        """
        path = Path(path)
        info = path / "site.json"
        if info.exists():
            recorded = json.loads(info.read_text(encoding="utf-8"))["site"]
            if site and site != recorded:
                raise ConfigError.localized("study.err.site_dir_other", path=path, recorded=recorded, site=site)
            site = recorded
        if not site or not SITE_CODE.match(site):
            raise ConfigError.localized("study.err.site_code", site=site)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        if not info.exists():
            _atomic_write(info, json.dumps({"site": site}).encode())
        key = path / "secret.key"
        if not key.exists():
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
                fh.flush()
                os.fsync(fh.fileno())
        (path / "provisions").mkdir(exist_ok=True)
        return cls(path, site)

    @property
    def secret(self) -> bytes:
        return (self.path / "secret.key").read_bytes()

    # -- linkage table (対応表) -----------------------------------------------------------------------------
    def linkage(self) -> dict[str, str]:
        """patient_id → pseudonym."""
        path = self.path / "linkage.csv"
        if not path.exists():
            return {}
        with open(path, encoding="utf-8", newline="") as fh:
            return {r["patient_id"]: r["pseudonym"] for r in csv.DictReader(fh)}

    def assign_pseudonyms(self, patient_ids: list[str]) -> dict[str, str]:
        """Pseudonyms for these patients (existing ones kept; new ones numbered on), saved atomically."""
        path = self.path / "linkage.csv"
        rows: list[dict[str, str]] = []
        if path.exists():
            with open(path, encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
        known = {r["patient_id"]: r["pseudonym"] for r in rows}
        next_n = 1 + max((int(PSEUDONYM_RE.match(p).group(2)) for p in known.values()), default=0)
        changed = False
        for pid in patient_ids:
            if pid not in known:
                if next_n > 9999:
                    raise ConfigError("the site has used all 9999 pseudonyms", path=path)
                known[pid] = f"{self.site}-{next_n:04d}"
                rows.append({"patient_id": pid, "pseudonym": known[pid], "first_provided": _now()})
                next_n += 1
                changed = True
        if changed:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=["patient_id", "pseudonym", "first_provided"])
            writer.writeheader()
            writer.writerows(rows)
            _atomic_write(path, buf.getvalue().encode("utf-8"))
        return {pid: known[pid] for pid in patient_ids}

    # -- opt-out register ---------------------------------------------------------------------------------
    def optouts(self) -> list[dict[str, str]]:
        path = self.path / "optout.csv"
        if not path.exists():
            return []
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    def _write_optouts(self, rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["patient_id", "added", "note"])
        writer.writeheader()
        writer.writerows(rows)
        _atomic_write(self.path / "optout.csv", buf.getvalue().encode("utf-8"))

    def optout_add(self, patient_ids: list[str], note: str = "") -> list[dict[str, str]]:
        """Add patients to the register; returns, for each one already provided, its pseudonym to withdraw."""
        rows = self.optouts()
        have = {r["patient_id"] for r in rows}
        for pid in patient_ids:
            pid = pid.strip()
            if pid and pid not in have:
                rows.append({"patient_id": pid, "added": _now(), "note": note})
                have.add(pid)
        self._write_optouts(rows)
        linkage = self.linkage()
        return [{"pseudonym": linkage[p]} for p in patient_ids if p in linkage]

    def optout_remove(self, patient_ids: list[str]) -> int:
        rows = self.optouts()
        keep = [r for r in rows if r["patient_id"] not in set(patient_ids)]
        self._write_optouts(keep)
        return len(rows) - len(keep)


def read_id_list(path: str | Path) -> list[str]:
    """Patient IDs from a CSV/xlsx (column 患者ID / patient_id / ID, else the first column)."""
    from wristbme.study.casesheet import header_field

    table = read_table(path)
    if not table:
        return []
    header = table[0]
    col = next((j for j, h in enumerate(header) if header_field(h) == "patient_id"), None)
    body = table[1:] if col is not None else table
    col = col or 0
    out = []
    for r in body:
        if col < len(r) and r[col] is not None and str(r[col]).strip():
            value = r[col]
            out.append(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip())
    return out


# -- packaging ------------------------------------------------------------------------------------------------

@dataclass
class Exclusion:
    reason: str
    item: str
    """Export file (relative path) or ``cases:<row>``; never a patient identifier."""
    detail: str = ""


@dataclass
class PackageReport:
    disc: Path
    disc_id: str
    site: str
    n_cases: int = 0
    n_images: int = 0
    n_eligible: int = 0
    opted_out: int = 0
    masked: int = 0
    exclusions: list[Exclusion] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)
    manifest_sha256: str = ""
    withdraw_at_lead: list[str] = field(default_factory=list)
    """Pseudonyms of opted-out patients provided on an earlier disc: the lead site must withdraw them."""

    def counts(self) -> dict[str, int]:
        by = Counter(e.reason for e in self.exclusions)
        return {"cases": self.n_cases, "images": self.n_images, "eligible": self.n_eligible,
                "opted_out": self.opted_out, "masked": self.masked, **{f"excluded_{k}": v for k, v in by.items()}}


def _export_files(export: Path) -> list[Path]:
    """Files listed by the export's DICOMDIR (when readable; in path order), then any other file in the folder.

    The order matters for duplicates: the copy met first is kept, so a file the DICOMDIR lists wins over a
    stray copy.
    """
    if not export.is_dir():
        raise InputError.localized("study.err.export_missing", path=export)
    found: dict[Path, None] = {}
    dicomdir = export / "DICOMDIR"
    if dicomdir.is_file():
        try:
            from pydicom.fileset import FileSet

            for path in sorted(Path(inst.path).resolve() for inst in FileSet(dicomdir)):
                found[path] = None
        except Exception:  # unreadable DICOMDIR: the folder walk below still finds the files
            pass
    for p in sorted(export.rglob("*")):
        if p.is_file() and p.name != "DICOMDIR" and not p.name.startswith("."):
            found.setdefault(p.resolve(), None)
    return list(found)


def package(*, export: str | Path, cases: str | Path, site: str, out: str | Path, site_dir: str | Path,
            config: StudyConfig | None = None, mask_burned_in: bool = False, recipient: str = "lead site",
            medium: str = "CD-R/DVD-R") -> PackageReport:
    """Build a disc for the lead site (see module docstring).

    Raises
    ------
    InputError
        The export or case sheet cannot be read, or ``out`` exists and is not empty.
    ConfigError
        ``site`` is invalid or does not match ``site_dir``.
    """
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.fileset import FileSet, RecordNode

    from wristbme.deid.deidentify import deidentify, keyed_uid
    from wristbme.deid.profile import PROFILE_NAME

    config = config or _default_rules()
    site_folder = SiteDir.open(site_dir, site=site)
    out = Path(out)
    export = Path(export)
    if out.exists() and any(out.iterdir()):
        raise InputError.localized("study.err.disc_not_empty", path=out)
    sheet = read_case_sheet(cases)
    report = PackageReport(disc=out, disc_id=uuid.uuid4().hex, site=site, cell_errors=list(sheet.errors))
    optout_ids = {r["patient_id"] for r in site_folder.optouts()}
    earlier = site_folder.linkage()
    report.withdraw_at_lead = sorted(earlier[p] for p in optout_ids if p in earlier)

    rows_by_pid: dict[str, CaseRow] = {}
    opted: set[str] = set()
    for row in sheet.rows:
        if row.patient_id in optout_ids:
            opted.add(row.patient_id)
            continue
        if not row.valid:
            report.exclusions.append(Exclusion(ExclusionReason.CASE_ROW_INVALID, f"cases:{row.row}",
                                               "; ".join(f"{e.column}: {e.problem}" for e in row.errors)))
            continue
        rows_by_pid[row.patient_id] = row

    derived = {}
    reasons = {}
    for pid, row in rows_by_pid.items():
        derived[pid] = derive(birth_date=row.birth_date, onset_date=row.onset_date, xray_date=row.xray_date,
                              mri_date=row.mri_date)
        reasons[pid] = check(derived[pid], config, xray_date=row.xray_date)
    pseudonyms = site_folder.assign_pseudonyms(list(rows_by_pid))

    staging = out / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    n_images: Counter[str] = Counter()
    seen_sop: set[str] = set()
    seen_pixels: set[str] = set()
    for path in _export_files(export):
        root = export.resolve()
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        try:
            ds = pydicom.dcmread(path, force=True)
            pid = str(ds.get("PatientID", "") or "").strip()
            has_pixels = "PixelData" in ds
        except Exception:
            report.exclusions.append(Exclusion(ExclusionReason.UNREADABLE, rel, "not a readable DICOM file"))
            continue
        if not has_pixels or not ds.get("SOPInstanceUID"):
            if ds.get("SOPClassUID") or has_pixels:
                report.exclusions.append(Exclusion(ExclusionReason.NOT_AN_IMAGE, rel, "no pixel data"))
            else:
                report.exclusions.append(Exclusion(ExclusionReason.UNREADABLE, rel, "not a DICOM image"))
            continue
        if pid in optout_ids:
            opted.add(pid)
            continue
        if pid not in rows_by_pid:
            if pid in {r.patient_id for r in sheet.rows}:
                report.exclusions.append(Exclusion(ExclusionReason.CASE_ROW_INVALID, rel,
                                                   "its case row has errors"))
            else:
                report.exclusions.append(Exclusion(ExclusionReason.NO_CASE_ROW, rel,
                                                   "no case row with this image's patient ID"))
            continue
        if reasons[pid]:
            report.exclusions.append(Exclusion(ExclusionReason.INELIGIBLE, rel,
                                               ", ".join(r.value for r in reasons[pid])))
            continue
        try:
            pixel_key = hashlib.sha256(ds.PixelData).hexdigest()
            result = deidentify(ds, secret=site_folder.secret, pseudonym=pseudonyms[pid],
                                patient_age_years=derived[pid].age_years, mask_burned_in=mask_burned_in)
        except Exception as exc:
            report.exclusions.append(Exclusion(ExclusionReason.UNREADABLE, rel, type(exc).__name__))
            continue
        if not result.pixel_checked:
            report.exclusions.append(Exclusion(ExclusionReason.UNREADABLE, rel,
                                               "pixel data cannot be decoded (corrupt or truncated)"))
            continue
        new_sop = keyed_uid(ds.SOPInstanceUID, site_folder.secret)
        if new_sop in seen_sop or pixel_key in seen_pixels:
            report.exclusions.append(Exclusion(ExclusionReason.DUPLICATE_IMAGE, rel,
                                               "same image as another file of this export"))
            continue
        if result.burned_in == "flagged":
            report.exclusions.append(Exclusion(ExclusionReason.BURNED_IN_TEXT, rel,
                                               "text found in the pixels; re-run with --mask-burned-in"))
            continue
        seen_sop.add(new_sop)
        seen_pixels.add(pixel_key)
        report.masked += result.burned_in == "masked"
        clean = result.dataset
        for kw in ("StudyInstanceUID", "SeriesInstanceUID"):
            if not clean.get(kw):
                setattr(clean, kw, keyed_uid(f"{kw}:{ds.SOPInstanceUID}", site_folder.secret))
        staged = staging / f"{len(seen_sop):06d}.dcm"
        clean.save_as(staged, enforce_file_format=True)
        del ds, result
        fs.add_custom(staged, _records(clean, RecordNode, Dataset))
        n_images[pid] += 1
    report.opted_out = len(opted)

    # cases.csv: pseudonyms and derived values only
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CASE_COLUMNS)
    for pid, row in rows_by_pid.items():
        d = derived[pid]
        writer.writerow([pseudonyms[pid], site, d.age_years, row.sex, d.duration_months, d.interval_days,
                         d.xray_year, row.mri_side, "" if row.bme_present is None else int(row.bme_present), int(not reasons[pid]),
                         ";".join(r.value for r in reasons[pid]), n_images[pid],
                         *("" if row.grades.get(b) is None else row.grades[b] for b in Bone)])
    report.n_cases = len(rows_by_pid)
    report.n_eligible = sum(1 for pid in rows_by_pid if not reasons[pid])
    report.n_images = sum(n_images.values())

    if report.n_images:
        fs.write(out)
    shutil.rmtree(staging, ignore_errors=True)
    (out / CASES_FILE).write_text(buf.getvalue(), encoding="utf-8")
    when = _now()
    # the record of provision travels with the disc (counts only) and stays, in full, in SITEDIR
    (out / PROVISION_FILE).write_text(json.dumps({
        "disc_id": report.disc_id, "site": site, "when": when, "to": recipient, "how": medium,
        "what": {"counts": report.counts(), "profile": PROFILE_NAME, "software_version": __version__},
    }, indent=1, ensure_ascii=False), encoding="utf-8")
    files = []
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            data = p.read_bytes()
            files.append({"path": p.relative_to(out).as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
                          "size": len(data)})
    manifest = {
        "format": DISC_FORMAT, "disc_id": report.disc_id, "site": site, "created": when,
        "software": {"name": "wristbme", "version": __version__},
        "profile": PROFILE_NAME, "mask_burned_in": mask_burned_in,
        "counts": report.counts(), "files": files,
    }
    data = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    _atomic_write(out / MANIFEST, data)
    report.manifest_sha256 = hashlib.sha256(data).hexdigest()
    provision = {
        "disc_id": report.disc_id, "manifest_sha256": report.manifest_sha256, "site": site,
        "when": manifest["created"], "to": recipient, "how": medium,
        "what": {"counts": report.counts(), "pseudonyms": sorted(pseudonyms[p] for p in rows_by_pid),
                 "profile": PROFILE_NAME, "software_version": __version__},
        "excluded": [{"reason": e.reason, "item": e.item, "detail": e.detail} for e in report.exclusions],
        "withdraw_at_lead": report.withdraw_at_lead,
    }
    _atomic_write(site_folder.path / "provisions" / f"{report.disc_id}.json",
                  json.dumps(provision, indent=1, ensure_ascii=False).encode("utf-8"))
    return report


def _records(ds, RecordNode, Dataset):
    """PATIENT/STUDY/SERIES/IMAGE directory records for a de-identified instance.

    The STUDY record's Type 1 StudyDate/StudyTime get the dummy values 19000101/000000 (no real date).
    """
    def rec(kind: str, **values) -> RecordNode:
        item = Dataset()
        item.DirectoryRecordType = kind
        for k, v in values.items():
            setattr(item, k, v)
        return RecordNode(item)

    patient = rec("PATIENT", PatientID=ds.PatientID, PatientName=ds.PatientID)
    study = rec("STUDY", StudyDate="19000101", StudyTime="000000", StudyID="", AccessionNumber="",
                StudyDescription="", StudyInstanceUID=ds.StudyInstanceUID)
    study.parent = patient
    series = rec("SERIES", Modality=ds.get("Modality", "OT") or "OT", SeriesInstanceUID=ds.SeriesInstanceUID,
                 SeriesNumber=ds.get("SeriesNumber", 1) or 1)
    series.parent = study
    image = rec("IMAGE", InstanceNumber=ds.get("InstanceNumber", 1) or 1,
                ReferencedSOPInstanceUIDInFile=ds.SOPInstanceUID, ReferencedSOPClassUIDInFile=ds.SOPClassUID,
                ReferencedTransferSyntaxUIDInFile=ds.file_meta.TransferSyntaxUID)
    image.parent = series
    return image


def _default_rules() -> StudyConfig:
    from wristbme.study.config import default_config

    return default_config()
