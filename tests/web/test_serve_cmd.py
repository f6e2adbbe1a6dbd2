"""``wristbme user add|remove|list`` and ``wristbme serve`` (without starting a real server)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wristbme.cli.main import app
from wristbme.errors import ConfigError, InputError, NotFoundError, StoreError

runner = CliRunner()


@pytest.fixture
def empty_study(tmp_path):
    from wristbme.study.config import default_config
    from wristbme.study.store import create_store

    root = tmp_path / "study"
    create_store(root, default_config("CLI test", n_sites=1)).close()
    return root


def _invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=True)


def test_user_add_list_remove(empty_study):
    r = _invoke("user", "add", "alice", "--role", "operator", "--study", empty_study, "--password-stdin",
                input="a-long-password\n")
    assert r.exit_code == 0, r.output
    r = _invoke("--json", "user", "list", "--study", empty_study)
    users = json.loads(r.stdout)
    assert [(u["name"], u["role"], u["active"]) for u in users] == [("alice", "operator", True)]
    assert "argon2" not in r.output
    from wristbme.study.models import User
    from wristbme.study.store import open_store

    with open_store(empty_study) as store, store.session() as s:
        assert s.query(User).one().password_hash.startswith("$argon2id$")
    r = _invoke("user", "remove", "alice", "--study", empty_study)
    assert r.exit_code == 0, r.output
    assert json.loads(_invoke("--json", "user", "list", "--study", empty_study).stdout) == []


@pytest.mark.parametrize("args,stdin,error", [
    (["--role", "root"], "a-long-password\n", ConfigError),
    ([], "short\n", InputError),
])
def test_user_add_refusals(empty_study, args, stdin, error):
    r = _invoke("user", "add", "bob", *args, "--study", empty_study, "--password-stdin", input=stdin)
    assert isinstance(r.exception, error)


def test_user_add_twice_and_remove_unknown_are_refused(empty_study):
    assert _invoke("user", "add", "bob", "--study", empty_study, "--password-stdin", input="a-long-password\n"
                   ).exit_code == 0
    r = _invoke("user", "add", "bob", "--study", empty_study, "--password-stdin", input="a-long-password\n")
    assert isinstance(r.exception, StoreError)
    r = _invoke("user", "remove", "nobody", "--study", empty_study)
    assert isinstance(r.exception, NotFoundError) and "nobody" in str(r.exception)


def test_serve_validates_settings_before_starting(empty_study, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    r = _invoke("serve", "--study", empty_study, "--port", "0")
    assert isinstance(r.exception, ConfigError) and "port" in str(r.exception)
    r = _invoke("serve", "--study", empty_study.parent / "nowhere")
    assert isinstance(r.exception, ConfigError)


def test_serve_builds_the_app_and_binds_where_asked(empty_study, monkeypatch):
    import uvicorn

    calls = {}

    def fake_run(app, **kwargs):
        calls["app"], calls["kwargs"] = app, kwargs

    monkeypatch.setattr(uvicorn, "run", fake_run)
    r = _invoke("serve", "--study", empty_study, "--host", "0.0.0.0", "--port", "8123")
    assert r.exit_code == 0, r.output
    assert calls["kwargs"]["host"] == "0.0.0.0" and calls["kwargs"]["port"] == 8123
    settings = calls["app"].state.settings
    assert settings.require_login and settings.study_dir == empty_study
    assert "sign-in is required" in r.output and "No user exists yet" in r.output
    r = _invoke("serve", "--study", empty_study)
    assert r.exit_code == 0 and not calls["app"].state.settings.require_login
    assert calls["kwargs"]["host"] == "127.0.0.1" and calls["kwargs"]["port"] == 8000
