"""Study commands: ``study init|lock|unlock|status``, ``status``, ``site package``, ``site optout add|list|remove``,
``intake``, ``withdraw``, ``audit verify``. Each parses its input, calls one service function and renders it."""

from __future__ import annotations

from pathlib import Path

import typer

from wristbme.cli.context import emit, info, state, stderr_console

STUDY_OPT = typer.Option(None, "--study", help="Study folder (or set WRISTBME_STUDY). / 研究フォルダ")

study_app = typer.Typer(name="study", help="Create, lock and inspect a study. / 研究フォルダの作成・固定・状態",
                        no_args_is_help=True)
site_app = typer.Typer(name="site", help="Site side: package a disc, keep the opt-out register. / 施設側の操作",
                       no_args_is_help=True)
optout_app = typer.Typer(name="optout", help="The site's opt-out register. / オプトアウト登録", no_args_is_help=True)
audit_app = typer.Typer(name="audit", help="The study's audit trail. / 監査記録", no_args_is_help=True)
site_app.add_typer(optout_app, name="optout")


def _open(study: Path | None):
    from wristbme.study import open_store, resolve_study_dir

    return open_store(resolve_study_dir(study))


def _period_note(ctx: typer.Context, store) -> None:
    cfg = store.config
    if not cfg.in_data_use_period():
        info(ctx, "study.period_warning", start=cfg.data_use_start, end=cfg.data_use_end)


@study_app.command("init")
def study_init(ctx: typer.Context,
               directory: Path = typer.Argument(..., help="New study folder. / 新しい研究フォルダ"),
               name: str = typer.Option("wristbme multicenter BME reproducibility study", "--name",
                                        help="Protocol name. / 研究計画名"),
               sites: int = typer.Option(8, "--sites", help="Number of sites S01..Snn. / 施設数"),
               database_url: str = typer.Option(None, "--database-url",
                                                 help="PostgreSQL URL (default: SQLite in the folder).")) -> None:
    """Write study.toml and create the store. / study.toml を作成しストアを初期化"""
    from dataclasses import replace

    from wristbme.study import create_store, default_config

    config = default_config(name=name, n_sites=sites)
    if database_url:
        config = replace(config, database_url=database_url)
    store = create_store(directory, config)
    with store.session() as s, s.begin():
        from wristbme.study.audit import audit

        audit(s, "study.init", {"sites": list(config.site_codes)})
    store.close()
    emit(ctx, {"study": str(directory), "sites": list(config.site_codes)})
    info(ctx, "study.init_done", path=directory, sites=len(config.sites))


@study_app.command("lock")
def study_lock(ctx: typer.Context, study: Path = STUDY_OPT,
               note: str = typer.Option(None, "--note", help="Why / what is frozen.")) -> None:
    """Freeze the analysis set (content hash). / 解析対象を固定"""
    from wristbme.study.lifecycle import lock

    store = _open(study)
    row, created = lock(store, note=note)
    data = {"locked": True, "created": created, "content_sha256": row.content_sha256,
            "subjects": row.n_subjects, "images": row.n_images, "locked_at": row.locked_at.isoformat()}
    store.close()
    emit(ctx, data)
    if created:
        info(ctx, "study.lock_done", subjects=row.n_subjects, images=row.n_images, hash=row.content_sha256[:16])
    else:
        info(ctx, "study.lock_already", hash=row.content_sha256[:16])


@study_app.command("unlock")
def study_unlock(ctx: typer.Context, study: Path = STUDY_OPT,
                 reason: str = typer.Option(..., "--reason", help="Why the lock is lifted (audited).")) -> None:
    """Lift the lock (audited). / 固定を解除"""
    from wristbme.study.lifecycle import unlock

    store = _open(study)
    done = unlock(store, reason=reason)
    store.close()
    emit(ctx, {"unlocked": done})
    if done:
        info(ctx, "study.unlock_done")


def _status(ctx: typer.Context, study: Path | None) -> None:
    from wristbme.study.lifecycle import status

    store = _open(study)
    data = status(store)
    _period_note(ctx, store)
    store.close()
    if state(ctx).json:
        emit(ctx, data)
        return
    cols = ["site", "discs", "subjects", "eligible", "ineligible", "incomplete", "images", "analysed", "withdrawn"]
    emit(ctx, data, columns=cols, rows=[[r[c] for c in cols] for r in data["sites"]], title=data["study"])
    console = stderr_console()
    for key in ("ineligible_reasons", "qc_findings", "quarantine", "withdrawals", "lock", "integrity"):
        console.print(f"{key}: {data[key]}", highlight=False)


@study_app.command("status")
def study_status(ctx: typer.Context, study: Path = STUDY_OPT) -> None:
    """Sites, subjects, images, eligibility, QC, withdrawals, lock. / 研究の状態"""
    _status(ctx, study)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, study: Path = STUDY_OPT) -> None:
    """Check the audit trail's hash chain. / 監査記録の改ざん検査"""
    from wristbme.study.audit import verify_chain

    store = _open(study)
    with store.session() as s:
        report = verify_chain(s)
    store.close()
    emit(ctx, {"ok": report.ok, "events": report.n_events, "head": report.head_hash, "problems": report.problems,
               "first_bad_id": report.first_bad_id})
    if report.ok:
        info(ctx, "study.audit_ok", n=report.n_events, head=report.head_hash[:16])
    else:
        info(ctx, "study.audit_bad", problems="; ".join(report.problems))
        raise typer.Exit(9)


@site_app.command("package")
def site_package(ctx: typer.Context,
                 export: Path = typer.Option(..., "--export", help="PACS export folder (DICOMDIR or files)."),
                 cases: Path = typer.Option(..., "--cases", help="Case sheet (xlsx or CSV). / 症例シート"),
                 site: str = typer.Option(..., "--site", help="Site code, e.g. S03. / 施設コード"),
                 out: Path = typer.Option(..., "--out", help="New, empty disc folder. / 出力ディスクフォルダ"),
                 site_dir: Path = typer.Option(..., "--site-dir",
                                               help="The site's private folder (linkage table, opt-outs)."),
                 mask_burned_in: bool = typer.Option(False, "--mask-burned-in",
                                                     help="Blank burned-in text found in the pixels."),
                 protocol: Path = typer.Option(None, "--protocol",
                                               help="study.toml with the eligibility rules (default: protocol defaults)."),
                 recipient: str = typer.Option("lead site", "--to", help="Recipient, for the provision record."),
                 medium: str = typer.Option("CD-R/DVD-R", "--medium", help="How, for the provision record.")) -> None:
    """De-identify and package a site's data for the lead site. / 匿名化してディスクを作成"""
    from wristbme.study.config import StudyConfig
    from wristbme.study.site import package

    config = StudyConfig.load(protocol) if protocol else None
    report = package(export=export, cases=cases, site=site, out=out, site_dir=site_dir, config=config,
                     mask_burned_in=mask_burned_in, recipient=recipient, medium=medium)
    data = {"disc": str(report.disc), "disc_id": report.disc_id, "manifest_sha256": report.manifest_sha256,
            "counts": report.counts(), "withdraw_at_lead": report.withdraw_at_lead,
            "excluded": [{"reason": e.reason, "item": e.item, "detail": e.detail} for e in report.exclusions],
            "cell_errors": [{"row": e.row, "column": e.column, "problem": e.problem} for e in report.cell_errors]}
    if state(ctx).json:
        emit(ctx, data)
    else:
        rows = [[e.reason, e.item, e.detail] for e in report.exclusions]
        rows += [["cell_error", f"row {e.row}, {e.column}", e.problem] for e in report.cell_errors]
        emit(ctx, data, columns=["reason", "item", "detail"], rows=rows, title=str(report.disc))
    if report.cell_errors:
        info(ctx, "study.package_cell_errors", n=len(report.cell_errors))
    for pseudonym in report.withdraw_at_lead:
        info(ctx, "study.optout_provided", pseudonym=pseudonym)
    c = report.counts()
    info(ctx, "study.package_done", disc=report.disc, cases=c["cases"], eligible=c["eligible"], images=c["images"],
         excluded=len(report.exclusions), opted_out=c["opted_out"])


@optout_app.command("add")
def optout_add(ctx: typer.Context,
               patient_ids: list[str] = typer.Argument(None, help="Patient IDs (site MRNs). / 患者ID"),
               site_dir: Path = typer.Option(..., "--site-dir", help="The site's private folder."),
               site: str = typer.Option(None, "--site", help="Site code (needed the first time)."),
               file: Path = typer.Option(None, "--file", help="CSV/xlsx with a patient ID column."),
               note: str = typer.Option("", "--note", help="Note (e.g. date of the request).")) -> None:
    """Add patients to the opt-out register. / オプトアウト登録に追加"""
    from wristbme.study.site import SiteDir, read_id_list

    folder = SiteDir.open(site_dir, site=site)
    ids = list(patient_ids or []) + (read_id_list(file) if file else [])
    provided = folder.optout_add(ids, note=note)
    n = len(folder.optouts())
    emit(ctx, {"register": n, "already_provided": provided})
    info(ctx, "study.optout_added", n=n)
    for item in provided:
        info(ctx, "study.optout_provided", pseudonym=item["pseudonym"])


@optout_app.command("list")
def optout_list(ctx: typer.Context, site_dir: Path = typer.Option(..., "--site-dir")) -> None:
    """List the opt-out register (site only). / オプトアウト登録の一覧"""
    from wristbme.study.site import SiteDir

    rows = SiteDir.open(site_dir).optouts()
    emit(ctx, rows, columns=["patient_id", "added", "note"], rows=[[r["patient_id"], r["added"], r["note"]]
                                                                    for r in rows])


@optout_app.command("remove")
def optout_remove(ctx: typer.Context, patient_ids: list[str] = typer.Argument(..., help="Patient IDs."),
                  site_dir: Path = typer.Option(..., "--site-dir")) -> None:
    """Remove patients from the opt-out register. / オプトアウト登録から削除"""
    from wristbme.study.site import SiteDir

    n = SiteDir.open(site_dir).optout_remove(list(patient_ids))
    emit(ctx, {"removed": n})
    info(ctx, "study.optout_removed", n=n)


def intake_cmd(ctx: typer.Context, disc: Path = typer.Argument(..., help="Disc folder. / ディスクのフォルダ"),
               study: Path = STUDY_OPT,
               actor: str = typer.Option(None, "--operator", help="Who receives the disc (audited).")) -> None:
    """Receive a site's disc into the study store. / 施設ディスクの受け入れ"""
    from rich.progress import Progress

    from wristbme.study.intake import intake

    store = _open(study)
    _period_note(ctx, store)
    with Progress(console=stderr_console(), transient=True, disable=state(ctx).json) as bar:
        task = bar.add_task("intake", total=None)
        report = intake(store, disc, actor=actor, progress=lambda i, n: bar.update(task, completed=i, total=n))
    store.close()
    data = report.to_dict()
    if state(ctx).json:
        emit(ctx, data)
    else:
        counts = report.counts()
        rows = [["accepted", "", counts["accepted"]], ["unchanged", "", counts["unchanged"]],
                ["replaced", "", counts["replaced"]],
                ["cases added/updated/unchanged", "",
                 f"{counts['cases_added']}/{counts['cases_updated']}/{counts['cases_unchanged']}"]]
        rows += [[f"refused: {r.reason}", r.item, r.detail] for r in report.refused]
        emit(ctx, data, columns=["outcome", "file", "detail / count"], rows=rows, title=f"intake {report.intake_id}")
    c = report.counts()
    info(ctx, "study.intake_done", intake_id=report.intake_id, site=report.site, accepted=c["accepted"],
         unchanged=c["unchanged"], replaced=c["replaced"], refused=c["refused"])
    if report.repeat and not c["accepted"] and not c["replaced"]:
        info(ctx, "study.intake_repeat")


def withdraw_cmd(ctx: typer.Context, pseudonym: str = typer.Argument(..., help="e.g. S03-0012 / 仮名ID"),
                 reason: str = typer.Option(..., "--reason", help="Why (kept in the audit). / 理由"),
                 study: Path = STUDY_OPT,
                 actor: str = typer.Option(None, "--operator", help="Who withdraws (audited).")) -> None:
    """Withdraw a subject: remove every trace, keep the fact. / 対象者のデータを削除（オプトアウト）"""
    from wristbme.study.lifecycle import withdraw

    store = _open(study)
    _period_note(ctx, store)
    report = withdraw(store, pseudonym, reason=reason, actor=actor)
    store.close()
    emit(ctx, {"subject_key": report.subject_key, "already": report.already, "after_lock": report.after_lock,
               "counts": report.counts, "purged": report.purged})
    if report.already:
        info(ctx, "study.withdraw_already")
    else:
        info(ctx, "study.withdraw_done", images=report.counts.get("images", 0), scores=report.counts.get("scores", 0))


def status_cmd(ctx: typer.Context, study: Path = STUDY_OPT) -> None:
    """Sites, subjects, images, eligibility, QC, withdrawals, lock. / 研究の状態"""
    _status(ctx, study)


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
    app.add_typer(site_app, name="site")
    app.add_typer(audit_app, name="audit")
    app.command("intake")(intake_cmd)
    app.command("withdraw")(withdraw_cmd)
    app.command("status")(status_cmd)
