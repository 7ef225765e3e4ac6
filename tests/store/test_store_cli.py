"""The workflow on the command line, with the real validator and dry run (on fewer sample
orders, for speed): JSON on stdout, one-line reasons on stderr, non-zero exits on refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ui.cli import app

VIP = {"id": "acme-vip-signature", "name": "ACME VIP orders need a signature", "clients": ["ACME"],
       "when": {"field": "order.tags", "op": "contains", "value": "vip"}, "then": [{"action": "require_signature"}]}
HEAVY = {"id": "heavy-ground", "clients": ["INITECH"], "when": {"field": "order.weight", "op": "gt",
         "value": {"value": 40, "unit": "lb"}}, "then": [{"action": "use_service", "service": "UPS_GROUND"}]}
TYPO = {**HEAVY, "id": "heavy-typo", "then": [{"action": "use_service", "service": "UPS_GRND"}]}


@pytest.fixture(autouse=True)
def fewer_sample_orders(monkeypatch):
    import rules_core.samples as samples

    real = samples.sample_orders
    monkeypatch.setattr(samples, "sample_orders", lambda catalog=None, n=2000, seed=7: real(catalog, 150, seed))


def rw(*args: str, **env: str):
    from ui import common

    common.settings.cache_clear()  # settings are read once per process; each call here is a new "process"
    result = CliRunner().invoke(app, list(args), env=env or None)
    return result.exit_code, result.stdout, result.stderr


def rules_file(tmp_path: Path, *rules: dict, name: str = "rules.json", **extra) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"rules": list(rules), **extra} if extra else list(rules)))
    return str(path)


def test_the_whole_review_flow(tmp_path):
    code, out, _ = rw("propose", rules_file(tmp_path, VIP), "--note", "VIP signatures", "--as", "alice", "--json")
    assert code == 0 and json.loads(out)["id"] == 1
    code, out, _ = rw("review", "show", "1", "--json")
    shown = json.loads(out)
    assert [r["id"] for r in shown["diff"]["added"]] == ["acme-vip-signature"]
    assert shown["impact"]["orders"] == 150 and shown["findings"] == [] and not shown["stale"]
    code, _, err = rw("approve", "1", "--as", "alice")
    assert code == 1 and err.strip().startswith("rulewright: four eyes") and len(err.strip().splitlines()) == 1
    code, out, _ = rw("approve", "1", "--json", RULEWRIGHT_USER="bob")
    assert code == 0 and json.loads(out)["approver"] == "bob"
    code, out, _ = rw("history", "--json")
    assert [(v["number"], v["active"]) for v in json.loads(out)] == [(1, True)]
    code, out, _ = rw("export", "--format", "bundle", "--out", str(tmp_path / "b.json"))
    assert code == 0 and json.loads((tmp_path / "b.json").read_text())["approved_by"] == "bob"
    code, out, _ = rw("audit", "verify", "--json")
    assert code == 0 and json.loads(out)["entries"] == 2


def test_error_findings_block_approval_with_the_finding(tmp_path):
    rw("propose", rules_file(tmp_path, TYPO), "--as", "alice")
    code, out, _ = rw("review", "show", "1")
    assert "unknown_service" in out and "UPS_GROUND" in out
    code, _, err = rw("approve", "1", "--as", "bob")
    assert code == 1 and "error findings" in err and "UPS_GRND" in err


def test_a_stale_proposal_is_rebased_before_approval(tmp_path):
    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    rw("propose", rules_file(tmp_path, HEAVY, name="heavy.json"), "--as", "alice")
    assert rw("approve", "1", "--as", "bob")[0] == 0
    code, _, err = rw("approve", "2", "--as", "bob")
    assert code == 1 and "rulewright rebase 2" in err
    code, out, _ = rw("rebase", "2", "--as", "alice", "--json")
    assert code == 0 and json.loads(out)["base_version"] == 1
    code, out, _ = rw("approve", "2", "--as", "bob", "--json")
    assert code == 0 and json.loads(out)["parent"] == 1


def test_reject_needs_a_reason_and_rollback_proposes_the_old_version(tmp_path):
    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    assert rw("reject", "1", "--as", "bob")[0] == 2  # --reason is required
    assert rw("reject", "1", "--as", "bob", "--reason", "not now")[0] == 0
    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    rw("approve", "2", "--as", "bob")
    rw("propose", rules_file(tmp_path, HEAVY), "--as", "alice")
    rw("approve", "3", "--as", "bob")
    code, out, _ = rw("rollback", "v1", "--as", "carol", "--json")
    assert code == 0 and json.loads(out) == {"id": 4, "status": "submitted", "base_version": 2}
    code, out, _ = rw("review", "list", "--status", "rejected", "--json")
    assert [p["id"] for p in json.loads(out)] == [1]


def test_draft_output_is_accepted_with_its_provenance(tmp_path):
    path = rules_file(tmp_path, VIP, status="ok", request="ACME VIP orders need a signature", source="parser",
                      usage={"prompt_tokens": 0})
    code, out, _ = rw("propose", path, "--as", "alice", "--json")
    code, out, _ = rw("review", "show", str(json.loads(out)["id"]), "--json")
    assert json.loads(out)["proposal"]["provenance"]["request"] == "ACME VIP orders need a signature"
    assert json.loads(out)["proposal"]["provenance"]["source"] == "parser"


@pytest.mark.parametrize("args, message", [
    (["approve", "9", "--as", "bob"], "no proposal 9"),
    (["review", "show", "abc"], "proposal ids are numbers"),
    (["rollback", "v5", "--as", "bob"], "no version 5"),
    (["export", "--out", "x.json"], "no rule set has been approved"),
    (["export", "--format", "xml", "--out", "x.json"], "unknown export format"),
    (["review", "list", "--status", "open"], "unknown status"),
])
def test_refusals_are_one_line_errors(args, message):
    code, _, err = rw(*args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_malformed_rules_file_names_the_rule_and_place(tmp_path):
    code, _, err = rw("propose", rules_file(tmp_path, {"id": "x", "then": []}), "--as", "alice")
    assert code == 1 and "rule x at /then" in err


def test_tampered_audit_log_fails_verify(tmp_path, monkeypatch):
    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    import sqlite3

    from ui.common import settings

    db = sqlite3.connect(settings().home / "rulewright.sqlite")
    db.executescript("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory';")
    db.close()
    code, out, _ = rw("audit", "verify")
    assert code == 1 and "BROKEN" in out


def test_db_upgrade_and_jdm_export(tmp_path):
    code, out, _ = rw("db", "upgrade", "--json")
    assert code == 0 and json.loads(out)["to"] == "0001"
    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    rw("approve", "1", "--as", "bob")
    code, _, err = rw("export", "--format", "jdm", "--out", str(tmp_path / "g.json"))
    assert code == 0, err
    assert "nodes" in json.loads((tmp_path / "g.json").read_text())


def test_jdm_export_missing_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    rw("propose", rules_file(tmp_path, VIP), "--as", "alice")
    rw("approve", "1", "--as", "bob")
    monkeypatch.setitem(sys.modules, "rules_core.export.jdm", None)
    code, _, err = rw("export", "--format", "jdm", "--out", str(tmp_path / "g.json"))
    assert code == 1 and "jdm export is not available" in err
