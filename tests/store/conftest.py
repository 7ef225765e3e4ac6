"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when
RULEWRIGHT_TEST_PG_URL is set (start a throwaway server with tests/store/pg.sh)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # store_fakes, also for child processes

PG_URL = os.environ.get("RULEWRIGHT_TEST_PG_URL")


def _no_postgres() -> None:
    """Skip the PostgreSQL variant, or fail it where the run must have a server (.ci/run)."""
    message = "RULEWRIGHT_TEST_PG_URL is not set (start a server with tests/store/pg.sh)"
    if os.environ.get("RULEWRIGHT_REQUIRE_PG") == "1":
        pytest.fail(message + ", and RULEWRIGHT_REQUIRE_PG=1 requires it")
    pytest.skip(message)


def _pg_database(base_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from rules_core.store.db import normalise_url

    name = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalise_url(base_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store database, on each database the run has."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    if not PG_URL:
        _no_postgres()
    yield from _pg_database(PG_URL)


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    from store_fakes import open_store

    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL of an empty PostgreSQL store database (tests using it are marked ``postgres``)."""
    if not PG_URL:
        _no_postgres()
    yield from _pg_database(PG_URL)
