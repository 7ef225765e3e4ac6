"""The field registry: the one definition of every field a rule can test.

Validation, the JSON Schema, the explanation renderer, the model prompt and the offline
grammar all read this table. Adding a field is a change here plus its fact in ``facts.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["hold", "substitution", "routing", "carrier", "finishing"]
STAGES: tuple[Stage, ...] = ("hold", "substitution", "routing", "carrier", "finishing")
STAGE_INDEX: dict[str, int] = {s: i for i, s in enumerate(STAGES)}

Kind = Literal["code", "string", "money", "weight", "integer", "tags", "enum", "datetime", "bool"]

ORDERED_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between")
SET_OPS = ("in", "not_in")
ALL_OPS = (
    "eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in",
    "starts_with", "contains", "contains_any", "contains_all",
)
POSITIVE_OPS = frozenset(ALL_OPS)  # every operator is positive: a missing fact never matches

OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "code": ("eq", "ne") + SET_OPS,
    "string": ("eq", "ne") + SET_OPS + ("starts_with", "contains"),
    "enum": ("eq", "ne") + SET_OPS,
    "bool": ("eq", "ne"),
    "integer": ORDERED_OPS + SET_OPS,
    "money": ORDERED_OPS,
    "weight": ORDERED_OPS,
    "datetime": ORDERED_OPS,
    "tags": ("contains", "contains_any", "contains_all"),
}

OP_WORDS = {
    "eq": "is", "ne": "is not", "gt": "is over", "gte": "is at least", "lt": "is under",
    "lte": "is at most", "between": "is between", "in": "is one of", "not_in": "is not one of",
    "starts_with": "starts with", "contains": "contains", "contains_any": "contains any of",
    "contains_all": "contains all of",
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SERVICE_LEVELS = ("standard", "expedited", "overnight")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    description: str
    names: tuple[str, ...]  # plain-English names; the first is canonical
    since: Stage = "hold"  # the stage at which the fact becomes known
    scope: Literal["order", "line"] = "order"
    ref: str | None = None  # catalog collection its values name (client, warehouse, sku, ...)
    values: tuple[str, ...] = ()  # allowed values for enums
    optional: bool = False  # the fact may be missing on real orders
    minimum: float | None = None
    maximum: float | None = None
    ops: tuple[str, ...] = field(default=())

    @property
    def operators(self) -> tuple[str, ...]:
        return self.ops or OPS_BY_KIND[self.kind]

    @property
    def english(self) -> str:
        return self.names[0]

    def known_at(self, stage: str) -> bool:
        return STAGE_INDEX[stage] >= STAGE_INDEX[self.since]


def _f(name: str, kind: Kind, description: str, *names: str, **kw: object) -> FieldSpec:
    return FieldSpec(name=name, kind=kind, description=description, names=names, **kw)  # type: ignore[arg-type]


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _f("client", "code", "client brand code", "client", ref="client"),
        _f("channel", "code", "sales channel the order came from", "channel", "sales channel",
           ref="channel", optional=True),
        _f("order.value", "money", "order value: sum of line prices unless given",
           "order value", "value", "order total", "total"),
        _f("order.weight", "weight", "order weight: sum of SKU weights unless given",
           "order weight", "weight"),
        _f("order.line_count", "integer", "number of order lines", "line count",
           "number of lines", "lines", minimum=0),
        _f("order.unit_count", "integer", "total units over all lines", "unit count",
           "number of units", "units", "items", minimum=0),
        _f("order.tags", "tags", "tags on the order", "order tags", "tags"),
        _f("order.service_level", "enum", "shipping level the customer bought",
           "service level", "shipping level", values=SERVICE_LEVELS),
        _f("order.created_at", "datetime", "when the order was created (ISO 8601, UTC)",
           "order date", "created at", "order time", optional=True),
        _f("order.weekday", "enum", "weekday the order was created (UTC)", "order weekday",
           "weekday", "day", values=WEEKDAYS, optional=True),
        _f("order.hour", "integer", "hour the order was created, 0-23 UTC", "order hour", "hour",
           minimum=0, maximum=23, optional=True),
        _f("order.hazmat", "bool", "true when any line's SKU is hazmat", "hazmat", "hazardous"),
        _f("dest.country", "code", "destination country, ISO 3166-1 alpha-2",
           "destination country", "country", ref="country"),
        _f("dest.region", "code", "destination state or province, ISO 3166-2 subdivision code",
           "destination region", "state", "province", "region", ref="region", optional=True),
        _f("dest.city", "string", "destination city", "destination city", "city", optional=True),
        _f("dest.postal_code", "string", "destination postal or ZIP code", "destination postal code",
           "postal code", "zip code", "zip", "postcode", optional=True),
        _f("dest.residential", "bool", "the destination is a residence", "residential address",
           "residential"),
        _f("dest.po_box", "bool", "the destination is a PO box", "PO box address", "po box"),
        _f("line.sku", "code", "the line's SKU", "SKU", "sku", "item", scope="line", ref="sku"),
        _f("line.qty", "integer", "the line's quantity", "quantity", "qty", scope="line", minimum=0),
        _f("line.category", "code", "the line SKU's catalog category", "category", "product category",
           scope="line", ref="category"),
        _f("line.hazmat", "bool", "the line's SKU is hazmat", "hazmat item", scope="line"),
        _f("shipment.origin", "code", "the warehouse the shipment leaves from", "origin warehouse",
           "origin", "warehouse", since="carrier", ref="warehouse"),
        _f("shipment.zone", "integer", "carrier zone 1-8 from origin to destination (domestic only)",
           "shipping zone", "zone", since="carrier", minimum=1, maximum=8, optional=True),
        _f("shipment.weight", "weight", "actual weight of the shipment", "shipment weight",
           "actual weight", since="carrier", optional=True),
        _f("shipment.dim_weight", "weight", "dimensional weight of the shipment",
           "dimensional weight", "dim weight", since="carrier", optional=True),
        _f("shipment.billable_weight", "weight", "greater of actual and dimensional weight",
           "billable weight", since="carrier", optional=True),
    )
}


def field_spec(name: str) -> FieldSpec | None:
    return FIELDS.get(name)


def order_fields() -> list[FieldSpec]:
    return [f for f in FIELDS.values() if f.scope == "order"]


def line_fields() -> list[FieldSpec]:
    return [f for f in FIELDS.values() if f.scope == "line"]
