"""Tables for the report, in the shape of ``wristbme.report.contract.StudyData`` (without importing it).

``analysis_tables(session)`` returns pandas frames:

- ``wrists``: one row per analysed wrist (eligible subject, analysed image not QC-failed) with the contract's
  columns (``pseudonym, site, laterality`` as ``left``/``right``, ``age_years, sex, duration_months,
  interval_days, bme_present, grade_<bone>``) plus ``image_id`` and ``xray_year``;
- ``scores``: the contract's columns. ``kind``: runs labelled ``reencode``, ``operator``, ``rerun`` or
  ``retest`` are repeats and keep their label; any other run (unlabelled, ``primary``, or a free label such
  as the synthetic-data note) is a primary run. On the analysed image the newest primary run gives
  ``primary``, older ones ``rerun``; on another image of the same wrist, ``retest`` (or ``operator``);
- ``flow``: STARD counts of patients per site and stage (``received, ineligible, opted_out, withdrawn,
  qc_failed, analysed``; ``reason`` for ineligible = first eligibility reason code, for qc_failed = the
  finding code, or ``not_scorable:<reason>`` for an analysed image the newest primary score run could not
  score — that wrist then leaves ``wrists`` and ``scores``); received is the sum of the other stages;
- ``images``: every stored image with its non-identifying facts.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from wristbme.bones import Bone
from wristbme.study.models import (
    Case,
    CaseGrade,
    FeatureSet,
    Image,
    Intake,
    QcFinding,
    QcStatus,
    Score,
    ScoreRun,
    StudyLock,
    Subject,
    SubjectStatus,
    Withdrawal,
)

WRIST_COLUMNS = ("pseudonym", "site", "laterality", "age_years", "sex", "duration_months", "interval_days",
                 "bme_present", *(f"grade_{b.value}" for b in Bone), "image_id", "xray_year")
SCORE_COLUMNS = ("pseudonym", "site", "image_id", "laterality", "bone", "score", "run_id", "model_id", "kind",
                 "operator")
FLOW_COLUMNS = ("site", "stage", "reason", "n")
IMAGE_COLUMNS = ("image_id", "pseudonym", "site", "laterality", "view", "analysed", "rows", "cols", "spacing_row_mm",
                 "spacing_col_mm", "spacing_source", "transfer_syntax", "manufacturer", "model", "modality",
                 "qc_status", "burned_in")
SIDE = {"R": "right", "L": "left"}
REPEAT_KINDS = ("reencode", "operator", "rerun", "retest")


def _unscorable_reason(features: dict) -> str:
    """Why an image got no wrist score: its image-level QC flag when that blocked every bone, else the
    scorer's reason code (``too_few_bones``, ``no_scorable_bones``)."""
    flags = sorted({r.split(":", 1)[1] for r in (features.get("reasons") or {}).values()
                    if isinstance(r, str) and r.startswith("image_flagged:")})
    if flags:
        return flags[0]
    return str(features.get("wrist_reason") or "scoring_failed").split(":")[0]


def analysis_tables(session: Session) -> dict[str, pd.DataFrame]:
    """``{"wrists", "scores", "flow", "images"}`` frames (see module docstring); empty frames keep their columns."""
    subjects = {s.id: s for s in session.scalars(select(Subject))}
    cases = {c.subject_id: c for c in session.scalars(select(Case))}
    grades: dict[int, dict[str, int | None]] = defaultdict(dict)
    for g in session.scalars(select(CaseGrade)):
        grades[g.subject_id][g.bone] = g.grade
    images = list(session.scalars(select(Image).order_by(Image.id)))

    image_rows = []
    for img in images:
        sub = subjects[img.subject_id]
        image_rows.append({"image_id": str(img.id), "pseudonym": sub.pseudonym, "site": sub.site_code,
                           "laterality": SIDE.get(img.laterality, img.laterality), "view": img.view,
                           "analysed": bool(img.analysed), "rows": img.rows, "cols": img.cols,
                           "spacing_row_mm": img.spacing_row_mm, "spacing_col_mm": img.spacing_col_mm,
                           "spacing_source": img.spacing_source, "transfer_syntax": img.transfer_syntax,
                           "manufacturer": img.manufacturer, "model": img.model, "modality": img.modality,
                           "qc_status": img.qc_status, "burned_in": img.burned_in})

    analysed: dict[int, Image] = {}
    for img in images:
        sub = subjects[img.subject_id]
        case = cases.get(img.subject_id)
        if (img.analysed and case is not None and case.eligible and sub.status == SubjectStatus.ELIGIBLE.value
                and img.qc_status != QcStatus.FAIL.value):
            analysed[img.subject_id] = img

    wrist_rows = []
    for subject_id, img in sorted(analysed.items(), key=lambda kv: subjects[kv[0]].pseudonym):
        sub, case = subjects[subject_id], cases[subject_id]
        row = {"pseudonym": sub.pseudonym, "site": sub.site_code, "laterality": SIDE.get(img.laterality, "right"),
               "age_years": case.age_years, "sex": case.sex, "duration_months": case.duration_months,
               "interval_days": case.interval_days, "bme_present": bool(case.bme_present),
               "image_id": str(img.id), "xray_year": case.xray_year}
        for b in Bone:
            value = grades[subject_id].get(b.value)
            row[f"grade_{b.value}"] = value
        wrist_rows.append(row)
    wrists = pd.DataFrame(wrist_rows, columns=list(WRIST_COLUMNS))
    for b in Bone:
        wrists[f"grade_{b.value}"] = wrists[f"grade_{b.value}"].astype("Int64")

    # scores
    runs = {r.id: r for r in session.scalars(select(ScoreRun))}
    def is_primary(r: ScoreRun) -> bool:
        return (r.label or "primary").lower() not in REPEAT_KINDS

    primary_runs = sorted((r for r in runs.values() if is_primary(r)), key=lambda r: (r.created_at, r.id))
    newest_primary = primary_runs[-1].id if primary_runs else None
    by_image = {img.id: img for img in images}
    score_rows = []
    for sc in session.scalars(select(Score).order_by(Score.id)):
        img = by_image.get(sc.image_id)
        if img is None or img.subject_id not in analysed:
            continue
        wrist_img = analysed[img.subject_id]
        if img.laterality != wrist_img.laterality:
            continue
        run = runs[sc.run_id]
        label = (run.label or "primary").lower()
        if img.id == wrist_img.id:
            if is_primary(run):
                kind = "primary" if run.id == newest_primary else "rerun"
            else:
                kind = label
        else:
            kind = "operator" if label == "operator" else "retest"
        sub = subjects[img.subject_id]
        score_rows.append({"pseudonym": sub.pseudonym, "site": sub.site_code, "image_id": str(img.id),
                           "laterality": SIDE.get(img.laterality, "right"), "bone": sc.region, "score": sc.score,
                           "run_id": str(run.id), "model_id": run.model_id, "kind": kind,
                           "operator": run.operator or ""})
    scores = pd.DataFrame(score_rows, columns=list(SCORE_COLUMNS))

    # an analysed image the newest primary run could not score (QC-flagged anatomy, too few scorable bones)
    # leaves the analysis here, with the scorer's reason in the flow, instead of failing the report
    unscorable: dict[int, str] = {}
    if newest_primary is not None:
        scored = {(r["pseudonym"], r["laterality"]) for r in score_rows
                  if r["kind"] == "primary" and r["bone"] == "wrist"}
        reasons = {f.image_id: _unscorable_reason(f.data or {}) for f in session.scalars(
            select(FeatureSet).where(FeatureSet.run_id == newest_primary))}
        for subject_id, img in analysed.items():
            key = (subjects[subject_id].pseudonym, SIDE.get(img.laterality, "right"))
            if key not in scored:
                unscorable[subject_id] = "not_scorable:" + reasons.get(img.id, "scoring_failed")
        if unscorable:
            gone = {subjects[sid].pseudonym for sid in unscorable}
            wrists = wrists[~wrists["pseudonym"].isin(gone)].reset_index(drop=True)
            scores = scores[~scores["pseudonym"].isin(gone)].reset_index(drop=True)

    # flow (patients)
    flow: Counter[tuple[str, str, str]] = Counter()
    findings: dict[int, list[str]] = defaultdict(list)
    for f in session.scalars(select(QcFinding).where(QcFinding.image_id.is_(None))):
        if f.subject_id is not None and f.severity == QcStatus.FAIL.value:
            findings[f.subject_id].append(f.code)
    for sid, sub in subjects.items():
        case = cases.get(sid)
        if case is None:
            continue  # images without a case row are refused at intake; a subject without a case does not exist
        if not case.eligible:
            reason = (case.eligibility_reasons or ["unknown"])[0]
            flow[(sub.site_code, "ineligible", reason)] += 1
        elif sid in unscorable:
            flow[(sub.site_code, "qc_failed", unscorable[sid])] += 1
        elif sid in analysed:
            flow[(sub.site_code, "analysed", "")] += 1
        else:
            reason = findings[sid][0] if findings.get(sid) else "qc_failed"
            flow[(sub.site_code, "qc_failed", reason)] += 1
    for w in session.scalars(select(Withdrawal)):
        flow[(w.site_code, "withdrawn", "")] += 1
    opted: dict[str, int] = {}
    for it in session.scalars(select(Intake)):
        n = int((it.counts or {}).get("opted_out_at_site", 0) or 0)
        opted[it.site_code] = max(opted.get(it.site_code, 0), n)
    for site, n in opted.items():
        if n:
            flow[(site, "opted_out", "")] += n
    received: Counter[str] = Counter()
    for (site, _stage, _reason), n in flow.items():
        received[site] += n
    rows = [{"site": site, "stage": "received", "reason": "", "n": n} for site, n in sorted(received.items())]
    rows += [{"site": site, "stage": stage, "reason": reason, "n": n}
             for (site, stage, reason), n in sorted(flow.items())]
    flow_df = pd.DataFrame(rows, columns=list(FLOW_COLUMNS))
    flow_df["n"] = flow_df["n"].astype(int)

    return {"wrists": wrists, "scores": scores, "flow": flow_df,
            "images": pd.DataFrame(image_rows, columns=list(IMAGE_COLUMNS))}


def provenance_facts(store) -> dict:
    """Facts for the report's provenance: study name, study.toml hash, lock state, withdrawals since the lock."""
    toml_path = store.root / "study.toml"
    with store.session() as s:
        lock = s.scalar(select(StudyLock).where(StudyLock.active.is_(True)).order_by(StudyLock.id.desc()).limit(1))
        after = s.scalar(select(Withdrawal.id).where(Withdrawal.after_lock.is_(True)).limit(1))
        n_after = len(list(s.scalars(select(Withdrawal.id).where(Withdrawal.after_lock.is_(True))))) if after else 0
    return {"study_name": store.config.protocol_name,
            "study_toml_sha256": hashlib.sha256(toml_path.read_bytes()).hexdigest() if toml_path.exists() else "",
            "locked": lock is not None, "locked_at": lock.locked_at.date().isoformat() if lock else "",
            "lock_content_sha256": lock.content_sha256 if lock else "", "withdrawals_since_lock": n_after}
