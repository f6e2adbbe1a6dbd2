"""The dashboard and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request

from wristbme.web.deps import Lang, Services, Viewer, render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, services: Services, user: Viewer, lang: Lang):
    folder = services.report_dir(lang)
    pdfs = sorted(p.name for p in folder.glob("*.pdf")) if folder is not None else []
    return render(request, "dashboard.html", page="dashboard", d=services.dashboard(),
                  report_html=folder is not None, report_pdf=pdfs[0] if pdfs else None)


@router.get("/audit")
def audit_trail(request: Request, services: Services, user: Viewer):
    return render(request, "audit.html", page="audit", entries=services.audit_tail(200))
