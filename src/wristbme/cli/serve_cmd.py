"""``wristbme serve`` (the web UI) and ``wristbme user add|remove|list`` (its accounts)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer

from wristbme.cli.context import emit, info, state
from wristbme.errors import ConfigError, InputError

ROLES = ("viewer", "operator", "admin")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    user_app = typer.Typer(name="user", help="Web UI users: add, remove, list. / Web UI のユーザー管理",
                           no_args_is_help=True)
    user_app.command("add")(user_add)
    user_app.command("remove")(user_remove)
    user_app.command("list")(user_list)
    app.add_typer(user_app, name="user")


def serve(
    ctx: typer.Context,
    study: str = typer.Option(None, "--study", help="Study folder (or WRISTBME_STUDY). / 研究フォルダ"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback requires login."
                             " / 待ち受けアドレス（ループバック以外はログイン必須）"),
    port: int = typer.Option(8000, "--port", help="TCP port. / ポート番号"),
    operator: str = typer.Option(None, "--operator", help="Name recorded in the audit trail for a local session"
                                 " without login (default: local:<OS user>). / ログインなしの操作者名"),
    force_login: bool = typer.Option(False, "--require-login", help="Require login even on loopback. / 常にログイン必須"),
    report_dir: Path = typer.Option(None, "--report-dir", help="Report folder to serve (default: newest under"
                                    " <study>/reports). / 表示するレポートのフォルダ"),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Mark cookies Secure (when served over"
                                        " HTTPS by a reverse proxy). / Cookie に Secure 属性を付ける"),
    warm: bool = typer.Option(True, "--warm-previews/--no-warm-previews", help="Render missing image previews in"
                              " the background at start. / 起動時にプレビュー画像を事前作成"),
    model: Path = typer.Option(None, "--model", help="Model artifact for re-scoring corrections (default: the"
                               " one that scored the image / the demo model). / 修正後の再スコアに使うモデル"),
) -> None:
    """Serve the web UI over a study. / 研究データの Web UI を起動"""
    import uvicorn

    from wristbme.study.config import resolve_study_dir
    from wristbme.web.app import create_app
    from wristbme.web.config import WebSettings

    st = state(ctx)
    settings = WebSettings(study_dir=resolve_study_dir(study), host=host, port=port, lang=st.lang,
                           local_user=operator or f"local:{getpass.getuser()}", force_login=force_login,
                           report_dir=report_dir, model_path=model, warm_previews=warm,
                           secure_cookies=secure_cookies)
    app = create_app(settings)
    if settings.require_login:
        info(ctx, "web.serve.login_required", host=host)
        from wristbme.web.users import list_users

        with app.state.services.session() as s:
            if not list_users(s):
                info(ctx, "web.serve.no_users")
    info(ctx, "web.serve.listening", study=str(settings.study_dir), host=host, port=port)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)


def _open(study: str | None):
    from wristbme.study.config import resolve_study_dir
    from wristbme.study.store import open_store

    return open_store(resolve_study_dir(study))


def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (not a patient's!). / ユーザー名"),
    role: str = typer.Option("viewer", "--role", help="viewer, operator or admin. / 権限"),
    study: str = typer.Option(None, "--study", help="Study folder (or WRISTBME_STUDY). / 研究フォルダ"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin"
                                        " (one line). / パスワードを標準入力から読む"),
) -> None:
    """Add a web user (argon2-hashed password). / Web ユーザーを追加"""
    from wristbme.study.service import create_user

    st = state(ctx)
    if role not in ROLES:
        raise ConfigError(f"--role {role!r} is not one of {', '.join(ROLES)}", hint="use viewer, operator or admin")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(st.t("web.user.password_prompt", name=name), hide_input=True,
                                confirmation_prompt=True)
    if len(password) < 8:
        raise InputError.localized("web.user.short_password", n=8)
    with _open(study) as store, store.session() as s, s.begin():
        create_user(s, name=name.strip(), password=password, role=role)
    info(ctx, "web.user.added", name=name, role=role)
    if st.json:
        emit(ctx, {"ok": True, "name": name, "role": role})


def user_remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name. / ユーザー名"),
    study: str = typer.Option(None, "--study", help="Study folder (or WRISTBME_STUDY). / 研究フォルダ"),
) -> None:
    """Remove a web user (their open sessions end at the next request). / Web ユーザーを削除"""
    from wristbme.web.users import remove_user

    with _open(study) as store, store.session() as s, s.begin():
        remove_user(s, name=name, actor=f"cli:{getpass.getuser()}")
    info(ctx, "web.user.removed", name=name)
    if state(ctx).json:
        emit(ctx, {"ok": True, "name": name})


def user_list(
    ctx: typer.Context,
    study: str = typer.Option(None, "--study", help="Study folder (or WRISTBME_STUDY). / 研究フォルダ"),
) -> None:
    """List web users (never their password hashes). / Web ユーザーの一覧"""
    from wristbme.web.users import list_users

    st = state(ctx)
    with _open(study) as store, store.session() as s:
        users = list_users(s)
    if not users and not st.json:
        info(ctx, "web.user.none")
        return
    emit(ctx, users, columns=[st.t("web.user.col_name"), st.t("web.user.col_role"), st.t("web.user.col_created")],
         rows=[(u.name, st.t(f"web.role.{u.role}"), u.created_at) for u in users])
