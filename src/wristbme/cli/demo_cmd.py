"""``wristbme demo``: the whole pipeline on a fresh synthetic cohort, start to report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wristbme.cli.context import emit, state, stderr_console


def register(app: typer.Typer) -> None:
    app.command("demo", help="Run the whole pipeline on a synthetic multicentre cohort. / 合成データで全工程を実行")(demo)


def demo(ctx: typer.Context,
         out: Path = typer.Option(Path("demo-out"), "--out", help="Output folder. / 出力フォルダ"),
         sites: int = typer.Option(8, "--sites", min=1, max=99),
         patients_per_site: int = typer.Option(40, "--patients-per-site", min=2),
         effect_size: float = typer.Option(1.0, "--effect-size", min=0.0),
         seed: int = typer.Option(0, "--seed"),
         bootstrap: int = typer.Option(1000, "--bootstrap", min=0),
         workers: int = typer.Option(None, "--workers", help="Processes (default: all cores)."),
         ) -> None:
    """Synthetic cohort → site discs → intake → scores → report (HTML+PDF, ja/en). / 合成コホートからレポートまで"""
    from wristbme.demo import run_demo

    st = state(ctx)
    console = stderr_console()
    console.print(f"[bold yellow]{st.t('cli.synthetic_label')}[/]")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(st.t(stage), total=total or None)
            if total:
                bar.update(tasks[stage], completed=done, total=total)

        result = run_demo(out, sites=sites, patients_per_site=patients_per_site, effect_size=effect_size,
                          seed=seed, bootstrap=bootstrap, workers=workers, progress=progress)
        for task in tasks.values():
            t = bar.tasks[task]
            if t.total is None:
                bar.update(task, total=1, completed=1)
    record = {"out_dir": result.out_dir, "study_dir": result.study_dir, "reports": result.reports,
              "seconds": result.seconds, **result.headline}
    if st.json:
        emit(ctx, record)
        return
    console.print(st.t("demo.done", study=result.study_dir))
    for name, path in result.reports.items():
        console.print(f"  {name}: {path}")
    emit(ctx, record)
