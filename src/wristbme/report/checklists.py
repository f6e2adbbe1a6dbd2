"""GRRAS and STARD 2015 checklist items, each mapped to the report section that answers it.

An anchor of ``None`` means the item is answered by the study protocol, not by this report (the report
says so rather than pretending). Item texts are short paraphrases in the report catalog
(``report.grras.<n>``, ``report.stard.<id>``).

References
----------
Kottner J et al. (2011). Guidelines for Reporting Reliability and Agreement Studies (GRRAS) were proposed.
J Clin Epidemiol 64:96–106. doi:10.1016/j.jclinepi.2010.03.002
Bossuyt PM et al. (2015). STARD 2015: an updated list of essential items for reporting diagnostic accuracy
studies. BMJ 351:h5527. doi:10.1136/bmj.h5527
"""

from __future__ import annotations

GRRAS_ITEMS: tuple[tuple[str, str | None], ...] = (
    ("1", "summary"), ("2", "methods"), ("3", "baseline"), ("4", "inter-operator"), ("5", None),
    ("6", "flow"), ("7", "flow"), ("8", "methods"), ("9", "methods"), ("10", "methods"),
    ("11", "reproducibility"), ("12", "baseline"), ("13", "test-retest"), ("14", "limitations"),
    ("15", "provenance"),
)

STARD_ITEMS: tuple[tuple[str, str | None], ...] = (
    ("1", "summary"), ("2", "summary"), ("3", None), ("4", "summary"), ("5", None), ("6", "flow"), ("7", "flow"),
    ("8", "baseline"), ("9", None), ("10a", "methods"), ("10b", "methods"), ("11", None), ("12a", "cutoffs"),
    ("12b", "methods"), ("13a", "methods"), ("13b", "methods"), ("14", "methods"), ("15", "methods"),
    ("16", "methods"), ("17", "site-auc"), ("18", None), ("19", "flow"), ("20", "baseline"), ("21a", "baseline"),
    ("21b", None), ("22", "baseline"), ("23", "cutoffs"), ("24", "accuracy"), ("25", None), ("26", "limitations"),
    ("27", "summary"), ("28", None), ("29", None), ("30", None),
)
