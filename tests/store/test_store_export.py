"""The bundle export: what it holds, that it is reproducible, and that it is written atomically."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest
from store_fakes import tag_rule

from rules_core.errors import InputError, NotFound
from rules_core.export import bundle as bundle_mod
from rules_core.models import Rule, ruleset_hash

CTX = mp.get_context("spawn")


def two_versions(store):
    store.approve(store.propose([tag_rule("a")], "alice", note="first").id, "bob")
    store.approve(store.propose([tag_rule("b", tag="vip")], "alice", note="second").id, "carol", "ship it")
    return store


def test_bundle_holds_the_active_version_its_hash_parent_and_approvals(store, tmp_path):
    two_versions(store)
    out = tmp_path / "ruleset.json"
    store.export_bundle(out)
    b = json.loads(out.read_text())
    rules = [Rule.model_validate(r) for r in b["rules"]]
    assert b["format"] == "rulewright.bundle" and b["schema_version"] == 1 and b["store_schema"] == "0001"
    assert (b["version"], b["author"], b["approved_by"], b["note"], b["proposal"]) == (2, "alice", "carol", "second", 2)
    assert b["ruleset"] == ruleset_hash(rules) == store.active_version().ruleset
    assert b["parent"] == {"version": 1, "ruleset": store.get_version(1).ruleset}
    assert [(a["reviewer"], a["comment"]) for a in b["approvals"]] == [("carol", "ship it")]
    assert [r.id for r in rules] == ["a", "b"]


def test_the_same_version_exports_to_the_same_bytes(store, tmp_path):
    two_versions(store)
    store.export_bundle(tmp_path / "one.json")
    store.export_bundle(tmp_path / "two.json")
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()


def test_nothing_to_export_before_the_first_approval(store, tmp_path):
    with pytest.raises(NotFound, match="no rule set has been approved"):
        store.export_bundle(tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_export_keeps_the_old_file_and_leaves_no_partial_one(tmp_path, monkeypatch, error):
    target = tmp_path / "ruleset.json"
    target.write_text("old bundle")
    real_fsync = os.fsync

    def fsync_then_fail(fd):  # after the data is written to the temporary file, before the rename
        real_fsync(fd)
        raise error

    monkeypatch.setattr(bundle_mod.os, "fsync", fsync_then_fail)
    # an OSError becomes a one-line InputError naming the file; an interrupt stays what it is
    with pytest.raises(InputError if isinstance(error, OSError) else type(error)):
        bundle_mod.write_json_atomic(target, {"rules": ["x" * 100_000]})
    assert target.read_text() == "old bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ruleset.json"]


def _slow_export(path: str, flag: str) -> None:
    real_fsync = os.fsync

    def stall(fd):
        real_fsync(fd)
        Path(flag).write_text("written, not renamed")
        time.sleep(120)

    bundle_mod.os.fsync = stall
    bundle_mod.write_json_atomic(Path(path), {"rules": ["x" * 100_000]})


def test_a_killed_export_never_leaves_a_partial_file_at_the_target(tmp_path):
    target, flag = tmp_path / "out" / "ruleset.json", tmp_path / "flag"
    target.parent.mkdir()
    proc = CTX.Process(target=_slow_export, args=(str(target), str(flag)))
    proc.start()
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert time.monotonic() < deadline and proc.is_alive()
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert not target.exists()
    # what remains is only a hidden temporary file, never a truncated ruleset.json
    assert all(p.name.startswith(".ruleset.json.") and p.name.endswith(".tmp") for p in target.parent.iterdir())


def test_export_into_a_missing_folder_is_a_one_line_error(tmp_path):
    from rules_core.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        bundle_mod.write_json_atomic(tmp_path / "nope" / "x.json", {})


@pytest.mark.parametrize("make, expected", [
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
])
def test_export_over_a_folder_or_a_device_is_refused_and_leaves_it_alone(tmp_path, make, expected):
    target = tmp_path / "target"
    make(target)
    kind = target.stat().st_mode
    with pytest.raises(InputError, match=expected):
        bundle_mod.write_json_atomic(target, {"rules": []})
    assert target.stat().st_mode == kind  # not renamed over: /dev/null stays a device
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_export_to_an_empty_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="is a folder"):
        bundle_mod.write_json_atomic(Path(""), {"rules": []})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_into_a_read_only_folder_is_a_one_line_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write in folder"):
            bundle_mod.write_json_atomic(folder / "x.json", {})
    finally:
        folder.chmod(0o755)
