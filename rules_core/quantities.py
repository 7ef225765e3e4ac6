"""Quantities with units: weights, lengths and money, as value objects.

Rules and orders carry quantities as JSON objects (``{"value": 10, "unit": "lb"}``,
``{"amount": 500, "currency": "USD"}``). Comparisons convert units; money is never converted
between currencies (a currency mismatch is a finding or a non-match, never a silent rate).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from rules_core.errors import QuantityError

WEIGHT_UNITS: dict[str, float] = {"lb": 1.0, "oz": 1 / 16, "kg": 2.20462262185, "g": 0.00220462262185}
LENGTH_UNITS: dict[str, float] = {"in": 1.0, "cm": 1 / 2.54}
# ISO 4217 codes the product knows; a catalog or order may use any of these.
CURRENCIES = frozenset(
    "USD CAD EUR GBP MXN AUD JPY CHF CNY SEK NOK DKK NZD HKD SGD INR BRL PLN CZK ZAR".split()
)

UnitKind = Literal["weight", "length"]
UNITS_BY_KIND: dict[str, dict[str, float]] = {"weight": WEIGHT_UNITS, "length": LENGTH_UNITS}
BASE_UNIT = {"weight": "lb", "length": "in"}


def _json_number(v: float) -> int | float:
    """Integral numbers serialise as integers so that 10 and 10.0 hash the same."""
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def _fmt_number(x: float) -> str:
    """Shortest faithful decimal: 10.0 -> '10', 2.5 -> '2.5', 1500 -> '1500'."""
    if float(x).is_integer():
        return str(int(x))
    return repr(round(float(x), 6)).rstrip("0").rstrip(".")


class Quantity(BaseModel):
    """A weight or a length: ``{"value": 10, "unit": "lb"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float = Field(description="the number")
    unit: str = Field(description="lb, oz, kg, g (weight) or in, cm (length)")

    @field_serializer("value")
    def _num(self, v: float) -> int | float:
        return _json_number(v)

    @property
    def kind(self) -> str | None:
        return unit_kind(self.unit)

    def to(self, unit: str) -> float:
        """This quantity expressed in ``unit`` (same kind only)."""
        return convert(self.value, self.unit, unit)

    def __str__(self) -> str:
        return f"{_fmt_number(self.value)} {self.unit}"


class Money(BaseModel):
    """An amount of money in one ISO 4217 currency: ``{"amount": 500, "currency": "USD"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    amount: float
    currency: str = Field(min_length=3, max_length=3)

    @field_serializer("amount")
    def _num(self, v: float) -> int | float:
        return _json_number(v)

    def __str__(self) -> str:
        return f"{_fmt_money(self.amount)} {self.currency}"


def _fmt_money(x: float) -> str:
    return _fmt_number(round(x, 2)) if float(x).is_integer() else f"{x:.2f}"


def unit_kind(unit: str) -> str | None:
    for kind, units in UNITS_BY_KIND.items():
        if unit in units:
            return kind
    return None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    kind_from, kind_to = unit_kind(from_unit), unit_kind(to_unit)
    if kind_from is None:
        raise QuantityError(f"unknown unit {from_unit!r}")
    if kind_from != kind_to:
        raise QuantityError(f"cannot convert {from_unit} to {to_unit}")
    factors = UNITS_BY_KIND[kind_from]
    return value * factors[from_unit] / factors[to_unit]


def to_base(value: float, unit: str) -> float:
    """A weight in lb or a length in inches."""
    kind = unit_kind(unit)
    if kind is None:
        raise QuantityError(f"unknown unit {unit!r}")
    return convert(value, unit, BASE_UNIT[kind])


def parse_quantity(raw: Any, kind: str) -> Quantity:
    """A Quantity of ``kind`` from JSON; raises QuantityError with a one-line reason."""
    if not isinstance(raw, dict) or set(raw) != {"value", "unit"}:
        raise QuantityError(f"expected a {kind} like {{\"value\": 10, \"unit\": \"{BASE_UNIT[kind]}\"}}")
    value, unit = raw["value"], raw["unit"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QuantityError(f"{kind} value must be a number, got {value!r}")
    if unit_kind(str(unit)) != kind:
        units = ", ".join(UNITS_BY_KIND[kind])
        raise QuantityError(f"unit {unit!r} is not a {kind} unit ({units})")
    return Quantity(value=float(value), unit=str(unit))


def parse_money(raw: Any) -> Money:
    """A Money from JSON; raises QuantityError with a one-line reason."""
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise QuantityError('expected money like {"amount": 500, "currency": "USD"}')
    amount, currency = raw["amount"], raw["currency"]
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise QuantityError(f"money amount must be a number, got {amount!r}")
    if currency not in CURRENCIES:
        raise QuantityError(f"unknown currency {currency!r} (use an ISO 4217 code such as USD or CAD)")
    return Money(amount=float(amount), currency=currency)
