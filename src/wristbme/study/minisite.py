"""A tiny, plain site export (DICOM with identifiers + case sheet) for the study's tests and benchmark.

The believable multicenter generator is ``wristbme.synth``; this one only needs to exercise the data flow:
small images (a bright blob on noise), real-looking identifiers in headers and sheet (so tests can grep for
them), and each kind of defect the flow must catch, listed in the returned truth.

SYNTHETIC DATA - not for clinical use.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wristbme.bones import Bone

DEFECTS = ("ineligible_onset", "outside_window", "lateral_view", "non_wrist", "corrupt_file", "duplicate_image",
           "case_without_image", "image_without_case", "opted_out", "burned_in_text", "missing_grades",
           "bad_cell")


@dataclass
class MiniSite:
    export: Path
    cases: Path
    optout: Path
    truth: dict = field(default_factory=dict)


def _pixels(rng: np.random.Generator, rows: int, cols: int, text: str | None) -> np.ndarray:
    yy, xx = np.mgrid[:rows, :cols]
    img = rng.normal(1200, 80, (rows, cols))
    img += 1500 * np.exp(-(((xx - cols / 2) / (cols / 5)) ** 2 + ((yy - rows / 2) / (rows / 3)) ** 2))
    img = np.clip(img, 0, 4000)
    if text:
        from PIL import Image, ImageDraw, ImageFont

        canvas = Image.new("L", (cols, rows), 0)
        ImageDraw.Draw(canvas).text((6, 6), text, fill=255, font=ImageFont.load_default(size=max(10, rows // 14)))
        img[np.asarray(canvas) > 127] = 4095
    return img.astype(np.uint16)


def make_site_export(out: str | Path, *, site: str = "S03", n_patients: int = 8, seed: int = 0,
                     defects: tuple[str, ...] = DEFECTS, sheet: str = "csv", rows: int = 128, cols: int = 112
                     ) -> MiniSite:
    """Write ``out/export/`` (DICOMDIR + DICOM), ``out/cases.csv|xlsx`` and ``out/optout.csv``.

    Patients 0 .. n-1 are clean and eligible, with both hands imaged (PA); each defect in ``defects``
    adds one patient (or one file) carrying it. Returns the paths and a truth dict:
    ``{"identifiers": [...], "defects": [{"kind", "patient_id", "file"?}], "patients": {...}}``.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.fileset import FileSet
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    CRImageStorage = "1.2.840.10008.5.1.4.1.1.1"

    out = Path(out)
    export = out / "export"
    export.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    family = ["YAMADA", "SUZUKI", "TANAKA", "SATO", "ITO", "WATANABE", "NAKAMURA", "KOBAYASHI", "KATO", "YOSHIDA",
              "YAMAMOTO", "SASAKI", "MATSUMOTO", "INOUE", "KIMURA", "HAYASHI", "SHIMIZU", "MORI", "ABE", "IKEDA"]
    given = ["TARO", "HANAKO", "ICHIRO", "YUKI", "KENJI", "AKIKO", "HIROSHI", "MEGUMI"]
    patients = []
    kinds = [None] * n_patients + [d for d in defects if d not in ("corrupt_file", "duplicate_image", "bad_cell")]
    for i, kind in enumerate(kinds):
        pid = f"{seed % 7}{710000 + i * 37 + seed:07d}"
        birth = dt.date(1950 + (i * 3) % 40, 1 + i % 12, 1 + (i * 5) % 27)
        xray = dt.date(2016 + i % 6, 1 + (i * 7) % 12, 1 + (i * 11) % 27)
        onset = xray - dt.timedelta(days=int(60 + (i * 41) % 500))
        if kind == "ineligible_onset":
            onset = xray - dt.timedelta(days=1200)
        if kind == "outside_window":
            xray = dt.date(2011, 5, 20)
            onset = xray - dt.timedelta(days=120)
        mri = xray + dt.timedelta(days=int((i * 13) % 60))
        patients.append({
            "patient_id": pid, "name": f"{family[i % len(family)]}^{given[(i + seed) % len(given)]}{i}",
            "birth": birth, "sex": "MF"[i % 2], "onset": onset, "xray": xray, "mri": mri,
            "side": "RL"[(i // 2) % 2], "bme": bool(i % 3 == 0), "kind": kind,
            "grades": {b: int((i + k) % 4 == 0) for k, b in enumerate(Bone)},
        })

    fs = FileSet()
    files_truth = []
    study_uid = {}
    instance = 0
    for p in patients:
        if p["kind"] == "case_without_image":
            continue
        sides = ("R", "L")
        study_uid[p["patient_id"]] = generate_uid()
        for side in sides:
            instance += 1
            ds = Dataset()
            ds.file_meta = FileMetaDataset()
            ds.file_meta.MediaStorageSOPClassUID = CRImageStorage
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.SOPClassUID = CRImageStorage
            ds.SpecificCharacterSet = "ISO_IR 100"
            ds.PatientName = p["name"]
            ds.PatientID = p["patient_id"]
            ds.PatientBirthDate = p["birth"].strftime("%Y%m%d")
            ds.PatientSex = p["sex"]
            ds.OtherPatientIDs = "X" + p["patient_id"]
            ds.PatientAddress = "1-2-3 Hongo, Bunkyo-ku, Tokyo"
            ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = p["xray"].strftime("%Y%m%d")
            ds.StudyTime = "101500"
            ds.AccessionNumber = f"ACC{instance:06d}"
            ds.ReferringPhysicianName = "DOCTOR^REFERRING"
            ds.InstitutionName = f"Mini General Hospital {site}"
            ds.StationName = "CRSTATION1"
            ds.StudyInstanceUID = study_uid[p["patient_id"]]
            ds.SeriesInstanceUID = generate_uid()
            ds.StudyID = "1"
            ds.SeriesNumber = 1
            ds.InstanceNumber = instance
            ds.Modality = "CR"
            ds.Manufacturer = "MiniVendor"
            ds.ManufacturerModelName = "CR-1"
            ds.BodyPartExamined = "CHEST" if p["kind"] == "non_wrist" and side == p["side"] else "HAND"
            ds.ViewPosition = "LL" if p["kind"] == "lateral_view" and side == p["side"] else "PA"
            ds.ImageLaterality = side
            ds.Laterality = side
            ds.PixelSpacing = [0.2, 0.2]
            ds.ImagerPixelSpacing = [0.2, 0.2]
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.SamplesPerPixel = 1
            ds.Rows, ds.Columns = rows, cols
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            text = None
            if p["kind"] == "burned_in_text" and side == p["side"]:
                text = p["name"].replace("^", " ") + " " + p["patient_id"]
            ds.PixelData = _pixels(rng, rows, cols, text).tobytes()
            ds.BurnedInAnnotation = "NO"
            block = ds.private_block(0x0029, "MINIVENDOR", create=True)
            block.add_new(0x01, "LO", p["name"])
            fs.add(ds)
            files_truth.append({"sop": ds.SOPInstanceUID, "patient_id": p["patient_id"], "side": side,
                                "kind": p["kind"] if p["kind"] in ("lateral_view", "non_wrist", "burned_in_text")
                                and side == p["side"] else None})
    # an image whose patient has no case row
    if "image_without_case" in defects:
        orphan = [p for p in patients if p["kind"] == "image_without_case"][0]
        orphan["drop_row"] = True
    fs.write(export)
    written = {}
    for inst in FileSet(export / "DICOMDIR"):
        written[inst.SOPInstanceUID] = Path(inst.path)
    defects_truth = []
    for p in patients:
        if p["kind"] and p["kind"] not in ("lateral_view", "non_wrist", "burned_in_text"):
            defects_truth.append({"kind": p["kind"], "patient_id": p["patient_id"]})
    for f in files_truth:
        f["file"] = str(written[f["sop"]].relative_to(export))
        if f["kind"]:
            defects_truth.append({"kind": f["kind"], "patient_id": f["patient_id"], "file": f["file"]})
    clean_files = [f for f in files_truth if f["kind"] is None and
                   next(p for p in patients if p["patient_id"] == f["patient_id"])["kind"] is None]
    def first_file_of(index: int) -> dict:
        pid = patients[min(index, max(n_patients - 1, 0))]["patient_id"]
        match = next(f for f in clean_files if f["patient_id"] == pid)
        clean_files.remove(match)
        return match

    if "corrupt_file" in defects and n_patients:
        victim = first_file_of(1)
        path = export / victim["file"]
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - rows * cols])  # truncated pixel data
        defects_truth.append({"kind": "corrupt_file", "patient_id": victim["patient_id"], "file": victim["file"]})
    if "duplicate_image" in defects and n_patients:
        src = first_file_of(2)
        dup = export / "EXTRA" / "DUP00001"
        dup.parent.mkdir(exist_ok=True)
        dup.write_bytes((export / src["file"]).read_bytes())
        defects_truth.append({"kind": "duplicate_image", "patient_id": src["patient_id"],
                              "file": str(dup.relative_to(export))})

    # case sheet
    ja = sheet == "xlsx"
    headers = (["患者ID", "氏名", "生年月日", "性別", "発症日", "X線撮影日", "MRI撮影日", "MRI側", "骨髄浮腫 有/無"]
               + [b.name_ja for b in Bone]) if ja else \
        (["Patient ID", "Name", "Birth date", "Sex", "Onset date", "X-ray date", "MRI date", "MRI side",
          "BME present"] + [b.name_en for b in Bone])
    body = []
    for i, p in enumerate(patients):
        if p.get("drop_row"):
            continue
        fmt = i % 4

        def d(value: dt.date, fmt=fmt) -> object:
            if fmt == 0:
                return value.isoformat()
            if fmt == 1:
                return value.strftime("%Y/%m/%d")
            if fmt == 2 and value >= dt.date(2019, 5, 1):
                return f"令和{'元' if value.year == 2019 else value.year - 2018}年{value.month}月{value.day}日"
            if fmt == 2 and value >= dt.date(1989, 1, 8):
                return f"H{value.year - 1988}.{value.month}.{value.day}"
            return value if ja else value.isoformat()

        grades = [None if p["kind"] == "missing_grades" and k < 3 else g for k, g in enumerate(p["grades"].values())]
        body.append([p["patient_id"], p["name"].replace("^", " "), d(p["birth"]),
                     ("男" if p["sex"] == "M" else "女") if ja else p["sex"], d(p["onset"]), d(p["xray"]),
                     d(p["mri"]), ("右" if p["side"] == "R" else "左") if ja else p["side"],
                     ("有" if p["bme"] else "無") if ja else ("yes" if p["bme"] else "no"), *grades])
    bad_cell = None
    if "bad_cell" in defects and n_patients:
        body[0][5] = "2019-13-45"
        bad_cell = {"kind": "bad_cell", "patient_id": body[0][0], "row": 2, "column": headers[5]}
        defects_truth.append(bad_cell)
    if ja:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(headers)
        for r in body:
            ws.append(r)
        cases = out / "cases.xlsx"
        wb.save(cases)
    else:
        cases = out / "cases.csv"
        with open(cases, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(body)
    optout = out / "optout.csv"
    with open(optout, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["patient_id"])
        for p in patients:
            if p["kind"] == "opted_out":
                w.writerow([p["patient_id"]])
    identifiers = []
    for p in patients:
        identifiers += [p["patient_id"], p["name"], p["name"].replace("^", " "), p["birth"].strftime("%Y%m%d"),
                        p["birth"].isoformat()]
    truth = {"site": site, "identifiers": identifiers, "defects": defects_truth,
             "patients": {p["patient_id"]: {"kind": p["kind"], "side": p["side"]} for p in patients},
             "n_clean": n_patients}
    return MiniSite(export=export, cases=cases, optout=optout, truth=truth)
