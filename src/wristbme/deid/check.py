"""Look for identifiers left in a dataset that should have been de-identified (used by intake).

``residual_identifiers`` returns one finding per problem, naming the attribute keyword, never its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

from wristbme.deid.deidentify import DATE_VRS, DUMMY_BY_VR
from wristbme.deid.profile import is_curve_or_overlay, profile_by_tag, resolve_action

PSEUDONYM = re.compile(r"^S\d{2}-\d{4}$")
KEYED_UID_ROOT = "2.25."
_DUMMIES = {str(v) for v in DUMMY_BY_VR.values()}


@dataclass(frozen=True)
class Finding:
    code: str
    """``identity_not_removed``, ``patient_name``, ``patient_id``, ``birth_date``, ``date_present``,
    ``private_tag``, ``identifying_attribute``, ``uid_not_replaced``."""
    keyword: str

    def __str__(self) -> str:
        return f"{self.code}:{self.keyword}"


def residual_identifiers(ds: Dataset, *, pseudonym: str | None = None) -> list[Finding]:
    """Identifiers still present in a dataset that claims to be de-identified.

    Parameters
    ----------
    ds : Dataset
    pseudonym : str, optional
        The expected pseudonym; PatientID (and a non-empty PatientName) must equal it.
    """
    found: list[Finding] = []
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        found.append(Finding("identity_not_removed", "PatientIdentityRemoved"))
    pid = str(ds.get("PatientID", "") or "").strip()
    if not PSEUDONYM.match(pid) or (pseudonym and pid != pseudonym):
        found.append(Finding("patient_id", "PatientID"))
    name = str(ds.get("PatientName", "") or "").strip()
    if name and name not in (pid, pseudonym or pid, "ANONYMOUS"):
        found.append(Finding("patient_name", "PatientName"))
    if str(ds.get("PatientBirthDate", "") or "").strip():
        found.append(Finding("birth_date", "PatientBirthDate"))
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        value = str(ds.get(kw, "") or "")
        if value and not value.startswith(KEYED_UID_ROOT):
            found.append(Finding("uid_not_replaced", kw))
    _walk(ds, found, top=True)
    return found


def _walk(ds: Dataset, found: list[Finding], *, top: bool) -> None:
    table = profile_by_tag()
    skip = {0x00100010, 0x00100020, 0x00100030} if top else set()
    for elem in ds:
        tag = int(elem.tag)
        keyword = elem.keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        if elem.tag.is_private or is_curve_or_overlay(tag):
            found.append(Finding("private_tag" if elem.tag.is_private else "identifying_attribute", keyword))
            continue
        if elem.VR == "SQ":
            row = table.get(tag)
            if row is not None and resolve_action(row) in ("X",) and len(elem.value):
                found.append(Finding("identifying_attribute", keyword))
                continue
            for item in elem.value:
                _walk(item, found, top=False)
            continue
        if tag in skip:
            continue
        empty = elem.value is None or elem.value == "" or (hasattr(elem.value, "__len__") and len(elem.value) == 0)
        if empty:
            continue
        if elem.VR in DATE_VRS:
            found.append(Finding("date_present", keyword))
            continue
        row = table.get(tag)
        if row is None:
            continue
        action = resolve_action(row)
        if action in ("X", "Z") or action == "D" and str(elem.value) not in _DUMMIES:
            found.append(Finding("identifying_attribute", keyword))
