"""Behavioural equivalence of rule sets: do two rule sets decide orders the same way?

Drafted rules are judged by what they do, not by their JSON: ``same_behaviour`` decides a
battery of orders with both rule sets and compares the outcomes that matter to operations
(holds and their reasons, substitutions, warehouse and service, who chose them, tags,
signature, insurance, exception codes), ignoring rule ids.

``boundary_orders`` builds the battery from the rules themselves: every threshold, just
above and just below it, every listed value, missing facts, the effective window's edges,
each on a few varied base orders, plus seeded random combinations of those values so that
conjunctions get exercised, plus a fixed set of varied sample orders.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from rules_core.catalog import Catalog
from rules_core.engine import compile_rules, decide
from rules_core.errors import RuleSetError
from rules_core.models import AllLines, AllOf, AnyLine, AnyOf, Decision, NotOf, Order, Predicate, Rule
from rules_core.quantities import Money, Quantity
from rules_core.registry import WEEKDAYS

AS_OF = datetime(2026, 11, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday; orders without created_at
RANDOM_ORDERS = 120

# Postal codes spread over the zone charts, with their regions.
US_PLACES = [("NY", "10001"), ("NJ", "07030"), ("MA", "02101"), ("GA", "30301"), ("FL", "33101"),
             ("IL", "60601"), ("TX", "75001"), ("CO", "80202"), ("AZ", "85001"), ("CA", "90210"),
             ("WA", "98101"), ("OR", "97201"), ("HI", "96813"), ("AK", "99501"), ("MT", "59601")]
CA_PLACES = [("ON", "M5V 2T6"), ("BC", "V6B 1A1"), ("QC", "H2X 1Y4"), ("AB", "T2P 1J9")]


def _order(oid: str, client: str, country: str, region: str | None, postal: str | None,
           lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    ship_to = {"country": country, "region": region, "postal_code": postal,
               "residential": extra.pop("residential", False), "po_box": extra.pop("po_box", False)}
    if "city" in extra:
        ship_to["city"] = extra.pop("city")
    return {"id": oid, "client": client, "ship_to": ship_to,
            "lines": [{"sku": s, "qty": q} for s, q in lines], **extra}


def sample_orders() -> list[dict[str, Any]]:
    """A fixed set of varied orders over the demo catalog's clients, places and SKUs."""
    return [
        _order("S-ACME-1", "ACME", "US", "CA", "90210", [("ACME-TSHIRT", 2)], channel="shopify",
               residential=True, created_at="2026-11-02T10:00:00Z", city="Beverly Hills"),
        _order("S-ACME-2", "ACME", "US", "NY", "10001", [("ACME-HOODIE", 3), ("ACME-MUG-RED", 1)],
               channel="amazon", service_level="expedited", tags=["vip"], created_at="2026-11-07T18:30:00Z"),
        _order("S-ACME-3", "ACME", "US", "HI", "96813", [("ACME-MUG-BLUE", 2)], channel="shopify",
               created_at="2026-12-05T09:00:00Z"),
        _order("S-ACME-4", "ACME", "US", "AK", "99501", [("ACME-SOCKS", 12)], po_box=True,
               channel="walmart", created_at="2026-12-14T23:00:00Z"),
        _order("S-ACME-5", "ACME", "US", "TX", "75001", [("ACME-TSHIRT", 30), ("ACME-HOODIE", 10)],
               channel="b2b", service_level="overnight", created_at="2027-01-03T12:00:00Z"),
        _order("S-GLOBEX-1", "GLOBEX", "US", "TX", "75001", [("GLOBEX-TV-55", 1)], channel="amazon",
               residential=True, created_at="2026-11-03T14:00:00Z"),
        _order("S-GLOBEX-2", "GLOBEX", "US", "NJ", "07030", [("GLOBEX-BATTERY", 2), ("GLOBEX-CABLE", 1)],
               channel="shopify", created_at="2026-11-06T08:00:00Z"),
        _order("S-GLOBEX-3", "GLOBEX", "CA", "ON", "M5V 2T6", [("GLOBEX-CABLE", 3)], channel="amazon",
               currency="CAD", created_at="2026-11-08T11:00:00Z", city="Toronto"),
        _order("S-GLOBEX-4", "GLOBEX", "CA", "BC", "V6B 1A1", [("GLOBEX-SOUNDBAR", 1), ("GLOBEX-BATTERY", 1)],
               channel="walmart", created_at="2026-12-01T00:00:00Z"),
        _order("S-GLOBEX-5", "GLOBEX", "US", "WA", "98101", [("GLOBEX-SOUNDBAR", 2)], channel="edi",
               po_box=True, service_level="expedited", created_at="2026-11-10T16:00:00Z"),
        _order("S-GLOBEX-6", "GLOBEX", "US", "CA", "90210", [("GLOBEX-TV-55", 2), ("GLOBEX-CABLE", 4)],
               channel="amazon", value={"amount": 2400, "currency": "USD"}, tags=["fragile"]),
        _order("S-INITECH-1", "INITECH", "US", "IL", "60601", [("INITECH-PAPER-CASE", 2)], channel="b2b",
               created_at="2026-11-09T07:00:00Z"),
        _order("S-INITECH-2", "INITECH", "US", "FL", "33101", [("INITECH-STAPLER", 1)], channel="edi",
               po_box=True, residential=True, created_at="2026-11-05T20:00:00Z"),
        _order("S-INITECH-3", "INITECH", "US", "AZ", "85001", [("INITECH-TONER", 4), ("INITECH-STAPLER", 2)],
               channel="walmart", service_level="overnight", tags=["vip", "rush"],
               created_at="2026-11-12T13:00:00Z"),
        _order("S-INITECH-4", "INITECH", "US", "MA", "02101", [("INITECH-PAPER-CASE", 1), ("INITECH-TONER", 1)],
               channel="shopify", created_at="2026-12-20T10:00:00Z"),
    ]


# --- walking rules ------------------------------------------------------------------------------


def predicates(node: Any) -> Iterable[Predicate]:
    if node is None:
        return
    if isinstance(node, Predicate):
        yield node
    elif isinstance(node, (AllOf, AnyOf)):
        for child in node.all if isinstance(node, AllOf) else node.any:
            yield from predicates(child)
    elif isinstance(node, NotOf):
        yield from predicates(node.not_)
    elif isinstance(node, AnyLine):
        yield from predicates(node.any_line)
    elif isinstance(node, AllLines):
        yield from predicates(node.all_lines)


# --- candidate values per field -------------------------------------------------------------------


def _raw(v: Any) -> Any:
    return v.model_dump() if isinstance(v, (Quantity, Money)) else v


def _numbers_around(x: float, step: float) -> list[float]:
    return [round(x - step, 4), x, round(x + step, 4)]


def _scalars(p: Predicate) -> list[Any]:
    vals = p.value if isinstance(p.value, list) else [p.value]
    return [_raw(v) for v in vals]


def candidate_values(p: Predicate, catalog: Catalog) -> list[Any]:
    """Values of ``p.field`` around and at the predicate's value, and None (missing)."""
    out: list[Any] = [None]
    for v in _scalars(p):
        if isinstance(v, dict) and "unit" in v:
            step = 0.1 if v["unit"] in ("lb", "kg") else 1.0
            out += [{"value": max(0.0, x), "unit": v["unit"]} for x in _numbers_around(float(v["value"]), step)]
        elif isinstance(v, dict) and "amount" in v:
            out += [{"amount": max(0.0, x), "currency": v["currency"]}
                    for x in _numbers_around(float(v["amount"]), 0.01)]
            out.append({"amount": float(v["amount"]) + 1, "currency": "CAD" if v["currency"] == "USD" else "USD"})
        elif isinstance(v, bool):
            out += [True, False]
        elif isinstance(v, (int, float)):
            out += [max(0, int(x)) for x in _numbers_around(v, 1)]
        elif isinstance(v, str):
            out += [v, v.lower(), v + "0"] if p.op == "starts_with" else [v, v.lower()]
    return out


def _date_with_weekday(day: str, hour: int = 12) -> str:
    base = datetime(2026, 11, 2, hour, tzinfo=timezone.utc)  # a Monday
    return (base + timedelta(days=WEEKDAYS.index(day))).isoformat().replace("+00:00", "Z")


def _sku_of_category(catalog: Catalog, category: str) -> str | None:
    return next((s.code for s in catalog.skus.values() if s.category == category), None)


def _place(order: dict[str, Any], country: str, region: str | None) -> None:
    """Put the order in ``country``/``region`` with a postal code that can be zoned there (the
    country's first place when the region is not one of its own), so the order still routes;
    a missing postal code is a separate variant (``dest.postal_code`` missing)."""
    table = US_PLACES if country == "US" else CA_PLACES if country == "CA" else []
    places = dict(table)
    postal = places.get(region, table[0][1] if table else None) if region else None
    order["ship_to"].update({"country": country, "region": region, "postal_code": postal})


def apply_fact(order: dict[str, Any], field: str, value: Any, catalog: Catalog) -> None:
    """Change a raw order so that ``field`` takes ``value`` (None: make it missing where possible)."""
    dest, lines = order["ship_to"], order["lines"]
    if field == "client" and isinstance(value, str):
        order["client"] = value.upper()
    elif field == "channel":
        order["channel"] = value
    elif field == "order.value" and isinstance(value, dict):
        order["value"] = value
        order["currency"] = value["currency"]
    elif field in ("order.weight", "shipment.weight", "shipment.billable_weight", "shipment.dim_weight"):
        if isinstance(value, dict):
            order["weight"] = value
    elif field == "order.line_count" and isinstance(value, int):
        order["lines"] = [dict(lines[0] if lines else {"sku": "ACME-TSHIRT", "qty": 1})] * value
    elif field == "order.unit_count" and isinstance(value, int) and value > 0:
        order["lines"] = [{"sku": lines[0]["sku"] if lines else "ACME-TSHIRT", "qty": value}]
    elif field == "order.tags":
        order["tags"] = [value] if isinstance(value, str) else []
    elif field == "order.service_level" and isinstance(value, str) and value in ("standard", "expedited", "overnight"):
        order["service_level"] = value
    elif field == "order.created_at":
        order["created_at"] = value if isinstance(value, str) else None
    elif field == "order.weekday" and isinstance(value, str) and value in WEEKDAYS:
        order["created_at"] = _date_with_weekday(value)
    elif field == "order.hour" and isinstance(value, int) and 0 <= value <= 23:
        order["created_at"] = f"2026-11-04T{value:02d}:30:00Z"
    elif field in ("order.hazmat", "line.hazmat"):
        order["lines"] = [ln for ln in lines if not catalog.skus.get(ln["sku"]) or not catalog.skus[ln["sku"]].hazmat]
        if value is True or not order["lines"]:
            order["lines"].append({"sku": "GLOBEX-BATTERY", "qty": 1})
    elif field == "dest.country" and isinstance(value, str):
        _place(order, value.upper(), {"US": "NY", "CA": "ON"}.get(value.upper()))
    elif field == "dest.region":
        country = "CA" if isinstance(value, str) and value.upper() in dict(CA_PLACES) else dest["country"]
        _place(order, country if value else dest["country"], value.upper() if isinstance(value, str) else None)
    elif field == "dest.city":
        dest["city"] = value
    elif field == "dest.postal_code":
        dest["postal_code"] = value
    elif field in ("dest.residential", "dest.po_box") and isinstance(value, bool):
        dest[field.split(".")[1]] = value
    elif field == "line.sku" and isinstance(value, str):
        order["lines"] = [{"sku": value.upper(), "qty": 1}] + [dict(ln) for ln in lines[:1]]
    elif field == "line.qty" and isinstance(value, int) and value > 0:
        order["lines"] = [{**ln, "qty": value} for ln in lines]
    elif field == "line.category" and isinstance(value, str):
        sku = _sku_of_category(catalog, value.lower())
        if sku:
            order["lines"] = [{"sku": sku, "qty": 1}] + [dict(ln) for ln in lines[:1]]
    elif field == "shipment.zone" and isinstance(value, int):
        region, postal = US_PLACES[value % len(US_PLACES)]
        _place(order, "US", region)


def _copy(order: dict[str, Any], oid: str) -> dict[str, Any]:
    import copy
    out = copy.deepcopy(order)
    out["id"] = oid
    return out


def _effective_edges(rule: Rule) -> list[str]:
    out = []
    eff = rule.effective
    for edge in (eff.from_, eff.until) if eff else ():
        if edge is not None:
            e = edge if edge.tzinfo else edge.replace(tzinfo=timezone.utc)
            for delta in (timedelta(seconds=-1), timedelta(0), timedelta(hours=1), timedelta(days=-3), timedelta(days=3)):
                out.append((e + delta).astimezone(timezone.utc).isoformat().replace("+00:00", "Z"))
    return out


def boundary_orders(rules: Iterable[Rule], catalog: Catalog, *, seed: int = 7,
                    random_count: int = RANDOM_ORDERS) -> list[Order]:
    """The order battery for ``rules``: samples, one-factor boundary variants, random combinations."""
    rules = list(rules)
    bases = sample_orders()
    axes: dict[str, list[Any]] = {}
    for rule in rules:
        for p in predicates(rule.when):
            axes.setdefault(p.field, [])
            axes[p.field] += [v for v in candidate_values(p, catalog) if v not in axes[p.field]]
        for client in rule.clients:
            axes.setdefault("client", [])
            if client not in axes["client"]:
                axes["client"].append(client)
        edges = _effective_edges(rule)
        if edges:
            axes.setdefault("order.created_at", [])
            axes["order.created_at"] += [e for e in edges if e not in axes["order.created_at"]]
        for action in rule.then:
            if action.action == "substitute":
                axes.setdefault("line.sku", [])
                axes["line.sku"] += [s for s in [action.sku, *action.with_] if s not in axes["line.sku"]]
    raw: list[dict[str, Any]] = list(bases)
    pivots = [bases[0], bases[5], bases[7], bases[11]]
    n = 0
    for field, values in axes.items():
        for value in values:
            for base in pivots:
                n += 1
                order = _copy(base, f"B-{n}")
                apply_fact(order, field, value, catalog)
                raw.append(order)
    rng = random.Random(seed)
    fields = sorted(axes)
    for i in range(random_count if fields else 0):
        order = _copy(rng.choice(bases), f"R-{i}")
        for field in fields:
            if rng.random() < 0.8:
                apply_fact(order, field, rng.choice(axes[field]), catalog)
        raw.append(order)
    return [Order.model_validate(o) for o in raw]


# --- comparing decisions --------------------------------------------------------------------------


def _who(by: str) -> str:
    return "rule" if by.startswith("rule:") else by


def outcome(d: Decision) -> dict[str, Any]:
    """The parts of a decision that operations see, without rule ids."""
    return {
        "held": d.held,
        "holds": sorted((h.reason, h.queue or "") for h in d.holds),
        "substitutions": sorted((s.line, s.from_, s.to) for s in d.substitutions),
        "shipments": [(s.warehouse, s.carrier, s.service, _who(s.routed_by), _who(s.decided_by))
                      for s in d.shipments],
        "tags": sorted(d.tags),
        "signature_required": d.signature_required,
        "insured": d.insured,
        "exceptions": sorted((e.stage, e.code) for e in d.exceptions),
    }


def same_behaviour(rules_a: Iterable[Rule], rules_b: Iterable[Rule], catalog: Catalog,
                   orders: list[Order] | None = None, *,
                   as_of: datetime = AS_OF) -> tuple[bool, dict[str, Any] | None]:
    """Whether both rule sets decide every order of the battery alike; else a counterexample."""
    a, b = list(rules_a), list(rules_b)
    try:
        ca, cb = compile_rules(a), compile_rules(b)
    except RuleSetError as exc:
        return False, {"error": str(exc)}
    battery = orders if orders is not None else boundary_orders(a + b, catalog)
    for order in battery:
        oa = outcome(decide(order, ca, catalog, as_of=as_of))
        ob = outcome(decide(order, cb, catalog, as_of=as_of))
        if oa != ob:
            diff = {k: {"a": oa[k], "b": ob[k]} for k in oa if oa[k] != ob[k]}
            return False, {"order": order.model_dump(mode="json", exclude_none=True), "differences": diff}
    return True, None
