"""Helpers of the web tests: a tiny study, built directly through the store (no intake run needed).

Two sites, six subjects with different BME status, QC and eligibility, one small DICOM each (plus a second
image for one subject), a hand-made anatomy, a score run, an intake, QC findings, and three users.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wristbme.anatomy.types import LANDMARKS, Region, WristAnatomy
from wristbme.bones import Bone

PASSWORDS = {"vera": "viewer-pass-1", "otto": "operator-pass-1", "ada": "admin-pass-12"}
ROLES = {"vera": "viewer", "otto": "operator", "ada": "admin"}
BASE = "http://127.0.0.1"


def write_dicom(path: Path, pixels: np.ndarray, spacing_mm: float, laterality: str = "R") -> bytes:
    """A minimal de-identified DX image (explicit VR little endian, MONOCHROME2, 12 of 16 bits)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared DICOM test factory (tests/imaging)
    from imaging.dicom_factory import make_dataset, save

    ds = make_dataset(pixels.astype(np.uint16), bits_stored=12, PatientIdentityRemoved="YES",
                      BodyPartExamined="HAND", ViewPosition="PA", ImageLaterality=laterality,
                      PixelSpacing=[spacing_mm, spacing_mm])
    return save(ds, path).read_bytes()


def phantom_pixels(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A smooth bright blob on a dark field with a little noise: enough to look like something."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols]
    img = 600 + 2400 * np.exp(-(((x - cols * 0.5) / (cols * 0.22)) ** 2 + ((y - rows * 0.55) / (rows * 0.3)) ** 2))
    img += rng.normal(0, 40, shape)
    return np.clip(img, 0, 4095)


def simple_anatomy(shape: tuple[int, int], spacing_mm: float) -> WristAnatomy:
    """Every landmark on a grid and a small square region per bone (mm, original frame)."""
    rows, cols = shape
    landmarks = {}
    for i, name in enumerate(LANDMARKS):
        gx, gy = i % 5, i // 5
        landmarks[name] = ((0.2 + 0.15 * gx) * cols * spacing_mm, (0.25 + 0.15 * gy) * rows * spacing_mm)
    regions = {}
    for i, bone in enumerate(Bone):
        gx, gy = i % 5, i // 5
        x0, y0 = (0.1 + 0.17 * gx) * cols * spacing_mm, (0.2 + 0.2 * gy) * rows * spacing_mm
        side = 0.1 * cols * spacing_mm
        poly = np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]])
        regions[bone] = Region(bone, poly, 0.9, ("low_confidence",) if bone is Bone.PISIFORM else ())
    return WristAnatomy(spacing_mm=(spacing_mm, spacing_mm), image_shape=shape, landmarks=landmarks,
                        regions=regions, qc_flags=(), confidence=0.9, method="test-fixture/1")


@dataclass
class StudyFixture:
    root: Path
    image_ids: dict[str, int]
    """pseudonym → analysed image id."""
    extra_image_id: int
    shape: tuple[int, int]
    spacing_mm: float


SUBJECTS = [
    # pseudonym, site, eligible, reasons, bme, qc_status, finding, wrist score
    ("S01-0001", "S01", True, [], True, "pass", None, 81.0),
    ("S01-0002", "S01", True, [], False, "warn", "burned_in_text", 22.0),
    ("S01-0003", "S01", False, ["onset_too_early"], None, "pass", None, None),
    ("S02-0001", "S02", True, [], True, "fail", "not_pa_view", 64.0),
    ("S02-0002", "S02", True, [], False, "pass", None, 12.5),
    ("S02-0003", "S02", True, [], None, "pass", None, 47.0),
]


def build_study(root: Path, shape: tuple[int, int] = (250, 200), spacing_mm: float = 0.2,
                pixels: np.ndarray | None = None, model_path: Path | None = None) -> StudyFixture:
    """The study; ``model_path`` is recorded on the baseline score run (the model a correction re-scores with)."""
    from argon2 import PasswordHasher

    from wristbme.anatomy import anatomy_to_json
    from wristbme.study.config import default_config
    from wristbme.study.models import Case, CaseGrade, Image, Intake, QcFinding, Quarantine, Subject, User
    from wristbme.study.service import ScoreRow, record_anatomy, record_score_run
    from wristbme.study.store import create_store

    config = default_config("Web test study (synthetic)", n_sites=2)
    store = create_store(root, config)
    ids: dict[str, int] = {}
    scores: list = []
    anatomy_json = anatomy_to_json(simple_anatomy(shape, spacing_mm))
    try:
        with store.session() as s, s.begin():
            intake = Intake(manifest_sha256="0" * 64, site_code="S01", disc_id="DISC-S01-1",
                            counts={"accepted": 5, "refused": 1})
            s.add(intake)
            s.flush()
            s.add(Quarantine(intake_id=intake.id, item="IMAGES/IM9", reason="identifier_in_header"))
            extra_id = 0
            for k, (pseudo, site, eligible, reasons, bme, qc, finding, wrist) in enumerate(SUBJECTS):
                subj = Subject(pseudonym=pseudo, site_code=site, status="eligible" if eligible else "ineligible")
                s.add(subj)
                s.flush()
                s.add(Case(subject_id=subj.id, age_years=50 + k, sex="F", duration_months=6.0 + k,
                           interval_days=10, xray_year=2020, mri_side="R", bme_present=bme, eligible=eligible,
                           eligibility_reasons=reasons, row_sha256=f"{k:064d}", intake_id=intake.id))
                for j, bone in enumerate(Bone):
                    s.add(CaseGrade(subject_id=subj.id, bone=bone.value, grade=(j + k) % 4 if bme else 0))
                n_images = 2 if pseudo == "S01-0001" else 1
                for m in range(n_images):
                    px = pixels if (pixels is not None and m == 0 and k == 0) else phantom_pixels(shape, k * 10 + m)
                    tmp = root / f".tmp-{k}-{m}.dcm"
                    raw = write_dicom(tmp, px, spacing_mm, "R" if m == 0 else "L")
                    tmp.unlink()
                    staged = store.stage(raw)
                    store.place(staged)
                    img = Image(sha256=staged.sha256, sop_instance_uid=f"2.25.{k}{m}{len(raw)}", subject_id=subj.id,
                                laterality="R" if m == 0 else "L", view="PA", analysed=(m == 0),
                                rows=px.shape[0], cols=px.shape[1], spacing_row_mm=spacing_mm,
                                spacing_col_mm=spacing_mm, spacing_source="PixelSpacing", modality="DX",
                                qc_status=qc if m == 0 else "pass", size_bytes=len(raw), intake_id=intake.id)
                    s.add(img)
                    s.flush()
                    if m == 0:
                        ids[pseudo] = img.id
                        if finding:
                            s.add(QcFinding(image_id=img.id, subject_id=subj.id, code=finding, severity=qc))
                        if wrist is not None:
                            record_anatomy(s, image_id=img.id, data=anatomy_json, method="test-fixture/1")
                            scores.append(ScoreRow(img.id, "wrist", wrist / 100, wrist))
                            for j, bone in enumerate(Bone):
                                val = float((wrist + 7 * j) % 100)
                                scores.append(ScoreRow(img.id, bone.value, val / 100, val))
                    else:
                        extra_id = img.id
            model_id = "test-model"
            if model_path is not None:
                from wristbme.model.artifact import ModelArtifact

                model_id = ModelArtifact.load(model_path).model_id
            record_score_run(s, model_id=model_id, model_version="0", scores=scores, label="baseline",
                             params={"model_path": str(model_path)} if model_path else {})
            # cheap argon2 parameters keep the tests fast; verification reads them from the hash itself
            cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            for name, password in PASSWORDS.items():
                s.add(User(name=name, password_hash=cheap.hash(password), role=ROLES[name]))
    finally:
        store.close()
    return StudyFixture(root, ids, extra_id, shape, spacing_mm)



class FakeEngineServices:
    """Mixin for tests: re-scoring without the real model, so route tests do not depend on it.

    Moved landmarks and replaced polygons are applied to the stored anatomy as given; the wrist score is
    50 + (mean x shift of the moved landmarks in pixels), clipped to 0..100, so a test can predict it.
    """

    def _rescore(self, radiograph, edits_mm, base, *, image_id=0, site=None):
        from dataclasses import replace

        from wristbme.anatomy.types import Region

        landmarks = dict(base.landmarks)
        shift = []
        for name, (x, y) in edits_mm["landmarks"].items():
            shift.append((x - landmarks[name][0]) / base.spacing_mm[1])
            landmarks[name] = (x, y)
        regions = dict(base.regions)
        for bone, pts in edits_mm["regions"].items():
            regions[Bone(bone)] = Region(Bone(bone), np.asarray(pts), 1.0, ())
        anatomy = replace(base, landmarks=landmarks, regions=regions, method="fake+corrected")
        wrist = float(np.clip(50 + (np.mean(shift) if shift else 0.0), 0, 100))
        scores = {"wrist": wrist, **{b.value: 30.0 for b in Bone}}
        return anatomy, scores, "fake-model", "1", []



def model_under_test() -> Path | None:
    """``$WRISTBME_WEB_TEST_MODEL`` when set, else the shipped demo model; None when neither exists or the
    model was trained on another feature schema than this code extracts (a stale model file)."""
    import os

    from wristbme.features import feature_schema
    from wristbme.model.artifact import DEMO_MODEL_PATH, ModelArtifact

    path = Path(os.environ.get("WRISTBME_WEB_TEST_MODEL") or DEMO_MODEL_PATH)
    if not path.is_file():
        return None
    artifact = ModelArtifact.load(path)
    return path if feature_schema(artifact.spacing_mm).hash == artifact.schema_hash else None


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    html = client.get(path).text
    match = CSRF_RE.search(html)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def login(client, name: str) -> None:
    token = csrf_of(client)
    r = client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token,
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
