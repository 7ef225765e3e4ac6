"""The rule language, orders and decisions as pydantic models (the JSON contract).

JSON names follow ``shared/design/rule-model.md`` exactly. Rules are dumped canonically with
``rule_json`` (aliases, no nulls) so that the same rule always serialises the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rules_core.quantities import CURRENCIES, WEIGHT_UNITS, Money, Quantity, to_base
from rules_core.registry import Stage

Op = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in",
    "starts_with", "contains", "contains_any", "contains_all",
]

Scalar = Union[StrictBool, int, float, str, Quantity, Money]
PredicateValue = Union[Scalar, list[Scalar]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- conditions -----------------------------------------------------------------------


class Predicate(_Strict):
    """A check of one field: ``{"field": "order.weight", "op": "gt", "value": {...}}``."""

    field: str
    op: Op
    value: PredicateValue


class AllOf(_Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(_Strict):
    any: list["Condition"] = Field(min_length=1)


class NotOf(_Strict):
    not_: "Condition" = Field(alias="not")


class AnyLine(_Strict):
    any_line: "Condition"


class AllLines(_Strict):
    all_lines: "Condition"


_NODE_KEYS = ("all", "any", "not", "any_line", "all_lines")


def _node_tag(raw: Any) -> str | None:
    if isinstance(raw, BaseModel):
        return {AllOf: "all", AnyOf: "any", NotOf: "not", AnyLine: "any_line",
                AllLines: "all_lines", Predicate: "predicate"}.get(type(raw))
    if not isinstance(raw, dict):
        return None
    for key in _NODE_KEYS:
        if key in raw:
            return key
    return "predicate"


Condition = Annotated[
    Union[
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotOf, Tag("not")],
        Annotated[AnyLine, Tag("any_line")],
        Annotated[AllLines, Tag("all_lines")],
        Annotated[Predicate, Tag("predicate")],
    ],
    Discriminator(_node_tag),
]

for _m in (AllOf, AnyOf, NotOf, AnyLine, AllLines):
    _m.model_rebuild()


# --- actions ----------------------------------------------------------------------------


class Hold(_Strict):
    action: Literal["hold"] = "hold"
    reason: str = Field(min_length=1)
    queue: str | None = None


class Substitute(_Strict):
    action: Literal["substitute"] = "substitute"
    sku: str
    with_: list[str] = Field(alias="with", min_length=1)


class ShipFrom(_Strict):
    action: Literal["ship_from"] = "ship_from"
    warehouse: str


class PreferWarehouses(_Strict):
    action: Literal["prefer_warehouses"] = "prefer_warehouses"
    warehouses: list[str] = Field(min_length=1)
    fallback: Literal["default", "hold"] = "default"


class ExcludeWarehouses(_Strict):
    action: Literal["exclude_warehouses"] = "exclude_warehouses"
    warehouses: list[str] = Field(min_length=1)


class UseService(_Strict):
    action: Literal["use_service"] = "use_service"
    service: str


class RateShop(_Strict):
    action: Literal["rate_shop"] = "rate_shop"
    services: list[str] | None = None
    carriers: list[str] | None = None
    objective: Literal["cheapest", "fastest"] = "cheapest"
    max_transit_days: int | None = Field(default=None, ge=1)


class ExcludeServices(_Strict):
    action: Literal["exclude_services"] = "exclude_services"
    services: list[str] | None = None
    carriers: list[str] | None = None


class AddTag(_Strict):
    action: Literal["add_tag"] = "add_tag"
    tag: str = Field(min_length=1)


class RequireSignature(_Strict):
    action: Literal["require_signature"] = "require_signature"


class Insure(_Strict):
    action: Literal["insure"] = "insure"


Action = Annotated[
    Union[Hold, Substitute, ShipFrom, PreferWarehouses, ExcludeWarehouses, UseService, RateShop,
          ExcludeServices, AddTag, RequireSignature, Insure],
    Field(discriminator="action"),
]

ACTION_STAGE: dict[str, Stage] = {
    "hold": "hold",
    "substitute": "substitution",
    "ship_from": "routing",
    "prefer_warehouses": "routing",
    "exclude_warehouses": "routing",
    "use_service": "carrier",
    "rate_shop": "carrier",
    "exclude_services": "carrier",
    "add_tag": "finishing",
    "require_signature": "finishing",
    "insure": "finishing",
}
DECISIVE_ACTIONS = frozenset({"substitute", "ship_from", "prefer_warehouses", "use_service", "rate_shop"})


# --- rules ------------------------------------------------------------------------------


class Effective(_Strict):
    from_: datetime | None = Field(default=None, alias="from")
    until: datetime | None = None


RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN, description="stable identifier, e.g. acme-heavy-far-zones")
    name: str = ""
    clients: list[str] = Field(default_factory=list, description="client codes; empty means every client")
    priority: int = Field(default=100, description="higher is evaluated first")
    enabled: bool = True
    effective: Effective | None = None
    when: Condition | None = None
    then: list[Action] = Field(min_length=1)

    @property
    def stage(self) -> Stage:
        """The stage of the rule's first action (the validator checks they agree)."""
        return ACTION_STAGE[self.then[0].action]

    @property
    def decisive_action(self) -> Any | None:
        return next((a for a in self.then if a.action in DECISIVE_ACTIONS), None)


class RuleSet(_Strict):
    rules: list[Rule] = Field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


def rule_json(rule: Rule) -> dict[str, Any]:
    """The canonical JSON of a rule: aliases, no nulls, defaults kept."""
    return rule.model_dump(mode="json", by_alias=True, exclude_none=True)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ruleset_hash(rules: list[Rule]) -> str:
    """Content address of a rule set: sha256 of the canonical JSON of its rules, sorted by id."""
    return ruleset_hash_of_json({r.id: rule_json(r) for r in rules})


def ruleset_hash_of_json(rules_by_id: dict[str, dict[str, Any]]) -> str:
    """``ruleset_hash`` from rules already dumped with ``rule_json``, keyed by id."""
    body = canonical_json([rules_by_id[i] for i in sorted(rules_by_id)])
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


# --- orders -----------------------------------------------------------------------------


UpperCode = Annotated[str, StringConstraints(to_upper=True, strip_whitespace=True)]


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore")
    country: UpperCode = Field(min_length=2, max_length=2)
    region: UpperCode | None = None
    postal_code: str | None = None
    city: str | None = None
    residential: bool = False
    po_box: bool = False


MAX_QTY = 2**53  # whole numbers above this are not exact in JSON numbers and float arithmetic


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise PydanticCustomError("unknown_currency", "unknown currency '{code}' (use an ISO 4217 code such as "
                                  "USD or CAD)", {"code": code})
    return code


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sku: str
    qty: int = Field(default=1, ge=1, le=MAX_QTY)
    unit_price: float | None = Field(default=None, ge=0)


class Order(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    client: str
    channel: str | None = None
    created_at: datetime | None = None
    service_level: Literal["standard", "expedited", "overnight"] = "standard"
    currency: str = "USD"
    ship_to: Address
    lines: list[OrderLine] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    weight: Quantity | None = None
    value: Money | None = None

    # What the engine and the JDM facts compute with must be a finite number in a known unit:
    # otherwise a decision fails half-way or `facts --json` prints `Infinity`, which is not JSON.

    @field_validator("currency")
    @classmethod
    def _currency_known(cls, v: str) -> str:
        return _known_currency(v)

    @field_validator("value")
    @classmethod
    def _value_finite(cls, v: Money | None) -> Money | None:
        if v is not None:
            _known_currency(v.currency)
            if v.amount < 0:
                raise PydanticCustomError("negative_value", "an order value cannot be negative")
        return v

    @field_validator("weight")
    @classmethod
    def _weight_in_weight_units(cls, v: Quantity | None) -> Quantity | None:
        if v is None:
            return v
        if v.unit not in WEIGHT_UNITS:
            raise PydanticCustomError("weight_unit", "unit '{unit}' is not a weight unit ({units})",
                                      {"unit": v.unit, "units": ", ".join(WEIGHT_UNITS)})
        if v.value < 0 or not math.isfinite(to_base(v.value, v.unit)):
            raise PydanticCustomError("weight_range", "a weight must be a finite number of at least 0")
        return v

    @field_validator("lines")
    @classmethod
    def _lines_total_finite(cls, lines: list[OrderLine]) -> list[OrderLine]:
        total = math.fsum(line.qty * line.unit_price for line in lines if line.unit_price is not None)
        if not math.isfinite(total):
            raise PydanticCustomError("value_overflow", "the lines' quantities times unit prices are too large "
                                      "to add up to an order value")
        return lines

    @model_validator(mode="after")
    def _one_currency(self) -> "Order":
        # Rules compare amounts in one currency; an order saying two would be decided in
        # whichever the engine happened to read. A value alone gives the order its currency.
        if self.value is None or self.value.currency == self.currency:
            return self
        if "currency" not in self.model_fields_set:  # only the value says it
            self.currency = self.value.currency
            return self
        raise PydanticCustomError("currency_mismatch", "value is in {value} but the order's currency is "
                                  "{currency}; give both in one currency",
                                  {"value": self.value.currency, "currency": self.currency})


# --- decisions --------------------------------------------------------------------------


class HoldOut(BaseModel):
    rule: str
    reason: str
    queue: str | None = None


class SubstitutionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    line: int
    from_: str = Field(alias="from")
    to: str
    rule: str


class Shipment(BaseModel):
    warehouse: str | None = None
    lines: list[int] = Field(default_factory=list)
    zone: int | None = None
    carrier: str | None = None
    service: str | None = None
    cost: Money | None = None
    transit_days: int | None = None
    routed_by: str = "default"
    decided_by: str = "default"


class ExceptionOut(BaseModel):
    code: str
    message: str
    stage: str
    rule: str | None = None


class Check(BaseModel):
    field: str
    op: str
    expected: str
    actual: str
    result: bool
    line: int | None = None


class TraceEntry(BaseModel):
    stage: str
    rule: str
    matched: bool
    checks: list[Check] = Field(default_factory=list)
    note: str | None = None


class Decision(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    order_id: str
    ruleset: str
    held: bool = False
    holds: list[HoldOut] = Field(default_factory=list)
    substitutions: list[SubstitutionOut] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    signature_required: bool = False
    insured: bool = False
    exceptions: list[ExceptionOut] = Field(default_factory=list)
    applied_rules: list[str] = Field(default_factory=list, description="rules whose actions applied, in stage order")
    trace: list[TraceEntry] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
