"""Derived facts: what the rules test, computed once per order.

Facts are a flat dict keyed by registry field name. Weights are floats in lb, money amounts
are floats with the currency under ``order.currency``, string fields are kept as given (the
compiled predicates fold case), tags are frozensets. A fact that cannot be known is None.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from rules_core.catalog import Catalog
from rules_core.models import Order, OrderLine
from rules_core.quantities import to_base
from rules_core.registry import WEEKDAYS

Facts = dict[str, Any]
LineFacts = dict[str, Any]


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def line_facts(lines: list[OrderLine], catalog: Catalog) -> list[LineFacts]:
    out = []
    for line in lines:
        sku = catalog.skus.get(line.sku)
        out.append({
            "line.sku": line.sku,
            "line.qty": line.qty,
            "line.category": sku.category if sku else None,
            "line.hazmat": sku.hazmat if sku else None,
        })
    return out


def _derived_weight_lb(lines: list[OrderLine], catalog: Catalog) -> float | None:
    weights = catalog.sku_weight_lb
    total = 0.0
    for line in lines:
        w = weights.get(line.sku)
        if w is None:
            return None
        total += w * line.qty
    return round(total, 6) if lines else None


def _derived_value(lines: list[OrderLine], catalog: Catalog) -> float | None:
    total = 0.0
    for line in lines:
        price = line.unit_price
        if price is None:
            sku = catalog.skus.get(line.sku)
            if sku is None:
                return None
            price = sku.price
        total += price * line.qty
    return round(total, 2) if lines else None


def dim_weight_lb(lines: list[OrderLine], catalog: Catalog) -> float | None:
    """Dimensional weight of the lines packed together, rounded up to the whole lb."""
    volumes = catalog.sku_volume_in3
    volume = 0.0
    for line in lines:
        v = volumes.get(line.sku)
        if v is None:
            return None
        volume += v * line.qty
    return float(math.ceil(volume / catalog.spec.dim_divisor)) if lines else None


def order_facts(order: Order, catalog: Catalog, as_of: datetime | None = None) -> Facts:
    """Every order-level fact of the field registry (shipment facts come later, per origin)."""
    created = utc(order.created_at) if order.created_at else (utc(as_of) if as_of else None)
    dest = order.ship_to
    facts: Facts = {
        "client": order.client,
        "channel": order.channel,
        "order.tags": frozenset(order.tags),
        "order.service_level": order.service_level,
        "order.created_at": created,
        "order.weekday": WEEKDAYS[created.weekday()] if created else None,
        "order.hour": created.hour if created else None,
        "dest.country": dest.country,
        "dest.region": dest.region,
        "dest.city": dest.city,
        "dest.postal_code": dest.postal_code.upper() if dest.postal_code else None,
        "dest.residential": dest.residential,
        "dest.po_box": dest.po_box,
    }
    set_line_facts(facts, order, order.lines, catalog)
    return facts


def set_line_facts(facts: Facts, order: Order, lines: list[OrderLine], catalog: Catalog) -> None:
    """(Re)compute the facts that depend on the lines, e.g. after a substitution."""
    lf = line_facts(lines, catalog)
    facts["lines"] = lf
    facts["order.line_count"] = len(lines)
    facts["order.unit_count"] = sum(line.qty for line in lines)
    facts["order.hazmat"] = any(bool(f["line.hazmat"]) for f in lf)
    if order.weight is not None:
        facts["order.weight"] = to_base(order.weight.value, order.weight.unit)
    else:
        facts["order.weight"] = _derived_weight_lb(lines, catalog)
    if order.value is not None:
        facts["order.value"] = order.value.amount
        facts["order.currency"] = order.value.currency
    else:
        facts["order.value"] = _derived_value(lines, catalog)
        facts["order.currency"] = order.currency
    dim = dim_weight_lb(lines, catalog)
    weight = facts["order.weight"]
    facts["_dim_weight"] = dim
    facts["_billable_weight"] = (
        float(math.ceil(max(weight, dim or 0.0) - 1e-9)) if weight is not None else None
    )


def set_shipment_facts(facts: Facts, origin: str | None, catalog: Catalog) -> None:
    """The carrier-stage facts for one candidate origin."""
    facts["shipment.origin"] = origin
    facts["shipment.zone"] = (
        catalog.zone(origin, facts["dest.country"], facts["dest.postal_code"]) if origin else None
    )
    facts["shipment.weight"] = facts["order.weight"]
    facts["shipment.dim_weight"] = facts["_dim_weight"]
    facts["shipment.billable_weight"] = facts["_billable_weight"]
