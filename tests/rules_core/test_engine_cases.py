"""The decision table: every field, operator, action and stage rule of the contract."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rules_core.engine import compile_rules, decide
from rules_core.models import Order, Rule

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "engine_cases.yaml").read_text())

BASE_ORDER = {
    "id": "SO-T", "client": "ACME", "channel": "shopify", "created_at": "2026-11-02T10:00:00Z",
    "service_level": "standard", "currency": "USD",
    "ship_to": {"country": "US", "region": "CA", "postal_code": "90210", "city": "Beverly Hills", "residential": True},
    "lines": [{"sku": "ACME-HOODIE", "qty": 1, "unit_price": 49.0}],
}


def outcome(d) -> dict:
    s = d.shipments[0]
    return {
        "held": d.held, "holds": [h.reason for h in d.holds],
        "substitutions": [f"{x.from_}->{x.to}" for x in d.substitutions],
        "warehouse": s.warehouse, "service": s.service, "carrier": s.carrier,
        "routed_by": s.routed_by, "decided_by": s.decided_by, "tags": d.tags,
        "signature_required": d.signature_required, "insured": d.insured,
        "exceptions": [e.code for e in d.exceptions], "applied_rules": d.applied_rules,
    }


def build_order(overrides: dict | None) -> Order:
    raw = copy.deepcopy(BASE_ORDER)
    raw.update(overrides or {})
    return Order.model_validate(raw)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
@pytest.mark.parametrize("trace", [False, True], ids=["fast", "traced"])
def test_decision_table(case, trace, catalog):
    rules = [Rule.model_validate(r) for r in case["rules"]]
    decision = decide(build_order(case.get("order")), compile_rules(rules), catalog, trace=trace)
    got = outcome(decision)
    expected = case["expect"]
    assert {k: got[k] for k in expected} == expected


def test_trace_records_every_rule_considered_with_expected_and_actual(catalog):
    rules = [Rule.model_validate(r) for r in CASES[7]["rules"]]  # the contract example
    order = build_order(CASES[7]["order"])
    d = decide(order, rules, catalog, trace=True)
    entry = next(t for t in d.trace if t.rule == "acme-heavy-far-zones")
    assert entry.matched and entry.stage == "carrier"
    checks = {(c.field, c.expected, c.actual, c.result) for c in entry.checks}
    assert ("order.weight", "10 lb", "12.6 lb", True) in checks
    assert ("order.value", "500 USD", "441 USD", False) in checks
    assert any(c.field == "shipment.zone" and c.result for c in entry.checks)


def test_trace_skips_decisive_rules_after_the_first_match(catalog):
    rules = [Rule.model_validate(r) for r in [
        {"id": "first", "priority": 9, "then": [{"action": "use_service", "service": "UPS_GROUND"}]},
        {"id": "second", "priority": 1, "then": [{"action": "use_service", "service": "FEDEX_GROUND"}]},
        {"id": "mod", "priority": 0, "then": [{"action": "exclude_services", "carriers": ["DHL"]}]},
    ]]
    d = decide(build_order(None), rules, catalog, trace=True)
    considered = [t.rule for t in d.trace if t.stage == "carrier"]
    assert considered == ["first", "mod"]


def test_untraced_decision_has_no_trace(catalog):
    d = decide(build_order(None), [], catalog)
    assert d.trace == [] and d.ruleset.startswith("sha256:")


def test_decision_json_uses_contract_names(catalog):
    rules = [Rule.model_validate({"id": "mug", "then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]})]
    d = decide(build_order({"lines": [{"sku": "ACME-MUG-BLUE", "qty": 1}]}), rules, catalog).to_json()
    assert d["substitutions"] == [{"line": 0, "from": "ACME-MUG-BLUE", "to": "ACME-MUG-RED", "rule": "mug"}]
    assert set(d["shipments"][0]) >= {"warehouse", "lines", "zone", "carrier", "service", "cost", "transit_days",
                                      "routed_by", "decided_by"}
    assert d["shipments"][0]["cost"]["currency"] == "USD"
