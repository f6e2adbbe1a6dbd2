"""Store fixtures: every store test runs on SQLite and, when ``WRISTBME_TEST_PG_URL`` is set, on PostgreSQL.

PostgreSQL: one fresh database per test module (created with the CREATEDB role from the URL, dropped at
the end); each test starts from an empty ``public`` schema so it sees a brand-new store.
"""

from __future__ import annotations

import os
import secrets

import pytest

PG_ENV = "WRISTBME_TEST_PG_URL"


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="module")
def pg_module_url(request):
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(f"{PG_ENV} is not set (PostgreSQL store tests skipped)")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin)
    name = f"wb_{request.module.__name__.rsplit('.', 1)[-1][:30]}_{secrets.token_hex(3)}".lower()
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """None for SQLite (the study folder's own file), or a clean PostgreSQL database URL."""
    if request.param == "sqlite":
        return None
    url = request.getfixturevalue("pg_module_url")
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url
