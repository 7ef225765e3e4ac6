"""The behavioural comparison the request table and the eval suite rely on."""

from __future__ import annotations

from rules_core.catalog import demo_catalog
from rules_core.equivalence import boundary_orders, outcome, same_behaviour
from rules_core.engine import decide
from rules_core.models import Rule

CATALOG = demo_catalog()


def rule(rid: str, when: dict | None, *then: dict, **extra) -> Rule:
    return Rule.model_validate({"id": rid, **({"when": when} if when else {}), "then": list(then), **extra})


HEAVY = {"field": "order.weight", "op": "gt", "value": {"value": 20, "unit": "lb"}}
HEAVY_OR_EQUAL = {"field": "order.weight", "op": "gte", "value": {"value": 20, "unit": "lb"}}
FEDEX = {"action": "use_service", "service": "FEDEX_GROUND"}


def test_rule_ids_do_not_matter():
    assert same_behaviour([rule("a", HEAVY, FEDEX)], [rule("b", HEAVY, FEDEX)], CATALOG) == (True, None)


def test_the_threshold_itself_is_tested():
    ok, counter = same_behaviour([rule("a", HEAVY, FEDEX)], [rule("b", HEAVY_OR_EQUAL, FEDEX)], CATALOG)
    assert not ok
    assert "shipments" in counter["differences"]


def test_hold_reasons_count():
    a = rule("a", HEAVY, {"action": "hold", "reason": "freight"})
    b = rule("b", HEAVY, {"action": "hold", "reason": "weight check"})
    assert not same_behaviour([a], [b], CATALOG)[0]


def test_client_scope_counts():
    a = rule("a", HEAVY, FEDEX, clients=["ACME"])
    assert not same_behaviour([a], [rule("b", HEAVY, FEDEX)], CATALOG)[0]


def test_effective_window_edges_are_in_the_battery():
    a = rule("a", None, {"action": "insure"}, effective={"from": "2026-12-01T00:00:00Z"})
    b = rule("b", None, {"action": "insure"}, effective={"from": "2026-12-02T00:00:00Z"})
    assert not same_behaviour([a], [b], CATALOG)[0]


def test_line_quantifiers_are_told_apart():
    apparel = {"field": "line.category", "op": "eq", "value": "apparel"}
    tag = {"action": "add_tag", "tag": "soft"}
    assert not same_behaviour([rule("a", {"any_line": apparel}, tag)], [rule("b", {"all_lines": apparel}, tag)],
                              CATALOG)[0]


def test_battery_covers_listed_values_and_missing_facts():
    region = {"field": "dest.region", "op": "in", "value": ["HI", "AK"]}
    orders = boundary_orders([rule("a", region, {"action": "insure"})], CATALOG)
    regions = {o.ship_to.region for o in orders}
    assert {"HI", "AK", None} <= regions
    assert len({o.id for o in orders}) == len(orders)


def test_outcome_drops_rule_ids():
    order = boundary_orders([], CATALOG)[0]
    d = decide(order, [rule("some-id", None, {"action": "add_tag", "tag": "x"})], CATALOG)
    assert "some-id" not in repr(outcome(d))
