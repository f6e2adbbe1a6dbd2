"""The study store: a database (SQLite by default, PostgreSQL by URL) plus a content-addressed image folder.

Layout of a study folder::

    study.toml                 protocol (``StudyConfig``)
    store.sqlite               database (unless ``database_url`` points elsewhere)
    images/ab/abcdef….dcm      de-identified DICOM, named by the SHA-256 of the stored bytes
    images/.tmp/               staging for files being written (emptied by ``reconcile``)
    derived/<image_id>/        per-image derived files (overlays, caches); removed with the image
    .wristbme/secret.key       the study's key for keyed hashes (withdrawn subjects); mode 0600

File writes go in step with the database transaction: a file is written to ``images/.tmp``, fsynced,
hashed, and renamed into place *before* the transaction that references it commits. A crash can leave at
most an unreferenced file, which ``reconcile`` removes; it can never leave a row without its file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from wristbme.errors import ConfigError, StoreError
from wristbme.study.config import ENV_DATABASE_URL, STUDY_FILE, StudyConfig
from wristbme.study.models import Image

SQLITE_NAME = "store.sqlite"
SECRET_PATH = Path(".wristbme") / "secret.key"


@dataclass
class StagedFile:
    """A file written to the staging folder, fsynced, with its hash; ``Store.place`` moves it into place."""

    tmp_path: Path
    sha256: str
    size_bytes: int


class Store:
    """An open study: configuration, database engine and folders.

    Use ``open_store(study_dir)`` (or ``create_store``) rather than the constructor. ``session()`` returns a
    new ``Session``; the service that owns a unit of work opens the transaction (``with s.begin(): ...``).
    """

    def __init__(self, root: Path, config: StudyConfig, engine: Engine) -> None:
        self.root = root
        self.config = config
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    # -- database -----------------------------------------------------------------------------------------
    def session(self) -> Session:
        """A new session bound to the store (use as a context manager)."""
        return self._sessions()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self) -> None:
        """Flush SQLite's write-ahead log into the database file and truncate it (after deletions)."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def purge_deleted(self, tables: tuple[str, ...]) -> bool:
        """Make deleted rows physically unreadable: SQLite zeroes freed pages (``secure_delete``) and the
        WAL is checkpointed and truncated; PostgreSQL rewrites ``tables`` with ``VACUUM FULL`` (waits at
        most 5 s for locks). Returns False when PostgreSQL could not do it now (run it again later).
        """
        if self.is_sqlite:
            self.checkpoint()
            return True
        if self.engine.dialect.name != "postgresql":
            return False
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("SET lock_timeout = '5s'")
                for table in tables:
                    conn.exec_driver_sql(f'VACUUM FULL "{table}"')
            return True
        except Exception:  # lock timeout or permission: the rows are deleted, only the pages remain
            return False

    # -- folders ------------------------------------------------------------------------------------------
    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def staging_dir(self) -> Path:
        return self.images_dir / ".tmp"

    @property
    def derived_root(self) -> Path:
        return self.root / "derived"

    def image_path(self, sha256: str) -> Path:
        """Where the file with this SHA-256 lives (whether or not it exists)."""
        return self.images_dir / sha256[:2] / f"{sha256}.dcm"

    def image_file(self, image: Image) -> Path:
        """The stored DICOM file of ``image``.

        Raises
        ------
        StoreError
            The file is missing (the store is damaged; run ``wristbme status`` for the integrity check).
        """
        path = self.image_path(image.sha256)
        if not path.is_file():
            raise StoreError(f"image {image.id}: stored file is missing", path=path,
                             hint="run `wristbme status` to check the store's integrity")
        return path

    def derived_dir(self, image_id: int, *, create: bool = True) -> Path:
        """The folder for image ``image_id``'s derived files (overlays, caches); removed with the image."""
        path = self.derived_root / str(int(image_id))
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the study's write lock (``.wristbme/write.lock``, ``flock``): one intake or withdrawal at a
        time on this machine, so staging cleanup never touches another writer's files."""
        import fcntl

        path = self.root / ".wristbme" / "write.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # -- keyed hashes -------------------------------------------------------------------------------------
    @functools.cached_property
    def secret(self) -> bytes:
        """The study key (read once)."""
        return (self.root / SECRET_PATH).read_bytes()

    def subject_key(self, pseudonym: str) -> str:
        """HMAC-SHA256 of a pseudonym under the study key: what the audit keeps instead of the pseudonym."""
        return hmac.new(self.secret, pseudonym.strip().upper().encode(), hashlib.sha256).hexdigest()

    # -- files in step with transactions ------------------------------------------------------------------
    def stage(self, data: bytes, *, sha256: str | None = None) -> StagedFile:
        """Write ``data`` to the staging folder, fsync it and hash it (``sha256``: already computed)."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        sha = sha256 or hashlib.sha256(data).hexdigest()
        tmp = self.staging_dir / f"{sha}.{secrets.token_hex(4)}.part"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return StagedFile(tmp, sha, len(data))

    def place(self, staged: StagedFile) -> Path:
        """Rename a staged file to its content address (call inside the transaction, before commit)."""
        dest = self.image_path(staged.sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            staged.tmp_path.unlink(missing_ok=True)
        else:
            os.replace(staged.tmp_path, dest)
            _fsync_dir(dest.parent)
        return dest

    def discard(self, staged: StagedFile) -> None:
        staged.tmp_path.unlink(missing_ok=True)

    def remove_image_files(self, sha256s: list[str], image_ids: list[int]) -> int:
        """Delete stored files and derived folders (after the transaction that dropped their rows)."""
        removed = 0
        for sha in sha256s:
            path = self.image_path(sha)
            if path.exists():
                path.unlink()
                removed += 1
        for image_id in image_ids:
            folder = self.derived_dir(image_id, create=False)
            if folder.exists():
                shutil.rmtree(folder)
        return removed

    def reconcile(self) -> dict[str, int]:
        """Make files and rows agree: drop staged leftovers, unreferenced files and orphan derived folders.

        Returns counts ``{"staged_removed", "orphan_files_removed", "orphan_derived_removed",
        "missing_files"}``; ``missing_files`` (rows whose file is gone) cannot be repaired here.
        """
        counts = {"staged_removed": 0, "orphan_files_removed": 0, "orphan_derived_removed": 0, "missing_files": 0}
        if self.staging_dir.exists():
            for tmp in self.staging_dir.iterdir():
                tmp.unlink(missing_ok=True)
                counts["staged_removed"] += 1
        with self.session() as s:
            rows = s.execute(select(Image.id, Image.sha256)).all()
        known_sha = {sha for _, sha in rows}
        known_ids = {str(i) for i, _ in rows}
        if self.images_dir.exists():
            for sub in self.images_dir.iterdir():
                if sub.name.startswith(".") or not sub.is_dir():
                    continue
                for f in sub.iterdir():
                    if f.name.endswith(".dcm") and f.name[:-4] in known_sha:
                        continue
                    f.unlink()
                    counts["orphan_files_removed"] += 1
        if self.derived_root.exists():
            for folder in self.derived_root.iterdir():
                if folder.name not in known_ids:
                    shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
                    counts["orphan_derived_removed"] += 1
        counts["missing_files"] = sum(1 for sha in known_sha if not self.image_path(sha).is_file())
        return counts


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def database_url_for(root: Path, config: StudyConfig, override: str | None = None) -> str:
    """The store URL: ``override``, else ``$WRISTBME_DATABASE_URL``, else study.toml, else the SQLite file."""
    url = override or os.environ.get(ENV_DATABASE_URL) or config.database_url
    if url:
        return url
    return f"sqlite:///{(root / SQLITE_NAME).resolve()}"


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, foreign keys, secure_delete, full sync and a busy timeout."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ConfigError(f"database_url is not a valid URL ({exc})",
                          hint="e.g. postgresql+psycopg://user:password@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade_schema(engine: Engine) -> None:
    """Apply the Alembic migrations up to head."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "wristbme.study:migrations")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _ensure_secret(root: Path) -> None:
    path = root / SECRET_PATH
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(32))
        fh.flush()
        os.fsync(fh.fileno())


def create_store(study_dir: str | Path, config: StudyConfig, *, database_url: str | None = None) -> Store:
    """Create a study folder: write ``study.toml``, the study key, the folders, and the migrated database.

    Raises
    ------
    StoreError
        The folder already holds a ``study.toml``.
    """
    root = Path(study_dir)
    if (root / STUDY_FILE).exists():
        raise StoreError.localized("study.err.study_exists", path=root / STUDY_FILE)
    root.mkdir(parents=True, exist_ok=True)
    if database_url and not config.database_url:
        config = config.with_database_url(database_url)  # later opens find the same database
    (root / STUDY_FILE).write_text(config.to_toml(), encoding="utf-8")
    return open_store(root, database_url=database_url)


def open_store(study_dir: str | Path, *, database_url: str | None = None, config: StudyConfig | None = None,
               migrate: bool = True) -> Store:
    """Open a study folder: load ``study.toml``, connect, apply pending migrations, sync the site list.

    Raises
    ------
    ConfigError
        ``study.toml`` is missing or invalid.
    """
    from wristbme.study.models import Site

    root = Path(study_dir)
    config = config or StudyConfig.load(root)
    _ensure_secret(root)
    for folder in ("images", "derived"):
        (root / folder).mkdir(exist_ok=True)
    engine = make_engine(database_url_for(root, config, database_url))
    if migrate:
        upgrade_schema(engine)
    store = Store(root, config, engine)
    with store.session() as s, s.begin():
        have = set(s.scalars(select(Site.code)))
        for site in config.sites:
            if site.code not in have:
                s.add(Site(code=site.code, name=site.name or None))
    return store


@contextlib.contextmanager
def transaction(store: Store) -> Iterator[Session]:
    """``with transaction(store) as s:`` a session in one transaction, committed on success."""
    with store.session() as s, s.begin():
        yield s


def sqlite_path(store: Store) -> Path | None:
    """The SQLite database file, or None for another backend."""
    if not store.is_sqlite:
        return None
    return Path(store.engine.url.database or "")


__all__ = ["Store", "StagedFile", "create_store", "open_store", "transaction", "make_engine", "upgrade_schema",
           "database_url_for", "sqlite_path"]
