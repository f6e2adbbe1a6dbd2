"""Alembic migrations of the study store (applied by ``wristbme.study.store.upgrade_schema``)."""
