"""The web UI of ``wristbme serve``: ``create_app(WebSettings(...))`` builds it; nothing is built at import."""

from wristbme.web.config import WebSettings


def create_app(settings: WebSettings, **kwargs):
    """See ``wristbme.web.app.create_app``."""
    from wristbme.web.app import create_app as _create

    return _create(settings, **kwargs)


__all__ = ["WebSettings", "create_app"]
