"""Concurrent approvals in separate processes, and approvals that fail or are killed half-way:
one approval wins against a base, the others are told to rebase; a failed approval leaves every
table exactly as it was."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

import pytest
from store_fakes import approve_in_process, dump, hang_in_approval, open_only, open_store, tag_rule

from rules_core.errors import Conflict

CTX = mp.get_context("spawn")  # fresh interpreters: nothing shared with the test process


def race(url: str, jobs: list[tuple[int, str]], where: str) -> list[tuple]:
    barrier, out = CTX.Barrier(len(jobs)), CTX.Queue()
    procs = [CTX.Process(target=approve_in_process, args=(url, pid, reviewer, barrier, where, out)) for pid, reviewer in jobs]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return sorted(results, key=lambda r: r[1] != "approved")


def seeded(url: str):
    store = open_store(url)
    store.approve(store.propose([tag_rule("base")], "alice").id, "bob")
    return store


def test_concurrent_approvals_against_one_base_have_one_winner(store_url):
    store = seeded(store_url)
    pids = [store.propose([tag_rule(f"r{i}")], "alice").id for i in range(4)]
    results = race(store_url, [(pid, f"rev{i}") for i, pid in enumerate(pids)], "approve:checked")

    winner, *losers = results
    assert winner[1] == "approved" and winner[2] == 2
    assert [r[1] for r in losers] == ["Conflict"] * 3
    assert all("rebase" in r[2] for r in losers)
    assert store.active_version().number == 2 and len(store.history()) == 2
    assert sorted(r.id for r in store.active_rules()) == ["base", f"r{pids.index(winner[0])}"]
    assert [p.status for p in store.list_proposals()].count("submitted") == 3
    assert store.verify_audit().ok
    store.close()


def test_two_reviewers_approving_the_same_proposal_at_once(store_url):
    store = seeded(store_url)
    pid = store.propose([tag_rule("x")], "alice").id
    results = race(store_url, [(pid, "bob"), (pid, "carol")], "approve:checked")
    assert [r[1] for r in results] == ["approved", "Conflict"]
    assert "approved by someone else" in results[1][2]
    assert len(store.get_proposal(pid).reviews) == 1
    store.close()


@pytest.mark.postgres
def test_postgres_transactions_open_at_once_serialise_on_the_active_pointer(pg_url):
    # (On SQLite two writing transactions cannot both be open: BEGIN IMMEDIATE queues them.)
    store_url = pg_url
    store = seeded(store_url)
    pids = [store.propose([tag_rule(f"r{i}")], "alice").id for i in range(2)]
    results = race(store_url, [(pids[0], "bob"), (pids[1], "carol")], "approve:in-transaction")
    assert [r[1] for r in results] == ["approved", "Conflict"]
    assert store.active_version().number == 2 and len(store.history()) == 2
    store.close()


@pytest.mark.parametrize("where", ["approve:in-transaction", "approve:version-written", "approve:before-audit"])
@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failed_approval_leaves_every_table_as_it_was(store_url, where, error):
    store = seeded(store_url)
    pid = store.propose([tag_rule("x")], "alice").id
    before = dump(store)

    def fail():
        raise error

    store.hooks[where] = fail
    with pytest.raises(type(error)):
        store.approve(pid, "bob")
    assert dump(store) == before
    del store.hooks[where]
    assert store.approve(pid, "bob").number == 2  # and the store still works
    store.close()


def test_killed_approval_leaves_every_table_as_it_was(store_url, tmp_path):
    store = seeded(store_url)
    pid = store.propose([tag_rule("x")], "alice").id
    before = dump(store)
    flag = tmp_path / "in-transaction"
    proc = CTX.Process(target=hang_in_approval, args=(store_url, pid, "bob", str(flag)))
    proc.start()
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert time.monotonic() < deadline and proc.is_alive(), "the approval never reached its transaction"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert dump(store) == before
    assert store.approve(pid, "carol").number == 2
    store.close()


def test_processes_opening_a_fresh_store_at_once_migrate_it_once(store_url):
    barrier, out = CTX.Barrier(3), CTX.Queue()
    procs = [CTX.Process(target=open_only, args=(store_url, barrier, out)) for _ in range(3)]
    for p in procs:
        p.start()
    assert [out.get(timeout=180) for _ in procs] == ["ok"] * 3
    for p in procs:
        p.join(timeout=30)
    store = open_store(store_url)
    assert dump(store)["alembic_version"] == [("0001",)]
    store.close()


def test_a_stale_approval_in_process_is_a_conflict_not_a_partial_write(store_url):
    store = seeded(store_url)
    a, b = (store.propose([tag_rule(n)], "alice").id for n in ("a", "b"))
    other = open_store(store_url)
    # b passes its checks, then a lands before b's transaction: the compare-and-swap refuses b.
    store.hooks["approve:checked"] = lambda: other.approve(a, "carol")
    with pytest.raises(Conflict, match=f"rebase {b}"):
        store.approve(b, "bob")
    assert store.active_version().number == 2 and store.get_proposal(b).status == "submitted"
    other.close()
    store.close()
