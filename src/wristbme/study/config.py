"""``study.toml``: the protocol's rules, loaded and validated once when a command starts.

Everything a rule needs (sites, imaging window, onset-to-imaging limit, X-ray↔MRI interval limit, data-use
period, scored regions, store URL) is read from here and passed down; nothing is hard-coded twice.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from wristbme.bones import Bone
from wristbme.errors import ConfigError

STUDY_FILE = "study.toml"
ENV_STUDY = "WRISTBME_STUDY"
ENV_DATABASE_URL = "WRISTBME_DATABASE_URL"
SITE_CODE = re.compile(r"^S\d{2}$")


@dataclass(frozen=True)
class SiteConfig:
    code: str
    name: str = ""


@dataclass(frozen=True)
class StudyConfig:
    """The validated contents of ``study.toml``.

    Attributes
    ----------
    protocol_name : str
    sites : tuple of SiteConfig
        Codes ``S01`` … ``S99``.
    imaging_start, imaging_end : date
        Inclusive window for the X-ray date (the MRI date is checked through the interval limit).
    max_onset_to_imaging_months : float
        Disease duration at the X-ray (months, 30.4375 days each) must not exceed this.
    max_interval_days : int
        |X-ray date − MRI date| in days must not exceed this.
    min_age_years : float
        Minimum age at the X-ray (adult RA).
    data_use_start, data_use_end : date
        Data-use period; outside it commands warn and audit, or refuse when ``enforce_period``.
    enforce_period : bool
    regions : tuple of Bone
        Scored regions.
    database_url : str or None
        None means the SQLite file ``store.sqlite`` in the study folder.
    """

    protocol_name: str
    sites: tuple[SiteConfig, ...]
    imaging_start: dt.date = dt.date(2013, 1, 1)
    imaging_end: dt.date = dt.date(2023, 12, 31)
    max_onset_to_imaging_months: float = 24.0
    max_interval_days: int = 90
    min_age_years: float = 18.0
    data_use_start: dt.date = dt.date(2024, 6, 20)
    data_use_end: dt.date = dt.date(2025, 6, 16)
    enforce_period: bool = False
    regions: tuple[Bone, ...] = tuple(Bone)
    database_url: str | None = None
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = self.path or STUDY_FILE
        if not str(self.protocol_name).strip():
            raise ConfigError("protocol.name is empty", path=where, hint="give the protocol's name")
        if not self.sites:
            raise ConfigError("no [[sites]] defined", path=where, hint="add at least one site with code = \"S01\"")
        codes = [s.code for s in self.sites]
        for code in codes:
            if not SITE_CODE.match(code):
                raise ConfigError(f"site code {code!r} is not of the form S01..S99", path=where,
                                  hint="use codes like S01, S02 ...")
        if len(set(codes)) != len(codes):
            raise ConfigError(f"site codes repeat: {codes}", path=where, hint="make each site code unique")
        if self.imaging_start > self.imaging_end:
            raise ConfigError(f"imaging window starts after it ends ({self.imaging_start} > {self.imaging_end})",
                              path=where, hint="swap eligibility.imaging_start and imaging_end")
        if self.data_use_start > self.data_use_end:
            raise ConfigError(f"data-use period starts after it ends ({self.data_use_start} > {self.data_use_end})",
                              path=where, hint="swap data_use.start and data_use.end")
        if not self.max_onset_to_imaging_months > 0:
            raise ConfigError(f"eligibility.max_onset_to_imaging_months must be > 0, got "
                              f"{self.max_onset_to_imaging_months}", path=where)
        if not self.max_interval_days >= 0:
            raise ConfigError(f"eligibility.max_xray_mri_interval_days must be >= 0, got {self.max_interval_days}",
                              path=where)
        if not self.regions:
            raise ConfigError("scoring.regions is empty", path=where, hint="list the scored bones")

    @property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sites)

    def in_data_use_period(self, today: dt.date | None = None) -> bool:
        today = today or dt.date.today()
        return self.data_use_start <= today <= self.data_use_end

    # -- reading and writing ------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> StudyConfig:
        """Read and validate ``study.toml`` (a file, or a study folder holding one).

        Raises
        ------
        ConfigError
            The file is missing, not TOML, or a value is out of range (the message names the key).
        """
        path = Path(path)
        if path.is_dir():
            path = path / STUDY_FILE
        if not path.is_file():
            raise ConfigError.localized("study.err.no_study_toml", path=path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=path, hint="fix the syntax") from None
        return cls.from_dict(data, path=path)

    @classmethod
    def from_dict(cls, data: dict, *, path: Path | None = None) -> StudyConfig:
        where = path or STUDY_FILE
        protocol = _table(data, "protocol", where)
        elig = _table(data, "eligibility", where)
        use = _table(data, "data_use", where)
        scoring = _table(data, "scoring", where)
        store = _table(data, "store", where)
        sites_raw = data.get("sites", [])
        if not isinstance(sites_raw, list):
            raise ConfigError("sites must be an array of tables ([[sites]])", path=where)
        sites = []
        for i, s in enumerate(sites_raw):
            if not isinstance(s, dict) or "code" not in s:
                raise ConfigError(f"sites[{i}] has no code", path=where, hint='write code = "S01"')
            sites.append(SiteConfig(code=str(s["code"]), name=str(s.get("name", ""))))
        regions_raw = scoring.get("regions", [b.value for b in Bone])
        try:
            regions = tuple(Bone.parse(r) for r in regions_raw)
        except ValueError as exc:
            raise ConfigError(f"scoring.regions: {exc}", path=where) from None
        url = store.get("database_url") or None
        return cls(
            protocol_name=str(protocol.get("name", "")),
            sites=tuple(sites),
            imaging_start=_date(elig, "imaging_start", dt.date(2013, 1, 1), where),
            imaging_end=_date(elig, "imaging_end", dt.date(2023, 12, 31), where),
            max_onset_to_imaging_months=_num(elig, "max_onset_to_imaging_months", 24.0, where),
            max_interval_days=int(_num(elig, "max_xray_mri_interval_days", 90, where)),
            min_age_years=_num(elig, "min_age_years", 18.0, where),
            data_use_start=_date(use, "start", dt.date(2024, 6, 20), where),
            data_use_end=_date(use, "end", dt.date(2025, 6, 16), where),
            enforce_period=_bool(use, "enforce_period", bool(protocol.get("enforce_period", False)), where),
            regions=regions,
            database_url=str(url) if url else None,
            path=path,
        )

    def to_toml(self) -> str:
        """The configuration as commented TOML (what ``study init`` writes)."""
        lines = [
            "# wristbme study protocol. Rules read this file; edit it, then run `wristbme status` to check it.",
            "[protocol]",
            f"name = {_q(self.protocol_name)}",
            "",
            "# Inclusion rules (applied at the site when packaging and again at intake).",
            "[eligibility]",
            f"imaging_start = {self.imaging_start.isoformat()}",
            f"imaging_end = {self.imaging_end.isoformat()}",
            f"max_onset_to_imaging_months = {self.max_onset_to_imaging_months:g}",
            f"max_xray_mri_interval_days = {self.max_interval_days}",
            f"min_age_years = {self.min_age_years:g}",
            "",
            "# Data-use period: outside it commands warn and audit, or refuse when enforce_period = true.",
            "[data_use]",
            f"start = {self.data_use_start.isoformat()}",
            f"end = {self.data_use_end.isoformat()}",
            f"enforce_period = {'true' if self.enforce_period else 'false'}",
            "",
            "[scoring]",
            "regions = [" + ", ".join(_q(r.value) for r in self.regions) + "]",
            "",
            "# Empty: SQLite file store.sqlite in this folder. Or e.g. postgresql+psycopg://user:pw@host/db",
            "# (WRISTBME_DATABASE_URL overrides this).",
            "[store]",
            f"database_url = {_q(self.database_url or '')}",
            "",
        ]
        for site in self.sites:
            lines += ["[[sites]]", f"code = {_q(site.code)}", f"name = {_q(site.name)}", ""]
        return "\n".join(lines)

    def with_database_url(self, url: str | None) -> StudyConfig:
        return replace(self, database_url=url)


def default_config(name: str = "wristbme multicenter BME reproducibility study", n_sites: int = 8) -> StudyConfig:
    """The protocol defaults with sites S01 … S0n."""
    if not 1 <= n_sites <= 99:
        raise ConfigError(f"--sites must be between 1 and 99, got {n_sites}")
    return StudyConfig(protocol_name=name,
                       sites=tuple(SiteConfig(code=f"S{i:02d}", name=f"Site {i}") for i in range(1, n_sites + 1)))


def resolve_study_dir(study: str | Path | None) -> Path:
    """The study folder from ``--study``, else ``$WRISTBME_STUDY``; it must hold ``study.toml``.

    Raises
    ------
    ConfigError
        Neither is given, or the folder has no ``study.toml``.
    """
    value = study or os.environ.get(ENV_STUDY)
    if not value:
        raise ConfigError.localized("study.err.no_study")
    path = Path(value).expanduser()
    if not (path / STUDY_FILE).is_file():
        raise ConfigError.localized("study.err.no_study_toml", path=path)
    return path


def _table(data: dict, name: str, where) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table", path=where)
    return value


def _date(table: dict, key: str, default: dt.date, where) -> dt.date:
    value = table.get(key, default)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{key} = {value!r} is not a date", path=where, hint="write it as YYYY-MM-DD")


def _num(table: dict, key: str, default: float, where) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} = {value!r} is not a number", path=where)
    return float(value)


def _bool(table: dict, key: str, default: bool, where) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r} is not true/false", path=where)
    return value


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
