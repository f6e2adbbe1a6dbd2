"""Read :class:`StudyData` from a study folder's store (``wristbme.study``).

The store engineer's ``wristbme.study.analysis.analysis_tables`` gives the frames in the contract's shape;
this module adds the provenance (software, model, hashes, lock) and checks the result against the contract.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from wristbme import __version__
from wristbme.errors import ConfigError, WristBmeError
from wristbme.report.contract import (
    FLOW_COLUMNS,
    SCORE_COLUMNS,
    WRIST_COLUMNS,
    Provenance,
    StudyData,
    snapshot_hash,
)

_SCALAR = (str, int, float, bool)


def load_study_data(study_dir: str | Path) -> StudyData:
    """The analysis data of the study in ``study_dir`` (a folder with ``study.toml`` and its store).

    Raises
    ------
    ConfigError
        The folder is not a study, or the store module is not available in this build, or the store holds
        data the contract refuses (the message names the column).
    """
    path = Path(study_dir)
    try:
        from sqlalchemy import select

        from wristbme.study.analysis import analysis_tables, provenance_facts
        from wristbme.study.models import ScoreRun
        from wristbme.study.store import open_store
    except ImportError:
        raise ConfigError.localized("report.cli.store_unavailable", path=path) from None
    if not path.is_dir():
        raise ConfigError(f"study folder {path} does not exist; pass the folder that holds study.toml", path=path)
    store = open_store(path)
    try:
        with store.session() as session:
            tables = analysis_tables(session)
            runs = {str(r.id): r for r in session.scalars(select(ScoreRun))}
        facts = provenance_facts(store)
    finally:
        store.close()
    wrists = tables["wrists"].loc[:, list(WRIST_COLUMNS)]
    scores = tables["scores"].loc[:, list(SCORE_COLUMNS)]
    flow = tables["flow"].loc[:, list(FLOW_COLUMNS)]
    primary = scores[scores["kind"] == "primary"]
    model_id, summary, synthetic = "", {}, False
    if len(primary):
        run_id = Counter(primary["run_id"]).most_common(1)[0][0]
        run = runs.get(str(run_id))
        model_id = str(primary["model_id"].mode().iloc[0])
        if run is not None:
            summary = {"model_version": run.model_version,
                       **{k: v for k, v in (run.params or {}).items() if isinstance(v, _SCALAR)}}
            synthetic = bool((run.params or {}).get("synthetic", False))
    synthetic = synthetic or any(bool((r.params or {}).get("synthetic", False)) for r in runs.values())
    provenance = Provenance(
        software_version=__version__, model_id=model_id, model_summary=summary,
        study_toml_sha256=facts.get("study_toml_sha256", ""), locked=bool(facts.get("locked")),
        locked_at=str(facts.get("locked_at") or ""), withdrawals_since_lock=int(facts.get("withdrawals_since_lock", 0)),
        synthetic=synthetic, study_name=str(facts.get("study_name", "")))
    data = StudyData(wrists, scores, flow, provenance)
    try:
        data = data.validated()
    except WristBmeError as exc:
        raise ConfigError(f"the study store in {path} does not fit the report contract: {exc.message}",
                          path=path) from exc
    return data.with_provenance(data_snapshot_sha256=snapshot_hash(data))
