"""Rule-set findings: duplicate ids against an active set, equal priorities, shadowing."""

from __future__ import annotations

from typing import Any

import pytest

from rules_core.catalog import Catalog, load_catalog
from rules_core.models import Rule
from rules_core.validator import validate


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def lb(n: float) -> dict[str, Any]:
    return {"value": n, "unit": "lb"}


def routing(rule_id: str, priority: int, when: Any = None, warehouse: str = "LAX", **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": rule_id, "priority": priority, "then": [{"action": "ship_from", "warehouse": warehouse}]}
    if when is not None:
        rule["when"] = when
    return rule | extra


def weight(op: str, n: float) -> dict[str, Any]:
    return {"field": "order.weight", "op": op, "value": lb(n)}


def region(op: str, value: Any) -> dict[str, Any]:
    return {"field": "dest.region", "op": op, "value": value}


def codes_at(findings: list, code: str) -> list[tuple[str, str]]:
    return [(f.severity, f.path) for f in findings if f.code == code]


# --- shadowed -------------------------------------------------------------------------------------


def test_unconditional_global_rule_shadows_a_client_rule_below_it(catalog: Catalog) -> None:
    findings = validate([routing("everything", 200), routing("acme-east", 100, region("eq", "NY"), "EWR",
                                                             clients=["ACME"])], catalog)
    shadowed = [f for f in findings if f.code == "shadowed"]
    assert [(f.severity, f.path) for f in shadowed] == [("warning", "/1")]
    assert "`everything`" in shadowed[0].message
    assert shadowed[0].hint == "give `acme-east` a higher priority than 200, or narrow `everything`"


def test_wider_interval_above_shadows_narrower_interval(catalog: Catalog) -> None:
    rules = [routing("over-10", 200, weight("gt", 10)), routing("over-20", 100, weight("gte", 20))]
    assert codes_at(validate(rules, catalog), "shadowed") == [("warning", "/1")]


def test_narrower_interval_above_does_not_shadow(catalog: Catalog) -> None:
    rules = [routing("over-20", 200, weight("gt", 20)), routing("over-10", 100, weight("gt", 10))]
    assert codes_at(validate(rules, catalog), "shadowed") == []


def test_in_list_shadows_a_subset_and_units_convert(catalog: Catalog) -> None:
    wide = routing("west", 200, {"all": [region("in", ["CA", "OR", "WA"]), weight("lte", 50)]})
    narrow = routing("california-light", 100, {"all": [region("eq", "CA"), weight("lt", 10),
                                                       {"field": "order.hazmat", "op": "eq", "value": False}]})
    narrow["then"][0]["warehouse"] = "EWR"
    narrow["when"]["all"][1]["value"] = {"value": 4, "unit": "kg"}
    assert codes_at(validate([wide, narrow], catalog), "shadowed") == [("warning", "/1")]


def test_list_not_contained_is_not_shadowed(catalog: Catalog) -> None:
    rules = [routing("west", 200, region("in", ["CA", "OR"])), routing("ca-ny", 100, region("in", ["CA", "NY"]))]
    assert codes_at(validate(rules, catalog), "shadowed") == []


def test_client_rule_does_not_shadow_a_global_rule(catalog: Catalog) -> None:
    rules = [routing("acme-all", 200, clients=["ACME"]), routing("ny", 100, region("eq", "NY"))]
    assert codes_at(validate(rules, catalog), "shadowed") == []


def test_rule_with_a_condition_the_other_lacks_does_not_shadow(catalog: Catalog) -> None:
    rules = [routing("ny-heavy", 200, {"all": [region("eq", "NY"), weight("gt", 10)]}), routing("ny", 100, region("eq", "NY"))]
    assert codes_at(validate(rules, catalog), "shadowed") == []


def test_disabled_rule_shadows_nothing(catalog: Catalog) -> None:
    rules = [routing("off", 200, enabled=False), routing("ny", 100, region("eq", "NY"))]
    assert codes_at(validate(rules, catalog), "shadowed") == []


def test_rule_effective_in_a_window_only_shadows_rules_within_it(catalog: Catalog) -> None:
    december = {"from": "2026-12-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}
    christmas = {"from": "2026-12-20T00:00:00Z", "until": "2026-12-27T00:00:00Z"}
    peak = routing("peak", 200, effective=december)
    assert codes_at(validate([peak, routing("ny", 100, region("eq", "NY"))], catalog), "shadowed") == []
    inside = routing("ny-christmas", 100, region("eq", "NY"), effective=christmas)
    assert codes_at(validate([peak, inside], catalog), "shadowed") == [("warning", "/1")]


def test_modifier_rules_are_never_shadowed(catalog: Catalog) -> None:
    tag = {"id": "tag-ny", "when": region("eq", "NY"), "then": [{"action": "add_tag", "tag": "ny"}]}
    tag_all = {"id": "tag-all", "priority": 500, "then": [{"action": "add_tag", "tag": "all"}]}
    assert codes_at(validate([tag_all, tag], catalog), "shadowed") == []


def test_substitutions_shadow_only_for_the_same_sku(catalog: Catalog) -> None:
    def sub(rule_id: str, priority: int, sku: str, to: str) -> dict[str, Any]:
        return {"id": rule_id, "priority": priority, "then": [{"action": "substitute", "sku": sku, "with": [to]}]}

    other_sku = [sub("blue", 200, "ACME-MUG-BLUE", "ACME-MUG-RED"), sub("hoodie", 100, "ACME-HOODIE", "ACME-TSHIRT")]
    assert codes_at(validate(other_sku, catalog), "shadowed") == []
    same_sku = [sub("blue", 200, "ACME-MUG-BLUE", "ACME-MUG-RED"), sub("blue-2", 100, "ACME-MUG-BLUE", "ACME-TSHIRT")]
    assert codes_at(validate(same_sku, catalog), "shadowed") == [("warning", "/1")]


def test_equal_priority_tie_goes_by_id(catalog: Catalog) -> None:
    rules = [routing("b-ny", 100, region("eq", "NY"), "EWR"), routing("a-all", 100)]
    findings = validate(rules, catalog)
    assert codes_at(findings, "shadowed") == [("warning", "/0")]
    assert "ties go by id" in next(f.message for f in findings if f.code == "shadowed")


def test_identical_nested_condition_counts_as_covered(catalog: Catalog) -> None:
    either = {"any": [region("eq", "NY"), region("eq", "NJ")]}
    rules = [routing("ny-nj", 200, either), routing("ny-nj-heavy", 100, {"all": [either, weight("gt", 5)]})]
    assert codes_at(validate(rules, catalog), "shadowed") == [("warning", "/1")]


def test_proposed_rule_shadowed_by_an_active_rule(catalog: Catalog) -> None:
    active = [Rule.model_validate(routing("active-all", 300))]
    findings = validate([routing("new-ny", 100, region("eq", "NY"))], catalog, existing=active)
    assert codes_at(findings, "shadowed") == [("warning", "/0")]


def test_proposed_rule_that_makes_an_active_rule_unreachable(catalog: Catalog) -> None:
    active = [Rule.model_validate(routing("active-ny", 100, region("eq", "NY")))]
    findings = validate([routing("new-all", 300)], catalog, existing=active)
    shadowed = [f for f in findings if f.code == "shadowed"]
    assert [(f.severity, f.path) for f in shadowed] == [("warning", "/0")]
    assert "`active-ny`" in shadowed[0].message


def test_active_rules_among_themselves_are_not_reported(catalog: Catalog) -> None:
    active = [Rule.model_validate(routing("a", 300)), Rule.model_validate(routing("b", 100, region("eq", "NY")))]
    findings = validate([{"id": "tag", "when": region("eq", "CA"), "then": [{"action": "insure"}]}], catalog,
                        existing=active)
    assert codes_at(findings, "shadowed") == [] and codes_at(findings, "equal_priority") == []


def test_a_proposed_rule_with_an_active_id_replaces_it(catalog: Catalog) -> None:
    active = [Rule.model_validate(routing("same", 300))]
    findings = validate([routing("same", 100, region("eq", "NY"))], catalog, existing=active)
    assert codes_at(findings, "duplicate_id") == [] and codes_at(findings, "shadowed") == []


# --- equal priority ------------------------------------------------------------------------------------


def test_equal_priority_for_a_common_client(catalog: Catalog) -> None:
    rules = [routing("acme-heavy", 100, weight("gt", 10), clients=["ACME"]),
             routing("acme-ny", 100, region("eq", "NY"), "EWR", clients=["ACME", "GLOBEX"])]
    findings = validate(rules, catalog)
    ties = [f for f in findings if f.code == "equal_priority"]
    assert [(f.severity, f.path) for f in ties] == [("warning", "/0/priority"), ("warning", "/1/priority")]
    assert ties[0].hint == "give the rule that should win a higher priority"
    assert "`acme-heavy` is tried first" in ties[0].message


def test_no_equal_priority_for_different_clients(catalog: Catalog) -> None:
    rules = [routing("acme", 100, weight("gt", 10), clients=["ACME"]),
             routing("globex", 100, weight("gt", 10), clients=["GLOBEX"])]
    assert codes_at(validate(rules, catalog), "equal_priority") == []


def test_no_equal_priority_for_disjoint_conditions(catalog: Catalog) -> None:
    rules = [routing("light", 100, weight("lt", 5)), routing("heavy", 100, weight("gt", 20), "EWR")]
    assert codes_at(validate(rules, catalog), "equal_priority") == []


def test_no_equal_priority_between_stages_or_for_modifiers(catalog: Catalog) -> None:
    rules = [routing("route", 100), {"id": "carrier", "then": [{"action": "use_service", "service": "UPS_GROUND"}]},
             {"id": "hold-1", "then": [{"action": "hold", "reason": "x"}]},
             {"id": "hold-2", "then": [{"action": "hold", "reason": "y"}]}]
    assert codes_at(validate(rules, catalog), "equal_priority") == []


def test_equal_priority_with_an_active_rule(catalog: Catalog) -> None:
    active = [Rule.model_validate(routing("active-heavy", 100, weight("gt", 10)))]
    findings = validate([routing("new-ny", 100, region("eq", "NY"), "EWR")], catalog, existing=active)
    assert codes_at(findings, "equal_priority") == [("warning", "/0/priority")]
