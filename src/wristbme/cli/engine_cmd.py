"""``wristbme score`` and ``wristbme train``: thin faces over ``wristbme.pipeline`` and ``wristbme.model``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from wristbme.cli.context import emit, info, state
from wristbme.errors import ConfigError, InputError


def _load_model(path: Path | None):
    from wristbme.model.artifact import ModelArtifact, load_demo

    return load_demo() if path is None else ModelArtifact.load(path)


def _fmt_auc(m: dict | None) -> str:
    if not m or m.get("auc") is None or m.get("auc") != m.get("auc"):
        return "n/a"
    return f"{m['auc']:.3f} ({m['ci_low']:.3f}–{m['ci_high']:.3f})"


def register(app: typer.Typer) -> None:
    @app.command("score")
    def score_cmd(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(None, help="Radiograph files (DICOM, PNG, JPEG, TIFF). / X線画像ファイル"),
        study: Path = typer.Option(None, "--study", help="Score all analysed images of a study folder (new "
                                   "score run). / 研究フォルダ内の全画像をスコア化"),
        spacing: float = typer.Option(None, "--spacing", help="Pixel spacing in mm for files that state none. / "
                                      "画素間隔(mm)：ファイルに記載がない場合"),
        model: Path = typer.Option(None, "--model", help="Model artifact (.joblib); default: the synthetic demo "
                                   "model. / モデルファイル"),
        overlay_dir: Path = typer.Option(None, "--overlay-dir", help="Write one overlay PNG per file here. / "
                                         "オーバーレイ PNG の出力先"),
        workers: int = typer.Option(None, "--workers", help="Processes (default: all cores). / プロセス数"),
    ) -> None:
        """Per-bone and wrist BME scores (0–100) for radiographs. / 骨ごと・手関節の BME スコア(0–100)"""
        st = state(ctx)
        if study is not None and files:
            raise ConfigError.localized("engine.score.both")
        if study is None and not files:
            raise ConfigError.localized("engine.score.no_files")
        if spacing is not None and not spacing > 0:
            raise ConfigError(f"--spacing: {spacing} is not a positive number of mm; e.g. --spacing 0.15")
        art = _load_model(model)
        from wristbme import pipeline

        if study is not None:
            from wristbme.study.store import open_store

            store = open_store(study)
            try:
                res = pipeline.score_study(store, art, workers, overlays=True, lang=st.lang,
                                           progress=not st.json)
            finally:
                store.close()
            res["label"] = st.t("engine.demo_label") if art.synthetic else None
            if not st.json:
                info(ctx, "engine.score.run_created", run=res["run_id"], n=res["n_scored"], bad=res["n_failed"],
                     model=art.model_id)
                if res["label"]:
                    typer.echo(res["label"], err=True)
            emit(ctx, res, columns=["run", "images", "scored", "failed", "model"],
                 rows=[[res["run_id"], res["n_images"], res["n_scored"], res["n_failed"], res["model_id"]]])
            return
        missing = [str(f) for f in files if not f.exists()]
        if missing and len(missing) == len(files):
            raise InputError(f"{missing[0]}: file not found; check the path")
        records = pipeline.score_files([str(f) for f in files], art, workers, spacing_mm=spacing,
                                       overlay_dir=overlay_dir, lang=st.lang, progress=not st.json)
        bad = sum(1 for r in records if not r["ok"])
        if not st.json:
            info(ctx, "engine.score.done", n=len(records) - bad, bad=bad, model=art.model_id)
            if art.synthetic:
                typer.echo(st.t("engine.demo_label"), err=True)
        rows = []
        for r in records:
            if r["ok"]:
                n_b = sum(1 for v in r["bones"].values() if v is not None)
                wrist = f"{r['wrist']:.1f}" if r["wrist"] is not None else r["wrist_reason"]
                rows.append([r["path"], wrist, f"{n_b}/15", ", ".join(r.get("notes", []))])
            else:
                rows.append([r["path"], "-", "-", r["message"]])
        emit(ctx, records, columns=[st.t("engine.col.file"), st.t("engine.col.wrist"), st.t("engine.col.scored"),
                                    st.t("engine.col.note")], rows=rows, title=art.model_id)
        if bad == len(records):
            raise typer.Exit(3)

    @app.command("train")
    def train_cmd(
        ctx: typer.Context,
        study: Path = typer.Option(None, "--study", help="Train on a study folder's images and MRI grades. / "
                                   "研究フォルダから学習"),
        features: Path = typer.Option(None, "--features", help="Train on a features table (CSV with a "
                                      ".schema.json beside it). / 特徴量テーブルから学習"),
        method: str = typer.Option("enet", "--method", help="enet (elastic-net logistic) or gbm. / 手法"),
        combat: bool = typer.Option(False, "--combat", help="ComBat site harmonisation. / 施設間調和"),
        seed: int = typer.Option(0, "--seed", help="Random seed. / 乱数シード"),
        out: Path = typer.Option(Path("model.joblib"), "--out", help="Model file to write. / 出力モデル"),
        spacing: float = typer.Option(None, "--spacing", help="Analysis spacing in mm (default 0.2). / 解析画素間隔"),
        workers: int = typer.Option(None, "--workers", help="Processes for feature extraction. / プロセス数"),
        synthetic: bool = typer.Option(False, "--synthetic", help="Label the model a synthetic demonstration "
                                       "model. / 合成デモモデルとして表示"),
        perturbations: Path = typer.Option(None, "--perturbations", help="Features of re-acquired images (CSV: "
                                           "source_image, condition, bone, features); features with a "
                                           "re-acquisition ICC below 0.8 are left out. / 再撮影画像の特徴量 "
                                           "(ICC 0.8 未満の特徴量を除外)"),
    ) -> None:
        """Train and validate a BME model (nested CV, leave-one-site-out). / BME モデルを学習・検証"""
        st = state(ctx)
        if (study is None) == (features is None):
            raise ConfigError.localized("engine.train.source")
        if method not in ("enet", "gbm"):
            raise ConfigError(f"--method: {method!r} is not known; use enet or gbm")
        from wristbme.model.train import train

        if features is not None:
            table = read_features_csv(features)
        else:
            from wristbme.pipeline import features_table_from_store
            from wristbme.study.store import open_store

            store = open_store(study)
            try:
                table = features_table_from_store(store, spacing_mm=spacing, workers=workers, progress=not st.json,
                                                  lang=st.lang)
            finally:
                store.close()
            if table.empty:
                raise InputError.localized("engine.train.no_labels", path=study)
        pert = read_features_csv(perturbations) if perturbations is not None else None
        art = train(table, method=method, combat=combat, seed=seed, synthetic=synthetic, perturbations=pert)
        path = art.save(out)
        val = art.summary["validation"]
        result = {"model_id": art.model_id, "path": str(path), "method": method, "combat": combat, "seed": seed,
                  "schema_hash": art.schema_hash, "training": art.summary["training"], "validation": val,
                  "robustness": art.summary.get("robustness"),
                  "label": st.t("engine.demo_label") if art.synthetic else None}
        rows = []
        cv = val.get("nested_cv", {}).get("metrics", {})
        rows.append(["nested CV", "wrist", _fmt_auc(cv.get("wrist_auc")), "all"])
        rows.append(["nested CV", "bone", _fmt_auc(cv.get("bone_auc")), "all"])
        rows.append(["nested CV", "bone (within-bone pairs)", _fmt_auc(cv.get("bone_auc_within_bone")), "all"])
        lo = val.get("leave_one_site_out", {})
        for site, m in sorted(lo.get("per_site", {}).items()):
            rows.append(["LOSO", "wrist", _fmt_auc(m.get("wrist_auc")), site])
        if "metrics" in lo:
            rows.append(["LOSO", "wrist", _fmt_auc(lo["metrics"].get("wrist_auc")), "pooled"])
        if not st.json:
            info(ctx, "engine.train.saved", model=art.model_id, path=path)
        emit(ctx, result, columns=[st.t("engine.col.scheme"), st.t("engine.col.level"), st.t("engine.col.auc"),
                                   st.t("engine.col.site")], rows=rows, title=art.model_id)


def read_features_csv(path: Path):
    """A features CSV plus its ``<name>.schema.json`` (written by ``write_features_csv``)."""
    import pandas as pd

    if not path.is_file():
        raise InputError(f"{path}: file not found; give a features CSV")
    schema_path = path.with_suffix(".schema.json")
    try:
        table = pd.read_csv(path)
        if schema_path.is_file():
            table.attrs["schema"] = json.loads(schema_path.read_text(encoding="utf-8"))
        else:
            from wristbme.features.schema import feature_schema

            table.attrs["schema"] = feature_schema().to_dict()
    except (OSError, ValueError) as exc:
        raise InputError.localized("engine.train.bad_csv", path=path, reason=type(exc).__name__) from exc
    if "excluded" in table.columns:
        table["excluded"] = table["excluded"].astype(object).where(table["excluded"].notna(), "").astype(str)
    else:
        table["excluded"] = ""
    return table


def write_features_csv(table, path: Path) -> Path:
    """Write a features table and its schema sidecar (``.schema.json``)."""
    path = Path(path)
    table.to_csv(path, index=False)
    path.with_suffix(".schema.json").write_text(json.dumps(table.attrs["schema"], indent=2), encoding="utf-8")
    return path
