"""The study: store schema and migrations, case sheets, eligibility, intake, withdrawal, audit, packaging.

Public entry points (see docs/study.md)::

    from wristbme.study import open_store, create_store, StudyConfig
    from wristbme.study.service import list_analysis_images, record_score_run, record_correction
    from wristbme.study.audit import audit
"""

from wristbme.study.config import StudyConfig, default_config, resolve_study_dir
from wristbme.study.store import Store, create_store, open_store

__all__ = ["StudyConfig", "Store", "create_store", "default_config", "open_store", "resolve_study_dir"]
