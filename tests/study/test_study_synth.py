"""The whole data flow on a ``wristbme.synth`` cohort: every defect in truth.json is found with the right
reason, nothing else is refused, and no identifier from the sheets or headers reaches the lead site."""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select

from wristbme.study import create_store, default_config
from wristbme.study.intake import intake
from wristbme.study.models import Case, QcFinding, Subject
from wristbme.study.site import SiteDir, package, read_id_list

EXCLUDING = ("optout", "image_without_case", "ineligible_onset", "ineligible_date")
"""Patient-level defects that keep the patient's images off the disc (other defects then go unseen)."""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    mod = pytest.importorskip("wristbme.synth.cohort")
    out = tmp_path_factory.mktemp("cohort") / "c"
    rates = {k: 0.2 for k in mod.DEFAULT_DEFECT_RATES}
    mod.generate_cohort(out, sites=2, patients_per_site=8, seed=4, workers=1, spacing_mm=0.25, defect_rates=rates)
    return out, json.loads((out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def received(request, cohort, tmp_path_factory):
    out, truth = cohort
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_module_url")
        import psycopg
        from sqlalchemy.engine import make_url

        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    work = tmp_path_factory.mktemp("flow")
    store = create_store(work / "study", default_config(), database_url=url)
    results = {}
    for site in [s["site_id"] for s in truth["sites"]]:
        site_dir = work / f"{site}-private"
        folder = SiteDir.open(site_dir, site=site)
        folder.optout_add(read_id_list(out / site / "optout.csv"))
        sheet = next(p for p in (out / site / "cases.xlsx", out / site / "cases.csv") if p.exists())
        pkg = package(export=out / site / "export", cases=sheet, site=site, out=work / f"{site}-disc",
                      site_dir=site_dir, mask_burned_in=True)
        rep = intake(store, work / f"{site}-disc")
        results[site] = (pkg, rep, folder, work / f"{site}-disc")
    yield store, results, work
    store.close()


def _disc_to_export(disc: Path, export: Path, secret: bytes) -> dict[str, str]:
    """Disc file → export file (relative paths), matched through the keyed SOP Instance UID."""
    from wristbme.deid.deidentify import keyed_uid

    by_uid = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in export.rglob("*"):
            if p.is_file() and p.name != "DICOMDIR":
                try:
                    uid = pydicom.dcmread(p, stop_before_pixels=True, force=True).get("SOPInstanceUID")
                except Exception:
                    continue
                if uid:
                    by_uid[keyed_uid(uid, secret)] = p.relative_to(export).as_posix()
        out = {}
        for p in disc.rglob("*"):
            if p.is_file() and p.name not in ("DICOMDIR", "cases.csv", "manifest.json", "provision.json"):
                uid = pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID
                out[p.relative_to(disc).as_posix()] = by_uid[uid]
    return out


@pytest.mark.slow
def test_every_truth_defect_is_found_and_nothing_else_is_refused(cohort, received):
    out, truth = cohort
    store, results, _work = received
    defects_by_mrn: dict[tuple[str, str], set[str]] = defaultdict(set)
    defect_files: dict[str, str] = {}
    for d in truth["defects"]:
        defects_by_mrn[(d["site"], d["mrn"])].add(d["kind"])
        if d.get("file"):
            defect_files[d["file"]] = d["kind"]
    file_mrn = {img["file"]: (img["site"], img["mrn"]) for img in truth["images"]}
    dup_original = {d["file"]: d["detail"].removeprefix("same pixels as ").strip()
                    for d in truth["defects"] if d["kind"] == "duplicate_image"}

    for site, (pkg, rep, folder, disc) in results.items():
        prefix = f"{site}/export/"
        assert not pkg.cell_errors, pkg.cell_errors
        found_files = {}
        for e in pkg.exclusions:
            rel = prefix + e.item
            kinds = defects_by_mrn[file_mrn[rel]]
            if e.reason == "unreadable":
                assert defect_files.get(rel) == "corrupt_file", (rel, e)
            elif e.reason == "duplicate_image":
                assert defect_files.get(rel) == "duplicate_image" or rel in dup_original.values(), (rel, e)
            elif e.reason == "no_case_row":
                assert "image_without_case" in kinds, (rel, e)
            elif e.reason == "ineligible":
                assert kinds & {"ineligible_onset", "ineligible_date"}, (rel, e)
            else:
                raise AssertionError(f"unexpected exclusion {e}")
            found_files[rel] = e.reason
        optouts = {m for (s, m), k in defects_by_mrn.items() if s == site and "optout" in k}
        assert pkg.opted_out == len(optouts)
        linkage = folder.linkage()
        assert not optouts & set(linkage), "an opted-out patient got a pseudonym"

        disc_map = _disc_to_export(disc, out / site / "export", folder.secret)
        for r in rep.refused:
            rel = prefix + disc_map[r.item]
            expected = {"not_pa_view": "lateral_view", "not_hand_wrist": "non_wrist_image"}.get(r.reason)
            assert expected and defect_files.get(rel) == expected, (rel, r)
            found_files[rel] = r.reason
        assert rep.accepted + len(rep.refused) == len(disc_map)

        pseudonym_of = {mrn: p for mrn, p in linkage.items()}
        with store.session() as s:
            subjects = {sub.pseudonym: sub for sub in s.scalars(select(Subject).where(Subject.site_code == site))}
            cases = {c.subject_id: c for c in s.scalars(select(Case))}
            findings = defaultdict(set)
            for f in s.scalars(select(QcFinding)):
                if f.subject_id:
                    findings[f.subject_id].add(f.code)
            for (dsite, mrn), kinds in defects_by_mrn.items():
                if dsite != site:
                    continue
                excluded = kinds & set(EXCLUDING)
                for d in truth["defects"]:
                    if d["site"] != site or d["mrn"] != mrn or not d.get("file") or excluded:
                        continue
                    if d["kind"] == "duplicate_image":
                        orig = dup_original[d["file"]]
                        assert d["file"] in found_files or found_files.get(orig) in ("duplicate_image", "unreadable"), d
                    else:
                        assert d["file"] in found_files, d
                if "optout" in kinds or "image_without_case" in kinds:
                    assert mrn not in pseudonym_of
                    continue
                sub = subjects[pseudonym_of[mrn]]
                case = cases[sub.id]
                if "ineligible_onset" in kinds:
                    assert "onset_to_imaging_too_long" in case.eligibility_reasons
                if "ineligible_date" in kinds:
                    assert "imaging_outside_window" in case.eligibility_reasons
                if excluded:
                    assert sub.status == "ineligible"
                    continue
                if "missing_grades" in kinds:
                    assert "missing_grades" in findings[sub.id]
                if "case_without_image" in kinds:
                    assert "no_image" in findings[sub.id] and sub.status == "incomplete"
            # patients without defects are all analysed
            for p in truth["patients"]:
                if p["site"] == site and not p["defects"]:
                    sub = subjects[pseudonym_of[p["mrn"]]]
                    assert sub.status == "eligible" and cases[sub.id].eligible, p["mrn"]


@pytest.mark.slow
def test_no_identifier_from_sheets_or_headers_reaches_the_lead_site(cohort, received):
    out, truth = cohort
    store, _results, work = received
    idents: set[str] = set()
    for p in truth["patients"]:
        idents |= {p["mrn"], p["birth_date"], p["birth_date"].replace("-", "")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in out.rglob("*"):
            if f.is_file() and "export" in f.parts and f.name != "DICOMDIR":
                try:
                    ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
                except Exception:
                    continue
                for kw in ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "AccessionNumber"):
                    value = str(ds.get(kw, "") or "")
                    if len(value) >= 4:
                        idents.add(value)
                        idents |= {part for part in value.replace("=", "^").split("^") if len(part) >= 3}
    store.checkpoint()
    blob = b"\n".join(p.read_bytes() for p in sorted((work / "study").rglob("*")) if p.is_file())
    if not store.is_sqlite:  # the rows themselves, wherever the server keeps them
        from sqlalchemy import inspect, text

        with store.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    blob += " ".join(str(v) for v in row).encode("utf-8")
    leaked = sorted(i for i in idents if i.encode("utf-8") in blob)
    assert not leaked, f"{len(leaked)} identifiers at the lead site"
    assert len(idents) > 20
