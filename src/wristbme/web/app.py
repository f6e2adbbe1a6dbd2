"""``create_app(settings)``: the FastAPI application of ``wristbme serve``. Nothing is built at import time."""

from __future__ import annotations

import contextlib
import logging
import threading

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from wristbme import __version__
from wristbme.errors import WristBmeError
from wristbme.i18n import LANGS, t
from wristbme.web.config import WebSettings
from wristbme.web.deps import STATIC_DIR, LoginRequired, get_lang, make_templates, render, set_lang_cookie
from wristbme.web.security import LANG_COOKIE, SESSION_COOKIE, LoginRateLimiter
from wristbme.web.services import StudyServices

log = logging.getLogger("wristbme.web")

MAX_BODY_BYTES = 1_000_000
"""Requests with a larger body are refused (413) before they are read: no route needs more."""

PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
REPORT_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
              "font-src 'self' data:; script-src 'none'; object-src 'none'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'self'")


def create_app(settings: WebSettings, *, services: StudyServices | None = None) -> FastAPI:
    """Build the web application for ``settings`` (opens the store unless ``services`` is given)."""
    from wristbme.web.routes import auth, cases, images, pages, report, subjects

    svc = services if services is not None else StudyServices(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        import PIL.PngImagePlugin  # noqa: F401  - loaded now, not on the first image request

        import wristbme.imaging  # noqa: F401

        if settings.warm_previews:
            threading.Thread(target=svc.warm_previews, name="wristbme-warm-previews", daemon=True).start()
        yield
        svc.close()

    app = FastAPI(title="wristbme", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.services = svc
    app.state.templates = make_templates()
    app.state.limiter = LoginRateLimiter(settings.login_max_failures, settings.login_window_s)

    @app.middleware("http")
    async def headers_and_lang(request: Request, call_next):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"ok": False, "error": "TooLarge",
                                 "message": t("web.error.too_large", get_lang(request))}, status_code=413)
        response = await call_next(request)
        path = request.url.path
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if path.startswith("/report"):
            response.headers.setdefault("Content-Security-Policy", REPORT_CSP)
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        else:
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if not path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        lang = request.query_params.get("lang")
        if lang in LANGS and request.cookies.get(LANG_COOKIE) != lang:
            set_lang_cookie(response, lang, settings)
        return response

    # Order: the last added runs first. Host check, then the signed session cookie.
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                       max_age=settings.session_max_age_s, same_site="strict", https_only=settings.secure_cookies)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    for module in (auth, pages, cases, images, subjects, report):
        app.include_router(module.router)

    @app.exception_handler(WristBmeError)
    async def wristbme_error(request: Request, exc: WristBmeError):
        return _error_response(request, exc.http_status, exc.render(get_lang(request)), exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        lang = get_lang(request)
        key = {404: "web.error.not_found", 405: "web.error.method", 403: "web.error.forbidden_plain"}.get(
            exc.status_code, "web.error.generic")
        return _error_response(request, exc.status_code, t(key, lang), None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "?" for e in exc.errors()[:5])
        return _error_response(request, 422, t("web.error.invalid", get_lang(request), fields=fields), None)

    return app


def _wants_json(request: Request) -> bool:
    return (request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")
            or request.url.path.endswith(".png"))


def _error_response(request: Request, status: int, message: str, exc: WristBmeError | None):
    if isinstance(exc, LoginRequired) and request.method == "GET" and not _wants_json(request):
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    if _wants_json(request):
        return JSONResponse({"ok": False, "error": type(exc).__name__ if exc else "HTTPError",
                             "message": message}, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message)
