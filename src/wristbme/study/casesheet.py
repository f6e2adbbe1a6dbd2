"""Case sheets (症例報告シート): xlsx or CSV, Japanese or English headers, validated cell by cell.

Headers map to fields through one alias table, ``HEADER_ALIASES`` (compared after Unicode NFKC folding,
lower-casing and collapsing spaces/underscores). Per-bone RAMRIS grade columns are recognised by bone name
(``wristbme.bones.Bone.parse``: ``橈骨``, ``Scaphoid``, ``mc3``, ``grade_lunate`` ...).

Dates are accepted as ``2019-04-01``, ``2019/04/01``, ``2019.04.01``, ``20190401``, spreadsheet dates, and
Japanese era forms ``令和元年5月7日``, ``平成30年1月15日``, ``H30.1.15``, ``R1/5/7`` (eras M, T, S, H, R).

``read_case_sheet`` never raises for a bad cell: each one becomes a ``CellError`` with its sheet row
(1 = header) and column header, and no cell value (values may identify a patient).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from wristbme.bones import Bone
from wristbme.errors import InputError

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": ("患者id", "患者番号", "カルテ番号", "カルテid", "id", "patient id", "patientid", "mrn",
                   "hospital id", "medical record number"),
    "name": ("氏名", "患者氏名", "名前", "name", "patient name", "full name"),
    "birth_date": ("生年月日", "birth date", "date of birth", "dob", "birthdate"),
    "sex": ("性別", "sex", "gender"),
    "onset_date": ("発症日", "発症年月日", "ra発症日", "onset", "onset date", "ra onset", "ra onset date",
                   "symptom onset"),
    "xray_date": ("x線撮影日", "x線日", "レントゲン撮影日", "xray date", "x-ray date", "radiograph date",
                  "xr date"),
    "mri_date": ("mri撮影日", "mri日", "mri date", "mri exam date"),
    "mri_side": ("mri側", "撮影側", "mri 側", "mri side", "side", "mri laterality"),
    "bme_present": ("骨髄浮腫", "骨髄浮腫 有/無", "骨髄浮腫有無", "骨髄浮腫(有/無)", "bme", "bme present",
                    "bme presence", "bone marrow edema", "bone marrow oedema"),
}
"""Field → accepted headers (normalised). Documented in docs/study.md."""

OPTIONAL_CELLS = ("bme_present",)
"""Columns that must exist but whose cells may be empty (BME unknown: the reference standard is missing,
reported as the finding ``missing_grades`` at intake)."""

REQUIRED = ("patient_id", "birth_date", "sex", "onset_date", "xray_date", "mri_date", "mri_side", "bme_present")

ERAS = {"M": (1868, "明治"), "T": (1912, "大正"), "S": (1926, "昭和"), "H": (1989, "平成"), "R": (2019, "令和")}
_ERA_BY_KANJI = {kanji: letter for letter, (_, kanji) in ERAS.items()}
_ERA_RE = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?$")
_ISO_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class CellError:
    """One bad cell: ``row`` is the sheet row (header = 1), ``column`` the header as written."""

    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.problem}"


@dataclass
class CaseRow:
    """One parsed case row (still identifying: it stays at the site)."""

    row: int
    patient_id: str
    name: str | None
    birth_date: dt.date | None
    sex: str | None
    onset_date: dt.date | None
    xray_date: dt.date | None
    mri_date: dt.date | None
    mri_side: str | None
    bme_present: bool | None
    grades: dict[Bone, int | None] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class CaseSheet:
    rows: list[CaseRow]
    errors: list[CellError]
    columns: dict[str, str]
    """field → header as written in the sheet."""
    grade_columns: dict[Bone, str]


def normalize_header(text: object) -> str:
    value = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    value = value.replace("_", " ")
    return re.sub(r"\s+", " ", value)


_ALIAS_LOOKUP = {normalize_header(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}


def header_field(header: object) -> str | Bone | None:
    """The field a header means: a name from ``HEADER_ALIASES``, a ``Bone`` (grade column), or None."""
    norm = normalize_header(header)
    if not norm:
        return None
    if norm in _ALIAS_LOOKUP:
        return _ALIAS_LOOKUP[norm]
    stripped = re.sub(r"^(grade|ramris|bme grade|bme)\s*[:\-]?\s*|\s*(grade|ramris|グレード|スコア)$", "", norm)
    stripped = re.sub(r"[()（）]", "", stripped).strip()
    for candidate in (stripped, norm):
        try:
            return Bone.parse(candidate)
        except ValueError:
            continue
    return None


def parse_date(value: object) -> dt.date:
    """A date from a cell (see module docstring for the forms).

    Raises
    ------
    ValueError
        Not a date in any accepted form (the message does not repeat the value).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        raise ValueError("empty")
    m = _ERA_RE.match(text)
    if m:
        era = _ERA_BY_KANJI.get(m.group(1), m.group(1).upper())
        base = ERAS[era][0]
        year = 1 if m.group(2) == "元" else int(m.group(2))
        if year < 1:
            raise ValueError("era year must be 1 or more")
        return dt.date(base + year - 1, int(m.group(3)), int(m.group(4)))
    m = _ISO_RE.match(text) or _COMPACT_RE.match(text)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError("not a date")


def parse_sex(value: object) -> str:
    text = normalize_header(value)
    if text in ("m", "male", "男", "男性", "1"):
        return "M"
    if text in ("f", "female", "女", "女性", "2"):
        return "F"
    if text in ("o", "other", "その他"):
        return "O"
    raise ValueError("not a sex (M/F, 男/女)")


def parse_side(value: object) -> str:
    text = normalize_header(value)
    if text in ("r", "right", "rt", "右", "右手", "右側"):
        return "R"
    if text in ("l", "left", "lt", "左", "左手", "左側"):
        return "L"
    raise ValueError("not a side (R/L, 右/左)")


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = normalize_header(value)
    if text in ("有", "あり", "有り", "yes", "y", "true", "1", "+", "陽性", "present", "positive"):
        return True
    if text in ("無", "なし", "無し", "no", "n", "false", "0", "-", "陰性", "absent", "negative"):
        return False
    raise ValueError("not yes/no (有/無)")


def parse_grade(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text in ("", "-", "na", "NA", "N/A", "未評価"):
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a grade 0-3") from None
    if number != int(number) or not 0 <= number <= 3:
        raise ValueError("grade must be 0, 1, 2 or 3")
    return int(number)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(path: str | Path) -> list[list[object]]:
    """The raw cells of a CSV (UTF-8 with or without BOM, else CP932) or the first sheet of an xlsx."""
    path = Path(path)
    if not path.is_file():
        raise InputError.localized("study.err.sheet_missing", path=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"not a readable xlsx workbook ({type(exc).__name__})", path=path,
                             hint="save it again as .xlsx or export it as CSV") from None
        ws = wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    if suffix in (".csv", ".txt", ".tsv"):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InputError("CSV is neither UTF-8 nor Shift_JIS (CP932)", path=path, hint="save it as UTF-8")
        dialect = csv.excel_tab if suffix == ".tsv" else csv.excel
        return [list(r) for r in csv.reader(io.StringIO(text), dialect)]
    raise InputError(f"unsupported case sheet type {suffix!r}", path=path, hint="use .xlsx or .csv")


def read_case_sheet(path: str | Path) -> CaseSheet:
    """Read and validate a case sheet.

    Raises
    ------
    InputError
        The file cannot be read, or a required column is missing (the message names it and the accepted
        headers). Bad cells do not raise: see ``CaseSheet.errors``.
    """
    table = read_table(path)
    header_index = next((i for i, r in enumerate(table) if any(not _is_blank(c) for c in r)), None)
    if header_index is None:
        raise InputError("case sheet is empty", path=path)
    header = table[header_index]
    columns: dict[str, int] = {}
    grade_cols: dict[Bone, int] = {}
    for j, h in enumerate(header):
        meaning = header_field(h)
        if isinstance(meaning, Bone):
            grade_cols.setdefault(meaning, j)
        elif meaning and meaning not in columns:
            columns[meaning] = j
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        accepted = "; ".join(f"{f}: {', '.join(HEADER_ALIASES[f][:3])}" for f in missing)
        raise InputError.localized("study.err.sheet_columns", path=path, missing=", ".join(missing),
                                   accepted=accepted)
    names = {f: str(header[j]) for f, j in columns.items()}
    rows: list[CaseRow] = []
    all_errors: list[CellError] = []
    parsers = {"birth_date": parse_date, "onset_date": parse_date, "xray_date": parse_date,
               "mri_date": parse_date, "sex": parse_sex, "mri_side": parse_side, "bme_present": parse_bool}
    for i in range(header_index + 1, len(table)):
        cells = table[i]
        if all(_is_blank(c) for c in cells):
            continue
        sheet_row = i + 1

        def cell(j: int, cells=cells) -> object:
            return cells[j] if j < len(cells) else None

        errors: list[CellError] = []
        values: dict[str, object] = {}
        pid_raw = cell(columns["patient_id"])
        pid = unicodedata.normalize("NFKC", str(pid_raw if pid_raw is not None else "")).strip()
        if isinstance(pid_raw, float) and pid_raw.is_integer():
            pid = str(int(pid_raw))
        if not pid:
            errors.append(CellError(sheet_row, names["patient_id"], "empty (a patient ID is required)"))
        for fname, parser in parsers.items():
            raw = cell(columns[fname])
            if _is_blank(raw) and fname in OPTIONAL_CELLS:
                values[fname] = None
                continue
            if _is_blank(raw):
                errors.append(CellError(sheet_row, names[fname], "empty"))
                values[fname] = None
                continue
            try:
                values[fname] = parser(raw)
            except ValueError as exc:
                errors.append(CellError(sheet_row, names[fname], str(exc)))
                values[fname] = None
        grades: dict[Bone, int | None] = {}
        for bone, j in grade_cols.items():
            try:
                grades[bone] = parse_grade(cell(j))
            except ValueError as exc:
                errors.append(CellError(sheet_row, str(header[j]), str(exc)))
                grades[bone] = None
        name = cell(columns["name"]) if "name" in columns else None
        rows.append(CaseRow(row=sheet_row, patient_id=pid, name=None if _is_blank(name) else str(name),
                            birth_date=values["birth_date"], sex=values["sex"], onset_date=values["onset_date"],
                            xray_date=values["xray_date"], mri_date=values["mri_date"],
                            mri_side=values["mri_side"], bme_present=values["bme_present"], grades=grades,
                            errors=errors))
        all_errors.extend(errors)
    seen: dict[str, int] = {}
    for r in rows:
        if r.patient_id and r.patient_id in seen:
            err = CellError(r.row, names["patient_id"], f"patient ID repeats row {seen[r.patient_id]}")
            r.errors.append(err)
            all_errors.append(err)
        elif r.patient_id:
            seen[r.patient_id] = r.row
    return CaseSheet(rows=rows, errors=all_errors, columns=names,
                     grade_columns={b: str(header[j]) for b, j in grade_cols.items()})
