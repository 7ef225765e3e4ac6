"""Laws of the engine: it never raises on valid input, and the compiled (fast) path and the
traced path always reach the same decision."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_core.catalog import demo_catalog
from rules_core.engine import compile_rules, decide
from rules_core.models import Order, Rule
from rules_core.registry import FIELDS, SERVICE_LEVELS, WEEKDAYS
from rules_core.samples import generate_orders

CAT = demo_catalog()
ORDERS = generate_orders(300, seed=11)

CODES = {
    "client": list(CAT.clients), "channel": list(CAT.channels), "country": ["US", "CA", "GB"],
    "region": ["CA", "NY", "TX", "ON", "HI", "WA"], "sku": list(CAT.skus), "category": CAT.categories,
    "warehouse": list(CAT.warehouses),
}


def value_for(spec, op):
    kind = spec.kind
    if kind == "weight":
        one = st.builds(lambda v, u: {"value": v, "unit": u}, st.integers(0, 120), st.sampled_from(["lb", "kg", "oz"]))
    elif kind == "money":
        one = st.builds(lambda a: {"amount": a, "currency": "USD"}, st.integers(0, 3000))
    elif kind == "integer":
        lo, hi = int(spec.minimum or 0), int(spec.maximum or 40)
        one = st.integers(lo, hi)
    elif kind == "bool":
        one = st.booleans()
    elif kind == "datetime":
        one = st.sampled_from(["2026-11-05", "2026-11-20T12:00:00Z", "2026-12-10"])
    elif kind == "enum":
        one = st.sampled_from(list(spec.values))
    elif kind == "tags":
        one = st.sampled_from(["vip", "gift", "wholesale", "x"])
    elif spec.name == "dest.postal_code":
        one = st.sampled_from(["9", "10", "902", "M5V", "33"])
    elif spec.name == "dest.city":
        one = st.sampled_from(["Los Angeles", "toronto", "Miami"])
    else:
        one = st.sampled_from(CODES[spec.ref])
    if op == "between":
        return st.tuples(one, one).map(list)
    if op in ("in", "not_in", "contains_any", "contains_all"):
        return st.lists(one, min_size=1, max_size=3)
    return one


def predicate(scope):
    specs = [f for f in FIELDS.values() if f.scope == scope and (scope == "line" or f.since == "hold")]
    return st.sampled_from(specs).flatmap(
        lambda spec: st.sampled_from(spec.operators).flatmap(
            lambda op: value_for(spec, op).map(lambda v: {"field": spec.name, "op": op, "value": v})))


line_cond = predicate("line")
conditions = st.recursive(
    predicate("order") | line_cond.map(lambda p: {"any_line": p}) | line_cond.map(lambda p: {"all_lines": p}),
    lambda inner: st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs})
    | st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs})
    | inner.map(lambda x: {"not": x}),
    max_leaves=5,
)
services = list(CAT.services)
actions = st.one_of(
    st.builds(lambda r: [{"action": "hold", "reason": r}], st.sampled_from(["fraud", "check"])),
    st.just([{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]),
    st.builds(lambda w: [{"action": "ship_from", "warehouse": w}], st.sampled_from(CODES["warehouse"])),
    st.builds(lambda ws, fb: [{"action": "prefer_warehouses", "warehouses": ws, "fallback": fb}],
              st.lists(st.sampled_from(CODES["warehouse"]), min_size=1, max_size=3), st.sampled_from(["default", "hold"])),
    st.builds(lambda ws: [{"action": "exclude_warehouses", "warehouses": ws}], st.lists(st.sampled_from(CODES["warehouse"]), min_size=1, max_size=2)),
    st.builds(lambda s: [{"action": "use_service", "service": s}], st.sampled_from(services)),
    st.builds(lambda ss, obj, days: [{"action": "rate_shop", "services": ss, "objective": obj, "max_transit_days": days}],
              st.lists(st.sampled_from(services), min_size=1, max_size=3), st.sampled_from(["cheapest", "fastest"]),
              st.one_of(st.none(), st.integers(1, 5))),
    st.builds(lambda cs: [{"action": "exclude_services", "carriers": cs}], st.lists(st.sampled_from(list(CAT.carriers)), min_size=1, max_size=2)),
    st.builds(lambda t: [{"action": "add_tag", "tag": t}], st.sampled_from(["bulk", "vip2"])),
    st.just([{"action": "require_signature"}]),
    st.just([{"action": "insure"}]),
)


@st.composite
def rules(draw):
    n = draw(st.integers(1, 6))
    out = []
    for i in range(n):
        raw = {"id": f"r{i}", "priority": draw(st.integers(0, 3)) * 50,
               "clients": draw(st.lists(st.sampled_from(CODES["client"]), max_size=2, unique=True)),
               "then": draw(actions)}
        if draw(st.booleans()):
            raw["when"] = draw(conditions)
        if draw(st.integers(0, 5)) == 0:
            raw["effective"] = {"from": "2026-11-15T00:00:00Z"}
        out.append(Rule.model_validate(raw))
    return out


def comparable(d) -> dict:
    j = d.to_json()
    j.pop("trace")
    return j


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(), st.lists(st.sampled_from(ORDERS), min_size=1, max_size=8))
def test_fast_and_traced_paths_agree_and_never_raise(rule_list, orders):
    crs = compile_rules(rule_list)
    for order in orders:
        fast = decide(order, crs, CAT)
        traced = decide(order, crs, CAT, trace=True)
        assert comparable(fast) == comparable(traced)
        in_scope = {r.id for r in rule_list if r.enabled and (not r.clients or order.client in r.clients)}
        assert {t.rule for t in traced.trace} <= in_scope
        assert set(fast.applied_rules) <= in_scope


@settings(max_examples=100, deadline=None)
@given(st.builds(
    lambda client, country, postal, po, lines, level: {
        "id": "X", "client": client, "service_level": level,
        "ship_to": {"country": country, "postal_code": postal, "po_box": po}, "lines": lines},
    st.sampled_from(CODES["client"] + ["UNKNOWN"]), st.sampled_from(["US", "CA", "GB", "ZZ"]),
    st.one_of(st.none(), st.text(max_size=6)), st.booleans(),
    st.lists(st.builds(lambda s, q: {"sku": s, "qty": q}, st.sampled_from(CODES["sku"] + ["NOPE"]), st.integers(1, 500)), max_size=4),
    st.sampled_from(list(SERVICE_LEVELS))))
def test_decide_never_raises_on_odd_orders(raw):
    order = Order.model_validate(raw)
    d = decide(order, [], CAT, trace=True)
    assert d.order_id == "X"
    assert d.held == bool(d.holds or d.exceptions)


def test_weekday_enum_is_what_facts_produce():
    assert set(WEEKDAYS) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
