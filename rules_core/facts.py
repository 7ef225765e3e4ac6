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
    """(Re)compute the facts that depend on the lines, e.g. after a substitution.

    One pass over the lines, as this runs for every order decided. Derived weight, value and
    dimensional weight are unknown (None) when any line's SKU lacks what they need; the
    dimensional weight packs all lines together and rounds up to the whole lb.
    """
    skus, weights, volumes = catalog.skus, catalog.sku_weight_lb, catalog.sku_volume_in3
    lf: list[LineFacts] = []
    units = 0
    hazmat = False
    weight: float | None = 0.0
    value: float | None = 0.0
    volume: float | None = 0.0
    for line in lines:
        code, qty = line.sku, line.qty
        sku = skus.get(code)
        units += qty
        if sku is None:
            lf.append({"line.sku": code, "line.qty": qty, "line.category": None, "line.hazmat": None})
        else:
            lf.append({"line.sku": code, "line.qty": qty, "line.category": sku.category, "line.hazmat": sku.hazmat})
            hazmat = hazmat or bool(sku.hazmat)
        w = weights.get(code)
        weight = None if w is None or weight is None else weight + w * qty
        v = volumes.get(code)
        volume = None if v is None or volume is None else volume + v * qty
        if value is not None:
            price = line.unit_price
            if price is None:
                price = sku.price if sku is not None else None
            value = None if price is None else value + price * qty
    facts["lines"] = lf
    facts["order.line_count"] = len(lines)
    facts["order.unit_count"] = units
    facts["order.hazmat"] = hazmat
    if order.weight is not None:
        facts["order.weight"] = to_base(order.weight.value, order.weight.unit)
    else:
        facts["order.weight"] = round(weight, 6) if lines and weight is not None else None
    if order.value is not None:
        facts["order.value"] = order.value.amount
        facts["order.currency"] = order.value.currency
    else:
        facts["order.value"] = round(value, 2) if lines and value is not None else None
        facts["order.currency"] = order.currency
    dim = float(math.ceil(volume / catalog.spec.dim_divisor)) if lines and volume is not None else None
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
