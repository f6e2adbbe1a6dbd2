"""The PS3.15 Annex E attribute table, read from the standard's own data.

``confidentiality_profile_attributes.json`` (rev 2024b, from innolitics/dicom-standard, MIT; licence in
``LICENSE-innolitics-dicom-standard.txt`` beside it) lists each attribute with its Basic Profile action
and each option's action. Action codes (PS3.15 Table E.1-1a):

- ``D`` replace with a non-zero-length dummy value consistent with the VR
- ``Z`` replace with a zero-length value (or a dummy)
- ``X`` remove
- ``K`` keep
- ``C`` clean (replace identifying text with non-identifying values of similar meaning)
- ``U`` replace a UID with a non-zero-length UID that is consistent within the set of instances
- compound forms (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``) leave the choice to the de-identifier
  depending on the attribute's type in the IOD.

``resolve_action`` turns a row into the one action wristbme applies (see its docstring).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

PROFILE_FILE = "confidentiality_profile_attributes.json"
PROFILE_NAME = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (rev 2024b) " \
               "+ Retain Patient Characteristics Option"

RETAINED_PATIENT_CHARACTERISTICS = frozenset({
    0x00100040,  # Patient's Sex
    0x00101010,  # Patient's Age
    0x00101020,  # Patient's Size
    0x00101030,  # Patient's Weight
})
"""Attributes kept under the Retain Patient Characteristics Option that the study uses (sex, age, size,
weight). The option's other K/C attributes (allergies, smoking status, ...) are removed: not needed."""

KEEP_EMPTY = frozenset({
    0x00080020, 0x00080030, 0x00080050, 0x00080090, 0x00200010,  # study date/time, accession, referrer, study id
    0x00100030,  # Patient's Birth Date (Type 2 in the Patient module)
    0x00080023, 0x00080033,  # content date/time (Type 2C/1 in some IODs): emptied rather than removed
})
"""Attributes with a compound action including Z that are emptied (Type 2 in the CR/DX IODs) rather than
removed, so the output stays a conformant object. Emptied, they keep no date."""

_TAG = re.compile(r"^\(([0-9A-F]{4}),([0-9A-F]{4})\)$")


@dataclass(frozen=True)
class ProfileRow:
    """One attribute of the table."""

    tag: int | None
    """``(group << 16) | element``; None for the pattern rows (``50xx``, ``60xx``, private)."""
    pattern: str
    name: str
    basic: str
    """Basic Profile action as written (e.g. ``X/Z/D``)."""
    options: dict[str, str]


@cache
def profile_rows() -> tuple[ProfileRow, ...]:
    """Every row of the standard's table, in file order."""
    text = (resources.files("wristbme.deid") / PROFILE_FILE).read_text(encoding="utf-8")
    rows = []
    for item in json.loads(text):
        match = _TAG.match(item["tag"])
        tag = int(match.group(1) + match.group(2), 16) if match else None
        options = {k: v for k, v in item.items() if k.endswith("Opt")}
        rows.append(ProfileRow(tag=tag, pattern=item["tag"], name=item["name"], basic=item["basicProfile"],
                               options=options))
    return tuple(rows)


@cache
def profile_by_tag() -> dict[int, ProfileRow]:
    return {row.tag: row for row in profile_rows() if row.tag is not None}


def resolve_action(row: ProfileRow) -> str:
    """The single action applied to an attribute: ``K``, ``X``, ``Z``, ``D`` or ``U``.

    Rules: attributes of the Retain Patient Characteristics Option that the study uses are kept (``K``);
    ``U`` (UIDs) is replaced by a keyed-hash UID; a compound form is ``X`` (remove) unless the attribute is
    in ``KEEP_EMPTY`` (Type 2 in the radiography IODs, emptied with ``Z``); a form without ``X`` uses ``Z``
    when allowed, else ``D``. ``C`` (clean) is never attempted: what would be cleaned is removed.
    """
    if row.tag in RETAINED_PATIENT_CHARACTERISTICS:
        return "K"
    choices = [c.rstrip("*") for c in row.basic.split("/")]
    if choices == ["U"]:
        return "U"
    if row.tag in KEEP_EMPTY and "Z" in choices:
        return "Z"
    if "X" in choices:
        return "X"
    if "Z" in choices:
        return "Z"
    if "D" in choices:
        return "D"
    if "U" in choices:
        return "U"
    return "X"


def is_curve_or_overlay(tag: int) -> bool:
    """Tags of the repeating groups the table removes: curves (50xx,xxxx), overlay data/comments (60xx)."""
    group = tag >> 16
    return (0x5000 <= group <= 0x50FF and group % 2 == 0) or (0x6000 <= group <= 0x60FF and group % 2 == 0)
