"""The study report: the :class:`StudyData` contract, the analysis, and the bilingual HTML/PDF report.

``build_report(data, out_dir, lang)`` writes ``report.html`` (self-contained), ``report.pdf`` (WeasyPrint)
and ``numbers.json``. ``synthetic_study_data(...)`` makes clearly synthetic data for tests and demos;
``loader.load_study_data(study_dir)`` reads the study store. See docs/report.md.
"""

from wristbme.report.contract import (
    FLOW_COLUMNS,
    FLOW_STAGES,
    SCORE_COLUMNS,
    SCORE_KINDS,
    WRIST_COLUMNS,
    Provenance,
    StudyData,
    snapshot_hash,
)
from wristbme.report.render import ReportResult, build_report
from wristbme.report.synthetic import synthetic_study_data

__all__ = ["FLOW_COLUMNS", "FLOW_STAGES", "SCORE_COLUMNS", "SCORE_KINDS", "WRIST_COLUMNS", "Provenance",
           "ReportResult", "StudyData", "build_report", "snapshot_hash", "synthetic_study_data"]
