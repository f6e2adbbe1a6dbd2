"""``wristbme synth``: synthetic cohorts, single synthetic images and contact sheets (all labelled SYNTHETIC)."""

from __future__ import annotations

from pathlib import Path

import typer

from wristbme.cli.context import emit, info, state, stderr_console
from wristbme.errors import ConfigError

synth_app = typer.Typer(name="synth", no_args_is_help=True,
                        help="Synthetic wrist radiographs and multicentre cohorts (SYNTHETIC, not patients). "
                             "/ 合成手関節X線画像と多施設コホート（合成データ）")


def parse_bme(text: str | None) -> dict:
    """``"radius=2,lunate=1"`` → {Bone.RADIUS: 2, Bone.LUNATE: 1}; raises ConfigError (localised)."""
    from wristbme.bones import Bone

    if not text:
        return {}
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            name, grade = part.split("=")
            g = int(grade)
            if not 0 <= g <= 3:
                raise ValueError
            out[Bone.parse(name.strip())] = g
        except ValueError:
            raise ConfigError.localized("synth.error.bme", value=part) from None
    return out


@synth_app.command("cohort")
def cohort(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Output folder (new or empty). / 出力フォルダ（新規または空）"),
    sites: int = typer.Option(8, "--sites", min=1, help="Number of sites. / 施設数"),
    patients_per_site: int = typer.Option(40, "--patients-per-site", min=1, help="Patients per site. / 施設あたり症例数"),
    seed: int = typer.Option(0, "--seed", help="Random seed. / 乱数シード"),
    effect_size: float = typer.Option(1.0, "--effect-size", min=0.0,
                                      help="BME appearance scale (0 = no trace). / BME の見え方の強さ（0 で痕跡なし）"),
    field: str = typer.Option("wrist", "--field", help="full or wrist. / 撮影範囲"),
    spacing_mm: float = typer.Option(0.15, "--spacing-mm", min=0.05, max=0.5, help="Pixel spacing (mm). / 画素間隔"),
    hands: str = typer.Option("both", "--hands", help="both, one or mixed. / 両手・片手・混在"),
    workers: int = typer.Option(None, "--workers", min=1, help="Worker processes (default: CPUs). / 並列数"),
) -> None:
    """Write a synthetic multicentre cohort: per site a DICOMDIR export, a case sheet and an opt-out list,
    plus truth.json. / 合成多施設コホートを書き出します"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from wristbme.synth.cohort import generate_cohort

    st = state(ctx)
    if field not in ("full", "wrist"):
        raise ConfigError.localized("synth.error.field", value=field)
    info(ctx, "synth.cohort.start", sites=sites, patients=patients_per_site, seed=seed, effect=effect_size, out=out)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=stderr_console(), transient=True) as bar:
        task = bar.add_task(st.t("synth.cohort.progress"), total=sites * patients_per_site)
        summary = generate_cohort(out, sites=sites, patients_per_site=patients_per_site, seed=seed,
                                  effect_size=effect_size, field=field, spacing_mm=spacing_mm, hands=hands,
                                  workers=workers, progress=lambda done, total: bar.update(task, completed=done))
    info(ctx, "synth.cohort.done", images=summary.images, patients=summary.patients, sites=len(summary.sites),
         seconds=f"{summary.seconds:.1f}", defects=sum(summary.defects.values()), truth=out / "truth.json")
    data = {"out": str(out), "sites": list(summary.sites), "patients": summary.patients, "images": summary.images,
            "defects": summary.defects, "seconds": round(summary.seconds, 2), "truth": str(out / "truth.json"),
            "synthetic": True}
    emit(ctx, data, columns=[st.t("synth.table.key"), st.t("synth.table.value")],
         rows=[(k, v) for k, v in data.items()])


@synth_app.command("image")
def image(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Output DICOM file. / 出力 DICOM ファイル"),
    laterality: str = typer.Option("R", "--laterality", help="R or L. / 左右"),
    field: str = typer.Option("wrist", "--field", help="full or wrist. / 撮影範囲"),
    spacing_mm: float = typer.Option(0.15, "--spacing-mm", min=0.05, max=0.5, help="Pixel spacing (mm). / 画素間隔"),
    seed: int = typer.Option(0, "--seed", help="Random seed. / 乱数シード"),
    site: str = typer.Option("S01", "--site", help="Site profile S01..S08. / 施設プロファイル"),
    bme: str = typer.Option(None, "--bme", help="Grades, e.g. radius=2,lunate=1. / BME グレード"),
    effect_size: float = typer.Option(1.0, "--effect-size", min=0.0, help="BME appearance scale. / BME の強さ"),
) -> None:
    """Write one synthetic PA hand/wrist radiograph as DICOM (+ OUT.truth.json). / 合成画像を1枚書き出します"""
    from wristbme.synth.cohort import write_single_image

    st = state(ctx)
    if field not in ("full", "wrist"):
        raise ConfigError.localized("synth.error.field", value=field)
    truth = write_single_image(out, laterality=laterality, field=field, spacing_mm=spacing_mm, seed=seed,
                               site=site, bme=parse_bme(bme) if bme else None, effect_size=effect_size)
    truth_path = out.with_name(out.name + ".truth.json")
    info(ctx, "synth.image.done", path=out, rows=truth["shape"][0], cols=truth["shape"][1], site=truth["site"],
         truth=truth_path)
    summary = {"file": str(out), "truth": str(truth_path), "site": truth["site"], "laterality": truth["laterality"],
               "spacing_mm": truth["spacing_mm"], "shape": truth["shape"], "grades": truth["grades"],
               "effect_size": truth["effect_size"], "synthetic": True}
    if st.json:
        emit(ctx, summary)
    else:
        emit(ctx, summary, columns=[st.t("synth.table.key"), st.t("synth.table.value")],
             rows=[(k, v) for k, v in summary.items()])


@synth_app.command("contact-sheet")
def contact(
    ctx: typer.Context,
    cohort_dir: Path = typer.Argument(..., help="Folder written by 'synth cohort'. / 合成コホートのフォルダ"),
    out: Path = typer.Argument(..., help="Output PNG. / 出力 PNG"),
    max_images: int = typer.Option(48, "--max-images", min=1, help="Thumbnails at most. / 最大枚数"),
) -> None:
    """A PNG of thumbnails across the sites of a synthetic cohort. / 合成コホートのサムネイル一覧 PNG"""
    from wristbme.synth.contact import contact_sheet

    path = contact_sheet(cohort_dir, out, max_images=max_images)
    info(ctx, "synth.contact.done", path=path)
    emit(ctx, {"file": str(path), "synthetic": True}) if state(ctx).json else None


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
