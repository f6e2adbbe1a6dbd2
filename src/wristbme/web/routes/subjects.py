"""Withdrawal of a subject (admin only, with a typed confirmation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request

from wristbme.errors import NotFoundError
from wristbme.i18n import t
from wristbme.web.deps import Admin, CsrfChecked, Lang, Services, render
from wristbme.web.routes.cases import PSEUDONYM

router = APIRouter()

Pseudonym = Annotated[str, Path(pattern=PSEUDONYM)]


@router.get("/subjects/{pseudonym}/withdraw")
def withdraw_page(request: Request, pseudonym: Pseudonym, services: Services, user: Admin):
    if not services.subject_exists(pseudonym):
        raise NotFoundError.localized("web.error.no_subject", pseudonym=pseudonym)
    return render(request, "withdraw.html", page="cases", pseudonym=pseudonym, done=None, error=None)


@router.post("/subjects/{pseudonym}/withdraw", dependencies=[CsrfChecked])
def withdraw(request: Request, pseudonym: Pseudonym, services: Services, user: Admin, lang: Lang,
             reason: Annotated[str, Form(max_length=500)] = "",
             confirm: Annotated[str, Form(max_length=32)] = ""):
    if not services.subject_exists(pseudonym):
        raise NotFoundError.localized("web.error.no_subject", pseudonym=pseudonym)
    if confirm.strip() != pseudonym:
        return render(request, "withdraw.html", status_code=400, page="cases", pseudonym=pseudonym, done=None,
                      error=t("web.withdraw.mismatch", lang, pseudonym=pseudonym))
    if not reason.strip():
        return render(request, "withdraw.html", status_code=400, page="cases", pseudonym=pseudonym, done=None,
                      error=t("web.withdraw.no_reason", lang))
    result = services.withdraw(pseudonym, reason, user)
    return render(request, "withdraw.html", page="cases", pseudonym=pseudonym, done=result, error=None)
