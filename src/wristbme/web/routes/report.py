"""The latest report: its folder's HTML and the files it links to, resolved inside that folder only."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from wristbme.errors import NotFoundError
from wristbme.web.deps import Lang, Services, Viewer, render
from wristbme.web.security import resolve_inside

router = APIRouter()

SERVED_SUFFIXES = {".html", ".htm", ".css", ".png", ".svg", ".jpg", ".jpeg", ".pdf", ".json", ".csv", ".txt",
                   ".woff", ".woff2"}


@router.get("/report")
def report_root_redirect():
    return RedirectResponse("/report/", status_code=307)


@router.get("/report/")
def report_index(request: Request, services: Services, user: Viewer, lang: Lang):
    index = services.report_index(lang)
    if index is None:
        return render(request, "report_missing.html", status_code=404, page="report")
    return FileResponse(index, media_type="text/html; charset=utf-8")


@router.get("/report/{path:path}")
def report_file(path: str, services: Services, user: Viewer, lang: Lang):
    folder = services.report_dir(lang)
    target = resolve_inside(folder, path) if folder is not None else None
    if target is None or not target.is_file() or target.suffix.lower() not in SERVED_SUFFIXES:
        raise NotFoundError.localized("web.error.not_found_file")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media)
