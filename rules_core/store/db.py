"""Engines and migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every writing
transaction starts with ``BEGIN IMMEDIATE``: writers queue for the database lock instead of failing
half-way, which is what makes approvals serialise across processes. PostgreSQL (psycopg 3)
runs at READ COMMITTED; approvals serialise on a row lock of the active pointer.

Migrations are the Alembic scripts shipped in ``migrations/``, run programmatically inside
one transaction (and, on PostgreSQL, under an advisory lock) so that two processes opening a
fresh store at the same moment do not both create it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from rules_core.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x72756C65  # advisory lock key on PostgreSQL ("rule")
SQLITE_BUSY_MS = 30_000


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<malformed URL>"


def _redacted(url: str) -> str:
    """A URL that did not parse, with anything between ``user:`` and ``@`` hidden."""
    return re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", url)


def normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs get the psycopg 3 driver the project ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_memory_url(url: str) -> bool:
    """An SQLite URL whose database lives only as long as the process."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        return False
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number, a broken [IPv6] host
        raise StoreError(f"RULEWRIGHT_DATABASE_URL is not a database URL: {_redacted(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database)
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ValueError, ImportError) as exc:
            raise StoreError(f"cannot open the store at {safe_url(url)}: {first_line(exc)}") from None
    raise StoreError(f"unsupported store database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")


def _sqlite_engine(database: str | None) -> Engine:
    memory = not database or database == ":memory:"
    if not memory:
        folder = Path(database).parent  # type: ignore[arg-type]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # RULEWRIGHT_HOME is a file, or somewhere nobody may create folders
            why = "it is a file, not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) else \
                (exc.strerror or exc.__class__.__name__)
            raise StoreError(f"cannot open the store at {database}: cannot create its folder {folder} ({why}); "
                             f"check RULEWRIGHT_HOME or RULEWRIGHT_DATABASE_URL") from None
    engine = create_engine(
        f"sqlite:///{database or ':memory:'}",
        connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        if not memory:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Readers take a snapshot (WAL: they never wait); writers take the write lock up front.
        read_only = conn.get_execution_options().get("rulewright_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None  # the package ships at least one migration
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


SQLITE_OPEN_ATTEMPTS = 8  # opening a fresh SQLite store from several processes at once


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns (revision before, revision after).

    SQLite can answer "database is locked" at once, without waiting out the busy timeout, while
    several processes create the same fresh file (switching it to WAL needs it to themselves):
    opening is retried a few times, with a growing pause, before that is reported.
    """
    head = head_revision()
    attempts = SQLITE_OPEN_ATTEMPTS if engine.dialect.name == "sqlite" else 1
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                before = MigrationContext.configure(conn).get_current_revision()
                _refuse_unknown(before)
                if before != head:
                    command.upgrade(_config(conn), "head")
            return before, head
        except SQLAlchemyError as exc:
            if attempt < attempts and "database is locked" in str(getattr(exc, "orig", exc)):
                engine.dispose()
                time.sleep(0.05 * 2 ** attempt)
                continue
            raise StoreError(f"cannot open the store at {safe_url(str(engine.url))}: {first_line(exc)}") from None
    raise AssertionError("unreachable")  # the loop returns or raises


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision not in known:
        raise StoreError(f"the store's schema {revision!r} is newer than this rulewright; upgrade rulewright")


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
