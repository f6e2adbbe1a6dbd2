"""Site packaging → intake → withdrawal → lock on a small synthetic site export (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from wristbme.study import create_store, default_config
from wristbme.study.analysis import analysis_tables
from wristbme.study.audit import verify_chain
from wristbme.study.intake import intake
from wristbme.study.lifecycle import lock, status, withdraw
from wristbme.study.minisite import make_site_export
from wristbme.study.models import AuditEvent, Case, Image, Quarantine, Subject, Withdrawal
from wristbme.study.service import ScoreRow, record_correction, record_features, record_score_run
from wristbme.study.site import SiteDir, package, read_id_list

# Where each kind of defect must be caught, and with which reason code.
EXPECTED = {
    "ineligible_onset": ("package", "ineligible"),
    "outside_window": ("package", "ineligible"),
    "corrupt_file": ("package", "unreadable"),
    "duplicate_image": ("package", "duplicate_image"),
    "image_without_case": ("package", "no_case_row"),
    "bad_cell": ("package", "case_row_invalid"),
    "burned_in_text": ("package", "burned_in_text"),
    "lateral_view": ("intake", "not_pa_view"),
    "non_wrist": ("intake", "not_hand_wrist"),
}


@pytest.fixture(scope="module")
def site_disc(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    site = make_site_export(root, n_patients=6, seed=3, sheet="xlsx")
    folder = SiteDir.open(root / "sitedir", site="S03")
    folder.optout_add(read_id_list(site.optout))
    report = package(export=site.export, cases=site.cases, site="S03", out=root / "disc",
                     site_dir=root / "sitedir")
    return site, report, root


def _all_text(store) -> str:
    """Every row of every table, as text (to grep the database whatever its backend)."""
    chunks = []
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def _folder_bytes(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_package_finds_each_site_defect_and_keeps_identifiers_off_the_disc(site_disc):
    site, report, root = site_disc
    by_reason = Counter(e.reason for e in report.exclusions)
    exports = {e.item for e in report.exclusions}
    for defect in site.truth["defects"]:
        where, reason = EXPECTED.get(defect["kind"], (None, None))
        if where == "package" and "file" in defect:
            assert any(e.item == defect["file"] and e.reason == reason for e in report.exclusions), defect
        elif where == "package":
            assert by_reason[reason] >= 1, defect
    # nothing else was refused: every excluded file belongs to a defect
    defect_patients = {d["patient_id"] for d in site.truth["defects"] if d["kind"] not in ("missing_grades",)}
    assert report.opted_out == 1
    assert report.cell_errors and report.cell_errors[0].row == 2 and report.cell_errors[0].column == "X線撮影日"
    assert "2019-13-45" not in str(report.cell_errors[0])
    n_clean_images = 2 * (site.truth["n_clean"] - 1) - 1  # patient 0's row has the bad cell; one file corrupt
    assert report.n_images >= n_clean_images
    assert len(exports) == len(report.exclusions)
    assert defect_patients
    disc = root / "disc"
    blob = _folder_bytes(disc)
    for ident in site.truth["identifiers"]:
        assert ident.encode() not in blob, "identifier on the disc"
    assert not (disc / "linkage.csv").exists()
    manifest = json.loads((disc / "manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} >= {"DICOMDIR", "cases.csv", "provision.json"}
    from pydicom.fileset import FileSet

    assert len(list(FileSet(disc / "DICOMDIR"))) == report.n_images
    on_disc = json.loads((disc / "provision.json").read_text())
    assert on_disc["to"] and on_disc["how"] and on_disc["when"] and "excluded" not in on_disc
    assert manifest["counts"]["opted_out"] == 1
    provision = json.loads((root / "sitedir" / "provisions" / f"{report.disc_id}.json").read_text())
    assert provision["manifest_sha256"] == report.manifest_sha256 and provision["to"] and provision["how"]
    linkage = (root / "sitedir" / "linkage.csv").read_text()
    assert "S03-0001" in linkage
    assert report.withdraw_at_lead == []


def test_opt_out_after_provision_is_passed_on_and_repackaging_keeps_pseudonyms(site_disc, tmp_path):
    site, report, root = site_disc
    sitedir = tmp_path / "sitedir"
    shutil.copytree(root / "sitedir", sitedir)
    folder = SiteDir.open(sitedir)
    linkage = folder.linkage()
    mrn, pseudonym = sorted(linkage.items())[1]
    told = folder.optout_add([mrn], note="asked by phone")
    assert told == [{"pseudonym": pseudonym}]
    again = package(export=site.export, cases=site.cases, site="S03", out=tmp_path / "disc2", site_dir=sitedir)
    assert again.withdraw_at_lead == [pseudonym]
    assert folder.linkage() == linkage  # same patients, same pseudonyms; nobody renumbered
    assert pseudonym not in (tmp_path / "disc2" / "cases.csv").read_text()


def test_intake_refuses_only_the_defects_and_is_idempotent(tmp_path, site_disc, db_url):
    site, _report, root = site_disc
    store = create_store(tmp_path / "study", default_config(), database_url=db_url)
    first = intake(store, root / "disc")
    reasons = Counter(r.reason for r in first.refused)
    assert reasons == Counter({"not_pa_view": 1, "not_hand_wrist": 1}), first.refused
    assert first.accepted > 0 and first.findings["missing_grades"] == 1
    with store.session() as s:
        n_images = s.scalar(select(func.count(Image.id)))
        n_subjects = s.scalar(select(func.count(Subject.id)))
        statuses = Counter(s.scalars(select(Subject.status)))
    assert statuses["ineligible"] == 2  # onset too long, outside window
    second = intake(store, root / "disc")
    assert second.accepted == 0 and second.unchanged == first.accepted and second.repeat
    with store.session() as s:
        assert s.scalar(select(func.count(Image.id))) == n_images
        assert s.scalar(select(func.count(Subject.id))) == n_subjects
        assert s.scalar(select(func.count(Quarantine.id))) == 2
        assert verify_chain(s).ok
    info = status(store)
    assert info["integrity"]["missing_files"] == 0 and info["integrity"]["orphan_files"] == 0
    store.close()


def test_no_identifier_reaches_the_lead_site(tmp_path, site_disc):
    site, _report, root = site_disc
    study = tmp_path / "study"
    store = create_store(study, default_config())
    intake(store, root / "disc")
    withdraw(store, "S03-0003", reason="opt-out")
    store.checkpoint()
    store.close()
    blob = _folder_bytes(study)
    for ident in site.truth["identifiers"]:
        assert ident.encode() not in blob, "identifier in the study folder"
        assert ident.encode("utf-16-le") not in blob


def test_corrected_disc_replaces_what_it_corrects(tmp_path, site_disc, db_url):
    site, _report, root = site_disc
    store = create_store(tmp_path / "study", default_config(), database_url=db_url)
    intake(store, root / "disc")
    fixed = tmp_path / "disc2"
    shutil.copytree(root / "disc", fixed)
    cases = (fixed / "cases.csv").read_text().splitlines()
    header = cases[0].split(",")
    row = cases[1].split(",")
    row[header.index("grade_radius")] = "3"
    cases[1] = ",".join(row)
    (fixed / "cases.csv").write_text("\n".join(cases) + "\n")
    manifest = json.loads((fixed / "manifest.json").read_text())
    import hashlib

    for f in manifest["files"]:
        if f["path"] == "cases.csv":
            data = (fixed / "cases.csv").read_bytes()
            f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
    (fixed / "manifest.json").write_text(json.dumps(manifest))
    again = intake(store, fixed)
    assert again.cases_updated == 1 and again.accepted == 0
    with store.session() as s:
        events = list(s.scalars(select(AuditEvent.event)))
        assert "case.corrected" in events

    # an image re-sent with new content (same keyed UID) replaces the stored one and its derived data
    import pydicom

    target = next(f for f in manifest["files"] if f["path"].startswith("PT"))
    ds = pydicom.dcmread(fixed / target["path"])
    with store.session() as s:
        old = s.scalar(select(Image).where(Image.sop_instance_uid == ds.SOPInstanceUID))
        old_id, old_sha = old.id, old.sha256
        record_score_run(s, model_id="m", model_version="1", scores=[ScoreRow(old_id, "wrist", 0.5, 50.0)])
        s.commit()
    (store.derived_dir(old_id) / "overlay.png").write_bytes(b"x")
    pixels = ds.pixel_array.copy()
    pixels[0, :8] = pixels[0, :8] // 2
    ds.PixelData = pixels.tobytes()
    ds.save_as(fixed / target["path"])
    data = (fixed / target["path"]).read_bytes()
    target["sha256"], target["size"] = hashlib.sha256(data).hexdigest(), len(data)
    (fixed / "manifest.json").write_text(json.dumps(manifest))
    third = intake(store, fixed)
    assert third.replaced == 1 and third.accepted == 0 and not third.refused[2:], third.refused
    with store.session() as s:
        new = s.scalar(select(Image).where(Image.sop_instance_uid == ds.SOPInstanceUID))
        assert new.id != old_id and new.sha256 == target["sha256"]
        assert "image.replaced" in set(s.scalars(select(AuditEvent.event)))
        from wristbme.study.models import Score

        assert s.scalar(select(func.count(Score.id)).where(Score.image_id == old_id)) == 0
    assert not store.image_path(old_sha).exists() and store.image_path(target["sha256"]).exists()
    assert not store.derived_dir(old_id, create=False).exists()
    store.close()


def test_tampered_file_and_leftover_identifier_are_refused(tmp_path, site_disc, db_url):
    import hashlib

    import pydicom

    site, _report, root = site_disc
    disc = tmp_path / "disc"
    shutil.copytree(root / "disc", disc)
    manifest = json.loads((disc / "manifest.json").read_text())
    images = [f for f in manifest["files"] if f["path"].startswith("PT")]
    # 1: a byte flipped after packaging
    victim = disc / images[0]["path"]
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    # 2: a file that still carries a name and birth date (manifest updated to match)
    leaky = disc / images[1]["path"]
    ds = pydicom.dcmread(leaky)
    ds.PatientName = "SUZUKI^HANAKO"
    ds.PatientBirthDate = "19600101"
    ds.save_as(leaky)
    blob = leaky.read_bytes()
    images[1]["sha256"], images[1]["size"] = hashlib.sha256(blob).hexdigest(), len(blob)
    (disc / "manifest.json").write_text(json.dumps(manifest))
    store = create_store(tmp_path / "study", default_config(), database_url=db_url)
    report = intake(store, disc)
    refused = {(r.item, r.reason) for r in report.refused}
    assert (images[0]["path"], "manifest_mismatch") in refused
    assert (images[1]["path"], "identifier_present") in refused
    detail = next(r.detail for r in report.refused if r.reason == "identifier_present")
    assert "PatientName" in detail and "SUZUKI" not in detail
    assert b"SUZUKI" not in _folder_bytes(tmp_path / "study")
    store.close()


def test_withdrawal_removes_every_trace_and_refuses_reintake(tmp_path, site_disc, db_url):
    site, _report, root = site_disc
    study = tmp_path / "study"
    store = create_store(study, default_config(), database_url=db_url)
    intake(store, root / "disc")
    with store.session() as s, s.begin():
        subject = s.scalar(select(Subject).where(Subject.status == "eligible").order_by(Subject.pseudonym))
        pseudonym = subject.pseudonym
        imgs = list(s.scalars(select(Image).where(Image.subject_id == subject.id)))
        uids = [i.sop_instance_uid for i in imgs]
        shas = [i.sha256 for i in imgs]
        ids = [i.id for i in imgs]
        run = record_score_run(s, model_id="m", model_version="1",
                               scores=[ScoreRow(i.id, "wrist", 0.5, 50.0) for i in imgs])
        record_features(s, run_id=run.id, image_id=ids[0], data={"radius": {"density": 1.0}})
        record_correction(s, image_id=ids[0], operator="op1", data={"regions": {}})
    (store.derived_dir(ids[0]) / "overlay.png").write_bytes(b"png")
    result = withdraw(store, pseudonym, reason="patient asked (opt-out)")
    assert result.counts["images"] == len(ids) and result.counts["scores"] == len(ids)
    assert result.counts["features"] == 1 and result.counts["corrections"] == 1
    assert result.purged
    rows = _all_text(store)
    assert pseudonym not in rows
    for value in uids + shas:
        assert value not in rows
    assert result.subject_key in rows
    assert not store.derived_dir(ids[0], create=False).exists()
    for sha in shas:
        assert not store.image_path(sha).exists()
    if db_url is None:
        store.checkpoint()
        blob = _folder_bytes(study)
        for value in [pseudonym, *uids, *shas]:
            assert value.encode() not in blob, value
    again = intake(store, root / "disc")
    refused = [r for r in again.refused if r.reason == "withdrawn_subject"]
    assert len(refused) == 1 + len(ids)  # the case row and every image
    with store.session() as s:
        assert s.scalar(select(func.count(Subject.id)).where(Subject.pseudonym == pseudonym)) == 0
        assert verify_chain(s).ok
    assert withdraw(store, pseudonym, reason="again").already
    store.close()


def test_lock_refuses_intake_and_counts_later_withdrawals(tmp_path, site_disc, db_url):
    from wristbme.errors import StoreError
    from wristbme.study.analysis import provenance_facts

    site, _report, root = site_disc
    store = create_store(tmp_path / "study", default_config(), database_url=db_url)
    intake(store, root / "disc")
    row, created = lock(store)
    assert created and row.n_images > 0
    assert lock(store)[1] is False
    with pytest.raises(StoreError, match="locked"):
        intake(store, root / "disc")
    with store.session() as s:
        pseudonym = s.scalar(select(Subject.pseudonym).where(Subject.status == "eligible").limit(1))
    report = withdraw(store, pseudonym, reason="opt-out after lock")
    assert report.after_lock
    info = status(store)
    assert info["withdrawals"] == {"total": 1, "after_lock": 1}
    assert info["lock"]["unchanged_since"] is False
    assert provenance_facts(store)["withdrawals_since_lock"] == 1
    with store.session() as s:
        tables = analysis_tables(s)
        assert s.scalar(select(func.count(Withdrawal.id))) == 1
    flow = tables["flow"]
    assert flow[(flow.stage == "withdrawn")]["n"].sum() == 1
    store.close()


def _scored_study(tmp_path, site_disc, n_unscored: int = 0):
    """A study with the site disc taken in and a score run over its analysed images; the first
    ``n_unscored`` images get no wrist score (an image-level cast/metal flag in the run's features cache).
    Returns (store, analysed images, pseudonyms left unscored)."""
    from wristbme.study.service import list_analysis_images

    _site, _report, root = site_disc
    store = create_store(tmp_path / "study", default_config())
    intake(store, root / "disc")
    with store.session() as s, s.begin():
        images = list_analysis_images(s)
        unscored, rest = images[:n_unscored], images[n_unscored:]
        run = record_score_run(s, model_id="m", model_version="1",
                               scores=[ScoreRow(i.id, "wrist", 0.25, 25.0) for i in rest])
        for img in unscored:
            record_features(s, run_id=run.id, image_id=img.id,
                            data={"reasons": {"lunate": "image_flagged:cast_or_metal"},
                                  "wrist_reason": "no_scorable_bones"})
        lost = {img.subject.pseudonym for img in unscored}
    return store, images, lost


def _contract_accepts(tables) -> int:
    contract = pytest.importorskip("wristbme.report.contract")
    data = contract.StudyData(wrists=tables["wrists"], scores=tables["scores"], flow=tables["flow"],
                              provenance=contract.Provenance(software_version="0", model_id="m"))
    return len(data.validated().wrists)


def test_analysis_tables_match_the_report_contract(tmp_path, site_disc):
    store, images, _ = _scored_study(tmp_path, site_disc)
    with store.session() as s:
        tables = analysis_tables(s)
        n_eligible = s.scalar(select(func.count(Case.id)).where(Case.eligible.is_(True)))
    wrists, scores, flow = tables["wrists"], tables["scores"], tables["flow"]
    assert len(wrists) == len(images) and len(wrists) <= n_eligible
    assert set(scores["kind"]) == {"primary"}
    by_stage = flow.groupby("stage")["n"].sum()
    assert by_stage["received"] == by_stage.drop("received").sum()
    assert by_stage["opted_out"] == 1 and by_stage["ineligible"] == 2
    assert _contract_accepts(tables) == len(wrists)
    store.close()


def test_an_image_the_scorer_could_not_score_leaves_the_analysis_with_its_reason(tmp_path, site_disc):
    store, images, lost = _scored_study(tmp_path, site_disc, n_unscored=1)
    with store.session() as s:
        tables = analysis_tables(s)
    wrists, flow = tables["wrists"], tables["flow"]
    assert not lost & set(wrists["pseudonym"]) and len(wrists) == len(images) - 1
    assert not lost & set(tables["scores"]["pseudonym"])
    failed = flow[(flow.stage == "qc_failed") & (flow.reason == "not_scorable:cast_or_metal")]
    assert failed["n"].sum() == 1
    by_stage = flow.groupby("stage")["n"].sum()
    assert by_stage["received"] == by_stage.drop("received").sum()
    assert _contract_accepts(tables) == len(wrists)
    store.close()
