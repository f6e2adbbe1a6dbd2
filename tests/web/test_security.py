"""Building blocks of web security, without HTTP: paths, rate limit, CSRF, passwords, settings."""

from __future__ import annotations

import os

import pytest

from wristbme.errors import ConfigError
from wristbme.web.config import WebSettings, is_loopback
from wristbme.web.security import (
    LoginRateLimiter,
    Role,
    csrf_matches,
    hash_password,
    resolve_inside,
    verify_password,
)


@pytest.mark.parametrize("relative", ["../secret", "a/../../secret", "/etc/passwd", "..", "", "a\\..\\b",
                                      ".wristbme/secret.key", "a/.hidden", "x\x00y"])
def test_resolve_inside_refuses_escapes(tmp_path, relative):
    (tmp_path / "a").mkdir()
    assert resolve_inside(tmp_path / "a", relative) is None


def test_resolve_inside_refuses_a_symlink_out(tmp_path):
    root = tmp_path / "report"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("x")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    assert resolve_inside(root, "link.txt") is None


def test_resolve_inside_accepts_nested_files(tmp_path):
    (tmp_path / "fig").mkdir()
    (tmp_path / "fig" / "roc.png").write_bytes(b"png")
    assert resolve_inside(tmp_path, "fig/roc.png") == (tmp_path / "fig" / "roc.png").resolve()
    assert resolve_inside(tmp_path, "./fig//roc.png") == (tmp_path / "fig" / "roc.png").resolve()


def test_rate_limiter_blocks_after_max_failures_and_forgets_after_the_window():
    now = [1000.0]
    limiter = LoginRateLimiter(3, 60.0, clock=lambda: now[0])
    for _ in range(3):
        assert not limiter.blocked("ip:a", "user:x")
        limiter.failure("ip:a", "user:x")
    assert limiter.blocked("ip:a")
    assert limiter.blocked("user:x")
    assert not limiter.blocked("ip:b", "user:y")
    assert 1 <= limiter.retry_after_s("ip:a") <= 60
    now[0] += 61
    assert not limiter.blocked("ip:a", "user:x")


def test_rate_limiter_success_clears_the_user_key_only():
    limiter = LoginRateLimiter(2, 60.0, clock=lambda: 0.0)
    limiter.failure("ip:a", "user:x")
    limiter.failure("ip:a", "user:x")
    limiter.success("user:x")
    assert not limiter.blocked("user:x")
    assert limiter.blocked("ip:a")


@pytest.mark.parametrize("expected,given,ok", [("abc", "abc", True), ("abc", "abd", False), ("abc", "", False),
                                               (None, "abc", False), ("abc", None, False), ("", "", False)])
def test_csrf_matches(expected, given, ok):
    assert csrf_matches(expected, given) is ok


def test_safe_next_keeps_local_paths_only():
    from wristbme.web.routes.auth import safe_next

    assert safe_next("/cases?site=S01") == "/cases?site=S01"
    for bad in (None, "", "//evil.example", "https://evil.example", "javascript:alert(1)", "\\\\evil", "/a\nb"):
        assert safe_next(bad) == "/"


def test_password_hash_is_argon2_and_verifies():
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong horse")
    assert not verify_password(None, "correct horse")
    assert not verify_password("not-a-hash", "x")


def test_roles_are_ordered():
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
                                       ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                       ("example.org", False), ("::", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_settings_require_login_off_loopback(tmp_path):
    (tmp_path / "study.toml").write_text("")
    assert not WebSettings(study_dir=tmp_path).require_login
    assert WebSettings(study_dir=tmp_path, host="0.0.0.0").require_login
    assert WebSettings(study_dir=tmp_path, force_login=True).require_login
    assert WebSettings(study_dir=tmp_path, host="0.0.0.0").trusted_hosts == ["*"]
    assert "evil.example" not in WebSettings(study_dir=tmp_path).trusted_hosts


@pytest.mark.parametrize("kwargs,match", [({"port": 0}, "port"), ({"port": 70000}, "port"), ({"lang": "fr"}, "fr"),
                                          ({"secret_key": "short"}, "secret"), ({"local_user": " "}, "operator"),
                                          ({"login_max_failures": 0}, "rate limit"),
                                          ({"preview_max_px": 10}, "preview")])
def test_settings_are_validated(tmp_path, kwargs, match):
    (tmp_path / "study.toml").write_text("")
    with pytest.raises(ConfigError, match=match):
        WebSettings(study_dir=tmp_path, **kwargs)


def test_settings_refuse_a_folder_without_study_toml(tmp_path):
    with pytest.raises(ConfigError, match="study.toml"):
        WebSettings(study_dir=tmp_path)


def test_to_uint8_windows_downsamples_and_blackens_nan():
    import numpy as np

    from wristbme.web.services import _to_uint8

    px = np.tile(np.linspace(0, 1000, 300, dtype=np.float32), (200, 1))
    px[50, 7] = np.nan
    out = _to_uint8(px, None)
    assert out.dtype == np.uint8 and out.shape == px.shape
    assert out[:, 0].max() == 0 and out[:, -1].min() == 255 and out[50, 7] == 0
    small = _to_uint8(px, 64)
    assert max(small.shape) <= 64 and small.shape == (200 // 5, 300 // 5)
    assert np.all(np.diff(small[0].astype(int)) >= 0)  # a ramp stays a ramp
    flat = _to_uint8(np.full((10, 10), 7.0, dtype=np.float32), None)
    assert flat.min() == flat.max()
