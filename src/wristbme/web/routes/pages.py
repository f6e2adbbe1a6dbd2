"""The dashboard and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request

from wristbme.web.deps import Services, Viewer, render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, services: Services, user: Viewer):
    return render(request, "dashboard.html", page="dashboard", d=services.dashboard())


@router.get("/audit")
def audit_trail(request: Request, services: Services, user: Viewer):
    return render(request, "audit.html", page="audit", entries=services.audit_tail(200))
