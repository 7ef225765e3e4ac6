"""The audit log is append-only and hash-chained: the database refuses edits, and edits made
behind its back (triggers dropped) are found by verify."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from store_fakes import tag_rule

from rules_core.store.audit import entry_hash


def busy(store):
    a = store.propose([tag_rule("a")], "alice", note="one")
    store.approve(a.id, "bob")
    b = store.propose([tag_rule("b")], "alice")
    store.reject(b.id, "bob", "no")
    return store


def sql(store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(statement)


def without_guards(store) -> None:
    if store.engine.dialect.name == "postgresql":
        sql(store, "ALTER TABLE audit_log DISABLE TRIGGER USER")
    else:
        sql(store, "DROP TRIGGER audit_log_no_update")
        sql(store, "DROP TRIGGER audit_log_no_delete")


def test_an_untouched_log_verifies(store):
    assert store.verify_audit().ok and store.verify_audit().entries == 0
    report = busy(store).verify_audit()
    assert (report.ok, report.entries, report.problems) == (True, 4, [])
    assert [(e.actor, e.action, e.subject) for e in reversed(store.audit_log())] == [
        ("alice", "propose", "proposal:1"), ("bob", "approve", "proposal:1"),
        ("alice", "propose", "proposal:2"), ("bob", "reject", "proposal:2")]
    assert store.audit_log()[2].details["ruleset"].startswith("sha256:")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
    "DELETE FROM audit_log WHERE seq = 4",
    "UPDATE versions SET approver = 'mallory'",
    "DELETE FROM rule_sets",
])
def test_the_database_refuses_to_change_history(store, statement):
    busy(store)
    with pytest.raises(DBAPIError, match="append-only"):
        sql(store, statement)
    assert store.verify_audit().ok


@pytest.mark.parametrize("statement, problem", [
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "entry 2 (approve proposal:1) was altered"),
    ("UPDATE audit_log SET details = '{}' WHERE seq = 1", "entry 1 (propose proposal:1) was altered"),
    ("DELETE FROM audit_log WHERE seq = 2", "entries 2..2 are missing"),
    ("DELETE FROM audit_log WHERE seq = 4", "the log ends at entry 3 but the head records entry 4"),
    ("UPDATE audit_log SET seq = 9 WHERE seq = 3", "missing"),
])
def test_tampering_behind_the_database_s_back_is_detected(store, statement, problem):
    busy(store)
    without_guards(store)
    sql(store, statement)
    report = store.verify_audit()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems
    assert report.summary().startswith("audit log BROKEN")


def test_rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link(store):
    busy(store)
    without_guards(store)
    (e,) = [x for x in store.audit_log() if x.seq == 2]
    with store.engine.connect() as conn:
        at, prev, details = conn.exec_driver_sql("SELECT at, prev_hash, details FROM audit_log WHERE seq = 2").one()
    forged = entry_hash(2, at, "mallory", e.action, e.subject, details, prev)
    sql(store, f"UPDATE audit_log SET actor = 'mallory', hash = '{forged}' WHERE seq = 2")
    assert store.verify_audit().problems == ["entry 3 does not follow the entry before it (chain broken)"]
