"""JSON forms of a ``WristAnatomy``.

- ``anatomy_to_json`` / ``anatomy_from_json``: lossless round trip (mm, original frame), what the store and
  the web UI persist, corrections included.
- ``anatomy_record``: the read-out for people and ``wristbme inspect --json``: every landmark and polygon
  both in original-image pixels (x = column, y = row) and in mm, with area, confidence and QC flags.
"""

from __future__ import annotations

import numpy as np

from wristbme.anatomy.types import LANDMARKS, QC_FLAGS, Region, WristAnatomy
from wristbme.bones import Bone
from wristbme.errors import AnatomyError

JSON_VERSION = 1


def _pts(a: object, nd: int = 3) -> list:
    return np.round(np.asarray(a, dtype=float), nd).tolist()


def anatomy_to_json(anatomy: WristAnatomy) -> dict:
    """A JSON-able dict that ``anatomy_from_json`` turns back into an equal ``WristAnatomy``."""
    return {
        "version": JSON_VERSION,
        "method": anatomy.method,
        "spacing_mm": list(anatomy.spacing_mm),
        "image_shape": list(anatomy.image_shape),
        "landmarks": {n: _pts(p, 4) for n, p in anatomy.landmarks.items()},
        "axes": {n: [_pts(a, 4), _pts(b, 4)] for n, (a, b) in anatomy.axes.items()},
        "regions": {b.value: {"polygon_mm": _pts(r.polygon_mm, 4), "confidence": round(r.confidence, 4),
                              "qc_flags": list(r.qc_flags)} for b, r in anatomy.regions.items()},
        "reference_region": None if anatomy.reference_region is None else _pts(anatomy.reference_region, 4),
        "qc_flags": list(anatomy.qc_flags),
        "confidence": round(anatomy.confidence, 4),
        "corrections": anatomy.corrections,
    }


def anatomy_from_json(obj: dict) -> WristAnatomy:
    """Inverse of ``anatomy_to_json``.

    Raises
    ------
    AnatomyError
        Wrong version, unknown landmark, bone or QC flag, or a malformed polygon.
    """
    if not isinstance(obj, dict) or obj.get("version") != JSON_VERSION:
        raise AnatomyError(f"anatomy JSON version {obj.get('version') if isinstance(obj, dict) else None!r} "
                           f"is not {JSON_VERSION}", hint="re-run `wristbme inspect --anatomy` to regenerate it")
    try:
        bad = [n for n in obj["landmarks"] if n not in LANDMARKS]
        bad += [f for f in obj["qc_flags"] if f not in QC_FLAGS]
        if bad:
            raise AnatomyError(f"anatomy JSON has unknown names {bad}",
                               hint=f"landmarks: {', '.join(LANDMARKS)}; flags: {', '.join(QC_FLAGS)}")
        regions = {}
        for b, r in obj["regions"].items():
            bone = Bone.parse(b)
            regions[bone] = Region(bone, np.asarray(r["polygon_mm"], dtype=float), float(r["confidence"]),
                                   tuple(r.get("qc_flags", ())))
        ref = obj.get("reference_region")
        return WristAnatomy(
            spacing_mm=(float(obj["spacing_mm"][0]), float(obj["spacing_mm"][1])),
            image_shape=(int(obj["image_shape"][0]), int(obj["image_shape"][1])),
            landmarks={n: (float(p[0]), float(p[1])) for n, p in obj["landmarks"].items()},
            regions=regions,
            axes={n: ((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))) for n, (a, b) in obj["axes"].items()},
            reference_region=None if ref is None else np.asarray(ref, dtype=float),
            qc_flags=tuple(obj["qc_flags"]),
            confidence=float(obj["confidence"]),
            method=str(obj.get("method", "unknown")),
            corrections=obj.get("corrections"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnatomyError(f"anatomy JSON is malformed: {exc}",
                           hint="re-run `wristbme inspect --anatomy` to regenerate it") from exc


def anatomy_record(anatomy: WristAnatomy) -> dict:
    """Landmarks and regions in original-image pixels (x = column, y = row) and mm, with area and QC."""

    def both(p_mm: np.ndarray) -> dict:
        p = np.asarray(p_mm, dtype=float)
        return {"px": _pts(anatomy.to_pixels(p), 2), "mm": _pts(p, 3)}

    def point(p_mm) -> dict:
        px = anatomy.to_pixels(np.asarray(p_mm, dtype=float))
        return {"x": round(float(px[0]), 2), "y": round(float(px[1]), 2),
                "x_mm": round(float(p_mm[0]), 3), "y_mm": round(float(p_mm[1]), 3)}

    regions = {}
    for bone in Bone:
        r = anatomy.regions.get(bone)
        if r is None:
            continue
        regions[bone.value] = {"polygon_px": both(r.polygon_mm)["px"], "polygon_mm": both(r.polygon_mm)["mm"],
                               "area_mm2": round(r.area_mm2, 2), "confidence": round(r.confidence, 3),
                               "qc_flags": list(r.qc_flags)}
    ref = None
    if anatomy.reference_region is not None:
        ref = {"polygon_px": both(anatomy.reference_region)["px"],
               "polygon_mm": both(anatomy.reference_region)["mm"]}
    return {
        "method": anatomy.method,
        "spacing_mm": list(anatomy.spacing_mm),
        "coordinates": "x = column, y = row of the original image; mm = pixels x spacing",
        "landmarks": {n: point(anatomy.landmarks[n]) for n in LANDMARKS if n in anatomy.landmarks},
        "axes": {n: [point(a), point(b)] for n, (a, b) in anatomy.axes.items()},
        "regions": regions,
        "reference_region": ref,
        "missing_regions": [b.value for b in Bone if b not in anatomy.regions],
        "qc_flags": list(anatomy.qc_flags),
        "confidence": round(anatomy.confidence, 3),
        "corrected": anatomy.corrections is not None,
    }
