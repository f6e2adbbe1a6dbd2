"""``wristbme analyze``: the study report (HTML + PDF + numbers.json) in Japanese or English."""

from __future__ import annotations

from pathlib import Path

import typer

from wristbme.cli.context import emit, info, state
from wristbme.errors import ConfigError


def _headline(numbers: dict) -> dict:
    """The numbers ``--json`` prints: AUCs, cut-off accuracy, heterogeneity and reliability, with intervals."""
    acc = numbers.get("accuracy", {})
    het = numbers.get("heterogeneity") or {}
    out = {
        "synthetic": numbers["meta"]["synthetic"],
        "n_patients": acc.get("n_patients"), "n_wrists": acc.get("n_wrists"),
        "auc": acc.get("auc"), "auc_delong": acc.get("auc_delong"),
        "prespecified_cutoff": {k: acc["prespecified"][k] for k in ("cutoff", "sensitivity", "specificity", "ppv", "npv")}
        if "prespecified" in acc else None,
        "youden_cutoff": {k: acc["youden"][k] for k in ("cutoff", "sensitivity", "specificity")} if "youden" in acc else None,
        "site_auc": {s: v.get("auc_bootstrap") for s, v in numbers.get("site_auc", {}).items()},
        "pooled_auc_reml": het.get("REML", {}).get("pooled"), "i2_reml": het.get("REML", {}).get("i2"),
    }
    for key in ("test_retest", "inter_operator"):
        r = numbers.get(key) or {}
        out[key] = {k: r.get(k) for k in ("n_pairs", "ICC2", "sem", "sdc", "cv_pct")} if r.get("available") else None
    return out


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", help="Report folder (created). / レポートの出力フォルダ"),
        study: Path = typer.Option(None, "--study", help="Study folder (with study.toml). / 研究フォルダ"),
        demo_data: bool = typer.Option(False, "--demo-data",
                                       help="Use synthetic demo data instead of a study. / 合成デモデータを使用"),
        bootstrap: int = typer.Option(1000, "--bootstrap", min=50, help="Bootstrap replicates. / ブートストラップ回数"),
        seed: int = typer.Option(0, "--seed", help="Bootstrap seed. / 乱数シード"),
        pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write report.pdf. / PDFも作成"),
        patients: int = typer.Option(200, "--patients", min=10, help="Demo data: patients. / デモの患者数"),
        sites: int = typer.Option(4, "--sites", min=1, max=99, help="Demo data: sites. / デモの施設数"),
    ) -> None:
        """Analyse the study and write the report (HTML, PDF, numbers.json). / 解析してレポートを作成します"""
        from wristbme.report import build_report, synthetic_study_data

        st = state(ctx)  # --lang (the report's language) and --json are the global options, given anywhere
        if demo_data:
            info(ctx, "report.cli.demo", patients=patients, sites=sites)
            data = synthetic_study_data(patients, sites, seed=seed)
        elif study is not None:
            from wristbme.report.loader import load_study_data

            info(ctx, "report.cli.loading", path=study)
            data = load_study_data(study)
        else:
            raise ConfigError.localized("report.cli.need_source")
        info(ctx, "report.cli.analysing", boot=bootstrap)
        result = build_report(data, out, st.lang, bootstrap=bootstrap, seed=seed, pdf=pdf)
        info(ctx, "report.cli.done", html=result.html_path)
        if result.pdf_path is not None:
            info(ctx, "report.cli.pdf_done", pdf=result.pdf_path)
        payload = {"ok": True, "html": str(result.html_path), "pdf": str(result.pdf_path) if result.pdf_path else None,
                   "numbers": str(result.numbers_path), "headline": _headline(result.numbers)}
        if st.json:
            emit(ctx, payload)
        else:
            emit(ctx, str(result.html_path))
