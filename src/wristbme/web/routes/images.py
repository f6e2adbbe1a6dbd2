"""Image renditions (served by id, never by path), the viewer's data, and region corrections."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from wristbme.errors import InputError
from wristbme.web import schemas as v
from wristbme.web.deps import CsrfChecked, Operator, Services, Viewer

router = APIRouter()

ImageId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/images/{image_id}/preview.png")
def preview(request: Request, image_id: ImageId, services: Services, user: Viewer):
    """The downsampled preview (long side ≤ preview_max_px), cached in the image's derived folder."""
    return _png(request, services.image_png(image_id, "preview"))


@router.get("/images/{image_id}/full.png")
def full(request: Request, image_id: ImageId, services: Services, user: Viewer):
    """The full-resolution rendition, fetched by the viewer when zooming in past the preview."""
    return _png(request, services.image_png(image_id, "full"))


def _png(request: Request, path) -> Response:
    """The PNG, or 304 when the browser's copy is current (revalidated on every use: a re-sent image
    replaces its renditions)."""
    st = path.stat()
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    headers = {"Cache-Control": "private, no-cache", "ETag": etag, "Content-Disposition": "inline"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type="image/png", headers=headers)


@router.get("/api/images/{image_id}")
def image_data(image_id: ImageId, services: Services, user: Viewer):
    return v.to_jsonable(services.image_detail(image_id))


@router.post("/api/images/{image_id}/corrections", dependencies=[CsrfChecked])
def save_correction(image_id: ImageId, services: Services, user: Operator,
                    payload: Annotated[dict[str, Any], Body(...)]):
    """Save moved landmarks / polygon points (original-image pixels), re-score, audit; returns the new detail."""
    request = parse_correction(payload)
    detail = services.save_correction(image_id, request, user)
    return JSONResponse(v.to_jsonable(detail), status_code=201)


def parse_correction(payload: dict[str, Any]) -> v.CorrectionRequest:
    """Validate the JSON body ``{"landmarks": {name: [x, y]}, "regions": {bone: [[x, y], ...]}, "note": str}``."""
    landmarks_raw = payload.get("landmarks") or {}
    regions_raw = payload.get("regions") or {}
    note = payload.get("note")
    if not isinstance(landmarks_raw, dict) or not isinstance(regions_raw, dict):
        raise InputError.localized("web.err.body_shape")
    if note is not None and (not isinstance(note, str) or len(note) > 200):
        raise InputError.localized("web.err.note")
    landmarks = {str(k): _point(p, f"landmark {k}") for k, p in landmarks_raw.items()}
    regions = {}
    for bone, pts in regions_raw.items():
        if not isinstance(pts, list):
            raise InputError.localized("web.err.point", what=str(bone)[:40])
        regions[str(bone)] = [_point(p, f"region {bone}") for p in pts]
    if len(landmarks) > 64 or len(regions) > 32:
        raise InputError.localized("web.err.too_many")
    return v.CorrectionRequest(landmarks=landmarks, regions=regions, note=(note or "").strip() or None)


def _point(value: Any, what: str) -> tuple[float, float]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)):
        raise InputError.localized("web.err.point", what=what[:60])
    x, y = float(value[0]), float(value[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InputError.localized("web.err.point", what=what[:60])
    return (x, y)
