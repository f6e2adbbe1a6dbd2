"""Settings of the web UI, validated once when the server starts (``WebSettings.build``) and passed down.

There is no import-time app, engine or settings object: ``create_app(settings)`` builds everything.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from wristbme.errors import ConfigError
from wristbme.i18n import LANGS

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
PREVIEW_MAX_PX = 1024
"""Long side, in pixels, of the downsampled preview the viewer paints first."""


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebSettings:
    """What the web UI needs to run.

    Attributes
    ----------
    study_dir : Path
        The study folder (holds ``study.toml``).
    host, port : where uvicorn binds. Loopback by default.
    secret_key : str
        Signs the session cookie (itsdangerous). Random per start unless given (sessions then end with the
        server, which is what a workstation wants).
    require_login : bool
        Login is required whenever the server is bound to anything but loopback; on loopback it is
        optional (``force_login`` turns it on).
    local_user : str
        The operator name recorded in the audit when nobody is logged in on a loopback server.
    lang : default language of pages (``ja`` or ``en``); a ``lang`` cookie or query overrides it.
    session_max_age_s : lifetime of a session cookie in seconds.
    login_max_failures, login_window_s : login rate limit: this many failures per client or per user
        name within the window lock further attempts until the window has passed.
    report_dir : folder holding the latest report (``index.html`` or ``report*.html``); None means the
        newest folder under ``<study>/reports``.
    secure_cookies : mark cookies ``Secure`` (set when served over HTTPS by a proxy).
    allowed_hosts : Host header values accepted (DNS-rebinding protection); None means loopback names when
        bound to loopback and any host otherwise.
    preview_max_px : long side of the viewer's first image, in pixels.
    model_path : model artifact for re-scoring corrections (default: the one that scored the image, when
        its run names the file, else the shipped demonstration model).
    warm_previews : render missing previews in a background thread at start (``wristbme serve`` does), so
        even the first view of an image paints from the cache.
    """

    study_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    force_login: bool = False
    local_user: str = "local-operator"
    lang: str = "en"
    session_max_age_s: int = 12 * 3600
    login_max_failures: int = 5
    login_window_s: float = 300.0
    report_dir: Path | None = None
    secure_cookies: bool = False
    allowed_hosts: tuple[str, ...] | None = None
    preview_max_px: int = PREVIEW_MAX_PX
    model_path: Path | None = None
    warm_previews: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "study_dir", Path(self.study_dir))
        if not (self.study_dir / "study.toml").is_file():
            raise ConfigError("no study.toml in the study folder", path=self.study_dir,
                              hint="pass --study DIR of a folder made by `wristbme study init`")
        if not 0 < int(self.port) < 65536:
            raise ConfigError(f"--port must be between 1 and 65535, got {self.port}")
        if self.lang not in LANGS:
            raise ConfigError(f"language {self.lang!r} is not supported", hint="use ja or en")
        if len(self.secret_key) < 16:
            raise ConfigError("the session secret is shorter than 16 characters",
                              hint="leave it unset (a random one is made) or give a longer one")
        if not self.local_user.strip():
            raise ConfigError("the local operator name is empty", hint="pass --operator NAME")
        if self.login_max_failures < 1 or self.login_window_s <= 0:
            raise ConfigError("login rate limit must allow at least one attempt in a positive window")
        if self.report_dir is not None:
            object.__setattr__(self, "report_dir", Path(self.report_dir))
        if self.model_path is not None:
            object.__setattr__(self, "model_path", Path(self.model_path))
            if not self.model_path.is_file():
                raise ConfigError("model file not found", path=self.model_path,
                                  hint="give --model the .joblib written by `wristbme train`")
        if not 64 <= self.preview_max_px <= 8192:
            raise ConfigError(f"preview size must be 64..8192 px, got {self.preview_max_px}")

    @property
    def require_login(self) -> bool:
        return self.force_login or not is_loopback(self.host)

    @property
    def trusted_hosts(self) -> list[str]:
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        if is_loopback(self.host):
            return ["127.0.0.1", "localhost", "::1", "[::1]"]
        return ["*"]
