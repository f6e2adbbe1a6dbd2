"""Shared request dependencies, as named aliases a route's signature can list (``Services``, ``Lang``, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from wristbme.errors import PermissionDeniedError, WristBmeError
from wristbme.i18n import LANGS, catalog, t
from wristbme.web.config import WebSettings
from wristbme.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANG_COOKIE,
    Role,
    WebUser,
    csrf_matches,
    new_csrf_token,
)
from wristbme.web.services import StudyServices

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


class LoginRequired(WristBmeError):
    """Nobody is logged in and this server requires login."""

    http_status = 401


class CsrfError(WristBmeError):
    """The request's CSRF token is missing or does not match the session's."""

    http_status = 403


class RateLimited(WristBmeError):
    """Too many failed logins from this client or for this user name."""

    http_status = 429


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


def get_services(request: Request) -> StudyServices:
    return request.app.state.services


def get_lang(request: Request) -> str:
    """``?lang=`` (validated), else the ``wristbme_lang`` cookie, else the server's default."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value
    return request.app.state.settings.lang


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def get_user(request: Request) -> WebUser | None:
    """The logged-in user, or on a loopback server without login the local operator (admin); else None."""
    settings: WebSettings = request.app.state.settings
    name = request.session.get("user")
    if name:
        user = request.app.state.services.user(name)
        if user is not None:
            return user
        request.session.pop("user", None)  # removed or deactivated since login
    if not settings.require_login:
        return WebUser(name=settings.local_user, role=Role.ADMIN, logged_in=False)
    return None


def require(role: Role):
    """A dependency that returns the user when their role allows ``role`` (401 without login, 403 else)."""

    def dependency(request: Request) -> WebUser:
        user = get_user(request)
        if user is None:
            raise LoginRequired.localized("web.error.login_required")
        if not user.role.allows(role):
            raise PermissionDeniedError.localized("web.error.forbidden", role=role.value)
        return user

    return dependency


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose token (header or form field) does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_matches(request.session.get("csrf"), given):
        raise CsrfError.localized("web.error.csrf")


Services = Annotated[StudyServices, Depends(get_services)]
Settings = Annotated[WebSettings, Depends(get_settings)]
Lang = Annotated[str, Depends(get_lang)]
MaybeUser = Annotated[WebUser | None, Depends(get_user)]
Viewer = Annotated[WebUser, Depends(require(Role.VIEWER))]
Operator = Annotated[WebUser, Depends(require(Role.OPERATOR))]
Admin = Annotated[WebUser, Depends(require(Role.ADMIN))]
CsrfChecked = Depends(verify_csrf)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.autoescape = True
    templates.env.globals["static_url"] = static_url
    templates.env.filters["readable_json"] = readable_json
    return templates


def readable_json(value: Any) -> str:
    """JSON for people (non-ASCII kept, keys sorted); the template escapes it like any text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)


_STATIC_VERSION: dict[str, str] = {}


def static_url(name: str) -> str:
    """``/static/<name>?v=<mtime>`` so browsers refetch a changed file."""
    if name not in _STATIC_VERSION:
        path = STATIC_DIR / name
        _STATIC_VERSION[name] = str(int(path.stat().st_mtime)) if path.exists() else "0"
    return f"/static/{name}?v={_STATIC_VERSION[name]}"


def render(request: Request, template: str, *, status_code: int = 200, page: str = "", **context: Any):
    """Render a page with the request's language, user, CSRF token and synthetic flag."""
    lang = get_lang(request)
    services: StudyServices = request.app.state.services
    try:
        user = get_user(request)
    except WristBmeError:
        user = None

    def tr(key: str, **values: object) -> str:
        return t(key, lang, **values)

    def code_label(code: str) -> str:
        """A stable code (reason, finding, QC flag) in words when the catalog knows it, else the code."""
        for key in (f"web.code.{code}", f"anatomy.qc.{code}"):
            if key in catalog():
                return t(key, lang)
        return str(code)

    ctx = {"request": request, "lang": lang, "t": tr, "code_label": code_label, "user": user, "csrf_token": csrf_token(request),
           "synthetic": services.synthetic, "page": page, "flashes": request.session.pop("flash", []),
           "request_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
           **context}
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code)


def flash(request: Request, message: str) -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], message]


def js_text(lang: str, prefixes: tuple[str, ...]) -> str:
    """Catalog texts under ``prefixes`` in ``lang`` for the page's JavaScript, as JSON safe in a <script>."""
    return safe_json({k: texts[lang] for k, texts in catalog().items() if k.startswith(prefixes)})


def safe_json(data: Any) -> str:
    """JSON that cannot close a <script> element (``<``, ``>``, ``&`` escaped)."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def set_lang_cookie(response: Any, lang: str, settings: WebSettings) -> None:
    """Remember the chosen language for a year (not secret: readable by scripts)."""
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="strict",
                        secure=settings.secure_cookies, httponly=False)
