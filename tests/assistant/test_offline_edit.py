"""Offline edits: rules under edit + a follow-up -> the same rule (same id) with one part changed,
or a question naming the candidates. Never a new rule that merely looks like an edit."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.draft import draft
from assistant.llm.settings import LLMSettings
from assistant.offline import parse_edit, parse_request
from assistant.offline.parser import _summary
from rules_core.catalog import demo_catalog
from rules_core.equivalence import same_behaviour
from rules_core.explain import explain
from rules_core.models import Rule, rule_json
from rules_core.samples import sample_orders

CATALOG = demo_catalog()
ORDERS = sample_orders(CATALOG, n=60)
MODEL_OFF = LLMSettings(base_url=None)

RULES: dict[str, dict[str, Any]] = {
    "far": {"id": "acme-heavy-far-zones", "name": "ACME heavy parcels to far zones", "clients": ["ACME"],
            "priority": 200, "when": {"all": [
                {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
                {"field": "shipment.zone", "op": "between", "value": [5, 8]},
                {"not": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}}}]},
            "then": [{"action": "use_service", "service": "UPS_GROUND"}]},
    "fraud": {"id": "fraud-hold", "name": "Fraud review hold",
              "when": {"field": "order.value", "op": "gt", "value": {"amount": 2000, "currency": "USD"}},
              "then": [{"action": "hold", "reason": "fraud review"}]},
    "weekend": {"id": "weekend-hold", "name": "Initech weekend hold", "clients": ["INITECH"],
                "when": {"field": "order.weekday", "op": "in", "value": ["sat", "sun"]},
                "then": [{"action": "hold", "reason": "weekend review"}]},
    "shop": {"id": "light-rate-shop", "name": "Light parcels rate shop",
             "when": {"field": "order.weight", "op": "lt", "value": {"value": 5, "unit": "lb"}},
             "then": [{"action": "rate_shop", "services": ["UPS_GROUND", "FEDEX_GROUND"], "objective": "cheapest",
                       "max_transit_days": 5}]},
    "amazon": {"id": "globex-amazon-ewr", "name": "GLOBEX Amazon from Newark", "clients": ["GLOBEX"],
               "when": {"field": "channel", "op": "eq", "value": "amazon"},
               "then": [{"action": "ship_from", "warehouse": "EWR"}]},
    "bulk": {"id": "bulk-tag", "name": "Bulk tag",
             "when": {"field": "order.unit_count", "op": "gt", "value": 10},
             "then": [{"action": "add_tag", "tag": "bulk"}]},
    "band": {"id": "acme-mid-weight", "name": "ACME mid-weight parcels", "clients": ["ACME", "GLOBEX"],
             "when": {"field": "order.weight", "op": "between", "value": [{"value": 5, "unit": "lb"},
                                                                          {"value": 20, "unit": "lb"}]},
             "then": [{"action": "use_service", "service": "FEDEX_HOME"}]},
    "two-weights": {"id": "acme-weight-window", "name": "ACME weight window", "clients": ["ACME"],
                    "when": {"all": [
                        {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
                        {"field": "order.weight", "op": "lt", "value": {"value": 50, "unit": "lb"}}]},
                    "then": [{"action": "use_service", "service": "UPS_GROUND"}]},
    "acme-value": {"id": "acme-signature", "name": "ACME signature over $500", "clients": ["ACME"],
                   "when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}},
                   "then": [{"action": "require_signature"}]},
    "off": {"id": "globex-insure", "name": "GLOBEX insurance", "clients": ["GLOBEX"], "enabled": False,
            "when": {"field": "order.value", "op": "gt", "value": {"amount": 1000, "currency": "USD"}},
            "then": [{"action": "insure"}]},
}
RULES["far-off"] = {**RULES["far"], "enabled": False}


def rule(key: str) -> Rule:
    return Rule.model_validate(RULES[key])


def edited(key: str, *changes: tuple[str, Any]) -> dict[str, Any]:
    """The canonical JSON of rule ``key`` with ``changes`` (JSON pointer, new value) made."""
    out = copy.deepcopy(rule_json(rule(key)))
    for pointer, value in changes:
        *parents, last = [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]
        node = out
        for p in parents:
            node = node[p]
        node[last] = value
    return out


LB = lambda n: {"value": n, "unit": "lb"}  # noqa: E731
USD = lambda n: {"amount": n, "currency": "USD"}  # noqa: E731

# (editing, request, the expected rule JSON)
EDITS: list[tuple[list[str], str, dict[str, Any]]] = [
    (["far"], "make it 25 lb", edited("far", ("/when/all/0/value", LB(25)))),
    (["far"], "change the weight to 25 lb", edited("far", ("/when/all/0/value", LB(25)))),
    (["far", "fraud"], "raise the ACME heavy threshold to 25 lb", edited("far", ("/when/all/0/value", LB(25)))),
    (["far"], "Raise it to 12 kg", edited("far", ("/when/all/0/value", {"value": 12, "unit": "kg"}))),
    (["far"], "change the weight to at least 25 lb",
     edited("far", ("/when/all/0/value", LB(25)), ("/when/all/0/op", "gte"))),
    (["far"], "make it zones 6-8", edited("far", ("/when/all/1/value", [6, 8]))),
    (["far"], "lower the value to $400", edited("far", ("/when/all/2/not/value", USD(400)))),
    (["fraud"], "lower it to $1,500", edited("fraud", ("/when/value", USD(1500)))),
    (["far", "fraud"], "Lower the fraud hold limit to $1,500", edited("fraud", ("/when/value", USD(1500)))),
    (["fraud"], "Change the fraud hold from $2,000 to $3,000", edited("fraud", ("/when/value", USD(3000)))),
    (["fraud", "weekend"], "make it $5k", edited("fraud", ("/when/value", USD(5000)))),
    (["shop"], "make it 3 days", edited("shop", ("/then/0/max_transit_days", 3))),
    (["shop"], "within 2 business days", edited("shop", ("/then/0/max_transit_days", 2))),
    (["shop"], "fastest instead", edited("shop", ("/then/0/objective", "fastest"))),
    (["shop"], "make it under 4 lb", edited("shop", ("/when/value", LB(4)))),
    (["far"], "use FedEx Ground instead", edited("far", ("/then/0/service", "FEDEX_GROUND"))),
    (["far"], "Use FedEx Ground instead of UPS Ground in the ACME heavy rule",
     edited("far", ("/then/0/service", "FEDEX_GROUND"))),
    (["far"], "switch to UPS 2nd Day Air", edited("far", ("/then/0/service", "UPS_2DAY"))),
    (["shop"], "use UPS Ground instead", edited("shop", ("/then/0", {"action": "use_service", "service": "UPS_GROUND"}))),
    (["amazon"], "ship from Dallas instead", edited("amazon", ("/then/0/warehouse", "DFW"))),
    (["amazon"], "ship out of Toronto instead", edited("amazon", ("/then/0/warehouse", "TOR"))),
    (["far"], "also for GLOBEX", edited("far", ("/clients", ["ACME", "GLOBEX"]))),
    (["far"], "The ACME heavy rule should also cover Globex", edited("far", ("/clients", ["ACME", "GLOBEX"]))),
    (["far"], "for GLOBEX and INITECH too", edited("far", ("/clients", ["ACME", "GLOBEX", "INITECH"]))),
    (["amazon"], "only for ACME", edited("amazon", ("/clients", ["ACME"]))),
    (["fraud"], "only for ACME", edited("fraud", ("/clients", ["ACME"]))),
    (["band"], "not for GLOBEX", edited("band", ("/clients", ["ACME"]))),
    (["far"], "for all clients", edited("far", ("/clients", []))),
    (["far"], "make it priority 300", edited("far", ("/priority", 300))),
    (["fraud"], "set the priority to 150", edited("fraud", ("/priority", 150))),
    (["fraud"], "before other rules", edited("fraud", ("/priority", 200))),
    (["far"], "after other rules", edited("far", ("/priority", 50))),
    (["far"], "disable it", edited("far", ("/enabled", False))),
    (["fraud", "weekend"], "Turn off the weekend hold", edited("weekend", ("/enabled", False))),
    (["far-off", "fraud"], "enable acme-heavy-far-zones", edited("far", ("/enabled", True))),
    (["off"], "turn it back on", edited("off", ("/enabled", True))),
    (["fraud"], "change the reason to address check", edited("fraud", ("/then/0/reason", "address check"))),
    (["fraud", "weekend"], 'Change the reason on the weekend hold to "weekend staffing"',
     edited("weekend", ("/then/0/reason", "weekend staffing"))),
    (["fraud"], "hold them for manager approval instead", edited("fraud", ("/then/0/reason", "manager approval"))),
    (["fraud"], "Put the fraud hold in the risk queue", edited("fraud", ("/then/0/queue", "risk"))),
    (["bulk"], "tag them as oversize instead", edited("bulk", ("/then/0/tag", "oversize"))),
    (["bulk", "fraud"], "In rule bulk-tag, change the tag to wholesale-bulk",
     edited("bulk", ("/then/0/tag", "wholesale-bulk"))),
    (["bulk"], "Change the bulk tag rule to more than 20 units", edited("bulk", ("/when/value", 20))),
    (["bulk"], "make it 20", edited("bulk", ("/when/value", 20))),
    (["band"], "make it 5-15 lb", edited("band", ("/when/value", [LB(5), LB(15)]))),
    (["band"], "change 20 lb to 30 lb", edited("band", ("/when/value/1", LB(30)))),
    (["two-weights"], "change it from 50 lb to 70 lb", edited("two-weights", ("/when/all/1/value", LB(70)))),
]

# (editing, request, a word the question must contain)
CLARIFY: list[tuple[list[str], str, str]] = [
    (["far", "bulk"], "Raise the threshold to 25", "Which rule"),
    (["far", "two-weights"], "make it 25 lb", "acme-weight-window"),
    (["two-weights"], "make it 25 lb", "Which one"),
    (["band"], "make it 30 lb", "which end"),
    (["far", "fraud"], "make it $1,500", "fraud-hold"),
    (["far"], "raise it to 5 lb", "would not raise"),
    (["fraud"], "lower it to $3,000", "would not lower"),
    (["far"], "make it 25", "no unit"),  # a bare number is a count; this rule has none
    (["fraud"], "also for GLOBEX", "every client"),
    (["far"], "not for ACME", "every client"),
    (["far", "acme-value"], "change the ACME threshold to 600", "Which rule"),
    (["far", "fraud"], "raise the GLOBEX heavy threshold to 25 lb", "None of the rules"),
    (["far"], "use FedEx instead", "Which one"),
    (["fraud"], "make it priority", "priority to what"),
    (["far", "fraud"], "disable acme-heavy-far-zones and fraud-hold", "one rule at a time"),
    (["far", "band"], "make it 25 lb", "Which rule"),
]

NOT_EDITS = [
    "Hold ACME orders over $2,000 for fraud review",
    "Use UPS Ground for ACME orders over 10 lb",
    "Tag orders with more than 10 units as bulk",
    "Rate shop UPS Ground and FedEx Ground for the cheapest under 5 lb, delivered within 3 days.",
    "Never use OnTrac for PO boxes.",
]


def _ids(case: tuple[Any, ...]) -> str:
    return case[1]


@pytest.mark.parametrize("keys,text,expected", EDITS, ids=[_ids(c) for c in EDITS])
def test_edit(keys: list[str], text: str, expected: dict[str, Any]) -> None:
    editing = [rule(k) for k in keys]
    result = parse_edit(text, CATALOG, editing)
    assert result is not None, "not read as an edit"
    assert result.status == "ok", result.question or result.error
    [got] = result.rules
    assert rule_json(got) == expected
    assert result.english == explain(got)


@pytest.mark.parametrize("keys,text,needle", CLARIFY, ids=[_ids(c) for c in CLARIFY])
def test_must_clarify(keys: list[str], text: str, needle: str) -> None:
    result = parse_edit(text, CATALOG, [rule(k) for k in keys])
    assert result is not None and result.status == "clarify", result
    assert not result.rules
    assert needle.lower() in (result.question or "").lower()


@pytest.mark.parametrize("text", NOT_EDITS)
def test_new_rules_are_not_edits(text: str) -> None:
    assert parse_edit(text, CATALOG, [rule("far"), rule("fraud"), rule("bulk")]) is None


def test_errors_say_why() -> None:
    cases = {
        ("fraud", "use FedEx Ground instead"): "does not choose a service",
        ("far", "disable it and enable it"): "already",
        ("far", "change the reason to address check"): "does not hold orders",
        ("fraud", "raise it from $900 to $3,000"): "no condition with 900 USD",
    }
    for (key, text), needle in cases.items():
        result = parse_edit(text, CATALOG, [rule(key)])
        assert result is not None and result.status in ("error", "clarify"), (text, result)
        assert needle in (result.error or result.question or ""), (text, result)


def test_behaviour_follows_the_edit() -> None:
    result = parse_edit("make it 25 lb", CATALOG, [rule("far")])
    assert result is not None
    by_hand = Rule.model_validate(edited("far", ("/when/all/0/value", LB(25))))
    assert same_behaviour(result.rules, [by_hand], CATALOG)[0]
    assert not same_behaviour(result.rules, [rule("far")], CATALOG)[0]


def test_a_generated_name_follows_the_edit_and_a_given_one_stays() -> None:
    [drafted] = parse_request("Hold orders over $2,000 for fraud review", CATALOG).rules
    assert drafted.name == _summary(drafted)
    result = parse_edit("lower it to $1,500", CATALOG, [drafted])
    assert result is not None and result.status == "ok"
    [after] = result.rules
    assert after.id == drafted.id and "1500" in after.name and after.name == _summary(after)
    named = parse_edit("lower it to $1,500", CATALOG, [rule("fraud")])
    assert named is not None and named.rules[0].name == "Fraud review hold"


def test_named_only_needs_a_named_rule() -> None:
    active = [rule("far"), rule("fraud")]
    assert parse_edit("make it 25 lb", CATALOG, active, named_only=True) is None
    assert parse_edit("disable it", CATALOG, active, named_only=True) is None
    result = parse_edit("raise the ACME heavy threshold to 25 lb", CATALOG, active, named_only=True)
    assert result is not None and result.rules[0].id == "acme-heavy-far-zones"


def test_the_client_of_the_draft_bounds_the_edit() -> None:
    result = parse_edit("also for GLOBEX", CATALOG, [rule("far")], client="ACME")
    assert result is not None and result.status == "error" and "draft is for ACME" in (result.error or "")


# --- through draft() ---------------------------------------------------------------------------------


def test_draft_round_trip_shows_exactly_the_changed_field() -> None:
    first = draft("Hold orders over $2,000 for fraud review", CATALOG, mode="offline", current_rules=[],
                  orders=ORDERS, settings=MODEL_OFF)
    assert first.status == "ok"
    [drafted] = first.rules
    second = draft("lower it to $1,500", CATALOG, mode="auto", current_rules=[], orders=ORDERS,
                   settings=MODEL_OFF, editing=first.rules)
    assert second.status == "ok" and second.source == "offline"
    [after] = second.rules
    assert after.id == drafted.id
    [change] = second.diff
    paths = [c["path"] for c in change.changes]
    assert paths == ["/name", "/when/value/amount"]  # the generated name follows the threshold
    assert change.changes[1]["before"] == 2000 and change.changes[1]["after"] == 1500
    assert set(second.to_json()) == set(first.to_json())


def test_draft_edit_of_a_named_rule_keeps_its_name() -> None:
    result = draft("make it priority 300", CATALOG, mode="offline", current_rules=[], orders=ORDERS,
                   settings=MODEL_OFF, editing=[rule("far")])
    assert result.status == "ok"
    [change] = result.diff
    assert [(c["path"], c["before"], c["after"]) for c in change.changes] == [("/priority", 200, 300)]


def test_draft_edits_an_active_rule_named_in_the_request() -> None:
    result = draft("raise the ACME heavy threshold to 25 lb", CATALOG, mode="auto",
                   current_rules=[rule("far"), rule("fraud")], orders=ORDERS, settings=MODEL_OFF)
    assert result.status == "ok" and [r.id for r in result.rules] == ["acme-heavy-far-zones"]
    [change] = result.diff
    assert [c["path"] for c in change.changes] == ["/when/all/0/value/value"]


def test_draft_without_editing_is_unchanged_for_new_rules() -> None:
    result = draft("Hold ACME orders over $2,000 for fraud review", CATALOG, mode="offline",
                   current_rules=[rule("far")], orders=ORDERS, settings=MODEL_OFF)
    assert result.status == "ok" and result.rules[0].id != "acme-heavy-far-zones" and not result.diff


def test_draft_edit_question_is_a_clarify() -> None:
    result = draft("make it 25 lb", CATALOG, mode="offline", current_rules=[], orders=ORDERS,
                   settings=MODEL_OFF, editing=[rule("far"), rule("two-weights")])
    assert result.status == "clarify" and not result.rules and "Which rule" in (result.question or "")


def test_cli_edits_the_active_rule() -> None:
    from rules_core.store import Store
    from ui.cli import app

    with Store.open() as store:
        proposal = store.propose([rule("far")], "alice")
        store.approve(proposal.id, "bob")
    out = CliRunner().invoke(app, ["draft", "raise the ACME heavy threshold to 25 lb", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert body["status"] == "ok" and body["source"] == "offline"
    assert [r["id"] for r in body["rules"]] == ["acme-heavy-far-zones"]
    assert body["rules"][0] == edited("far", ("/when/all/0/value", LB(25)))
    assert [(c["path"], c["before"], c["after"]) for c in body["diff"][0]["changes"]] == [
        ("/when/all/0/value/value", 10, 25)]
