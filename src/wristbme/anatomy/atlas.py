"""The wrist atlas: mean landmark shape, its modes, mean appearance and mean bone outlines.

Everything is in the *atlas frame*: canonical orientation (right hand, PA, fingers up; y down), millimetres,
origin at the centroid of the mean landmark shape. The atlas is built by ``wristbme.anatomy.train`` from the
synthetic phantom (shapes, outlines, appearance) and the RAM-W600 wrists (appearance and landmark positions,
CC-BY-4.0, DOI 10.57967/hf/5328), and shipped as ``anatomy/data/atlas.json``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from wristbme.anatomy.types import LANDMARKS
from wristbme.bones import Bone
from wristbme.errors import AnatomyError

ATLAS_VERSION = 1
TEMPLATE_RES_MM = (2.0, 1.0)
"""Resolutions (mm) of the whole-wrist appearance templates, coarse first."""
PATCH_RES_MM = 0.5
PATCH_HALF_MM = 7.0


@dataclass
class Atlas:
    """Mean shape and appearance of the wrist in the atlas frame (see module docstring)."""

    names: tuple[str, ...]
    mean_shape: np.ndarray
    """(L, 2) mm, landmark ``names[i]`` at row i."""
    modes: np.ndarray
    """(K, 2L) orthonormal shape modes (after similarity alignment)."""
    mode_sd: np.ndarray
    """(K,) standard deviation (mm) along each mode."""
    templates: dict[float, tuple[np.ndarray, np.ndarray]]
    """res_mm → (image, origin_mm): enhanced mean appearance; pixel (0, 0) sits at origin_mm."""
    patches: np.ndarray
    """(L, P, P) enhanced mean appearance around each landmark at ``PATCH_RES_MM``."""
    polygons: dict[Bone, np.ndarray] = field(default_factory=dict)
    """Mean outline per bone (N, 2) mm."""
    reference: np.ndarray | None = None
    """Mean outline of the normalisation reference region (N, 2) mm."""
    sources: dict[str, int] = field(default_factory=dict)
    version: int = ATLAS_VERSION

    def index(self, name: str) -> int:
        return self.names.index(name)

    # --------------------------------------------------------------- serialisation
    def to_json(self) -> dict:
        return {
            "version": self.version,
            "names": list(self.names),
            "mean_shape": self.mean_shape.round(3).tolist(),
            "modes": _pack(self.modes),
            "mode_sd": self.mode_sd.round(4).tolist(),
            "templates": [{"res_mm": r, "origin_mm": list(map(float, o)), "image": _pack(img)}
                          for r, (img, o) in self.templates.items()],
            "patches": _pack(self.patches),
            "polygons": {b.value: p.round(2).tolist() for b, p in self.polygons.items()},
            "reference": None if self.reference is None else self.reference.round(2).tolist(),
            "sources": self.sources,
        }

    @classmethod
    def from_json(cls, obj: dict) -> Atlas:
        if obj.get("version") != ATLAS_VERSION:
            raise AnatomyError(f"atlas version {obj.get('version')!r} is not {ATLAS_VERSION}",
                               hint="rebuild it with `python -m wristbme.anatomy.train`")
        return cls(
            names=tuple(obj["names"]),
            mean_shape=np.asarray(obj["mean_shape"], dtype=np.float64),
            modes=_unpack(obj["modes"]).astype(np.float64),
            mode_sd=np.asarray(obj["mode_sd"], dtype=np.float64),
            templates={float(t["res_mm"]): (_unpack(t["image"]), np.asarray(t["origin_mm"], dtype=float))
                       for t in obj["templates"]},
            patches=_unpack(obj["patches"]),
            polygons={Bone(k): np.asarray(v, dtype=np.float64) for k, v in obj["polygons"].items()},
            reference=None if obj.get("reference") is None else np.asarray(obj["reference"], dtype=float),
            sources=dict(obj.get("sources", {})),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")


def _pack(arr: np.ndarray) -> dict:
    a = np.ascontiguousarray(arr, dtype=np.float16)
    return {"shape": list(a.shape), "f16": base64.b64encode(a.tobytes()).decode("ascii")}


def _unpack(obj: dict) -> np.ndarray:
    raw = base64.b64decode(obj["f16"])
    return np.frombuffer(raw, dtype=np.float16).reshape(obj["shape"]).astype(np.float32)


@cache
def default_atlases() -> tuple[Atlas, ...]:
    """The atlases shipped with wristbme: ``atlas.json`` (phantoms + real wrists, the real ones weighted)
    and, when present, ``atlas_phantom.json`` (phantoms only). ``locate`` keeps the better-fitting one."""
    out = [default_atlas()]
    ref = resources.files("wristbme.anatomy") / "data" / "atlas_phantom.json"
    try:
        out.append(Atlas.from_json(json.loads(ref.read_text(encoding="utf-8"))))
    except FileNotFoundError:
        pass
    return tuple(out)


@cache
def default_atlas() -> Atlas:
    """The main atlas shipped with wristbme (``anatomy/data/atlas.json``)."""
    ref = resources.files("wristbme.anatomy") / "data" / "atlas.json"
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # pragma: no cover - packaging error
        raise AnatomyError("the anatomy atlas file anatomy/data/atlas.json is missing",
                           hint="rebuild it with `python -m wristbme.anatomy.train`") from exc
    return Atlas.from_json(json.loads(text))


# ------------------------------------------------------------------ shape tools
def similarity_fit(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares similarity (3x3) mapping ``src`` (N, 2) onto ``dst`` (N, 2), rows with NaN ignored."""
    ok = np.all(np.isfinite(src), axis=1) & np.all(np.isfinite(dst), axis=1)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(ok, w, 0.0)
    if w.sum() <= 0 or ok.sum() < 2:
        raise AnatomyError("too few landmarks to fit a similarity transform")
    s, d = np.where(ok[:, None], src, 0.0), np.where(ok[:, None], dst, 0.0)
    ws = w / w.sum()
    cs, cd = (ws[:, None] * s).sum(0), (ws[:, None] * d).sum(0)
    a, b = s - cs, d - cd
    sxx = (ws * (a ** 2).sum(1)).sum()
    p = (ws * (a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1])).sum() / max(sxx, 1e-12)
    q = (ws * (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])).sum() / max(sxx, 1e-12)
    m = np.array([[p, -q, 0.0], [q, p, 0.0], [0, 0, 1.0]])
    m[:2, 2] = cd - m[:2, :2] @ cs
    return m


def landmark_array(points: dict[str, tuple[float, float]], names: tuple[str, ...] = LANDMARKS) -> np.ndarray:
    """(L, 2) array of ``points`` in ``names`` order, NaN where absent."""
    out = np.full((len(names), 2), np.nan)
    for i, n in enumerate(names):
        if n in points and points[n] is not None:
            out[i] = points[n]
    return out
