"""Security building blocks of the web UI: passwords, roles, CSRF tokens, login rate limit, safe paths.

- Passwords are argon2id hashes (argon2-cffi defaults). Verifying a name that does not exist still runs
  one hash, so a reply takes the same time whether or not the account exists.
- The session is a cookie signed with itsdangerous (Starlette's ``SessionMiddleware``). It holds the user
  name and a random CSRF token; every unsafe request must echo that token in the ``csrf_token`` form field
  or the ``X-CSRF-Token`` header (compared in constant time).
- Files are served by id, never by a path from the request; where a path segment is unavoidable (the
  report folder), it is resolved and refused unless it stays inside its root.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_COOKIE = "wristbme_session"
LANG_COOKIE = "wristbme_lang"


class Role(StrEnum):
    """Web roles, each allowed everything the ones before it are."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class WebUser:
    """Who is making a request: a name for the audit, a role, and whether they logged in."""

    name: str
    role: Role
    logged_in: bool = True


# -- passwords ---------------------------------------------------------------------------------------------
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (made on first use, not at import)."""
    return _HASHER.hash("wristbme-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, parameters in the string)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; a None hash costs the same time and fails."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# -- CSRF --------------------------------------------------------------------------------------------------
def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


# -- login rate limit --------------------------------------------------------------------------------------
class LoginRateLimiter:
    """Counts failed logins per key (client address, user name) in a sliding window.

    ``blocked(key)`` is True once ``max_failures`` failures fall within ``window_s`` seconds; a success
    clears the user-name key. ``clock`` is injectable for tests.
    """

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str) -> deque[float]:
        now = self.clock()
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            return any(len(self._prune(k)) >= self.max_failures for k in keys)

    def retry_after_s(self, *keys: str) -> int:
        with self._lock:
            now = self.clock()
            waits = [self.window_s - (now - q[0]) for k in keys if len(q := self._prune(k)) >= self.max_failures]
        return max(1, int(max(waits, default=0) + 0.999))

    def failure(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._prune(k).append(self.clock())

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# -- safe paths --------------------------------------------------------------------------------------------
def resolve_inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` resolved, or None when it escapes ``root`` (``..``, absolute, symlink out).

    Also refuses NUL bytes, backslashes and hidden segments (``.git``, ``.wristbme``).
    """
    if not relative or relative.startswith("/") or "\x00" in relative or "\\" in relative:
        return None
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    candidate = (base / Path(*parts)).resolve()
    if candidate != base and base not in candidate.parents:
        return None
    return candidate
