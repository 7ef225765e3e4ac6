"""Laws of the validator: it never raises on arbitrary JSON, its paths point into the input,
and a 1,000-rule set validates well under two seconds."""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_core.catalog import load_catalog
from rules_core.findings import Finding
from rules_core.models import ACTION_STAGE
from rules_core.registry import ALL_OPS, FIELDS
from rules_core.validator import parse_rules, validate

CATALOG = load_catalog()
VALID = yaml.safe_load((Path(__file__).parent / "fixtures" / "validator" / "valid_rules.yaml").read_text("utf-8"))
VOCABULARY = [*FIELDS, *ALL_OPS, *ACTION_STAGE, "all", "any", "not", "any_line", "all_lines", "field", "op",
              "value", "unit", "amount", "currency", "lb", "kg", "USD", "CAD", "US", "CA", "ACME", "LAX",
              "UPS_GROUND", "ACME-MUG-BLUE", "between", "then", "when", "clients", "effective", "from", "until"]

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**400)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6) | st.sampled_from(VOCABULARY))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=4),
                                                                inner, max_size=4),
    max_leaves=24,
)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def resolves(document: Any, path: str) -> bool:
    """Whether the JSON pointer's parent exists in the document (the last step may be a missing key)."""
    steps = [s.replace("~1", "/").replace("~0", "~") for s in path.split("/")[1:]]
    node = document
    for step in steps[:-1]:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return False
    return True


def assert_well_formed(findings: list[Finding], document: Any) -> None:
    for f in findings:
        assert f.code != "validator_failure", f
        assert f.severity in ("error", "warning")
        assert f.path == "" or f.path.startswith("/")
        assert resolves(document, f.path), (f, document)


@FAST
@given(json_values)
def test_validate_never_raises_on_arbitrary_json(document: Any) -> None:
    assert_well_formed(validate(document, CATALOG), document)
    parse_rules(document)


@FAST
@given(st.lists(st.dictionaries(st.sampled_from(VOCABULARY), json_values, max_size=5), max_size=3))
def test_validate_never_raises_on_rule_shaped_objects(document: list[dict[str, Any]]) -> None:
    assert_well_formed(validate(document, CATALOG), document)


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, (dict, list)):
        out.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, out)
    return out


@st.composite
def mutated_rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    rules = copy.deepcopy(draw(st.lists(st.sampled_from(VALID), min_size=1, max_size=3)))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_containers(rules, [])))
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(json_values)
        elif isinstance(target, dict):
            target[draw(st.sampled_from(VOCABULARY))] = draw(json_values)
        elif target:
            target[draw(st.integers(0, len(target) - 1))] = draw(json_values)
        else:
            target.append(draw(json_values))
    return rules


@FAST
@given(mutated_rules())
def test_validate_never_raises_on_mutated_valid_rules(rules: list[dict[str, Any]]) -> None:
    assert_well_formed(validate(rules, CATALOG), rules)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf, 10**400, 1e308])
def test_extreme_numbers_become_findings(number: Any) -> None:
    rule = {"id": "x", "priority": number, "then": [{"action": "insure"}], "when": {"all": [
        {"field": "order.weight", "op": "gt", "value": {"value": number, "unit": "kg"}},
        {"field": "shipment.zone", "op": "eq", "value": number},
        {"field": "order.value", "op": "lt", "value": {"amount": number, "currency": "USD"}}]}}
    findings = validate(rule, CATALOG)
    assert findings and all(f.code != "validator_failure" for f in findings)
    assert any(f.severity == "error" for f in findings)


def test_deep_nesting_is_a_finding() -> None:
    node: dict[str, Any] = {"field": "order.hazmat", "op": "eq", "value": True}
    for _ in range(5000):
        node = {"not": node}
    findings = validate({"id": "deep", "when": node, "then": [{"action": "insure"}]}, CATALOG)
    assert [f.code for f in findings if f.severity == "error"] == ["schema"]


# --- speed ---------------------------------------------------------------------------------------------


def generated_rule_set(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Rules across clients and stages, with overlapping conditions and repeated priorities."""
    rnd = random.Random(seed)
    actions = {
        "hold": lambda: [{"action": "hold", "reason": "review"}],
        "substitution": lambda: [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}],
        "routing": lambda: [{"action": "ship_from", "warehouse": rnd.choice(["LAX", "EWR", "DFW"])}],
        "carrier": lambda: [{"action": "use_service", "service": rnd.choice(["UPS_GROUND", "FEDEX_GROUND"])}],
        "finishing": lambda: [{"action": "add_tag", "tag": "checked"}],
    }
    rules = []
    for i in range(count):
        preds = [
            {"field": "order.weight", "op": rnd.choice(["gt", "lt"]), "value": {"value": rnd.randint(1, 60), "unit": "lb"}},
            {"field": "dest.region", "op": "in", "value": rnd.sample(["CA", "NY", "TX", "WA", "NJ"], 2)},
            {"field": "channel", "op": "eq", "value": rnd.choice(["shopify", "amazon", "walmart"])},
            {"field": "order.tags", "op": "contains", "value": rnd.choice(["vip", "gift"])},
        ]
        rule = {"id": f"rule-{i:04d}", "priority": rnd.randint(1, 40), "then": actions[rnd.choice(list(actions))](),
                "when": {"all": rnd.sample(preds, rnd.randint(1, 3))}}
        if rnd.random() < 0.7:
            rule["clients"] = [rnd.choice(["ACME", "GLOBEX", "INITECH"])]
        rules.append(rule)
    return rules


# Speed is measured by evals/bench_engine.py (validate of 1,000 rules), not asserted here:
# timed tests fail on shared, noisy machines.
def test_a_thousand_rules_get_the_rule_set_checks() -> None:
    rules = generated_rule_set(1000)
    findings = validate(rules, CATALOG)
    assert {"shadowed", "equal_priority"} <= {f.code for f in findings}  # the set checks really ran
    assert not [f for f in findings if f.severity == "error"]


def test_a_thousand_tied_rules_in_one_stage_report_each_tie_once() -> None:
    rules = [{"id": f"tie-{i:04d}", "when": {"field": "order.line_count", "op": "gte", "value": i % 50},
              "then": [{"action": "use_service", "service": "UPS_GROUND"}]} for i in range(1000)]
    findings = validate(rules, CATALOG)
    assert not [f for f in findings if f.severity == "error"]
    assert any(f.code == "equal_priority" for f in findings)


def test_regression_a_list_where_a_service_code_belongs_is_a_finding_not_a_failure():
    from rules_core.catalog import demo_catalog
    from rules_core.validator import validate

    findings = validate([{"id": "x", "then": [{"action": "use_service", "service": []}]}], demo_catalog())
    assert findings and all(f.code != "validator_failure" for f in findings)
    assert any(f.path.startswith("/0/then/0") for f in findings)
