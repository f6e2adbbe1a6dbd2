import pytest
from sqlalchemy import func, select, text

from wristbme.errors import NotFoundError, StoreError
from wristbme.study import create_store, default_config, open_store
from wristbme.study.audit import audit, verify_chain
from wristbme.study.models import AuditEvent, Image, Score, Site, Subject
from wristbme.study.service import (
    ScoreRow,
    authenticate,
    create_user,
    list_analysis_images,
    record_correction,
    record_score_run,
)


def _subject_with_image(s, pseudonym="S03-0001", sha="a" * 64):
    sub = Subject(pseudonym=pseudonym, site_code="S03", status="eligible")
    s.add(sub)
    s.flush()
    img = Image(sha256=sha, sop_instance_uid="2.25." + str(int(sha[:8], 16)), subject_id=sub.id, laterality="R",
                view="PA", rows=10, cols=10, spacing_source="PixelSpacing", size_bytes=1, analysed=True)
    s.add(img)
    s.flush()
    return sub, img


def test_create_store_migrates_and_lists_sites(tmp_path, db_url):
    store = create_store(tmp_path / "study", default_config(n_sites=3), database_url=db_url)
    with store.session() as s:
        assert sorted(s.scalars(select(Site.code))) == ["S01", "S02", "S03"]
    store.close()
    again = open_store(tmp_path / "study")  # the URL was kept in study.toml; migrations are idempotent
    assert again.engine.dialect.name == ("sqlite" if db_url is None else "postgresql")
    again.close()
    with pytest.raises(StoreError, match="already exists"):
        create_store(tmp_path / "study", default_config())


def test_deleting_a_subject_cascades_to_scores(tmp_path, db_url):
    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    with store.session() as s, s.begin():
        sub, img = _subject_with_image(s)
        record_score_run(s, model_id="m", model_version="1", scores=[ScoreRow(img.id, "wrist", 0.4, 40.0),
                                                                     ScoreRow(img.id, "Scaphoid", 0.1, 10.0)])
        record_correction(s, image_id=img.id, operator="op", data={"regions": {}})
    with store.session() as s, s.begin():
        assert s.scalar(select(func.count(Score.id))) == 2
        s.delete(s.get(Subject, sub.id))
    with store.session() as s:
        assert s.scalar(select(func.count(Score.id))) == 0
        assert s.scalar(select(func.count(Image.id))) == 0
    store.close()


def test_score_out_of_range_and_unknown_image_are_refused(tmp_path, db_url):
    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    with store.session() as s, s.begin():
        _sub, img = _subject_with_image(s)
    with store.session() as s, s.begin(), pytest.raises(StoreError, match="outside"):
        record_score_run(s, model_id="m", model_version="1", scores=[ScoreRow(img.id, "wrist", 1.5, 40.0)])
    with store.session() as s, s.begin(), pytest.raises(NotFoundError):
        record_score_run(s, model_id="m", model_version="1", scores=[ScoreRow(999, "wrist", 0.5, 40.0)])
    store.close()


def test_audit_chain_verifies_and_detects_tampering(tmp_path, db_url):
    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    for i in range(5):
        with store.session() as s, s.begin():
            audit(s, "test.event", {"i": i})
    with store.session() as s:
        report = verify_chain(s)
        assert report.ok and report.n_events == 5
    # the database refuses edits
    with store.session() as s, pytest.raises(Exception, match="append-only"):
        s.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = 3"))
        s.commit()
    # someone who drops the guard and edits a row is caught
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_change ON audit_events")
        conn.exec_driver_sql("UPDATE audit_events SET detail = '{\"i\":99}' WHERE id = 3")
    with store.session() as s:
        report = verify_chain(s)
        assert not report.ok and report.first_bad_id == 3
    store.close()


def test_users_hash_passwords(tmp_path, db_url):
    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    with store.session() as s, s.begin():
        create_user(s, name="alice", password="correct horse", role="operator")
    with store.session() as s:
        assert authenticate(s, name="alice", password="correct horse").role == "operator"
        assert authenticate(s, name="alice", password="wrong password") is None
        assert authenticate(s, name="bob", password="correct horse") is None
        assert s.scalar(select(func.count(AuditEvent.id))) == 1
    store.close()


def test_analysis_images_need_an_eligible_case(tmp_path, db_url):
    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    with store.session() as s, s.begin():
        _subject_with_image(s)
    with store.session() as s:
        assert list_analysis_images(s) == []  # no case row yet
    store.close()


def test_migrations_match_the_models(tmp_path, db_url):
    """Alembic head creates exactly the tables, columns and indexes the ORM declares (add a revision when not)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wristbme.study.models import Base

    store = create_store(tmp_path / "s", default_config(n_sites=3), database_url=db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_optout_register_commands(tmp_path):
    import json

    from typer.testing import CliRunner

    from wristbme.cli.main import app

    run = CliRunner().invoke
    sitedir = str(tmp_path / "sitedir")
    assert run(app, ["site", "optout", "add", "0012345", "0099999", "--site-dir", sitedir, "--site", "S03"]).exit_code == 0
    listed = run(app, ["--json", "site", "optout", "list", "--site-dir", sitedir])
    assert [r["patient_id"] for r in json.loads(listed.stdout)] == ["0012345", "0099999"]
    removed = run(app, ["--json", "site", "optout", "remove", "0012345", "--site-dir", sitedir])
    assert json.loads(removed.stdout) == {"removed": 1}
    other = run(app, ["site", "optout", "add", "1", "--site-dir", sitedir, "--site", "S04"])
    assert other.exit_code != 0  # the folder belongs to S03
