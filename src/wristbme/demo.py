"""The whole pipeline on a fresh synthetic multicentre cohort: the ``wristbme demo`` command's work.

Stages, each with the same code a real study uses::

    synth cohort → site package (per site, with its opt-out register) → study init → intake (per disc)
    → score (shipped synthetic demonstration model) → analyze → report (HTML + PDF, ja and en)

Everything lands in one folder (``cohort/``, ``sites/``, ``discs/``, ``study/``, ``report/<lang>/``).
The data are synthetic and every output says so.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wristbme.errors import InputError

Progress = Callable[[str, int, int], None]
"""``progress(stage_key, done, total)``; ``total == 0`` announces a stage."""


@dataclass
class DemoResult:
    out_dir: Path
    study_dir: Path
    reports: dict[str, Path]
    headline: dict
    seconds: dict[str, float] = field(default_factory=dict)


def _cases_file(site_dir: Path) -> Path:
    for name in ("cases.xlsx", "cases.csv"):
        if (site_dir / name).is_file():
            return site_dir / name
    raise InputError("no case sheet (cases.xlsx or cases.csv) in the synthetic site folder", path=site_dir)


def run_demo(out_dir: str | Path, *, sites: int = 8, patients_per_site: int = 40, effect_size: float = 1.0,
             seed: int = 0, field_name: str = "wrist", spacing_mm: float = 0.15, langs: tuple[str, ...] = ("ja", "en"),
             bootstrap: int = 1000, workers: int | None = None, overwrite: bool = True,
             progress: Progress | None = None) -> DemoResult:
    """Run every stage into ``out_dir`` and return where things are and the headline numbers.

    Raises
    ------
    InputError
        ``out_dir`` exists, is not a previous demo folder, and is not empty.
    """
    from wristbme.model.artifact import load_demo
    from wristbme.pipeline import score_study
    from wristbme.report.loader import load_study_data
    from wristbme.report.render import build_report
    from wristbme.study.config import default_config
    from wristbme.study.intake import intake
    from wristbme.study.site import SiteDir, package, read_id_list
    from wristbme.study.store import create_store
    from wristbme.synth.cohort import generate_cohort

    say = progress or (lambda stage, done, total: None)
    out = Path(out_dir)
    _prepare(out, overwrite)
    seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(stage: str):
        t0 = time.perf_counter()
        say(stage, 0, 0)
        yield
        seconds[stage] = round(time.perf_counter() - t0, 2)

    with timed("demo.stage.cohort"):
        cohort = generate_cohort(out / "cohort", sites=sites, patients_per_site=patients_per_site, seed=seed,
                                 effect_size=effect_size, field=field_name, spacing_mm=spacing_mm, workers=workers,
                                 progress=lambda d, n: say("demo.stage.cohort", d, n))

    discs = []
    with timed("demo.stage.package"):
        for i, code in enumerate(cohort.sites, start=1):
            site_src = out / "cohort" / code
            site_dir = SiteDir.open(out / "sites" / code, site=code)
            optout = site_src / "optout.csv"
            if optout.is_file():
                ids = read_id_list(optout)
                if ids:
                    site_dir.optout_add(ids, note="synthetic demo opt-out list")
            disc = out / "discs" / code
            package(export=site_src / "export", cases=_cases_file(site_src), site=code, out=disc,
                    site_dir=site_dir.path, mask_burned_in=True)
            discs.append(disc)
            say("demo.stage.package", i, len(cohort.sites))

    with timed("demo.stage.intake"):
        store = create_store(out / "study", default_config(name="wristbme synthetic demonstration study",
                                                           n_sites=max(sites, 1)))
        for i, disc in enumerate(discs, start=1):
            intake(store, disc, actor="demo")
            say("demo.stage.intake", i, len(discs))

    with timed("demo.stage.score"):
        run = score_study(store, load_demo(), workers=workers, progress=progress is not None)

    reports: dict[str, Path] = {}
    numbers: dict = {}
    with timed("demo.stage.report"):
        data = load_study_data(out / "study")
        for lang in langs:
            result = build_report(data, out / "report" / lang, lang, bootstrap=bootstrap, seed=seed)
            reports[lang] = result.html_path
            if result.pdf_path is not None:
                reports[f"{lang}_pdf"] = result.pdf_path
            numbers = result.numbers

    headline = {"synthetic": True, "sites": len(cohort.sites), "patients": cohort.patients,
                "images_generated": cohort.images, "defects_planted": sum(cohort.defects.values()),
                "images_scored": run.get("n_scored"), "model_id": run.get("model_id"),
                **_headline_numbers(numbers)}
    return DemoResult(out_dir=out, study_dir=out / "study", reports=reports, headline=headline, seconds=seconds)


def _prepare(out: Path, overwrite: bool) -> None:
    """Refuse to write into a non-empty folder that is not an earlier demo; clear an earlier demo."""
    if out.exists() and any(out.iterdir()):
        is_demo = (out / "cohort" / "truth.json").exists() or (out / ".wristbme-demo").exists()
        if not (overwrite and is_demo):
            raise InputError("the folder is not empty and is not an earlier demo folder", path=out,
                             hint="choose an empty folder with --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / ".wristbme-demo").write_text("made by 'wristbme demo'; synthetic data only\n", encoding="utf-8")


def _headline_numbers(numbers: dict) -> dict:
    """The headline figures of the report's ``numbers.json``: flow, pooled AUC (DeLong CI), heterogeneity."""
    flow = (numbers.get("flow") or {}).get("by_site") or {}
    accuracy = numbers.get("accuracy") or {}
    dl = (numbers.get("heterogeneity") or {}).get("DL") or {}  # None with fewer than two sites
    return {
        "received": sum(v.get("received", 0) for v in flow.values()),
        "analysed": sum(v.get("analysed", 0) for v in flow.values()),
        "auc_wrist_delong": accuracy.get("auc_delong"),
        "auc_sites_pooled_dl": dl.get("pooled"),
        "i2_sites": dl.get("i2"),
    }
