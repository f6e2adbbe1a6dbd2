"""A synthetic multicentre cohort, laid out the way each site has it before packaging.

``generate_cohort(out, ...)`` writes, per site ``Snn``::

    out/Snn/export/DICOMDIR + PT*/ST*/SE*/IM*    PACS-style export (pydicom FileSet)
    out/Snn/cases.xlsx  or  out/Snn/cases.csv   case sheet (Japanese headers in xlsx, English in CSV)
    out/Snn/optout.csv                          patients who withdrew consent (opt-out)

and ``out/truth.json`` with every defect planted (site, MRN, file, kind) and all ground truth per image
(file, site, MRN, laterality, grades, landmarks, effect size, burned-in text box).

Defects are drawn per patient at the rates in ``DEFAULT_DEFECT_RATES`` with a fixed number of draws, so the
same seed always gives the same cohort: byte-identical DICOM files and identical sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wristbme.bones import RAMRIS_BONES, Bone
from wristbme.errors import ConfigError, InputError
from wristbme.synth import _people
from wristbme.synth.dicomio import PatientInfo, StudyInfo, build_dataset, encode, seeded_uid
from wristbme.synth.phantom import HandSpec, render_phantom
from wristbme.synth.sites import SiteProfile, profile_for, site_ids

GENERATOR = "wristbme.synth.cohort/1"

DEFAULT_DEFECT_RATES: dict[str, float] = {
    "ineligible_onset": 0.05,
    "ineligible_date": 0.03,
    "missing_grades": 0.05,
    "duplicate_image": 0.03,
    "lateral_view": 0.03,
    "non_wrist_image": 0.03,
    "corrupt_file": 0.02,
    "case_without_image": 0.03,
    "image_without_case": 0.03,
    "optout": 0.04,
}
"""Per-patient probability of each planted defect. ``image_without_case`` is drawn only for patients with
images (rate x 0.97 overall); sheet-only defects of a patient without a sheet row are not claimed."""

IMAGING_WINDOW = (dt.date(2013, 1, 1), dt.date(2023, 12, 31))
MAX_ONSET_TO_IMAGING_DAYS = 730

SHEET_HEADERS_JA = ("患者ID", "氏名", "生年月日", "性別", "発症日", "X線撮影日", "MRI撮影日", "MRI側", "骨髄浮腫")
SHEET_HEADERS_EN = ("patient_id", "name", "birth_date", "sex", "onset_date", "xray_date", "mri_date",
                    "mri_side", "bme")


@dataclass
class _Image:
    """One image to render and write (picklable; rendered in a worker)."""

    kind: str  # hand | lateral | chest | foot
    laterality: str
    spec: HandSpec | None
    seed: int
    sop_uid: str
    series_uid: str
    series_number: int
    instance_number: int
    mri_side: bool = False
    duplicate_of: str | None = None


@dataclass
class _Patient:
    site_id: str
    index: int
    mrn: str
    family: tuple[str, str, str]
    given: tuple[str, str, str]
    sex: str
    birth: dt.date
    onset: dt.date
    xray: dt.date
    mri: dt.date
    mri_side: str
    grades: dict[Bone, int]
    missing_grades: tuple[Bone, ...] = ()
    in_sheet: bool = True
    exported: bool = True
    optout: bool = False
    defects: list[str] = field(default_factory=list)
    images: list[_Image] = field(default_factory=list)
    study_uid: str = ""
    accession: str = ""

    @property
    def pseudonym(self) -> str:
        return f"{self.site_id}-{self.index + 1:04d}"

    def patient_info(self, site: SiteProfile) -> PatientInfo:
        fam, giv = self.family, self.given
        return PatientInfo(patient_id=self.mrn, name_alphabetic=f"{fam[0].upper()}^{giv[0].upper()}",
                           name_ideographic=f"{fam[1]}^{giv[1]}", name_phonetic=f"{fam[2]}^{giv[2]}",
                           birth_date=self.birth.strftime("%Y%m%d"), sex=self.sex)


@dataclass(frozen=True)
class CohortSummary:
    out_dir: Path
    sites: tuple[str, ...]
    patients: int
    images: int
    files: int
    defects: dict[str, int]
    seconds: float


# ------------------------------------------------------------------------------------------------------------
# planning (serial, cheap, fully determined by the seed)


def _rand_date(rng: np.random.Generator, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))


def plan_site(site: SiteProfile, site_index: int, n_patients: int, *, seed: int, effect_size: float,
              field_name: str, spacing_mm: float, hands: str, rates: dict[str, float]) -> list[_Patient]:
    """The patients of one site, their images and their planted defects (cheap: no rendering).

    Every patient has its own generator ``default_rng([seed, 7919, site_index, i])`` with a fixed number of
    draws, so changing one rate or the number of patients does not change the other patients.
    """
    rng = np.random.default_rng([seed, 7919, site_index])
    patients: list[_Patient] = []
    mrn_base = int(rng.integers(10_000, 90_000))
    used_mrn: set[int] = set()
    for i in range(n_patients):
        prng = np.random.default_rng([seed, 7919, site_index, i])
        u = {k: float(prng.random()) for k in sorted(DEFAULT_DEFECT_RATES)}
        spec_r = HandSpec.sample(prng, laterality="R", field=field_name, spacing_mm=spacing_mm,
                                 effect_size=effect_size)
        spec_l_draw = HandSpec.sample(prng, laterality="L", field=field_name, spacing_mm=spacing_mm,
                                      effect_size=effect_size)
        mri_side = "R" if prng.random() < 0.65 else "L"
        hand_u = prng.random()
        fam_i, giv_i = int(prng.integers(0, 10_000)), int(prng.integers(0, 10_000))
        mrn_step = int(prng.integers(1, 40))
        d_window = (_rand_date(prng, *IMAGING_WINDOW), prng.random(), int(prng.integers(30, 700)),
                    int(prng.integers(760, 2500)), int(prng.integers(-30, 91)), prng.random())
        render_seeds = prng.integers(0, 2**31 - 1, 4)
        missing_u = prng.random(len(RAMRIS_BONES))

        # both hands share anatomy, sex and age; the other hand has its own grades and pose
        spec_l = spec_l_draw.with_(sex=spec_r.sex, age_years=spec_r.age_years, scale=spec_r.scale,
                                   anatomy_seed=spec_r.anatomy_seed, bone_density=spec_r.bone_density,
                                   ulnar_variance_mm=spec_r.ulnar_variance_mm)
        specs = {"R": spec_r, "L": spec_l}
        grades = dict(specs[mri_side].bme_grades)
        mrn_num = mrn_base + i * 37 + mrn_step
        while mrn_num in used_mrn:
            mrn_num += 1
        used_mrn.add(mrn_num)
        sex = spec_r.sex
        family = _people.FAMILY[fam_i % len(_people.FAMILY)]
        given = (_people.GIVEN_F if sex == "F" else _people.GIVEN_M)[giv_i % 10 % len(
            _people.GIVEN_F if sex == "F" else _people.GIVEN_M)]
        xray, late_u, onset_days, late_onset_days, mri_offset, window_u = d_window
        defects: list[str] = []
        if u["ineligible_date"] < rates.get("ineligible_date", 0):
            xray = _rand_date(_prng_for(seed, site_index, i, "date"), dt.date(2010, 1, 1), dt.date(2012, 12, 31)) \
                if window_u < 0.5 else _rand_date(_prng_for(seed, site_index, i, "date"), dt.date(2024, 1, 1),
                                                  dt.date(2025, 6, 30))
            defects.append("ineligible_date")
        onset = xray - dt.timedelta(days=onset_days)
        if u["ineligible_onset"] < rates.get("ineligible_onset", 0):
            onset = xray - dt.timedelta(days=late_onset_days)
            defects.append("ineligible_onset")
        mri = xray + dt.timedelta(days=mri_offset)
        birth = xray - dt.timedelta(days=int(spec_r.age_years * 365.25))
        p = _Patient(site_id=site.site_id, index=i, mrn=site.mrn_format.format(mrn_num), family=family,
                     given=given, sex=sex, birth=birth, onset=onset, xray=xray, mri=mri, mri_side=mri_side,
                     grades=grades)
        if u["missing_grades"] < rates.get("missing_grades", 0):
            k = missing_u < 0.35
            if missing_u[0] < 0.3 or not k.any():  # every grade missing
                k[:] = True
            p.missing_grades = tuple(b for b, m in zip(RAMRIS_BONES, k, strict=True) if m)
            defects.append("missing_grades")
        if u["case_without_image"] < rates.get("case_without_image", 0):
            p.exported = False
            defects.append("case_without_image")
        elif u["image_without_case"] < rates.get("image_without_case", 0):
            p.in_sheet = False
            defects.append("image_without_case")
            # without a sheet row, sheet-only defects cannot be seen: do not claim them
            defects = [d for d in defects if d not in ("missing_grades", "ineligible_onset")]
            p.missing_grades = ()
        if u["optout"] < rates.get("optout", 0):
            p.optout = True
            defects.append("optout")
        p.study_uid = seeded_uid(seed, site.site_id, i, "study")
        p.accession = f"{xray:%y%m%d}{site_index + 1:02d}{i + 1:04d}"
        both = hands == "both" or (hands == "mixed" and hand_u < 0.7)
        sides = ["R", "L"] if both else [mri_side]
        images: list[_Image] = []
        if p.exported:
            for k, side in enumerate(sides):
                images.append(_Image(kind="hand", laterality=side, spec=specs[side], seed=int(render_seeds[k]),
                                     sop_uid=seeded_uid(seed, site.site_id, i, "img", side),
                                     series_uid=seeded_uid(seed, site.site_id, i, "series", side),
                                     series_number=k + 1, instance_number=1, mri_side=side == mri_side))
            if u["duplicate_image"] < rates.get("duplicate_image", 0):
                src = images[0]
                images.append(_Image(kind="hand", laterality=src.laterality, spec=src.spec, seed=src.seed,
                                     sop_uid=seeded_uid(seed, site.site_id, i, "dup"), series_uid=src.series_uid,
                                     series_number=src.series_number, instance_number=2,
                                     mri_side=src.mri_side, duplicate_of=src.sop_uid))
                defects.append("duplicate_image")
            if u["lateral_view"] < rates.get("lateral_view", 0):
                images.append(_Image(kind="lateral", laterality=mri_side, spec=None, seed=int(render_seeds[2]),
                                     sop_uid=seeded_uid(seed, site.site_id, i, "lat"),
                                     series_uid=seeded_uid(seed, site.site_id, i, "series", "lat"),
                                     series_number=5, instance_number=1))
                defects.append("lateral_view")
            if u["non_wrist_image"] < rates.get("non_wrist_image", 0):
                kind = "chest" if late_u < 0.5 else "foot"
                images.append(_Image(kind=kind, laterality=mri_side, spec=None, seed=int(render_seeds[3]),
                                     sop_uid=seeded_uid(seed, site.site_id, i, kind),
                                     series_uid=seeded_uid(seed, site.site_id, i, "series", kind),
                                     series_number=6, instance_number=1))
                defects.append("non_wrist_image")
            if u["corrupt_file"] < rates.get("corrupt_file", 0):
                defects.append("corrupt_file")
        p.defects = defects
        p.images = images
        patients.append(p)
    return patients


def _prng_for(seed: int, site_index: int, i: int, what: str) -> np.random.Generator:
    """A generator for one extra draw of one patient (keeps the main patient stream's draw count fixed)."""
    return np.random.default_rng([seed, 7919, site_index, i, int.from_bytes(what.encode()[:4].ljust(4), "big")])


# ------------------------------------------------------------------------------------------------------------
# rendering (in worker processes)


@dataclass
class _Rendered:
    sop_uid: str
    data: bytes
    truth: dict


def burn_text(values: np.ndarray, text: str, corner: str, max_value: int, spacing_mm: float) -> tuple[int, int, int, int]:
    """Burn ``text`` (white, on a dark box) into a corner of ``values`` in place; returns (x0, y0, x1, y1)."""
    from wristbme.synth._text import text_mask

    size_px = max(10, int(round(3.2 / spacing_mm)))
    glyph = text_mask(text, size_px)
    h, w = glyph.shape
    rows, cols = values.shape
    pad = max(2, size_px // 5)
    margin = max(3, int(round(3.0 / spacing_mm)))
    w = min(w, cols - 2 * margin - 2 * pad)
    glyph = glyph[:, :w]
    y0 = margin if corner in ("tl", "tr") else rows - margin - h - 2 * pad
    x0 = margin if corner in ("tl", "bl") else cols - margin - w - 2 * pad
    y1, x1 = y0 + h + 2 * pad, x0 + w + 2 * pad
    values[y0:y1, x0:x1] = 0
    region = values[y0 + pad:y0 + pad + h, x0 + pad:x0 + pad + w]
    region[glyph] = max_value
    return int(x0), int(y0), int(x1), int(y1)


def _render_patient(args: tuple[_Patient, SiteProfile, int, float]) -> list[_Rendered]:
    patient, site, seed, spacing_mm = args
    out: list[_Rendered] = []
    cache: dict[str, tuple[bytes, dict]] = {}
    for k, img in enumerate(patient.images):
        if img.duplicate_of is not None and img.duplicate_of in cache:
            values, truth = cache[img.duplicate_of]  # identical pixels, new UID
            truth = dict(truth, duplicate_of=img.duplicate_of)
        else:
            values, truth = _render_one(img, patient, site, spacing_mm)
            cache[img.sop_uid] = (values, truth)
        study = StudyInfo(study_uid=patient.study_uid, series_uid=img.series_uid, sop_uid=img.sop_uid,
                          study_date=patient.xray.strftime("%Y%m%d"),
                          study_time=f"{9 + patient.index % 8:02d}{(patient.index * 7) % 60:02d}{k * 11 % 60:02d}",
                          accession=patient.accession, series_number=img.series_number,
                          instance_number=img.instance_number, body_part=truth["body_part"],
                          view_position=truth["view_position"], laterality=img.laterality,
                          study_description={"hand": "HAND PA", "lateral": "WRIST LAT", "chest": "CHEST PA",
                                             "foot": "FOOT AP"}[img.kind])
        ds = build_dataset(values, site=site, spacing_mm=truth["spacing_mm"], patient=patient.patient_info(site),
                           study=study, japanese_name=site.japanese_names,
                           burned_in=truth.get("burned_in_text_bbox") is not None)
        data = encode(ds, site.transfer_syntax)
        out.append(_Rendered(sop_uid=img.sop_uid, data=data, truth=dict(truth, sop_instance_uid=img.sop_uid)))
    return out


def _render_one(img: _Image, patient: _Patient, site: SiteProfile, spacing_mm: float) -> tuple[np.ndarray, dict]:
    if img.kind == "hand":
        assert img.spec is not None
        ph = render_phantom(img.spec, seed=img.seed, site=site)
        values = ph.radiograph.pixels.copy()
        bbox = None
        if site.burned_in_text:
            text = (f"{patient.family[0].upper()} {patient.given[0].upper()}  ID:{patient.mrn}  "
                    f"{patient.xray:%Y/%m/%d}")
            bbox = burn_text(values, text, site.text_corner, site.max_value, img.spec.spacing_mm)
        sp = img.spec.spacing_mm
        truth = {
            "kind": "hand", "view_position": "PA", "body_part": "HAND", "laterality": img.laterality,
            "spacing_mm": sp, "field": img.spec.field, "effect_size": img.spec.effect_size,
            "grades": {b.value: int(ph.bme_grades[b]) for b in RAMRIS_BONES},
            "bme_fraction": {b.value: round(float(ph.bme_fraction[b]), 4) for b in RAMRIS_BONES},
            "mri_side": img.mri_side,
            "landmarks_px": {k: [round(x, 3), round(y, 3)] for k, (x, y) in ph.landmarks_px.items()},
            "landmarks_mm": {k: [round(x * sp, 3), round(y * sp, 3)] for k, (x, y) in ph.landmarks_px.items()},
            "axes_px": {k: [list(map(lambda v: round(v, 3), p)), list(map(lambda v: round(v, 3), d))]
                        for k, (p, d) in ph.axes_px.items()},
            "region_area_mm2": {b.value: round(float(ph.region_masks[b].sum()) * sp * sp, 2) for b in RAMRIS_BONES},
            "burned_in_text_bbox": list(bbox) if bbox else None,
            "marker_bbox": list(ph.marker_bbox) if ph.marker_bbox else None,
            "rotation_deg": round(img.spec.rotation_deg, 3), "sex": img.spec.sex,
            "age_years": round(img.spec.age_years, 1),
            "ra_changes": {"osteopenia": round(img.spec.ra_changes.osteopenia, 3),
                           "jsn_mm": round(img.spec.ra_changes.jsn_mm, 3),
                           "erosions": [list(e) for e in img.spec.ra_changes.erosions]},
            "shape": list(values.shape),
        }
        return values, truth
    from wristbme.synth.other import render_other

    sp = {"lateral": spacing_mm, "chest": 0.4, "foot": 0.3}[img.kind]
    values = render_other(img.kind, np.random.default_rng(img.seed), site, sp, img.laterality)
    view = {"lateral": "LL" if img.laterality == "L" else "RL", "chest": "PA", "foot": "AP"}[img.kind]
    part = {"lateral": "HAND", "chest": "CHEST", "foot": "FOOT"}[img.kind]
    truth = {"kind": img.kind, "view_position": view, "body_part": part, "laterality": img.laterality,
             "spacing_mm": sp, "grades": None, "burned_in_text_bbox": None, "marker_bbox": None,
             "shape": list(values.shape)}
    return values, truth


# ------------------------------------------------------------------------------------------------------------
# writing


def _deterministic_xlsx(wb) -> bytes:
    """openpyxl output re-zipped with fixed timestamps and document properties (byte-identical by seed)."""
    fixed = dt.datetime(2024, 1, 1, 0, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "wristbme synth (SYNTHETIC)"
    raw = io.BytesIO()
    wb.save(raw)
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                              b'<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified>',
                              data)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def write_sheet(site: SiteProfile, patients: list[_Patient], site_dir: Path) -> Path:
    """The site's case sheet (xlsx with Japanese headers or CSV with English headers)."""
    style = site.date_style
    rows = [p for p in patients if p.in_sheet]

    def grade_cells(p: _Patient) -> list[object]:
        return [None if b in p.missing_grades else int(p.grades[b]) for b in RAMRIS_BONES]

    def bme(p: _Patient, ja: bool) -> str | None:
        if len(p.missing_grades) == len(RAMRIS_BONES):
            return None
        present = any(p.grades[b] > 0 for b in RAMRIS_BONES)
        return ("有" if present else "無") if ja else ("yes" if present else "no")

    if site.sheet_format == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "症例一覧"
        ws.append([*SHEET_HEADERS_JA, *(b.name_ja for b in RAMRIS_BONES)])
        for p in rows:
            dates = [p.birth, p.onset, p.xray, p.mri]
            if style == "slash":  # real Excel dates shown as yyyy/mm/dd
                cells: list[object] = list(dates)
            else:
                cells = [_people.format_date(d, style) for d in dates]
            ws.append([p.mrn, f"{p.family[1]} {p.given[1]}", cells[0], "女" if p.sex == "F" else "男", cells[1],
                       cells[2], cells[3], "右" if p.mri_side == "R" else "左", bme(p, True), *grade_cells(p)])
        if style == "slash":
            for col in ("C", "E", "F", "G"):
                for cell in ws[col][1:]:
                    cell.number_format = "yyyy/mm/dd"
        path = site_dir / "cases.xlsx"
        path.write_bytes(_deterministic_xlsx(wb))
        return path
    path = site_dir / "cases.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([*SHEET_HEADERS_EN, *(b.name_en for b in RAMRIS_BONES)])
    for p in rows:
        name = f"{p.family[1]} {p.given[1]}" if site.sheet_encoding == "cp932" else f"{p.family[0]} {p.given[0]}"
        w.writerow([p.mrn, name, _people.format_date(p.birth, style), p.sex, _people.format_date(p.onset, style),
                    _people.format_date(p.xray, style), _people.format_date(p.mri, style), p.mri_side,
                    bme(p, False) or "", *("" if g is None else g for g in grade_cells(p))])
    path.write_bytes(buf.getvalue().encode(site.sheet_encoding))
    return path


def write_optout(patients: list[_Patient], site_dir: Path) -> Path:
    path = site_dir / "optout.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["patient_id", "requested_on", "note"])
    for p in patients:
        if p.optout:
            w.writerow([p.mrn, (p.mri + dt.timedelta(days=200)).isoformat(), "opt-out (synthetic)"])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _write_site(site: SiteProfile, patients: list[_Patient], rendered: dict[str, _Rendered], out_dir: Path,
                seed: int, site_index: int) -> tuple[list[dict], list[dict]]:
    """DICOMDIR export, sheet and opt-out list of one site; returns (image truth, defects)."""
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    site_dir = out_dir / site.site_id
    export = site_dir / "export"
    export.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    fs.ID = f"{site.site_id}EXPORT"
    fs.UID = seeded_uid(seed, site.site_id, "fileset")
    order: list[tuple[_Patient, _Image]] = []
    for p in patients:
        for img in p.images:
            r = rendered[img.sop_uid]
            fs.add(dcmread(io.BytesIO(r.data)))
            order.append((p, img))
    if order:
        fs.write(export)
    paths = {inst.SOPInstanceUID: Path(inst.path) for inst in fs} if order else {}
    images_truth: list[dict] = []
    defects: list[dict] = []
    for p, img in order:
        rel = paths[img.sop_uid].resolve().relative_to(out_dir.resolve()).as_posix()
        t = dict(rendered[img.sop_uid].truth)
        data_path = paths[img.sop_uid]
        t.update(file=rel, site=site.site_id, mrn=p.mrn, pseudonym=p.pseudonym,
                 sha256=hashlib.sha256(data_path.read_bytes()).hexdigest())
        images_truth.append(t)
        if img.duplicate_of is not None:
            orig = paths[img.duplicate_of].resolve().relative_to(out_dir.resolve()).as_posix()
            defects.append({"site": site.site_id, "mrn": p.mrn, "file": rel, "kind": "duplicate_image",
                            "detail": f"same pixels as {orig}"})
        if img.kind == "lateral":
            defects.append({"site": site.site_id, "mrn": p.mrn, "file": rel, "kind": "lateral_view", "detail": ""})
        if img.kind in ("chest", "foot"):
            defects.append({"site": site.site_id, "mrn": p.mrn, "file": rel, "kind": "non_wrist_image",
                            "detail": img.kind})
    # corrupt: truncate the patient's first image file after the DICOMDIR was written
    for p in patients:
        if "corrupt_file" in p.defects and p.images:
            target = paths[p.images[0].sop_uid]
            data = target.read_bytes()
            target.write_bytes(data[: int(len(data) * 0.6)])
            rel = target.resolve().relative_to(out_dir.resolve()).as_posix()
            for t in images_truth:
                if t["file"] == rel:
                    t["corrupt"] = True
                    t["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
            defects.append({"site": site.site_id, "mrn": p.mrn, "file": rel, "kind": "corrupt_file",
                            "detail": "truncated to 60 % of its bytes"})
        for kind in ("ineligible_onset", "ineligible_date", "missing_grades", "case_without_image",
                     "image_without_case", "optout"):
            if kind in p.defects:
                detail = ""
                if kind == "missing_grades":
                    detail = ",".join(b.value for b in p.missing_grades)
                defects.append({"site": site.site_id, "mrn": p.mrn, "file": None, "kind": kind, "detail": detail})
    write_sheet(site, patients, site_dir)
    write_optout(patients, site_dir)
    return images_truth, defects


def generate_cohort(out_dir: str | Path, *, sites: int = 8, patients_per_site: int = 40, seed: int = 0,
                    effect_size: float = 1.0, field: str = "wrist", spacing_mm: float = 0.15,
                    hands: str = "both", workers: int | None = None,
                    defect_rates: dict[str, float] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> CohortSummary:
    """Write a synthetic multicentre cohort to ``out_dir`` (see the module docstring).

    Parameters
    ----------
    out_dir : path
        Created if missing; must be empty or absent.
    sites, patients_per_site : int
    seed : int
    effect_size : float
        BME appearance scale (0: images carry no trace of BME).
    field : str
        ``wrist`` or ``full``.
    spacing_mm : float
        Object-plane pixel spacing of the hand images.
    hands : str
        ``both``, ``one`` (the MRI side) or ``mixed`` (70 % both).
    workers : int or None
        Worker processes (default: the CPU count, at most 8; 1 renders in this process).
    defect_rates : dict or None
        Overrides of ``DEFAULT_DEFECT_RATES``.
    progress : callable(done, total) or None

    Raises
    ------
    ConfigError
        Bad arguments. ``InputError``: ``out_dir`` exists and is not empty.
    """
    import time

    t0 = time.perf_counter()
    out = Path(out_dir)
    if hands not in ("both", "one", "mixed"):
        raise ConfigError(f"--hands must be both, one or mixed, got {hands!r}")
    if patients_per_site < 1:
        raise ConfigError(f"--patients-per-site must be at least 1, got {patients_per_site}")
    if effect_size < 0:
        raise ConfigError(f"--effect-size must be >= 0, got {effect_size}")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"output folder {out} is not empty", path=out, hint="choose a new or empty folder")
    rates = dict(DEFAULT_DEFECT_RATES)
    for k, v in (defect_rates or {}).items():
        if k not in rates:
            raise ConfigError(f"unknown defect kind {k!r}; known: {', '.join(rates)}")
        rates[k] = float(v)
    out.mkdir(parents=True, exist_ok=True)
    ids = site_ids(sites)
    plans = []
    for si, sid in enumerate(ids):
        site = profile_for(sid)
        plans.append((site, plan_site(site, si, patients_per_site, seed=seed, effect_size=effect_size,
                                      field_name=field, spacing_mm=spacing_mm, hands=hands, rates=rates)))
    tasks = [(p, site, seed, spacing_mm) for site, pats in plans for p in pats]
    total = len(tasks)
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    rendered: dict[str, _Rendered] = {}
    images_truth: list[dict] = []
    defects: list[dict] = []
    done = 0

    def results() -> Iterator[list[_Rendered]]:
        if n_workers <= 1:
            for t in tasks:
                yield _render_patient(t)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                yield from pool.map(_render_patient, tasks, chunksize=2)

    it = results()
    for si, (site, pats) in enumerate(plans):
        for _ in pats:
            for r in next(it):
                rendered[r.sop_uid] = r
            done += 1
            if progress:
                progress(done, total)
        t_img, t_def = _write_site(site, pats, rendered, out, seed, si)
        images_truth += t_img
        defects += t_def
        rendered.clear()
    n_files = sum(1 for t in images_truth)
    truth = {
        "synthetic": True,
        "note": "SYNTHETIC DATA generated by wristbme synth - not patients, not for clinical use",
        "generator": GENERATOR,
        "seed": seed, "effect_size": effect_size, "field": field, "spacing_mm": spacing_mm, "hands": hands,
        "patients_per_site": patients_per_site,
        "imaging_window": [d.isoformat() for d in IMAGING_WINDOW],
        "max_onset_to_imaging_days": MAX_ONSET_TO_IMAGING_DAYS,
        "defect_rates": rates,
        "bones": [b.value for b in RAMRIS_BONES],
        "sites": [_site_truth(site) for site, _ in plans],
        "patients": [_patient_truth(p) for _, pats in plans for p in pats],
        "defects": defects,
        "images": images_truth,
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
                                    encoding="utf-8")
    counts: dict[str, int] = {}
    for d in defects:
        counts[d["kind"]] = counts.get(d["kind"], 0) + 1
    return CohortSummary(out_dir=out, sites=tuple(ids), patients=sum(len(p) for _, p in plans),
                         images=len(images_truth), files=n_files, defects=counts,
                         seconds=time.perf_counter() - t0)


def _site_truth(site: SiteProfile) -> dict:
    from dataclasses import asdict

    d = asdict(site)
    d["transfer_syntax"] = str(site.transfer_syntax)
    d["sheet"] = f"{site.site_id}/cases.{site.sheet_format}"
    return d


def _patient_truth(p: _Patient) -> dict:
    return {
        "site": p.site_id, "mrn": p.mrn, "pseudonym": p.pseudonym, "sex": p.sex, "birth_date": p.birth.isoformat(),
        "onset_date": p.onset.isoformat(), "xray_date": p.xray.isoformat(), "mri_date": p.mri.isoformat(),
        "mri_side": p.mri_side, "grades": {b.value: int(p.grades[b]) for b in RAMRIS_BONES},
        "bme": any(p.grades[b] > 0 for b in RAMRIS_BONES),
        "missing_grades": [b.value for b in p.missing_grades], "in_sheet": p.in_sheet, "exported": p.exported,
        "optout": p.optout,
        "eligible": (IMAGING_WINDOW[0] <= p.xray <= IMAGING_WINDOW[1]
                     and (p.xray - p.onset).days <= MAX_ONSET_TO_IMAGING_DAYS),
        "defects": list(p.defects),
        "images": len(p.images),
    }


def write_single_image(out_path: str | Path, *, laterality: str = "R", field: str = "wrist",
                       spacing_mm: float = 0.15, seed: int = 0, site: str = "S01",
                       bme: dict[Bone, int] | None = None, effect_size: float = 1.0) -> dict:
    """Render one hand and write it as DICOM at ``out_path``; returns its ground truth (JSON-ready).

    The hand is ``HandSpec.sample(default_rng(seed), ...)``; ``bme`` (bone → grade) replaces the sampled
    grades (bones not named get 0). The truth is also written beside the file as ``<name>.truth.json``.
    """
    from wristbme.synth.sites import get_site

    prof = get_site(site)
    spec = HandSpec.sample(np.random.default_rng([seed, 1]), laterality=laterality, field=field,
                           spacing_mm=spacing_mm, bme_grades=bme, effect_size=effect_size)
    patient = _Patient(site_id=prof.site_id, index=0, mrn=prof.mrn_format.format(12345 + seed % 10_000),
                       family=_people.FAMILY[seed % len(_people.FAMILY)],
                       given=(_people.GIVEN_F if spec.sex == "F" else _people.GIVEN_M)[seed % 9],
                       sex=spec.sex, birth=dt.date(1965, 4, 1), onset=dt.date(2019, 1, 10),
                       xray=dt.date(2019, 4, 1), mri=dt.date(2019, 4, 20), mri_side=laterality,
                       grades=dict(spec.bme_grades))
    patient.study_uid = seeded_uid(seed, "single", "study")
    patient.accession = f"SYN{seed:08d}"[-12:]
    img = _Image(kind="hand", laterality=spec.laterality, spec=spec, seed=seed,
                 sop_uid=seeded_uid(seed, "single", "img"), series_uid=seeded_uid(seed, "single", "series"),
                 series_number=1, instance_number=1, mri_side=True)
    patient.images = [img]
    (r,) = _render_patient((patient, prof, seed, spacing_mm))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(r.data)
    truth = dict(r.truth, file=out.name, site=prof.site_id, pseudonym=patient.pseudonym, seed=seed,
                 sha256=hashlib.sha256(r.data).hexdigest(), synthetic=True)
    out.with_name(out.name + ".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                                       encoding="utf-8")
    return truth
