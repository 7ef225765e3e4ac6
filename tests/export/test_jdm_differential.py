"""The exported JDM graph, run by zen-engine, reaches rulewright's rule-level outcomes.

Differential: the same orders go through rulewright's compiled stages and through the graph;
every outcome (holds, substitutions, deciding routing and carrier rule with its instruction,
exclusions, tags, signature, insurance) must agree. Orders: the seeded sample generator, local
variations that reach the corners the samples do not (missing facts, given weights and values
in other units and currencies, unknown and out-of-stock SKUs, odd text), and boundary orders
built from every threshold of the rule set (at, just above, just below, missing).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules_core.catalog import Catalog
from rules_core.engine import compile_rules, decide
from rules_core.export.jdm import (
    export_jdm,
    facts_to_jdm,
    jdm_evaluator,
    jdm_facts,
    rulewright_outcomes,
    zen_outcomes,
    zen_string,
)
from rules_core.facts import order_facts
from rules_core.models import Order, OrderLine, Rule, RuleSet
from rules_core.quantities import Money, Quantity
from rules_core.registry import FIELDS, OPS_BY_KIND, SERVICE_LEVELS, WEEKDAYS

RULES_FILE = Path(__file__).parent / "fixtures" / "jdm_rules.json"
ORIGINS = [None, "EWR", "LAX", "DFW", "TOR"]
AS_OF = datetime(2026, 11, 16, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return RuleSet.model_validate(json.loads(RULES_FILE.read_text()))


@pytest.fixture(scope="module")
def compiled(ruleset):
    return compile_rules(ruleset)


@pytest.fixture(scope="module")
def evaluate(ruleset, catalog):
    return jdm_evaluator(export_jdm(ruleset, catalog))


def compare(order: Order, origin: str | None, crs, evaluate, catalog: Catalog) -> tuple[dict, dict]:
    facts = order_facts(order, catalog, None)  # no as-of: a missing created_at stays missing
    facts_json = facts_to_jdm(facts, order, catalog, origin=origin)
    ours = rulewright_outcomes(order, crs, catalog, facts=facts, origin=origin)
    theirs = zen_outcomes(evaluate(facts_json), facts_json)
    return ours, theirs


def mismatches(orders: list[tuple[Order, str | None]], crs, evaluate, catalog) -> list[dict[str, Any]]:
    bad = []
    for order, origin in orders:
        ours, theirs = compare(order, origin, crs, evaluate, catalog)
        if ours != theirs:
            diff = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
            bad.append({"order": order.model_dump(mode="json"), "origin": origin, "diff": diff})
    return bad


# --- orders ------------------------------------------------------------------------------------

TEXTS = ["San Jose", "SAN ANTONIO", "san juan", "Los Angeles", "LONDON", "Berlin", "Zürich", "São Paulo",
         "Straße", "saN diego", ""]


def sample_orders(n: int, seed: int, catalog: Catalog) -> list[Order]:
    try:
        from rules_core.samples import generate_orders
    except ImportError:  # the shared generator is optional for this test
        return local_orders(n, seed, catalog)
    return generate_orders(n=n, seed=seed, catalog=catalog)


def local_orders(n: int, seed: int, catalog: Catalog) -> list[Order]:
    rng = random.Random(seed)
    skus = list(catalog.skus)
    start = datetime(2026, 11, 2, tzinfo=timezone.utc)
    return [Order(id=f"L-{i}", client=rng.choice(list(catalog.clients)),
                  created_at=start + timedelta(minutes=rng.randint(0, 60 * 24 * 42)),
                  ship_to={"country": "US", "region": "CA", "postal_code": "90210"},
                  lines=[OrderLine(sku=rng.choice(skus), qty=rng.randint(1, 5))]) for i in range(n)]


def variant(order: Order, rng: random.Random, catalog: Catalog) -> Order:
    """The order with a few random changes that reach what the samples rarely do."""
    o = order.model_copy(deep=True)
    o.id = order.id + "-v"
    roll = lambda p: rng.random() < p  # noqa: E731
    if roll(0.15):
        o.channel = rng.choice([None, "fax"])
    if roll(0.1):
        o.created_at = None
    if roll(0.15):
        o.ship_to.region = None
    if roll(0.3):
        o.ship_to.city = rng.choice(TEXTS + [None])
    if roll(0.15):
        o.ship_to.postal_code = rng.choice([None, "m5v 1a1", "10001", "0", "021-55"])
    if roll(0.2):
        o.weight = Quantity(value=rng.choice([0.4, 2.2, 3, 6.6138678655500005, 12, 20, 40 / 16, 1360.777]),
                            unit=rng.choice(["lb", "kg", "oz", "g"]))
    if roll(0.2):
        o.value = Money(amount=rng.choice([38, 49.5, 100, 199.99, 200, 250, 400.5, 500.01]),
                        currency=rng.choice(["USD", "CAD", "EUR"]))
    if roll(0.15):
        o.lines.append(OrderLine(sku="MYSTERY-1", qty=rng.randint(1, 3)))
    if roll(0.25):
        sku = rng.choice(["ACME-MUG-BLUE", "ACME-MUG-RED", "GLOBEX-TV-55", "GLOBEX-BATTERY"])
        o.lines.append(OrderLine(sku=sku, qty=rng.choice([1, 2, 3, 100, 481, 500])))
    if roll(0.05):
        o.lines = []
    if roll(0.3):
        o.tags = rng.sample(["vip", "gift", "first-order", "wholesale", "VIP"], rng.randint(0, 3))
    if roll(0.2):
        o.service_level = rng.choice(SERVICE_LEVELS)
    if roll(0.1):
        o.ship_to.po_box = True
    if roll(0.05):
        o.ship_to.country = rng.choice(["GB", "DE", "CA", "MX"])
    return o


def _predicates(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "field" in node:
            yield node
        for key in ("all", "any"):
            for child in node.get(key, ()):
                yield from _predicates(child)
        for key in ("not", "any_line", "all_lines"):
            if key in node:
                yield from _predicates(node[key])


def _around(x: float, steps: tuple[float, ...]) -> list[float]:
    return [x] + [x + s for s in steps] + [x - s for s in steps]


def boundary_orders(rules: list[dict[str, Any]], bases: list[Order]) -> list[Order]:
    """Orders at, just above and just below every threshold of ``rules``, and with the fact missing,
    each made from every base order (one per client)."""
    out: list[Order] = []
    for pred in (p for r in rules for p in _predicates(r.get("when"))):
        for base, change in ((b, c) for b in bases for c in _changes(pred)):
            o = base.model_copy(deep=True)
            o.id = f"{base.id}-b{len(out)}"
            change(o)
            out.append(o)
    return out


def _changes(pred: dict[str, Any]) -> list[Any]:
    field, raw = pred["field"], pred["value"]
    values = raw if isinstance(raw, list) else [raw]
    changes: list[Any] = []
    for v in values:
        changes += _changes_for(field, v)
    return changes


def _set(obj_path: str, value: Any):
    def change(o: Order) -> None:
        target: Any = o
        *head, last = obj_path.split(".")
        for part in head:
            target = getattr(target, part)
        setattr(target, last, value)
    return change


def _changes_for(field: str, v: Any) -> list[Any]:
    kind = FIELDS[field].kind
    if kind == "weight":
        return [_set("weight", Quantity(value=x, unit=v["unit"])) for x in _around(v["value"], (1e-6, 0.01))] + [
            _set("weight", Quantity(value=v["value"] * k, unit="lb")) for k in (1, 2.20462262185)] + [
            _add_line("MYSTERY-2", 1)]
    if kind == "money":
        return [_set("value", Money(amount=x, currency=v["currency"])) for x in _around(v["amount"], (0.01,))] + [
            _set("value", Money(amount=v["amount"], currency="EUR")), _add_line("MYSTERY-3", 1)]
    if kind == "datetime":
        t = datetime.fromisoformat(v.replace("Z", "+00:00")) if len(v) > 10 else datetime.fromisoformat(v + "T00:00:00+00:00")
        steps = (timedelta(microseconds=1), timedelta(seconds=1))
        return [_set("created_at", x) for x in [t, *(t + s for s in steps), *(t - s for s in steps)]] + [
            _set("created_at", None)]
    if field == "order.hour":
        return [_set("created_at", datetime(2026, 11, 9, h % 24, 30, tzinfo=timezone.utc)) for h in (v - 1, v, v + 1)]
    if field == "order.weekday":
        day = WEEKDAYS.index(v)
        return [_set("created_at", datetime(2026, 11, 9 + d, 12, tzinfo=timezone.utc)) for d in (day - 1, day, (day + 1) % 7)]
    if field == "order.line_count":
        return [_lines(n, 1) for n in (v - 1, v, v + 1) if n >= 0]
    if field in ("order.unit_count", "line.qty"):
        return [_lines(1, q) for q in (v - 1, v, v + 1) if q >= 1]
    if kind == "tags":
        return [_set("tags", [v]), _set("tags", [v.upper()]), _set("tags", [])]
    if field.startswith("dest.") and kind in ("code", "string"):
        attr = "ship_to." + field[5:]
        texts = [v, v.upper(), v.lower(), v + "x", None] if attr != "ship_to.country" else [v, "ZZ"]
        return [_set(attr, t) for t in texts]
    if field.startswith("dest.") and kind == "bool":
        return [_set("ship_to." + field[5:], b) for b in (True, False)]
    if field == "channel":
        return [_set("channel", c) for c in (v, v.upper(), None)]
    if field == "client":
        return [_set("client", c) for c in (v, "NOBODY")]
    if field == "order.service_level":
        return [_set("service_level", s) for s in SERVICE_LEVELS]
    if field in ("line.sku", "line.category", "line.hazmat"):
        return [_add_line(s, 1) for s in ("GLOBEX-BATTERY", "ACME-MUG-RED", "GLOBEX-TV-55", "MYSTERY-4")]
    return []  # shipment.* and order.hazmat: reached through origins, weights and lines above


def _add_line(sku: str, qty: int):
    def change(o: Order) -> None:
        o.lines.append(OrderLine(sku=sku, qty=qty))
    return change


def _lines(n: int, qty: int):
    def change(o: Order) -> None:
        o.lines = [OrderLine(sku="ACME-TSHIRT", qty=qty) for _ in range(n)]
    return change


# --- tests ------------------------------------------------------------------------------------------


def test_samples_and_variants_agree(ruleset, compiled, evaluate, catalog):
    rng = random.Random(11)
    orders = sample_orders(10_000, 7, catalog)
    orders += [variant(o, rng, catalog) for o in orders[:3_000]]
    runs = [(o, ORIGINS[i % len(ORIGINS)]) for i, o in enumerate(orders)]
    bad = mismatches(runs, compiled, evaluate, catalog)
    assert len(runs) >= 13_000
    assert not bad, json.dumps(bad[:3], indent=1, default=str)


def test_boundary_orders_agree(ruleset, compiled, evaluate, catalog):
    raw = json.loads(RULES_FILE.read_text())["rules"]
    samples = sample_orders(300, 3, catalog)
    bases = [next(o for o in samples if o.client == c) for c in ("ACME", "GLOBEX", "INITECH")]
    orders = boundary_orders(raw, bases)
    runs = [(o, origin) for o in orders for origin in ORIGINS]
    bad = mismatches(runs, compiled, evaluate, catalog)
    assert len(orders) > 1_000
    assert not bad, json.dumps(bad[:3], indent=1, default=str)


def test_outcomes_match_the_engine_decision(compiled, catalog):
    """rulewright_outcomes reads the same outcomes as decide() reports (holds, substitutions,
    tags, who routed and who chose the service), with routing's origin as the carrier origin."""
    for order in sample_orders(1_500, 5, catalog):
        d = decide(order, compiled, catalog, as_of=AS_OF)
        shipment = d.shipments[0]
        out = rulewright_outcomes(order, compiled, catalog, as_of=AS_OF, origin=shipment.warehouse)
        assert out["holds"] == [h.model_dump() for h in d.holds]
        assert [s for s in out["substitutions"] if s["to"]] == [s.model_dump(by_alias=True) for s in d.substitutions]
        assert d.tags == list(dict.fromkeys(order.tags)) + out["tags"]
        assert (d.signature_required, d.insured) == (out["signature_required"], out["insured"])
        if shipment.routed_by.startswith("rule:"):
            assert out["routing"]["rule"] == shipment.routed_by[5:]
        if shipment.warehouse:
            expected = out["carrier"]["rule"] if out["carrier"] else None
            assert shipment.decided_by == (f"rule:{expected}" if expected else "default")


def test_facts_are_json_and_carry_the_origin(catalog):
    order = Order.model_validate({
        "id": "SO-1", "client": "ACME", "ship_to": {"country": "US", "region": "CA", "postal_code": "90210",
                                                     "city": "Beverly Hills"},
        "lines": [{"sku": "ACME-MUG-BLUE", "qty": 2}], "tags": ["vip", "gift"]})
    facts = jdm_facts(order, catalog, as_of=AS_OF, origin="LAX")
    assert json.loads(json.dumps(facts)) == facts
    assert facts["shipment"] == {"origin": "LAX"}
    assert facts["order"]["created_at"] == "2026-11-16T09:30:00Z"
    assert facts["order"]["tags"] == ["gift", "vip"]
    assert facts["dest"]["city"] == "beverly hills"
    assert facts["lines"][0]["out_of_stock"] is True
    assert set(facts["zones"]) == set(catalog.warehouses)
    assert facts["zones"]["TOR"] is None


def test_graph_is_json_with_first_and_collect_tables(ruleset, catalog):
    graph = export_jdm(ruleset, catalog)
    assert json.loads(json.dumps(graph)) == graph
    policies = {n["name"]: n["content"]["hitPolicy"] for n in graph["nodes"] if n["type"] == "decisionTableNode"}
    assert policies == {"hold": "collect", "substitution": "first", "routing": "first",
                        "routing_exclusions": "collect", "carrier": "first", "carrier_exclusions": "collect",
                        "finishing": "collect"}
    rows = [r["_id"] for n in graph["nodes"] if n["type"] == "decisionTableNode" for r in n["content"]["rules"]]
    assert not any(r.startswith("hold-disabled") for r in rows)


@pytest.mark.parametrize("text", ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "${x}", "", "'"])
def test_strings_survive_zen(text):
    import zen

    assert zen.evaluate_expression(zen_string(text), {}) == text


def test_graph_without_origin_skips_the_carrier_stage(ruleset, compiled, evaluate, catalog):
    order = sample_orders(1, 1, catalog)[0]
    ours, theirs = compare(order, None, compiled, evaluate, catalog)
    assert theirs["carrier"] is None and theirs["excluded_services"] == [] and ours == theirs


# --- random rule sets ---------------------------------------------------------------------------

POOL: dict[str, list[Any]] = {
    "client": ["ACME", "GLOBEX", "INITECH"], "channel": ["shopify", "amazon", "edi", "b2b"],
    "order.line_count": [0, 1, 2, 3], "order.unit_count": [1, 2, 5, 10], "order.hour": [0, 9, 12, 17, 23],
    "order.tags": ["vip", "gift", "wholesale"], "order.service_level": list(SERVICE_LEVELS),
    "order.weekday": list(WEEKDAYS), "order.hazmat": [True, False],
    "dest.country": ["US", "CA", "GB"], "dest.region": ["CA", "NY", "TX", "ON"],
    "dest.city": ["los angeles", "NEW YORK", "San", "toronto"], "dest.postal_code": ["9", "10", "M5", "606"],
    "dest.residential": [True, False], "dest.po_box": [True, False],
    "line.sku": ["ACME-TSHIRT", "ACME-MUG-RED", "GLOBEX-BATTERY", "GLOBEX-TV-55", "INITECH-STAPLER"],
    "line.qty": [1, 2, 3], "line.category": ["apparel", "electronics", "office", "batteries"],
    "line.hazmat": [True, False], "shipment.origin": ["EWR", "LAX", "DFW", "TOR"], "shipment.zone": [1, 2, 4, 5, 8],
}
WEIGHTS = [{"value": v, "unit": u} for v, u in [(1, "lb"), (2.2, "lb"), (5, "kg"), (24, "oz"), (20, "lb"), (1000, "g")]]
MONEY = [{"amount": a, "currency": c} for a, c in [(20, "USD"), (49, "USD"), (100, "USD"), (300, "USD"), (50, "CAD")]]
DATES = ["2026-11-03T00:00:00Z", "2026-11-10T12:00:00Z", "2026-11-20", "2026-12-01T00:00:00Z"]


@st.composite
def predicates(draw, line: bool) -> dict[str, Any]:
    names = [f for f, s in FIELDS.items() if (s.scope == "line") == line]
    field = draw(st.sampled_from(names))
    spec = FIELDS[field]
    op = draw(st.sampled_from(spec.operators))
    pool = {"weight": WEIGHTS, "money": MONEY, "datetime": DATES}.get(spec.kind) or POOL[field]
    if op == "between":
        lo, hi = sorted(draw(st.lists(st.sampled_from(range(len(pool))), min_size=2, max_size=2)))
        if spec.kind == "money" and pool[lo]["currency"] != pool[hi]["currency"]:
            hi = lo
        value: Any = [pool[lo], pool[hi]]
    elif op in ("in", "not_in", "contains_any", "contains_all"):
        value = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique_by=repr))
    elif op == "starts_with":
        value = draw(st.sampled_from(pool))
    else:
        value = draw(st.sampled_from(pool))
    return {"field": field, "op": op, "value": value}


def conditions(line: bool = False, depth: int = 2) -> st.SearchStrategy:
    leaf = predicates(line)
    if depth == 0:
        return leaf
    sub = st.deferred(lambda: conditions(line, depth - 1))
    options = [leaf, leaf,
               st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
               st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
               sub.map(lambda x: {"not": x})]
    if not line:
        inner = st.deferred(lambda: conditions(True, depth - 1))
        options += [inner.map(lambda x: {"any_line": x}), inner.map(lambda x: {"all_lines": x})]
    return st.one_of(options)


ACTIONS = {
    "hold": st.just([{"action": "hold", "reason": "random 'hold'", "queue": "q"}]),
    "substitution": st.sampled_from([[{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}],
                                     [{"action": "substitute", "sku": "GLOBEX-TV-55", "with": ["GLOBEX-SOUNDBAR"]}]]),
    "routing": st.sampled_from([[{"action": "ship_from", "warehouse": "LAX"}],
                                [{"action": "prefer_warehouses", "warehouses": ["DFW", "TOR"]},
                                 {"action": "exclude_warehouses", "warehouses": ["EWR"]}],
                                [{"action": "exclude_warehouses", "warehouses": ["TOR"]}]]),
    "carrier": st.sampled_from([[{"action": "use_service", "service": "UPS_GROUND"}],
                                [{"action": "rate_shop", "carriers": ["FEDEX"], "objective": "fastest"}],
                                [{"action": "exclude_services", "services": ["USPS_PRIORITY"], "carriers": ["DHL"]}]]),
    "finishing": st.sampled_from([[{"action": "add_tag", "tag": "t1"}, {"action": "insure"}],
                                  [{"action": "require_signature"}], [{"action": "add_tag", "tag": "vip"}]]),
}


@st.composite
def rule_sets(draw) -> list[Rule]:
    rules = []
    for i in range(draw(st.integers(3, 12))):
        stage = draw(st.sampled_from(list(ACTIONS)))
        raw: dict[str, Any] = {"id": f"r{i}", "priority": draw(st.sampled_from([100, 200, 300])),
                               "clients": draw(st.sampled_from([[], ["ACME"], ["GLOBEX", "INITECH"]])),
                               "enabled": draw(st.booleans() | st.just(True)),
                               "then": draw(ACTIONS[stage])}
        if draw(st.booleans()):
            raw["when"] = draw(conditions())
        if draw(st.integers(0, 4)) == 0:
            raw["effective"] = {"from": "2026-11-10T00:00:00Z", "until": draw(st.sampled_from([None, "2026-11-25T00:00:00Z"]))}
        rules.append(Rule.model_validate(raw))
    return rules


@pytest.fixture(scope="module")
def random_pool(catalog) -> list[tuple[Order, str | None]]:
    rng = random.Random(5)
    orders = sample_orders(150, 9, catalog)
    orders += [variant(o, rng, catalog) for o in orders]
    return [(o, ORIGINS[i % len(ORIGINS)]) for i, o in enumerate(orders)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rules=rule_sets())
def test_random_rule_sets_agree(rules, random_pool, catalog):
    crs = compile_rules(rules)
    evaluate = jdm_evaluator(export_jdm(rules, catalog))
    bad = mismatches(random_pool, crs, evaluate, catalog)
    assert not bad, json.dumps(bad[:2], indent=1, default=str)


def test_every_operator_is_exercised():
    raw = json.loads(RULES_FILE.read_text())["rules"]
    used = {(p["field"], p["op"]) for r in raw for p in _predicates(r.get("when"))}
    ops = {op for _, op in used}
    assert ops == {op for kind_ops in OPS_BY_KIND.values() for op in kind_ops}
    assert {f for f, _ in used} >= set(FIELDS) - {"client"}
