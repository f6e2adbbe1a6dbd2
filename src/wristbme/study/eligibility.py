"""Eligibility rules of the protocol, and the derived values that replace dates.

The site computes the derived values from full dates (``derive``) and checks them (``check``); the lead
site re-applies ``check`` to the derived values it receives. Both use only ``StudyConfig``.

Derived values (what the analysis needs instead of dates):

- ``age_years``: whole years from birth to the X-ray (floor);
- ``duration_months``: months from RA onset to the X-ray, ``days / 30.4375``, one decimal;
- ``interval_days``: ``|MRI date − X-ray date|`` in days;
- ``xray_year``: calendar year of the X-ray.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from wristbme.study.config import StudyConfig

DAYS_PER_MONTH = 30.4375


class Reason(StrEnum):
    """Why a case is not eligible (stable codes, stored and reported)."""

    MISSING_DATA = "missing_data"
    IMAGING_OUTSIDE_WINDOW = "imaging_outside_window"
    ONSET_AFTER_IMAGING = "onset_after_imaging"
    ONSET_TO_IMAGING_TOO_LONG = "onset_to_imaging_too_long"
    INTERVAL_TOO_LONG = "xray_mri_interval_too_long"
    UNDER_MINIMUM_AGE = "under_minimum_age"


@dataclass(frozen=True)
class Derived:
    age_years: int | None
    duration_months: float | None
    interval_days: int | None
    xray_year: int | None


def derive(*, birth_date: dt.date | None, onset_date: dt.date | None, xray_date: dt.date | None,
           mri_date: dt.date | None) -> Derived:
    """Derived values from full dates (None where a date is missing)."""
    age = None
    if birth_date and xray_date:
        age = xray_date.year - birth_date.year - ((xray_date.month, xray_date.day) < (birth_date.month, birth_date.day))
    duration = round((xray_date - onset_date).days / DAYS_PER_MONTH, 1) if onset_date and xray_date else None
    interval = abs((mri_date - xray_date).days) if mri_date and xray_date else None
    return Derived(age_years=age, duration_months=duration, interval_days=interval,
                   xray_year=xray_date.year if xray_date else None)


def check(derived: Derived, config: StudyConfig, *, xray_date: dt.date | None = None) -> list[Reason]:
    """Reasons the case is ineligible (empty list = eligible).

    With ``xray_date`` (site side) the imaging window is checked by date; without it (lead side) by year,
    which is exact for the protocol's year-aligned window and a necessary condition otherwise.
    """
    reasons: list[Reason] = []
    if None in (derived.age_years, derived.duration_months, derived.interval_days, derived.xray_year):
        reasons.append(Reason.MISSING_DATA)
    if xray_date is not None:
        if not config.imaging_start <= xray_date <= config.imaging_end:
            reasons.append(Reason.IMAGING_OUTSIDE_WINDOW)
    elif derived.xray_year is not None and not (config.imaging_start.year <= derived.xray_year
                                                <= config.imaging_end.year):
        reasons.append(Reason.IMAGING_OUTSIDE_WINDOW)
    if derived.duration_months is not None:
        if derived.duration_months < 0:
            reasons.append(Reason.ONSET_AFTER_IMAGING)
        elif derived.duration_months > config.max_onset_to_imaging_months:
            reasons.append(Reason.ONSET_TO_IMAGING_TOO_LONG)
    if derived.interval_days is not None and derived.interval_days > config.max_interval_days:
        reasons.append(Reason.INTERVAL_TOO_LONG)
    if derived.age_years is not None and derived.age_years < config.min_age_years:
        reasons.append(Reason.UNDER_MINIMUM_AGE)
    return reasons
