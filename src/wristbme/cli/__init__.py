"""The ``wristbme`` command line: one Typer sub-app per command group, joined in ``cli.main``."""
