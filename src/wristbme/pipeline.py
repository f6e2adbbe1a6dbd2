"""Scoring orchestration: radiograph → anatomy → features → model → scores (+ overlays), one image or many.

``score_radiograph`` is the unit of work; ``score_files`` runs it over files on a process pool (all cores by
default) with a progress bar on stderr; ``score_study`` runs it over a study store and records a new score
run each time (old runs are kept); ``features_table_from_store`` builds the training table from a store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wristbme.anatomy.types import WristAnatomy
from wristbme.bones import RAMRIS_BONES
from wristbme.errors import AnatomyError, WristBmeError
from wristbme.features import BoneFeatures, extract
from wristbme.imaging.radiograph import Radiograph
from wristbme.model.artifact import BmeScore, ModelArtifact


@dataclass(frozen=True)
class ScoredImage:
    """One scored radiograph: where the bones are, their features and the scores."""

    anatomy: WristAnatomy
    features: BoneFeatures
    score: BmeScore


def locate_anatomy(radiograph: Radiograph, corrections: dict | None = None) -> WristAnatomy:
    """``wristbme.anatomy.locate`` when installed; otherwise an ``AnatomyError`` saying so (never a guess)."""
    try:
        from wristbme.anatomy import locate
    except ImportError as exc:
        raise AnatomyError.localized("engine.error.no_locator") from exc
    return locate(radiograph, corrections=corrections)


def score_radiograph(radiograph: Radiograph, artifact: ModelArtifact, *, anatomy: WristAnatomy | None = None,
                     corrections: dict | None = None, site: str | None = None) -> ScoredImage:
    """Score one radiograph; ``anatomy`` skips localisation (e.g. a reviewed or ground-truth anatomy).

    ``site`` is needed only by models trained with ComBat (without it harmonisation is skipped and the
    score says so in ``notes``).
    """
    if anatomy is None:
        anatomy = locate_anatomy(radiograph, corrections)
    feats = extract(radiograph, anatomy, spacing_mm=artifact.spacing_mm)
    return ScoredImage(anatomy, feats, artifact.score(feats, site=site))


def score_record(path: str, scored: ScoredImage, artifact: ModelArtifact, lang: str = "en") -> dict:
    """The JSON record of one scored file (``wristbme score --json``)."""
    from wristbme.i18n import t

    rec = {"path": path, "ok": True, **scored.score.to_dict(), "model_id": artifact.model_id,
           "anatomy_method": scored.anatomy.method, "anatomy_qc_flags": list(scored.anatomy.qc_flags)}
    rec["label"] = t("engine.demo_label", lang) if artifact.synthetic else None
    return rec


def render_scores_overlay(radiograph: Radiograph, anatomy: WristAnatomy, score: BmeScore, path: Path,
                          *, label: str | None = None, lang: str = "en") -> Path:
    """Write an overlay PNG: regions coloured by score with the score per bone (anatomy's renderer when
    available, else a simple heatmap). ``label`` (e.g. the demonstration-model label) is stamped on it."""
    scores = {b: v for b, v in score.bones.items() if v is not None}
    try:
        from wristbme.anatomy.overlay import render_overlay
    except ImportError:
        render_overlay = None
    rgb = (render_overlay(radiograph, anatomy, scores=scores, lang=lang) if render_overlay is not None
           else _heatmap(radiograph, anatomy, scores))
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    text = f"wrist {score.wrist:.0f}/100" if score.wrist is not None else f"wrist: {score.wrist_reason}"
    text += f"  |  model {score.model_id}"
    if label:
        text = label + "\n" + text
    draw = ImageDraw.Draw(img)
    font = _label_font(max(12, img.size[1] // 50), lang)
    if font is None:  # no TrueType font: the bitmap default has ASCII only
        font = ImageFont.load_default()
        text = text.replace("\u2014", "-").encode("ascii", "replace").decode()
    box = draw.multiline_textbbox((0, 0), text, font=font)
    x, y = 6, img.size[1] - (box[3] - box[1]) - 12  # bottom left, clear of the renderer's legend
    draw.rectangle((x - 4, y - 4, x + box[2] - box[0] + 4, y + box[3] - box[1] + 6), fill=(0, 0, 0))
    draw.multiline_text((x, y), text, fill=(255, 255, 0), font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _label_font(size: int, lang: str):
    """A TrueType font with the label's characters (Noto CJK for Japanese, else DejaVu), or None."""
    from PIL import ImageFont

    paths = []
    if lang == "ja":
        paths += [Path("/usr/share/fonts/opentype/noto") / n for n in ("NotoSansCJK-Regular.ttc",
                                                                       "NotoSerifCJK-Regular.ttc")]
    try:
        import matplotlib

        paths.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    except ImportError:  # pragma: no cover
        pass
    for p in paths:
        if p.is_file():
            return ImageFont.truetype(str(p), size)
    return None


def _heatmap(radiograph: Radiograph, anatomy: WristAnatomy, scores: dict) -> np.ndarray:
    """Fallback overlay: grey image with each scored region tinted blue (0) to red (100)."""
    px = radiograph.pixels
    lo, hi = np.percentile(px, [0.5, 99.5])
    grey = np.clip((px - lo) / max(hi - lo, 1e-6), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    for bone, value in scores.items():
        if bone not in anatomy.regions:
            continue
        m = anatomy.mask(bone)
        s = float(value) / 100.0
        colour = np.array([s, 0.2, 1.0 - s])
        rgb[m] = 0.55 * rgb[m] + 0.45 * colour
    return (rgb * 255).astype(np.uint8)


# -- batch over files ------------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(artifact: ModelArtifact, spacing_mm: float | None, overlay_dir: str | None, lang: str) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER.update(artifact=artifact, spacing_mm=spacing_mm, overlay_dir=overlay_dir, lang=lang)


def _score_one_file(path: str) -> dict:
    from wristbme.i18n import t
    from wristbme.imaging import read_radiograph

    artifact: ModelArtifact = _WORKER["artifact"]
    lang = _WORKER.get("lang", "en")
    try:
        rg = read_radiograph(path, spacing_mm=_WORKER.get("spacing_mm"))
        scored = score_radiograph(rg, artifact)
        rec = score_record(path, scored, artifact, lang)
        if _WORKER.get("overlay_dir"):
            out = Path(_WORKER["overlay_dir"]) / (Path(path).stem + "_bme.png")
            label = t("engine.demo_label", lang) if artifact.synthetic else None
            rec["overlay"] = str(render_scores_overlay(rg, scored.anatomy, scored.score, out, label=label,
                                                       lang=lang))
        return rec
    except WristBmeError as exc:
        return {"path": path, "ok": False, "error": type(exc).__name__, "message": exc.render(lang),
                "model_id": artifact.model_id,
                "label": t("engine.demo_label", lang) if artifact.synthetic else None}


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def score_files(paths: Sequence[str | Path], artifact: ModelArtifact, workers: int | None = None, *,
                spacing_mm: float | None = None, overlay_dir: str | Path | None = None, lang: str = "en",
                progress: bool = True) -> list[dict]:
    """Score files on a process pool; one record per path, in input order (errors are records, not raises).

    Parameters
    ----------
    workers : int, optional
        Processes; default all cores. 1 runs in this process.
    spacing_mm : float, optional
        Pixel spacing for files that state none (passed to ``read_radiograph``).
    """
    items = [str(p) for p in paths]
    workers = default_workers() if workers is None else max(1, int(workers))
    init = (artifact, spacing_mm, str(overlay_dir) if overlay_dir else None, lang)
    return _run_pool(items, _score_one_file, _init_worker, init, workers, progress, "engine.progress.score", lang)


def _run_pool(items: list, fn: Callable, init: Callable, initargs: tuple, workers: int, progress: bool,
              key: str, lang: str) -> list:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from wristbme.i18n import t

    results: list = [None] * len(items)
    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    from rich.console import Console

    with Progress(*cols, console=Console(stderr=True), disable=not progress, transient=True) as bar:
        task = bar.add_task(t(key, lang), total=len(items))
        if workers == 1 or len(items) <= 1:
            init(*initargs)
            for i, item in enumerate(items):
                results[i] = fn(item)
                bar.advance(task)
            return results
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn") if os.environ.get("WRISTBME_SPAWN") else mp.get_context()
        with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx, initializer=init,
                                 initargs=initargs) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.advance(task)
    return results


# -- features table for training ------------------------------------------------------------------
def features_rows(features: BoneFeatures, *, image_id: str, patient_id: str, site: str,
                  grades: dict | None = None) -> list[list]:
    """Rows (image × bone) of a training table for one image; ``grades`` maps Bone → MRI BME grade."""
    rows = []
    for bone in RAMRIS_BONES:
        if bone not in features.values:
            continue
        g = None if grades is None else grades.get(bone)
        rows.append([image_id, patient_id, site, bone.value, g, features.exclusions.get(bone, ""),
                     *features.values[bone].tolist()])
    return rows


def make_table(rows: Iterable[list], schema) -> pd.DataFrame:
    """A features table (``image_id, patient_id, site, bone, bme_grade, excluded`` + features) with the
    schema in ``attrs['schema']``."""
    cols = ["image_id", "patient_id", "site", "bone", "bme_grade", "excluded", *schema.names]
    df = pd.DataFrame(list(rows), columns=cols)
    df.attrs["schema"] = schema.to_dict()
    return df


# -- study store ----------------------------------------------------------------------------------
def _study_job(job: dict) -> dict:
    """Worker: read one stored image, use its corrected anatomy or locate one, extract, score."""
    from wristbme.anatomy.io import anatomy_from_json, anatomy_to_json
    from wristbme.imaging import read_radiograph

    artifact: ModelArtifact = _WORKER["artifact"]
    lang = _WORKER.get("lang", "en")
    out = {"image_id": job["image_id"], "ok": False}
    try:
        rg = read_radiograph(job["path"])
        anatomy = anatomy_from_json(job["anatomy"]) if job.get("anatomy") else None
        scored = score_radiograph(rg, artifact, anatomy=anatomy, site=job.get("site"))
        out.update(ok=True, score=scored.score, anatomy=None if job.get("anatomy") else anatomy_to_json(scored.anatomy),
                   anatomy_method=scored.anatomy.method,
                   features={"schema_hash": scored.features.schema.hash,
                             "values": {b.value: v.tolist() for b, v in scored.features.values.items()},
                             "exclusions": {b.value: r for b, r in scored.features.exclusions.items()},
                             "qc_flags": list(scored.features.qc_flags)})
        if _WORKER.get("overlay_dir"):
            from wristbme.i18n import t

            label = t("engine.demo_label", lang) if artifact.synthetic else None
            path = Path(job["derived_dir"]) / f"overlay_{artifact.model_id}.png"
            out["overlay"] = str(render_scores_overlay(rg, scored.anatomy, scored.score, path, label=label,
                                                       lang=lang))
    except WristBmeError as exc:
        out.update(error=type(exc).__name__, message=exc.render(lang))
    return out


def _store_jobs(store, *, corrected_only: bool = True) -> list[dict]:
    from wristbme.study.service import latest_anatomy, list_analysis_images

    jobs = []
    with store.session() as s, s.begin():
        for img in list_analysis_images(s):
            an = latest_anatomy(s, image_id=img.id)
            jobs.append({"image_id": img.id, "path": str(store.image_file(img)), "site": img.subject.site_code,
                         "subject": img.subject.pseudonym,
                         "anatomy": an.data if an is not None and (an.corrected or not corrected_only) else None,
                         "derived_dir": str(store.derived_dir(img.id))})
    return jobs


def score_study(store, artifact: ModelArtifact, workers: int | None = None, *, overlays: bool = True,
                lang: str = "en", progress: bool = True, operator: str | None = None) -> dict:
    """Score every analysed image of a study store and record a *new* score run (older runs are kept).

    Corrected anatomies (from the review UI) are used as they are; other images are located afresh and
    the located anatomy is stored when the image has none. Bones that cannot be scored are not stored as
    scores; their reasons go into the run's feature cache. Returns ``{"run_id", "n_images", "n_scored",
    "n_failed", "model_id", "failures": [{"image_id", "error"}]}``.
    """
    from wristbme.i18n import t
    from wristbme.study.service import (
        ScoreRow,
        latest_anatomy,
        record_anatomy,
        record_features,
        record_score_run,
    )

    jobs = _store_jobs(store)
    workers = default_workers() if workers is None else max(1, int(workers))
    init = (artifact, None, "store" if overlays else None, lang)
    results = _run_pool(jobs, _study_job, _init_worker, init, workers, progress, "engine.progress.score", lang)
    label = t("engine.demo_label", "en") if artifact.synthetic else None
    failures = []
    n_scored = 0
    with store.session() as s, s.begin():
        run = record_score_run(s, model_id=artifact.model_id, model_version=artifact.software_version,
                               params={"schema_hash": artifact.schema_hash, "spacing_mm": artifact.spacing_mm,
                                       "synthetic": artifact.synthetic, "n_images": len(jobs)},
                               operator=operator, label=label[:100] if label else None)
        for res in results:
            if not res["ok"]:
                failures.append({"image_id": res["image_id"], "error": res.get("error"),
                                 "message": res.get("message")})
                continue
            sc: BmeScore = res["score"]
            rows = [ScoreRow(res["image_id"], b.value, v / 100.0, v) for b, v in sc.bones.items() if v is not None]
            if sc.wrist is not None:
                rows.append(ScoreRow(res["image_id"], "wrist", sc.wrist / 100.0, sc.wrist))
                n_scored += 1
            from wristbme.study.service import add_scores

            add_scores(s, run_id=run.id, scores=rows)
            data = dict(res["features"])
            data.update(reasons={b.value: r for b, r in sc.reasons.items()}, wrist_reason=sc.wrist_reason,
                        notes=list(sc.notes), overlay=res.get("overlay"))
            record_features(s, run_id=run.id, image_id=res["image_id"], data=data)
            if res.get("anatomy") is not None and latest_anatomy(s, image_id=res["image_id"]) is None:
                record_anatomy(s, image_id=res["image_id"], data=res["anatomy"], method=res["anatomy_method"])
        run_id = run.id
    return {"run_id": run_id, "n_images": len(jobs), "n_scored": n_scored, "n_failed": len(failures),
            "model_id": artifact.model_id, "failures": failures}


def _features_job(job: dict) -> dict:
    from wristbme.anatomy.io import anatomy_from_json
    from wristbme.imaging import read_radiograph

    try:
        rg = read_radiograph(job["path"])
        anatomy = anatomy_from_json(job["anatomy"]) if job.get("anatomy") else locate_anatomy(rg)
        f = extract(rg, anatomy, spacing_mm=_WORKER["spacing_mm"])
        return {"image_id": job["image_id"], "ok": True,
                "values": {b.value: v.tolist() for b, v in f.values.items()},
                "exclusions": {b.value: r for b, r in f.exclusions.items()}}
    except WristBmeError as exc:
        return {"image_id": job["image_id"], "ok": False, "error": type(exc).__name__}


def _init_features(spacing_mm: float) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER.update(spacing_mm=spacing_mm)


def features_table_from_store(store, *, spacing_mm: float | None = None, workers: int | None = None,
                              progress: bool = True, lang: str = "en") -> pd.DataFrame:
    """The training table of a study: one row per analysed image × bone with its MRI BME grade and site.

    Features come from the newest cached feature set of each image whose schema matches the analysis
    spacing; images without one are processed now (stored corrected anatomy, else located). Bones with no
    MRI grade are dropped. Rows carry pseudonyms only.
    """
    from sqlalchemy import select

    from wristbme.features.schema import DEFAULT_SPACING_MM, feature_schema
    from wristbme.study.models import CaseGrade, FeatureSet

    schema = feature_schema(spacing_mm or DEFAULT_SPACING_MM)
    jobs = _store_jobs(store, corrected_only=False)
    cached: dict[int, dict] = {}
    grades: dict[str, dict[str, int]] = {}
    with store.session() as s, s.begin():
        for job in jobs:
            fs = s.scalars(select(FeatureSet).where(FeatureSet.image_id == job["image_id"])
                           .order_by(FeatureSet.id.desc())).all()
            for row in fs:
                if row.data.get("schema_hash") == schema.hash:
                    cached[job["image_id"]] = row.data
                    break
        for g in s.scalars(select(CaseGrade)):
            if g.grade is not None:
                grades.setdefault(g.subject.pseudonym, {})[g.bone] = int(g.grade)
    todo = [j for j in jobs if j["image_id"] not in cached]
    workers = default_workers() if workers is None else max(1, int(workers))
    for res in _run_pool(todo, _features_job, _init_features, (schema.spacing_mm,), workers, progress,
                         "engine.progress.features", lang):
        if res["ok"]:
            cached[res["image_id"]] = res
    rows = []
    for job in jobs:
        data = cached.get(job["image_id"])
        if data is None:
            continue
        g = grades.get(job["subject"], {})
        for bone in RAMRIS_BONES:
            vec = data["values"].get(bone.value)
            if vec is None or bone.value not in g:
                continue
            rows.append([str(job["image_id"]), job["subject"], job["site"], bone.value, g[bone.value],
                         data.get("exclusions", {}).get(bone.value, ""), *vec])
    return make_table(rows, schema)
