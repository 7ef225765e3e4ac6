"""Canonical English: golden examples, decisions explained, and the explain -> parse round trip."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.offline import parse_request
from rules_core.catalog import demo_catalog
from rules_core.engine import decide
from rules_core.equivalence import same_behaviour
from rules_core.explain import explain, explain_decision, explain_rules
from rules_core.models import Order, Rule, rule_json
from rules_core.registry import FIELDS, FieldSpec

CATALOG = demo_catalog()
TABLE = Path(__file__).parents[1] / "assistant" / "fixtures" / "offline_requests.yaml"

BRIEF_RULE = Rule.model_validate({
    "id": "acme-heavy-far-zones", "name": "ACME heavy parcels to far zones", "clients": ["ACME"],
    "priority": 200, "effective": {"from": "2026-12-01T00:00:00Z"},
    "when": {"all": [
        {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
        {"field": "shipment.zone", "op": "between", "value": [5, 8]},
        {"not": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}}},
    ]},
    "then": [{"action": "use_service", "service": "UPS_GROUND"}],
})


def test_explain_reads_like_the_contract_example():
    assert explain(BRIEF_RULE) == (
        'Rule acme-heavy-far-zones "ACME heavy parcels to far zones" for ACME, priority 200, effective from '
        "2026-12-01: use service UPS_GROUND when the order weight is over 10 lb and the shipping zone is "
        "between 5 and 8 and not (the order value is over 500 USD).")


def test_nested_groups_are_bracketed_and_singletons_named():
    rule = Rule.model_validate({
        "id": "r1", "when": {"any": [
            {"all": [{"field": "dest.country", "op": "eq", "value": "CA"},
                     {"field": "order.hazmat", "op": "eq", "value": True}]},
            {"any_line": {"all": [{"field": "line.sku", "op": "eq", "value": "GLOBEX-BATTERY"}]}},
        ]},
        "then": [{"action": "hold", "reason": "DG \"check\"", "queue": "dg"}],
    })
    assert explain(rule) == (
        'Rule r1 for all clients, priority 100: hold the order for "DG \\"check\\"" in queue "dg" when '
        "(the destination country is CA and the hazmat is true) or any line has (all of (the SKU is "
        "GLOBEX-BATTERY)).")


def test_every_action_names_all_its_parameters():
    rules = [Rule.model_validate({"id": f"a{i}", "then": [a]}) for i, a in enumerate([
        {"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED", "ACME-SOCKS"]},
        {"action": "prefer_warehouses", "warehouses": ["EWR", "DFW"], "fallback": "hold"},
        {"action": "exclude_warehouses", "warehouses": ["LAX", "TOR"]},
        {"action": "rate_shop", "carriers": ["UPS"], "objective": "fastest", "max_transit_days": 2},
        {"action": "exclude_services", "services": ["ONTRAC_GROUND"], "carriers": ["DHL"]},
    ])]
    text = explain_rules(rules)
    assert "substitute ACME-MUG-BLUE with ACME-MUG-RED then ACME-SOCKS" in text
    assert "prefer warehouses EWR then DFW, else hold the order" in text
    assert "exclude warehouses LAX, TOR" in text
    assert "rate shop for the fastest among carriers UPS within 2 transit days" in text
    assert "exclude services ONTRAC_GROUND and carriers DHL" in text


def test_disabled_rules_and_windows_are_said():
    rule = BRIEF_RULE.model_copy(update={"enabled": False, "effective": None})
    rule = Rule.model_validate({**rule_json(rule), "effective": {"until": "2027-01-01T06:30:00Z"}})
    assert ", disabled, effective before 2027-01-01T06:30:00Z:" in explain(rule)


def test_explain_decision_says_who_decided_and_why():
    hold = Rule.model_validate({"id": "big-value", "when": {"field": "order.value", "op": "gt",
                                                             "value": {"amount": 100, "currency": "USD"}},
                                "then": [{"action": "hold", "reason": "fraud review"}]})
    order = Order.model_validate({"id": "SO-1", "client": "ACME", "ship_to": {"country": "US", "region": "NY",
                                  "postal_code": "10001"}, "lines": [{"sku": "ACME-HOODIE", "qty": 3}]})
    text = explain_decision(decide(order, [hold, BRIEF_RULE], CATALOG, trace=True,
                                   as_of=datetime(2026, 11, 4, tzinfo=timezone.utc)))
    assert "Order SO-1: HELD." in text
    assert "Held by rule big-value: fraud review" in text
    assert "big-value matched: order value is over 100 USD? yes (actual 147 USD)" in text
    assert "acme-heavy-far-zones did not match" in text
    assert "chosen by default routing (the nearest warehouse that can fill every line)" in text
    assert "chosen by default carrier selection" in text


# --- round trip ---------------------------------------------------------------------------------

def _codes(kind: str) -> list[str]:
    return sorted(CATALOG.names()[kind])


TEXTS = st.text(alphabet='abcXYZ 019-"\\é', min_size=1, max_size=8)
ISO = st.sampled_from(["2026-12-01", "2026-12-01T10:30:00Z", "2027-02-28T23:59:59Z"])


def _one_value(spec: FieldSpec) -> st.SearchStrategy:
    if spec.kind == "money":
        return st.builds(lambda a, c: {"amount": a / 100, "currency": c}, st.integers(0, 10**6),
                         st.sampled_from(["USD", "CAD"]))
    if spec.kind == "weight":
        return st.builds(lambda v, u: {"value": v / 10, "unit": u}, st.integers(0, 2000),
                         st.sampled_from(["lb", "oz", "kg", "g"]))
    if spec.kind == "integer":
        return st.integers(int(spec.minimum or 0), int(spec.maximum or 500))
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "datetime":
        return ISO
    if spec.kind == "enum":
        return st.sampled_from(spec.values)
    if spec.ref:
        return st.sampled_from(_codes(spec.ref))
    return TEXTS


def _value_for(spec: FieldSpec, op: str) -> st.SearchStrategy:
    one = _one_value(spec)
    if op == "between":
        return st.lists(one, min_size=2, max_size=2)
    if op in ("in", "not_in", "contains_any", "contains_all"):
        return st.lists(one, min_size=1, max_size=3)
    if op == "starts_with":
        return st.one_of(one, st.lists(one, min_size=1, max_size=3))
    return one


def _predicate(scope: str) -> st.SearchStrategy:
    specs = [s for s in FIELDS.values() if s.scope == scope]
    return st.sampled_from(specs).flatmap(lambda spec: st.sampled_from(spec.operators).flatmap(
        lambda op: _value_for(spec, op).map(lambda v: {"field": spec.name, "op": op, "value": v})))


def _groups(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    )


LINE_TREE = st.recursive(_predicate("line"), _groups, max_leaves=3)
ORDER_LEAF = st.one_of(_predicate("order"), LINE_TREE.map(lambda t: {"any_line": t}),
                       LINE_TREE.map(lambda t: {"all_lines": t}))
CONDITION = st.recursive(ORDER_LEAF, _groups, max_leaves=6)

WAREHOUSES, SERVICES, CARRIERS, SKUS = (st.sampled_from(_codes(k)) for k in ("warehouse", "service", "carrier", "sku"))
TAG = st.text(alphabet='abc-XY "z', min_size=1, max_size=6)
STAGE_ACTIONS = {
    "hold": st.lists(st.builds(lambda r, q: {"action": "hold", "reason": r, **({"queue": q} if q else {})},
                               TAG, st.none() | TAG), min_size=1, max_size=2),
    "substitution": st.builds(lambda s, w: [{"action": "substitute", "sku": s, "with": w}], SKUS,
                              st.lists(SKUS, min_size=1, max_size=3)),
    "routing": st.one_of(
        WAREHOUSES.map(lambda w: [{"action": "ship_from", "warehouse": w}]),
        st.builds(lambda ws, f: [{"action": "prefer_warehouses", "warehouses": ws, "fallback": f}],
                  st.lists(WAREHOUSES, min_size=1, max_size=3), st.sampled_from(["default", "hold"])),
        st.lists(WAREHOUSES, min_size=1, max_size=2).map(lambda ws: [{"action": "exclude_warehouses", "warehouses": ws}]),
    ),
    "carrier": st.one_of(
        SERVICES.map(lambda s: [{"action": "use_service", "service": s}]),
        st.builds(lambda s, c, o, d: [{"action": "rate_shop", "objective": o,
                                       **({"services": s} if s else {}), **({"carriers": c} if c else {}),
                                       **({"max_transit_days": d} if d else {})}],
                  st.lists(SERVICES, max_size=2), st.lists(CARRIERS, max_size=2),
                  st.sampled_from(["cheapest", "fastest"]), st.none() | st.integers(1, 7)),
        st.builds(lambda s, c: [{"action": "exclude_services", **({"services": s} if s else {}),
                                 **({"carriers": c} if c else {})}],
                  st.lists(SERVICES, min_size=1, max_size=2), st.lists(CARRIERS, max_size=2)),
    ),
    "finishing": st.lists(st.one_of(TAG.map(lambda t: {"action": "add_tag", "tag": t}),
                                    st.just({"action": "require_signature"}), st.just({"action": "insure"})),
                          min_size=1, max_size=3),
}
INSTANTS = st.none() | st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1),
                                    timezones=st.just(timezone.utc)).map(lambda d: d.replace(microsecond=0))

RULES = st.builds(
    lambda rid, name, clients, prio, enabled, eff, when, then: Rule.model_validate({
        "id": rid, "name": name, "clients": clients, "priority": prio, "enabled": enabled,
        **({"effective": {"from": eff[0], "until": eff[1]}} if eff else {}),
        **({"when": when} if when is not None else {}), "then": then}),
    st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,20}", fullmatch=True),
    st.text(alphabet='ab Z"\\-:é', max_size=12),
    st.lists(st.sampled_from(_codes("client")), max_size=2, unique=True),
    st.integers(-1000, 1000), st.booleans(), st.none() | st.tuples(INSTANTS, INSTANTS),
    st.none() | CONDITION,
    st.sampled_from(sorted(STAGE_ACTIONS)).flatmap(lambda stage: STAGE_ACTIONS[stage]),
)


def assert_round_trip(rule: Rule) -> None:
    text = explain(rule)
    result = parse_request(text, CATALOG)
    assert result.status == "ok", f"{text}\n{result.error}"
    assert len(result.rules) == 1
    back = result.rules[0]
    if rule_json(back) != rule_json(rule):
        ok, counter = same_behaviour([rule], [back], CATALOG)
        assert ok, counter
    assert explain(back) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RULES)
def test_explain_then_parse_gives_the_same_rule(rule):
    assert_round_trip(rule)


def _fixture_rules() -> list[Rule]:
    cases = yaml.safe_load(TABLE.read_text(encoding="utf-8"))["cases"]
    return [Rule.model_validate({"id": f"case-{n}-{i}", **raw})
            for n, case in enumerate(cases) for i, raw in enumerate(case.get("rules") or [])]


@pytest.mark.parametrize("rule", _fixture_rules(), ids=lambda r: r.id)
def test_every_table_rule_round_trips(rule):
    assert_round_trip(rule)
