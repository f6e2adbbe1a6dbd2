"""Login, logout and the language switch."""

from __future__ import annotations

import time

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from wristbme.i18n import LANGS, t
from wristbme.web.deps import CsrfChecked, Lang, RateLimited, Services, Settings, render, set_lang_cookie
from wristbme.web.security import new_csrf_token

router = APIRouter()

MIN_LOGIN_SECONDS = 0.25
"""A failed login answers no faster than this, whatever failed (unknown name, wrong password)."""


def safe_next(value: str | None) -> str:
    """A local path to go to after login or a language switch; anything else becomes ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


@router.get("/login")
def login_page(request: Request, lang: Lang, next: str | None = None):
    return render(request, "login.html", page="login", next_url=safe_next(next), error=None)


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, services: Services, lang: Lang, username: str = Form(..., max_length=64),
          password: str = Form(..., max_length=200), next: str = Form("/")):
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    keys = (f"ip:{client}", f"user:{username.strip().lower()}")
    if limiter.blocked(*keys):
        seconds = limiter.retry_after_s(*keys)
        raise RateLimited.localized("web.login.rate_limited", seconds=seconds)
    started = time.monotonic()
    user = services.authenticate(username, password)
    if user is None:
        limiter.failure(*keys)
        time.sleep(max(0.0, MIN_LOGIN_SECONDS - (time.monotonic() - started)))
        return render(request, "login.html", status_code=401, page="login", next_url=safe_next(next),
                      username=username, error=t("web.login.failed", lang))
    limiter.success(keys[1])
    request.session.clear()  # a fresh session (and CSRF token) on login: no session fixation
    request.session["user"] = user.name
    request.session["csrf"] = new_csrf_token()
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, settings: Settings, next: str | None = None):
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGS:
        set_lang_cookie(response, code, settings)
    return response
