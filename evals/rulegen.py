"""Seeded generator of large, realistic rule sets for benchmarks (not for production use).

A 3PL's rule book is mostly client-scoped: carrier choices by weight, zone and region, holds
by value and channel, routing by region and channel, tags and signature thresholds, a few
substitutions. Every rule here is valid against the demo catalog.
"""

from __future__ import annotations

import random
from typing import Any

from rules_core.catalog import Catalog, demo_catalog
from rules_core.models import Rule

US_REGIONS = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "WA", "AZ", "MA", "CO"]
GROUND = ["UPS_GROUND", "FEDEX_GROUND", "FEDEX_HOME", "USPS_GROUND_ADVANTAGE"]


def _weight(rng: random.Random) -> dict[str, Any]:
    unit = rng.choice(["lb", "lb", "lb", "kg", "oz"])
    value = {"lb": rng.randint(1, 60), "kg": rng.randint(1, 25), "oz": rng.choice([8, 12, 16, 32])}[unit]
    return {"value": value, "unit": unit}


def _money(rng: random.Random) -> dict[str, Any]:
    return {"amount": rng.choice([50, 100, 150, 250, 500, 750, 1000, 2000, 5000]), "currency": "USD"}


def _order_condition(rng: random.Random, channels: list[str]) -> dict[str, Any]:
    kind = rng.randrange(8)
    if kind == 0:
        return {"field": "order.weight", "op": rng.choice(["gt", "gte", "lt", "lte"]), "value": _weight(rng)}
    if kind == 1:
        return {"field": "order.value", "op": rng.choice(["gt", "gte", "lt"]), "value": _money(rng)}
    if kind == 2:
        return {"field": "dest.region", "op": "in", "value": rng.sample(US_REGIONS, rng.randint(1, 4))}
    if kind == 3:
        return {"field": "channel", "op": rng.choice(["eq", "ne"]), "value": rng.choice(channels)}
    if kind == 4:
        return {"field": "order.unit_count", "op": rng.choice(["gt", "gte"]), "value": rng.randint(2, 30)}
    if kind == 5:
        return {"field": "order.service_level", "op": "eq", "value": rng.choice(["standard", "expedited", "overnight"])}
    if kind == 6:
        return {"field": "order.tags", "op": "contains_any", "value": rng.sample(["vip", "gift", "wholesale", "subscription"], 2)}
    return {"field": "dest.residential", "op": "eq", "value": rng.choice([True, False])}


def _carrier_condition(rng: random.Random, channels: list[str]) -> dict[str, Any]:
    if rng.random() < 0.5:
        lo = rng.randint(1, 7)
        return {"field": "shipment.zone", "op": "between", "value": [lo, rng.randint(lo, 8)]}
    return _order_condition(rng, channels)


def _narrow_condition(rng: random.Random, channels: list[str]) -> dict[str, Any]:
    """What makes a real rule specific: a few states, one channel, a tag or a SKU."""
    kind = rng.randrange(4)
    if kind == 0:
        return {"field": "dest.region", "op": "in", "value": rng.sample(US_REGIONS, rng.randint(1, 2))}
    if kind == 1:
        return {"field": "channel", "op": "eq", "value": rng.choice(channels)}
    if kind == 2:
        return {"field": "order.tags", "op": "contains", "value": rng.choice(["vip", "gift", "wholesale", "subscription"])}
    return {"field": "dest.postal_code", "op": "starts_with", "value": [str(rng.randint(10, 99))]}


def _conditions(rng: random.Random, channels: list[str], carrier: bool, narrow: int = 1) -> dict[str, Any]:
    make = _carrier_condition if carrier else _order_condition
    candidates = [_narrow_condition(rng, channels) for _ in range(narrow)]
    candidates += [make(rng, channels) for _ in range(rng.randint(1, 2))]
    parts: list[dict[str, Any]] = []
    for cond in candidates:  # one condition per field, so no rule contradicts itself
        if all(cond["field"] != p["field"] for p in parts):
            parts.append(cond)
    if rng.random() < 0.15:
        negated = _order_condition(rng, channels)
        if all(negated["field"] != p["field"] for p in parts):
            parts.append({"not": negated})
    return parts[0] if len(parts) == 1 else {"all": parts}


def _rule(rng: random.Random, i: int, client: str, catalog: Catalog) -> dict[str, Any]:
    channels = list(catalog.channels)
    warehouses = [w for w in catalog.warehouses if catalog.warehouses[w].country == "US"]
    stage = rng.choices(["hold", "routing", "carrier", "finishing", "substitution"], weights=[15, 15, 45, 23, 2])[0]
    rule: dict[str, Any] = {"id": f"{client.lower()}-{stage}-{i}", "clients": [client],
                            "priority": rng.randint(1, 1000), "name": f"{client} {stage} rule {i}"}
    if stage == "hold":
        value = {"field": "order.value", "op": "gt", "value": {"amount": rng.choice([500, 1000, 2000, 5000]), "currency": "USD"}}
        rule["when"] = {"all": [_narrow_condition(rng, channels), value]}
        rule["then"] = [{"action": "hold", "reason": rng.choice(["fraud review", "address check", "credit hold"])}]
    elif stage == "routing":
        rule["when"] = _conditions(rng, channels, False)
        rule["then"] = [rng.choices([
            {"action": "ship_from", "warehouse": rng.choice(warehouses)},
            {"action": "prefer_warehouses", "warehouses": rng.sample(warehouses, 2), "fallback": "default"},
            {"action": "exclude_warehouses", "warehouses": [rng.choice(warehouses)]},
        ], weights=[3, 6, 1])[0]]
    elif stage == "carrier":
        rule["when"] = _conditions(rng, channels, True)
        rule["then"] = [rng.choices([
            {"action": "use_service", "service": rng.choice(GROUND)},
            {"action": "rate_shop", "services": rng.sample(GROUND, 3), "objective": "cheapest",
             "max_transit_days": rng.randint(3, 5)},
            {"action": "exclude_services", "carriers": [rng.choice(["ONTRAC", "DHL"])]},
        ], weights=[4, 5, 1])[0]]
    elif stage == "finishing":
        rule["when"] = _conditions(rng, channels, False, narrow=2)
        rule["then"] = [rng.choice([{"action": "add_tag", "tag": rng.choice(["bulk", "fragile", "gift", "priority"])},
                                    {"action": "require_signature"}, {"action": "insure"}])]
    else:
        skus = [s for s in catalog.skus.values() if s.client == client]
        pair = rng.sample(skus, 2) if len(skus) >= 2 else skus * 2
        rule["then"] = [{"action": "substitute", "sku": pair[0].code, "with": [pair[1].code]}]
    return rule


def generate_rules(n: int = 1000, seed: int = 3, catalog: Catalog | None = None) -> list[Rule]:
    """``n`` valid rules spread over the catalog's clients."""
    catalog = catalog or demo_catalog()
    rng = random.Random(seed)
    clients = list(catalog.clients)
    return [Rule.model_validate(_rule(rng, i, clients[i % len(clients)], catalog)) for i in range(n)]


def raw_rules(n: int = 1000, seed: int = 3, catalog: Catalog | None = None) -> list[dict[str, Any]]:
    from rules_core.models import rule_json

    return [rule_json(r) for r in generate_rules(n, seed, catalog)]
