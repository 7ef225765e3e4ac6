"""The shipped migrations create exactly the tables the models describe, run once, and refuse
a store from a newer rulewright."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rules_core.errors import StoreError
from rules_core.store import db
from rules_core.store.schema import store_registry


def test_migrations_match_the_models(store_url):
    engine = db.make_engine(store_url)
    assert db.upgrade(engine) == (None, db.head_revision())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), store_registry.metadata)
    engine.dispose()
    assert diffs == []


def test_upgrade_is_idempotent_and_reports_the_revision(store_url):
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    assert db.upgrade(engine) == ("0001", "0001") and db.current_revision(engine) == "0001"
    engine.dispose()


def test_a_store_from_a_newer_rulewright_is_refused(store_url):
    engine = db.make_engine(store_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer than this rulewright"):
        db.upgrade(engine)
    engine.dispose()


@pytest.mark.parametrize("url, message", [
    ("mysql://x@localhost/db", "unsupported store database"),
    ("not a url", "not a database URL"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot open the store at postgresql\\+psycopg://nobody@127.0.0.1:1/none: .*refused"),
])
def test_bad_database_urls_are_one_line_errors(url, message):
    with pytest.raises(StoreError, match=message):
        db.upgrade(db.make_engine(url))


def test_plain_postgresql_urls_get_the_psycopg_driver():
    assert db.normalise_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert db.safe_url("postgresql+psycopg://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"
