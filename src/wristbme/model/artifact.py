"""``ModelArtifact`` (fitted engine + schema hash + training summary) and ``BmeScore`` (what scoring returns).

An artifact is saved as ``NAME.joblib`` (the fitted objects) plus ``NAME.json`` (a readable sidecar:
model id, method, schema, training summary, validation metrics). ``load`` checks that both agree.
joblib files are pickles: load only artifacts you trust (the shipped demo model, your own training runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wristbme import __version__
from wristbme.bones import RAMRIS_BONES, Bone
from wristbme.errors import ModelError
from wristbme.model.engine import Engine

FORMAT_VERSION = 1
MIN_WRIST_BONES = 8
"""A wrist score needs at least this many scored bones; otherwise it is None with a reason."""


@dataclass(frozen=True)
class BmeScore:
    """Calibrated BME scores of one radiograph, 0–100 (= probability x 100), with their producer.

    ``bones[b]`` is None when bone ``b`` was not scored; ``reasons[b]`` then says why. ``wrist`` is None
    (with ``wrist_reason``) when fewer than ``MIN_WRIST_BONES`` bones were scored.
    """

    bones: dict[Bone, float | None]
    reasons: dict[Bone, str]
    wrist: float | None
    wrist_reason: str | None
    model_id: str
    model_version: str
    schema_hash: str
    synthetic: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "bones": {b.value: self.bones.get(b) for b in RAMRIS_BONES if b in self.bones},
            "reasons": {b.value: r for b, r in self.reasons.items()},
            "wrist": self.wrist, "wrist_reason": self.wrist_reason, "model_id": self.model_id,
            "model_version": self.model_version, "schema_hash": self.schema_hash, "synthetic": self.synthetic,
            "notes": list(self.notes),
        }


@dataclass
class ModelArtifact:
    """A trained, validated model ready to score ``BoneFeatures``.

    Attributes
    ----------
    model_id : str
        Stable id derived from the training data, method, seed and schema.
    engine : Engine
    schema : dict
        ``FeatureSchema.to_dict()`` of the features it was trained on.
    summary : dict
        Training summary: N by site and grade, validation metrics (AUC with 95% CI per scheme), seed.
    synthetic : bool
        True for models trained on synthetic data: every output carries the demonstration label.
    """

    model_id: str
    engine: Engine
    schema: dict
    summary: dict
    synthetic: bool = False
    software_version: str = __version__
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def schema_hash(self) -> str:
        return str(self.schema["hash"])

    @property
    def spacing_mm(self) -> float:
        return float(self.schema["spacing_mm"])

    def check_schema(self, schema_hash: str, *, what: str = "features") -> None:
        """Raise ``ModelError`` unless ``schema_hash`` is the one this model was trained on."""
        if schema_hash != self.schema_hash:
            raise ModelError(
                f"model {self.model_id}: {what} have feature schema {schema_hash}, the model needs "
                f"{self.schema_hash} (analysis spacing {self.spacing_mm} mm); re-extract the features with "
                "this wristbme version and spacing, or train a model on them")

    def score(self, features, *, site: str | None = None) -> BmeScore:
        """Score one image's ``BoneFeatures``; excluded bones get None and their reason."""
        self.check_schema(features.schema.hash)
        bones = list(features.scorable)
        reasons = {b: r for b, r in features.exclusions.items()}
        for b in RAMRIS_BONES:
            if b not in features.values and b not in reasons:
                reasons[b] = "not_located"
        notes = []
        scores: dict[Bone, float | None] = {b: None for b in RAMRIS_BONES}
        wrist, wrist_reason = None, None
        if bones:
            X = np.stack([features.values[b] for b in bones])
            bvals = np.array([b.value for b in bones])
            sites = np.array([site] * len(bones)) if site is not None else None
            if self.engine.combat is not None and site is None:
                notes.append("combat_skipped_no_site")
                engine = _without_combat(self.engine)
            else:
                engine = self.engine
            probs, _, wrist_p = engine.predict(X, bvals, np.zeros(len(bones), dtype=int), sites)
            if engine.combat is not None and engine.combat.unseen_sites:
                notes.append("combat_site_not_in_training")
            for b, p in zip(bones, probs, strict=True):
                scores[b] = round(float(p) * 100.0, 6)
            if len(bones) >= MIN_WRIST_BONES:
                wrist = round(float(wrist_p[0]) * 100.0, 6)
            else:
                wrist_reason = f"too_few_bones:{len(bones)}<{MIN_WRIST_BONES}"
        else:
            wrist_reason = "no_scorable_bones"
        return BmeScore(scores, reasons, wrist, wrist_reason, self.model_id, self.software_version,
                        self.schema_hash, self.synthetic, tuple(notes))

    # -- persistence ---------------------------------------------------------------------------------
    def sidecar(self) -> dict:
        return {"format_version": self.format_version, "model_id": self.model_id, "method": self.engine.method,
                "params": self.engine.params, "software_version": self.software_version,
                "synthetic": self.synthetic, "schema": self.schema, "summary": self.summary}

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.joblib) and its ``.json`` sidecar; returns the joblib path."""
        import joblib

        path = Path(path)
        if path.suffix != ".joblib":
            path = path.with_suffix(".joblib")
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format_version": self.format_version, "model_id": self.model_id, "engine": self.engine,
                     "schema": self.schema, "summary": self.summary, "synthetic": self.synthetic,
                     "software_version": self.software_version, "extra": self.extra}, path, compress=3)
        path.with_suffix(".json").write_text(json.dumps(jsonable(self.sidecar()), indent=2, ensure_ascii=False),
                                             encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModelArtifact:
        """Read an artifact written by ``save``.

        Raises
        ------
        ModelError
            The file is missing or unreadable, its format is newer, or the sidecar disagrees with it.
        """
        import joblib

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found; give --model PATH to a .joblib written by "
                             "'wristbme train', or omit it to use the demo model", path=None)
        try:
            blob = joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means the file is unusable
            raise ModelError(f"{path}: cannot read the model ({type(exc).__name__}); re-train or re-copy it") from exc
        if not isinstance(blob, dict) or "engine" not in blob:
            raise ModelError(f"{path}: not a wristbme model artifact")
        if blob.get("format_version", 0) > FORMAT_VERSION:
            raise ModelError(f"{path}: model format {blob.get('format_version')} is newer than this wristbme "
                             f"supports ({FORMAT_VERSION}); upgrade wristbme")
        side = path.with_suffix(".json")
        if side.is_file():
            meta = json.loads(side.read_text(encoding="utf-8"))
            if meta.get("model_id") != blob["model_id"] or meta.get("schema", {}).get("hash") != blob["schema"]["hash"]:
                raise ModelError(f"{side}: sidecar does not match {path.name} (model id or schema hash); "
                                 "keep the two files of one training run together")
        return cls(blob["model_id"], blob["engine"], blob["schema"], blob["summary"], blob.get("synthetic", False),
                   blob.get("software_version", "?"), blob.get("format_version", FORMAT_VERSION),
                   blob.get("extra", {}))


def jsonable(value):
    """Plain JSON types from NumPy scalars/arrays, enums, tuples and non-finite floats (→ None)."""
    from enum import Enum

    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _without_combat(engine: Engine) -> Engine:
    from dataclasses import replace

    return replace(engine, combat=None)


DEMO_MODEL_PATH = Path(__file__).with_name("data") / "demo_model.joblib"


def load_demo() -> ModelArtifact:
    """The shipped synthetic demonstration model (not for clinical use)."""
    if not DEMO_MODEL_PATH.is_file():
        raise ModelError(f"{DEMO_MODEL_PATH}: the demo model is missing from this installation; run "
                         "'python -m wristbme.model.train_demo' to rebuild it")
    return ModelArtifact.load(DEMO_MODEL_PATH)
