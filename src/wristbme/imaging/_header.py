"""Header facts from free text: laterality and view words, spacing values (pure; no pydicom here)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

from wristbme.errors import ConfigError, InputError
from wristbme.imaging.radiograph import Laterality, View

_TOKEN = re.compile(r"[A-Za-z]+|[右左両]")
_BOTH_WORDS = {"BOTH", "BILATERAL", "BILAT", "両"}
_RIGHT_WORDS = {"RIGHT", "RT", "RGT", "DEXTER", "DEXTRA"}
_LEFT_WORDS = {"LEFT", "LT", "LFT", "SINISTER", "SINISTRA"}
_BODY_WORDS = {"HAND", "HANDS", "WRIST", "WRISTS", "WR", "WRT", "HND", "CARPUS", "FOREARM", "FINGER", "FINGERS"}

_VIEW_WORDS = {
    "PA": View.PA, "AP": View.AP, "LL": View.LATERAL, "RL": View.LATERAL, "LAT": View.LATERAL,
    "LATERAL": View.LATERAL, "LLD": View.LATERAL, "RLD": View.LATERAL, "OBL": View.OBLIQUE,
    "OBLIQUE": View.OBLIQUE, "LAO": View.OBLIQUE, "RAO": View.OBLIQUE, "LPO": View.OBLIQUE,
    "RPO": View.OBLIQUE,
}


def laterality_from_text(texts: Iterable[str]) -> Laterality:
    """Laterality named in free text (Series/Study Description, Protocol Name ...).

    Words RIGHT/LEFT (and RT/LT, DEXTER/SINISTER), the kanji 右/左 anywhere, and a lone ``R``/``L`` only
    next to a body word (``R HAND``, ``WRIST L``). Text naming both sides, or BOTH/BILATERAL/両, gives UNKNOWN.

    >>> laterality_from_text(["XR WRIST 2V RIGHT"]).value, laterality_from_text(["手関節 左"]).value
    ('R', 'L')
    >>> laterality_from_text(["R HAND PA"]).value, laterality_from_text(["BOTH HANDS R/L"]).value
    ('R', 'U')
    """
    found: set[Laterality] = set()
    for text in texts:
        if not text:
            continue
        tokens = [tok.upper() for tok in _TOKEN.findall(str(text))]
        if _BOTH_WORDS & set(tokens):
            return Laterality.UNKNOWN
        for i, tok in enumerate(tokens):
            if tok in _RIGHT_WORDS or tok == "右":
                found.add(Laterality.RIGHT)
            elif tok in _LEFT_WORDS or tok == "左":
                found.add(Laterality.LEFT)
            elif tok in ("R", "L"):
                neighbours = tokens[max(0, i - 1):i] + tokens[i + 1:i + 2]
                if any(n in _BODY_WORDS for n in neighbours):
                    found.add(Laterality.RIGHT if tok == "R" else Laterality.LEFT)
    return found.pop() if len(found) == 1 else Laterality.UNKNOWN


def view_from_text(value: str | None) -> View:
    """View from a View Position (0018,5101) value or a description word (``PA``, ``LAT``, ``OBL`` ...).

    >>> view_from_text("PA").value, view_from_text("LATERAL").value, view_from_text("").value
    ('PA', 'LAT', 'UNKNOWN')
    """
    found = {_VIEW_WORDS[tok.upper()] for tok in _TOKEN.findall(str(value or "")) if tok.upper() in _VIEW_WORDS}
    return found.pop() if len(found) == 1 else View.UNKNOWN


def normalize_spacing_mm(value: object, *, name: str = "spacing_mm", path: str | Path | None = None,
                         from_file: bool = False) -> tuple[float, float] | None:
    """``value`` as a (row, col) spacing in mm: a positive number, or a pair of them; None stays None.

    Raises
    ------
    ConfigError
        ``value`` came from an argument and is not one or two positive finite numbers.
    InputError
        Same, for a value read from a file (``from_file=True``, e.g. a sidecar JSON).
    """
    if value is None:
        return None
    error = InputError if from_file else ConfigError
    items: list[object]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [value, value]
    elif isinstance(value, str):
        parts = [p for p in re.split(r"[\s,\\/x]+", value.strip()) if p]
        items = parts * 2 if len(parts) == 1 else parts
    elif isinstance(value, (list, tuple)):
        items = list(value) * 2 if len(value) == 1 else list(value)
    else:
        items = []
    try:
        numbers = [float(v) for v in items]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) != 2 or not all(math.isfinite(v) and v > 0 for v in numbers):
        raise error.localized("imaging.bad_spacing", path=path, name=name, value=repr(value))
    return numbers[0], numbers[1]
