"""The one exception family of wristbme.

Every message names the file or argument, what was found, what was expected and how to fix it.
Messages never carry patient identifiers: callers pass pseudonyms, file names and attribute keywords only.
Each class has an ``exit_code`` (CLI) and an ``http_status`` (web), mapped in one place each.
"""

from __future__ import annotations

from pathlib import Path


class WristBmeError(Exception):
    """Base of every error wristbme raises on purpose."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None,
                 key: str | None = None, values: dict[str, object] | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.hint = hint
        self.message = message
        self.key = key
        self.values = dict(values or {})
        super().__init__(self.render())

    @classmethod
    def localized(cls, key: str, *, path: str | Path | None = None, **values: object) -> WristBmeError:
        """An error whose text is the catalog message ``key`` (English in ``str(exc)``, both via ``render``)."""
        from wristbme.i18n import t

        return cls(t(key, "en", **values), path=path, key=key, values=values)

    def render(self, lang: str = "en") -> str:
        """One line: ``<file>: <problem> (<what to do>)`` in ``lang`` when the message is from the catalog."""
        message = self.message
        if self.key and lang != "en":
            from wristbme.i18n import t

            message = t(self.key, lang, **self.values)
        parts = []
        if self.path:
            parts.append(f"{self.path}: ")
        parts.append(message)
        if self.hint and not self.key:
            parts.append(f" ({self.hint})")
        return "".join(parts)


class ConfigError(WristBmeError):
    """A setting, argument or study.toml value is invalid."""

    exit_code = 2


class InputError(WristBmeError):
    """A user-supplied file cannot be used (missing, wrong format, bad cell)."""

    exit_code = 3


class NotAnImageError(InputError):
    """The file is DICOM but holds no radiograph (SR, PDF, presentation state, no pixel data)."""


class UnsupportedImageError(InputError):
    """The image is of a kind wristbme refuses (true colour, multi-frame without a frame, 3-D)."""


class CorruptImageError(InputError):
    """Pixel data are truncated, corrupt, or the header declares an impossible size."""


class DecoderMissingError(InputError):
    """No installed decoder handles this transfer syntax; the message names the package to install."""


class AnatomyError(WristBmeError):
    """The wrist anatomy could not be located well enough to go on."""

    exit_code = 4
    http_status = 422


class ModelError(WristBmeError):
    """A model artifact is missing, corrupt, or does not match the features given to it."""

    exit_code = 5
    http_status = 409


class StoreError(WristBmeError):
    """The study store refused an operation (integrity, lock, missing subject)."""

    exit_code = 6
    http_status = 409


class NotFoundError(StoreError):
    """A subject, image or run does not exist in the store."""

    http_status = 404


class PrivacyError(WristBmeError):
    """Data still carries an identifier where none may be."""

    exit_code = 7
    http_status = 422


class PermissionDeniedError(WristBmeError):
    """The user's role does not allow the action."""

    exit_code = 8
    http_status = 403
