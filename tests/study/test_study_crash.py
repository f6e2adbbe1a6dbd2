"""Crash safety: intake killed with SIGKILL at 20 random points, then re-run, leaves files and rows in agreement."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
from sqlalchemy import func, select

from wristbme.study import create_store, default_config, open_store
from wristbme.study.audit import verify_chain
from wristbme.study.intake import intake
from wristbme.study.minisite import make_site_export
from wristbme.study.models import Case, CaseGrade, Image, Quarantine, Subject
from wristbme.study.site import SiteDir, package, read_id_list

N_KILLS = 20


def _counts(store) -> dict[str, int]:
    with store.session() as s:
        return {"images": s.scalar(select(func.count(Image.id))), "subjects": s.scalar(select(func.count(Subject.id))),
                "cases": s.scalar(select(func.count(Case.id))), "grades": s.scalar(select(func.count(CaseGrade.id))),
                "quarantine": s.scalar(select(func.count(Quarantine.id))),
                "analysed": s.scalar(select(func.count(Image.id)).where(Image.analysed.is_(True)))}


def _child(study_dir: str, db_url: str | None, disc: str) -> None:
    try:
        store = open_store(study_dir, database_url=db_url, migrate=False)  # migrated by the parent
        intake(store, disc)
        store.close()
    finally:
        os._exit(0)


def _reset_pg_schema(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _rows_without_files(store) -> list[int]:
    bad = []
    with store.session() as s:
        for image_id, sha in s.execute(select(Image.id, Image.sha256)):
            path = store.image_path(sha)
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                bad.append(image_id)
    return bad


@pytest.mark.slow
def test_intake_survives_sigkill(tmp_path, db_url):
    site = make_site_export(tmp_path / "site", n_patients=6, seed=5)
    folder = SiteDir.open(tmp_path / "sitedir", site="S03")
    folder.optout_add(read_id_list(site.optout))
    package(export=site.export, cases=site.cases, site="S03", out=tmp_path / "disc", site_dir=tmp_path / "sitedir")

    # reference: one clean intake (SQLite, separate folder)
    ref = create_store(tmp_path / "ref", default_config())
    t0 = time.perf_counter()
    intake(ref, tmp_path / "disc")
    full_s = time.perf_counter() - t0
    expected = _counts(ref)
    ref.close()

    episode = 0

    def fresh_study():
        # a new, empty store: a new folder, and for PostgreSQL an empty schema
        nonlocal episode
        episode += 1
        if db_url is not None:
            _reset_pg_schema(db_url)
        path = tmp_path / f"study{episode}"
        create_store(path, default_config(), database_url=db_url).close()
        return path

    study = fresh_study()
    ctx = multiprocessing.get_context("fork")
    rng = np.random.default_rng(20)
    kills = 0
    deadline = time.perf_counter() + 30.0  # bounded on a loaded machine
    while kills < N_KILLS and time.perf_counter() < deadline:
        proc = ctx.Process(target=_child, args=(str(study), db_url, str(tmp_path / "disc")))
        proc.start()
        time.sleep(float(rng.uniform(0.02, max(0.1, full_s))))
        landed = proc.is_alive()
        if landed:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.join()
        store = open_store(study, database_url=db_url, migrate=False)
        assert _rows_without_files(store) == [], "a row lost its file after a kill"
        store.close()
        if not landed and kills < N_KILLS:
            study = fresh_study()  # that run finished: start another episode so kills keep landing mid-intake
    print(f"SIGKILL landed {kills} times over {episode} stores; a full intake takes {full_s:.2f} s")
    assert kills >= 15, f"only {kills} kills landed inside intake"

    store = open_store(study, database_url=db_url)
    intake(store, tmp_path / "disc")
    assert _counts(store) == expected
    assert _rows_without_files(store) == []
    on_disk = {p.name[:-4] for p in store.images_dir.glob("??/*.dcm")}
    with store.session() as s:
        shas = list(s.scalars(select(Image.sha256)))
        assert verify_chain(s).ok
    assert len(shas) == len(set(shas)) == len(on_disk)
    assert set(shas) == on_disk, "orphan files or missing files"
    assert not any(store.staging_dir.iterdir()) if store.staging_dir.exists() else True
    again = intake(store, tmp_path / "disc")
    assert again.accepted == 0 and _counts(store) == expected
    store.close()
