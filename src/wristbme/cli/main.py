"""Entry point: global options, sub-app registration, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from typer.core import TyperGroup

from wristbme import __version__
from wristbme.cli.context import CliState, print_json, stderr_console
from wristbme.errors import WristBmeError
from wristbme.i18n import default_lang, normalize_lang, t

GLOBAL_FLAGS = ("--json", "--debug")
GLOBAL_VALUE_OPTIONS = ("--lang",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the global options given after the command (``wristbme score F.dcm --json``) in front of it.

    The global options belong to the top-level callback, so click would refuse them after a subcommand;
    users (and the docs) put ``--json`` and ``--lang`` at the end. Nothing after ``--`` is touched.
    """
    args = list(args)
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg in GLOBAL_FLAGS or any(arg.startswith(o + "=") for o in GLOBAL_VALUE_OPTIONS):
            front.append(arg)
        elif arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            front += args[i:i + 2]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class _GlobalOptionsAnywhere(TyperGroup):
    """The top-level group: global options are accepted before or after the command."""

    def parse_args(self, ctx, args):  # noqa: ANN001, ANN201 - click's signature
        return super().parse_args(ctx, hoist_global_options(args))


app = typer.Typer(
    cls=_GlobalOptionsAnywhere,
    name="wristbme",
    help="wristbme: MRI bone marrow edema estimated from wrist radiographs (study software). "
    "/ 手関節X線写真からMRI骨髄浮腫を推定する研究用ソフトウェア",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command groups: (module under wristbme.cli, attribute). A module registers either a Typer sub-app
# (``app``, added under its ``name``) or plain commands via ``register(app)``.
COMMAND_MODULES = (
    "wristbme.cli.inspect_cmd",
    "wristbme.cli.synth_cmd",
    "wristbme.cli.study_cmd",
    "wristbme.cli.engine_cmd",
    "wristbme.cli.analyze_cmd",
    "wristbme.cli.serve_cmd",
    "wristbme.cli.demo_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wristbme {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout (before or after the "
                                  "command). / JSON で出力（コマンドの前後どちらでも可）"),
    lang: str = typer.Option(None, "--lang", help="ja or en (default: from the locale; before or after the "
                             "command). / 表示言語（コマンドの前後どちらでも可）"),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs. / デバッグ表示"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit. / バージョン表示"),
) -> None:
    """wristbme: MRI bone marrow edema estimated from wrist radiographs. / 手関節X線からMRI骨髄浮腫を推定"""
    try:
        lang_code = normalize_lang(lang)
    except ValueError:
        stderr_console().print(f"--lang: {lang!r} is not supported; use ja or en / ja か en を指定してください")
        raise typer.Exit(2) from None
    ctx.obj = CliState(json=json_out, lang=lang_code, debug=debug)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not debug:
        _quiet_libraries()


def _quiet_libraries() -> None:
    """Keep third-party chatter (pydicom's recoverable-file warnings, NumPy overflow notes) off the
    terminal: wristbme reports what matters itself, per file, as QC flags or refusals. ``--debug`` shows all."""
    import warnings

    logging.getLogger("pydicom").setLevel(logging.ERROR)
    for module in ("pydicom", "sklearn", "statsmodels", "neuroCombat", "weasyprint", "fontTools"):
        warnings.filterwarnings("ignore", module=module)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def _register_all() -> None:
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that command group is not built yet
            raise
        module.register(app)


_register_all()


def _argv_flag(flag: str) -> bool:
    return flag in sys.argv[1:]


def _argv_lang() -> str:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            try:
                return normalize_lang(argv[i + 1])
            except ValueError:
                break
        if arg.startswith("--lang="):
            try:
                return normalize_lang(arg.split("=", 1)[1])
            except ValueError:
                break
    return default_lang()


def run() -> None:
    """Console-script entry: run the app; a ``WristBmeError`` becomes one line and its exit code."""
    debug = _argv_flag("--debug")
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) is returned, not raised, without standalone mode
            sys.exit(code)
    except WristBmeError as exc:
        if debug:
            raise
        _report_error(exc, exc.exit_code)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        stderr_console().print(t("cli.aborted", _argv_lang()))
        sys.exit(130)
    except KeyboardInterrupt:
        stderr_console().print(t("cli.aborted", _argv_lang()))
        sys.exit(130)
    except Exception as exc:  # click usage errors and real bugs
        import click

        # typer >= 0.22 raises its vendored click's exceptions (typer._click), which are TyperExceptions
        usage_errors = (click.ClickException, getattr(typer, "TyperException", click.ClickException))
        if isinstance(exc, usage_errors) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        stderr_console().print(t("cli.internal_error", _argv_lang(), kind=type(exc).__name__))
        sys.exit(70)


def _report_error(exc: WristBmeError, code: int) -> None:
    lang = _argv_lang()
    if _argv_flag("--json"):
        print_json({"ok": False, "error": type(exc).__name__, "message": exc.render(lang), "path": exc.path,
                    "exit_code": code})
    from rich.markup import escape

    stderr_console().print(f"[bold red]{t('cli.error', lang)}[/]: {escape(exc.render(lang))}", highlight=False)


if __name__ == "__main__":
    run()
