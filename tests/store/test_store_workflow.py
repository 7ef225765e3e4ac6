"""The review workflow through the Python API (fake checks: fast and deterministic)."""

from __future__ import annotations

import re

import pytest
from store_fakes import open_store, tag_rule

from rules_core.errors import Conflict, NotFound, PermissionDenied, RuleSetError, StoreError
from rules_core.models import ruleset_hash
from rules_core.store import InvalidProposal, Provenance
from rules_core.store.roles import Roles


def approved(store, rules, author="alice", reviewer="bob", **kw):
    return store.approve(store.propose(rules, author, **kw).id, reviewer)


def test_first_proposal_is_based_on_nothing_and_approval_makes_it_active(store):
    p = store.propose([tag_rule("a"), tag_rule("b")], "alice", note="start")
    assert (p.status, p.base_version, [r.id for r in p.rules]) == ("submitted", None, ["a", "b"])
    v = store.approve(p.id, "bob", "looks right")
    assert (v.number, v.parent, v.author, v.approver, v.active) == (1, None, "alice", "bob", True)
    assert v.ruleset == ruleset_hash([tag_rule("a"), tag_rule("b")])
    assert [r.id for r in store.active_rules()] == ["a", "b"]
    p = store.get_proposal(p.id)
    assert (p.status, p.result_version) == ("approved", 1)
    assert [(r.reviewer, r.decision, r.comment) for r in p.reviews] == [("bob", "approved", "looks right")]


def test_proposal_changes_are_merged_by_id_onto_the_base(store):
    approved(store, [tag_rule("a"), tag_rule("b"), tag_rule("c")])
    v = approved(store, [tag_rule("a", tag="new"), tag_rule("d")], removes=["c"])
    rules = {r.id: r for r in store.active_rules()}
    assert sorted(rules) == ["a", "b", "d"]
    assert rules["a"].then[0].tag == "new"
    assert (v.number, v.parent, v.rule_count) == (2, 1, 3)


def test_full_proposal_removes_the_rules_it_leaves_out_and_drops_unchanged_ones(store):
    approved(store, [tag_rule("a"), tag_rule("b")])
    p = store.propose([tag_rule("a"), tag_rule("c")], "alice", full=True)
    assert ([r.id for r in p.rules], p.removes) == (["c"], ["b"])


def test_diff_lists_added_removed_and_changed_rules_field_by_field(store):
    approved(store, [tag_rule("a", priority=100), tag_rule("b")])
    p = store.propose([tag_rule("a", priority=250, tag="x"), tag_rule("c")], "alice", removes=["b"])
    d = store.diff(p.id)
    assert [r["id"] for r in d.diff.added] == ["c"]
    assert [r["id"] for r in d.diff.removed] == ["b"]
    (changed,) = d.diff.changed
    assert {(f.path, f.before, f.after) for f in changed.fields} == {("/priority", 100, 250), ("/then/0/tag", "t", "x")}
    assert d.impact["added_rules"] == ["c"] and d.impact["removed_rules"] == ["b"]
    assert not d.stale


def test_provenance_is_kept(store):
    prov = Provenance(request="hold ACME orders over $500", source="model", model="gpt-x",
                      usage={"prompt_tokens": 812, "completion_tokens": 95})
    p = store.propose([tag_rule("a")], "alice", provenance=prov)
    assert store.get_proposal(p.id).provenance == prov


def test_author_cannot_approve_own_proposal(store):
    p = store.propose([tag_rule("a")], "alice")
    with pytest.raises(PermissionDenied, match="four eyes"):
        store.approve(p.id, "alice")
    assert store.active_version() is None


def test_proposal_with_error_findings_is_refused_with_the_findings(store):
    p = store.propose([tag_rule("bad-x")], "alice")
    assert [f.code for f in p.findings] == ["bad_rule"]
    with pytest.raises(InvalidProposal, match="error findings") as err:
        store.approve(p.id, "bob")
    assert isinstance(err.value, RuleSetError) and isinstance(err.value, StoreError)
    assert [f.code for f in err.value.findings] == ["bad_rule"]
    assert store.get_proposal(p.id).status == "submitted"


def test_warnings_do_not_block_approval(store):
    p = store.propose([tag_rule("a", name="TIE")], "alice")
    assert [f.severity for f in p.findings] == ["warning"]
    assert store.approve(p.id, "bob").number == 1


def test_stale_proposal_must_be_rebased_then_approves(store):
    approved(store, [tag_rule("a")])
    stale = store.propose([tag_rule("b")], "alice")
    approved(store, [tag_rule("c")], author="carol")
    assert store.diff(stale.id).stale
    with pytest.raises(Conflict, match=f"rulewright rebase {stale.id}"):
        store.approve(stale.id, "bob")
    rebased = store.rebase(stale.id, "alice")
    assert (rebased.base_version, rebased.checked_against) == (2, 2)
    assert store.approve(stale.id, "bob").parent == 2
    assert [r.id for r in store.active_rules()] == ["a", "b", "c"]


def test_rebase_drops_removals_of_rules_that_are_already_gone(store):
    approved(store, [tag_rule("a"), tag_rule("b")])
    p = store.propose([tag_rule("c")], "alice", removes=["b"])
    approved(store, [tag_rule("a")], author="carol", full=True)
    assert store.rebase(p.id, "alice").removes == []


def test_a_proposal_whose_changes_became_active_meanwhile_is_not_approved_again(store):
    approved(store, [tag_rule("a")])
    late = store.propose([tag_rule("b")], "alice")
    approved(store, [tag_rule("b")], author="carol")
    store.rebase(late.id, "alice")
    with pytest.raises(StoreError, match="changes nothing"):
        store.approve(late.id, "bob")


def test_only_the_author_or_an_admin_rebases(store_url):
    store = open_store(store_url, Roles(users={"alice": frozenset({"author"}), "dana": frozenset({"admin"})},
                                        default=frozenset({"reviewer"}), source="test"))
    p = store.propose([tag_rule("a")], "alice")
    with pytest.raises(PermissionDenied):
        store.rebase(p.id, "bob")
    assert store.rebase(p.id, "dana").id == p.id


def test_rejection_closes_the_proposal_with_the_reason(store):
    p = store.propose([tag_rule("a")], "alice")
    with pytest.raises(StoreError, match="reason"):
        store.reject(p.id, "bob", "  ")
    store.reject(p.id, "bob", "wrong client")
    p = store.get_proposal(p.id)
    assert p.status == "rejected" and p.reviews[0].comment == "wrong client"
    with pytest.raises(Conflict, match="already rejected"):
        store.approve(p.id, "carol")


def test_drafts_are_submitted_by_their_author_before_review(store):
    p = store.propose([tag_rule("a")], "alice", submit=False)
    with pytest.raises(Conflict, match="draft"):
        store.approve(p.id, "bob")
    with pytest.raises(PermissionDenied):
        store.submit(p.id, "bob")
    assert store.submit(p.id, "alice").status == "submitted"
    assert store.list_proposals("submitted")[0].id == p.id


def test_roles_from_users_file(store_url, tmp_path):
    from rules_core.store.roles import load_roles

    (tmp_path / "users.yaml").write_text("users:\n  alice: [author]\n  bob: [reviewer]\n  carol: author\n")
    store = open_store(store_url, load_roles(tmp_path))
    with pytest.raises(PermissionDenied, match="needs the author role"):
        store.propose([tag_rule("a")], "bob")
    with pytest.raises(PermissionDenied, match="needs the author role"):
        store.propose([tag_rule("a")], "mallory")  # not listed: no roles
    p = store.propose([tag_rule("a")], "alice")
    with pytest.raises(PermissionDenied, match="reviewer role"):
        store.approve(p.id, "carol")
    assert store.approve(p.id, "bob").number == 1


@pytest.mark.parametrize("text", ["users: [alice]\n", "users:\n  alice: [boss]\n", "users: {a: [author]\n"])
def test_broken_users_file_is_a_one_line_error(tmp_path, text):
    from rules_core.store.roles import load_roles

    (tmp_path / "users.yaml").write_text(text)
    with pytest.raises(StoreError, match="users.yaml"):
        load_roles(tmp_path)


@pytest.mark.parametrize("key, kind", [("1", "the int 1"), ("true", "the bool True"), ("null", "nothing (null)")])
def test_user_names_yaml_reads_as_other_types_are_refused(tmp_path, key, kind):
    from rules_core.store.roles import load_roles

    (tmp_path / "users.yaml").write_text(f"users:\n  alice: [author]\n  {key}: [reviewer]\n")
    with pytest.raises(StoreError, match=re.escape(f"read as {kind}")):
        load_roles(tmp_path)
    (tmp_path / "users.yaml").write_text(f'users:\n  alice: [author]\n  "{key}": [reviewer]\n')
    assert load_roles(tmp_path).users[key] == frozenset({"reviewer"})


def test_users_file_that_is_not_utf8_is_a_one_line_error(tmp_path):
    from rules_core.store.roles import load_roles

    (tmp_path / "users.yaml").write_bytes(b"\xff\xfeusers:\n")
    with pytest.raises(StoreError, match="users.yaml: cannot read users"):
        load_roles(tmp_path)


def test_users_file_linking_to_nothing_fails_closed_not_open(tmp_path):
    """A users.yaml symlink whose target is gone (an unmounted config) must not fall back to the
    built-in default where every user is an author and a reviewer."""
    from rules_core.store.roles import load_roles

    (tmp_path / "users.yaml").symlink_to(tmp_path / "config" / "users.yaml")
    with pytest.raises(StoreError, match="does not exist"):
        load_roles(tmp_path)


def test_rollback_is_a_proposal_restoring_an_earlier_version(store):
    first = approved(store, [tag_rule("a"), tag_rule("b")])
    approved(store, [tag_rule("a", tag="x"), tag_rule("c")], removes=["b"])
    p = store.rollback(first.number, "carol")
    assert p.provenance.source == "rollback" and p.removes == ["c"]
    assert store.active_version().number == 2  # nothing changes until it is approved
    v = store.approve(p.id, "bob")
    assert (v.number, v.parent, v.ruleset) == (3, 2, first.ruleset)
    assert [v.number for v in store.history()] == [3, 2, 1]
    assert store.get_version(first.ruleset[7:19]).number == 3  # a hash names its newest version


def test_unknown_things_are_not_found(store):
    for call in (lambda: store.get_proposal(42), lambda: store.approve("P42", "bob"), lambda: store.get_version(7),
                 lambda: store.get_version("sha256:abcdef"), lambda: store.get_proposal("x1"), lambda: store.bundle()):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize("kwargs, message", [
    ({"rules": [tag_rule("a"), tag_rule("a")]}, "appears twice"),
    ({"rules": [tag_rule("a")], "removes": ["zzz"]}, "not in the active rule set"),
    ({"rules": [tag_rule("a")]}, "changes nothing"),
])
def test_malformed_proposals_are_refused(store, kwargs, message):
    approved(store, [tag_rule("a")])
    with pytest.raises(StoreError, match=message):
        store.propose(author="alice", **kwargs)


def test_module_level_active_rules_opens_the_configured_store(tmp_path, monkeypatch):
    from rules_core.settings import CoreSettings
    from rules_core.store import active_rules

    settings = CoreSettings(home=tmp_path / "h")
    assert active_rules(settings) == []
    s = open_store(settings.store_url)
    approved(s, [tag_rule("a")])
    s.close()
    assert [r.id for r in active_rules(settings)] == ["a"]


def test_rule_history_lists_the_versions_a_rule_was_added_changed_kept_and_removed_in(store):
    from rules_core.models import Rule

    def rule(rid: str, amount: int) -> Rule:
        return Rule.model_validate({"id": rid, "when": {"field": "order.value", "op": "gt",
                                    "value": {"amount": amount, "currency": "USD"}},
                                    "then": [{"action": "hold", "reason": "check"}]})

    store.approve(store.propose([rule("a", 100)], "alice").id, "bob")
    store.approve(store.propose([rule("b", 100)], "alice").id, "bob")
    store.approve(store.propose([rule("a", 200)], "alice").id, "bob")
    store.approve(store.propose([rule("b", 100)], "alice", full=True).id, "bob")
    assert [(v.number, kind) for v, kind in store.rule_history("a")] == [
        (1, "added"), (2, "unchanged"), (3, "changed"), (4, "removed")]
    assert store.rule_history("nope") == []
