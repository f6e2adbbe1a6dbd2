"""One router per resource: ``auth`` (login, logout, language), ``pages`` (dashboard, audit), ``cases``,
``images`` (renditions, viewer data, corrections), ``subjects`` (withdrawal), ``report``."""
