"""Condition compilation: rule JSON values normalised once, then evaluated two ways.

* ``compile_source`` turns a condition tree into one Python expression over the facts; the
  engine ``exec``s one function per client and stage, so deciding an order runs straight-line
  comparisons instead of re-interpreting JSON (the fast path, no tracing).
* ``evaluate_traced`` walks the same normalised tree and records every check with its
  expected and actual value (the trace path, used by ``--trace``, ``why`` and the UI).

Both follow the same semantics, which a property test holds them to:
a predicate on a missing fact is false (whatever its operator); ``not`` inverts its child;
``all_lines`` needs at least one line; money in another currency than the order's never
matches; string fields compare case-insensitively; weights compare in lb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, cast

from rules_core.errors import QuantityError
from rules_core.models import AllLines, AllOf, AnyLine, AnyOf, NotOf, Predicate
from rules_core.quantities import Money, Quantity, _fmt_number, to_base
from rules_core.registry import FIELDS, FieldSpec


class ValueKindError(ValueError):
    """A predicate's value does not fit its field and operator."""


@dataclass(frozen=True)
class NormPredicate:
    field: str
    op: str
    value: Any  # normalised: float lb, float amount, datetime, frozenset, tuple, ...
    currency: str | None  # for money
    expected: str  # human text of the rule's value, for traces
    unit: str | None  # the rule's unit, to show actual weights in it
    scope: str


# --- normalising values -------------------------------------------------------------------


def _as_datetime(raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            if len(raw) == 10:
                d = date.fromisoformat(raw)
                return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueKindError(f"{raw!r} is not an ISO 8601 date or time") from None
        return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    raise ValueKindError(f"expected an ISO 8601 date or time string, got {_show(raw)}")


def _show(raw: Any) -> str:
    if isinstance(raw, (Quantity, Money)):
        return str(raw)
    if isinstance(raw, dict) and {"value", "unit"} <= set(raw):
        return f"{raw['value']} {raw['unit']}"
    if isinstance(raw, dict) and {"amount", "currency"} <= set(raw):
        return f"{raw['amount']} {raw['currency']}"
    return repr(raw)


def _scalar(spec: FieldSpec, raw: Any) -> Any:
    """One value of ``spec``'s kind, normalised; raises ValueKindError."""
    kind = spec.kind
    if isinstance(raw, (Quantity, Money)):
        raw = raw.model_dump()
    if kind == "weight":
        if not (isinstance(raw, dict) and set(raw) == {"value", "unit"}):
            raise ValueKindError(f"{spec.name} needs a weight like {{\"value\": 10, \"unit\": \"lb\"}}, got {_show(raw)}")
        try:
            return to_base(float(raw["value"]), str(raw["unit"]))
        except QuantityError as exc:
            raise ValueKindError(f"{spec.name}: {exc}") from None
    if kind == "money":
        if not (isinstance(raw, dict) and set(raw) == {"amount", "currency"}):
            raise ValueKindError(f"{spec.name} needs money like {{\"amount\": 500, \"currency\": \"USD\"}}, got {_show(raw)}")
        return float(raw["amount"])
    if kind == "integer":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or float(raw) != int(raw):
            raise ValueKindError(f"{spec.name} needs a whole number, got {_show(raw)}")
        return int(raw)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ValueKindError(f"{spec.name} needs true or false, got {_show(raw)}")
        return raw
    if kind == "datetime":
        return _as_datetime(raw)
    if not isinstance(raw, str) or not raw:
        raise ValueKindError(f"{spec.name} needs a text value, got {_show(raw)}")
    if kind == "enum" and raw not in spec.values:
        raise ValueKindError(f"{spec.name} must be one of {', '.join(spec.values)}, got {raw!r}")
    return raw.casefold() if kind == "string" else raw


def _money_currency(raw: Any) -> str | None:
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if isinstance(item, Money):
            return item.currency
        if isinstance(item, dict) and "currency" in item:
            return str(item["currency"])
    return None


def _unit(raw: Any) -> str | None:
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if isinstance(item, Quantity):
            return item.unit
        if isinstance(item, dict) and "unit" in item:
            return str(item["unit"])
    return None


def normalize(pred: Predicate | dict[str, Any]) -> NormPredicate:
    """Check a predicate against the registry and normalise its value (ValueKindError if not)."""
    raw: Any
    name, op, raw = (pred.field, pred.op, pred.value) if isinstance(pred, Predicate) else (
        pred.get("field"), pred.get("op"), pred.get("value"))
    spec = FIELDS.get(name)  # type: ignore[arg-type]
    if spec is None:
        raise ValueKindError(f"unknown field {name!r}")
    if op not in spec.operators:
        raise ValueKindError(f"operator {op!r} is not allowed on {name} ({', '.join(spec.operators)})")
    value = _normal_value(spec, op, raw)
    if spec.kind == "money":
        currencies = {(i.currency if isinstance(i, Money) else i.get("currency")) for i in (raw if isinstance(raw, list) else [raw])}
        if len(currencies) > 1:
            raise ValueKindError(f"{name}: both ends of a range must be in one currency")
    return NormPredicate(cast(str, name), op, value, _money_currency(raw) if spec.kind == "money" else None,
                         expected_text(spec, op, raw), _unit(raw), spec.scope)


def _normal_value(spec: FieldSpec, op: str, raw: Any) -> Any:
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueKindError(f"between needs a list [low, high], got {_show(raw)}")
        lo, hi = _scalar(spec, raw[0]), _scalar(spec, raw[1])
        return (lo, hi)
    if op in ("in", "not_in", "contains_any", "contains_all"):
        if not isinstance(raw, list) or not raw:
            raise ValueKindError(f"{op} needs a non-empty list, got {_show(raw)}")
        return frozenset(_tag_or_scalar(spec, item) for item in raw)
    if op == "starts_with":
        items = raw if isinstance(raw, list) else [raw]
        return tuple(str(_scalar(spec, item)).upper() for item in items)
    if isinstance(raw, list):
        raise ValueKindError(f"{op} needs a single value, got a list")
    return _tag_or_scalar(spec, raw)


def _tag_or_scalar(spec: FieldSpec, raw: Any) -> Any:
    if spec.kind == "tags":
        if not isinstance(raw, str) or not raw:
            raise ValueKindError(f"{spec.name} needs tag text, got {_show(raw)}")
        return raw
    return _scalar(spec, raw)


# --- human text for traces and messages --------------------------------------------------------


def value_text(raw: Any) -> str:
    if isinstance(raw, (Quantity, Money)):
        return str(raw)
    if isinstance(raw, dict) and set(raw) == {"value", "unit"}:
        return f"{_fmt_number(raw['value'])} {raw['unit']}" if isinstance(raw["value"], (int, float)) else repr(raw)
    if isinstance(raw, dict) and set(raw) == {"amount", "currency"}:
        return str(Money(amount=raw["amount"], currency=raw["currency"])) if isinstance(raw["amount"], (int, float)) and isinstance(raw["currency"], str) and len(raw["currency"]) == 3 else repr(raw)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return _fmt_number(raw)
    return str(raw)


def expected_text(spec: FieldSpec, op: str, raw: Any) -> str:
    if op == "between" and isinstance(raw, list) and len(raw) == 2:
        return f"{value_text(raw[0])} to {value_text(raw[1])}"
    if isinstance(raw, list):
        return "[" + ", ".join(value_text(r) for r in raw) + "]"
    return value_text(raw)


def actual_text(p: NormPredicate, fact: Any, currency: str | None) -> str:
    if fact is None:
        return "(missing)"
    spec = FIELDS[p.field]
    if spec.kind == "weight":
        unit = p.unit or "lb"
        try:
            return f"{_fmt_number(round(fact / to_base(1.0, unit), 3))} {unit}"
        except QuantityError:
            return f"{_fmt_number(round(fact, 3))} lb"
    if spec.kind == "money":
        return str(Money(amount=fact, currency=currency or "USD"))
    if spec.kind == "tags":
        return "[" + ", ".join(sorted(fact)) + "]"
    if spec.kind == "datetime":
        return fact.isoformat().replace("+00:00", "Z")
    return value_text(fact)


# --- the predicate test, shared by both paths -----------------------------------------------------


def _fold(x: Any) -> Any:
    return x.casefold() if isinstance(x, str) else x


def test(p: NormPredicate, fact: Any, currency: str | None) -> bool:
    """The predicate on one fact value, by the module's semantics."""
    if fact is None:
        return False
    if p.currency is not None and currency != p.currency:
        return False
    if FIELDS[p.field].kind == "string":
        fact = fact.casefold()
    op, v = p.op, p.value
    if op == "eq":
        return fact == v
    if op == "ne":
        return fact != v
    if op == "gt":
        return fact > v
    if op == "gte":
        return fact >= v
    if op == "lt":
        return fact < v
    if op == "lte":
        return fact <= v
    if op == "between":
        return v[0] <= fact <= v[1]
    if op == "in":
        return fact in v
    if op == "not_in":
        return fact not in v
    if op == "starts_with":
        return fact.upper().startswith(v)
    if op == "contains":
        return v in fact
    if op == "contains_any":
        return not fact.isdisjoint(v)
    if op == "contains_all":
        return v <= fact
    raise ValueKindError(f"unknown operator {op!r}")


# --- normalised trees ----------------------------------------------------------------------------

# A condition tree with every predicate normalised once at compile time:
# ("p", NormPredicate) | ("all", (t, ...)) | ("any", (t, ...)) | ("not", t)
# | ("any_line", t) | ("all_lines", t)
NormTree = tuple


def norm_tree(node: Any, in_line: bool = False) -> NormTree:
    if isinstance(node, Predicate):
        p = normalize(node)
        if p.scope == "line" and not in_line:
            raise ValueKindError(f"{p.field} can only be tested inside any_line or all_lines")
        return ("p", p)
    if isinstance(node, AllOf):
        return ("all", tuple(norm_tree(c, in_line) for c in node.all))
    if isinstance(node, AnyOf):
        return ("any", tuple(norm_tree(c, in_line) for c in node.any))
    if isinstance(node, NotOf):
        return ("not", norm_tree(node.not_, in_line))
    if isinstance(node, AnyLine):
        return ("any_line", norm_tree(node.any_line, True))
    if isinstance(node, AllLines):
        return ("all_lines", norm_tree(node.all_lines, True))
    raise ValueKindError(f"unknown condition node {type(node).__name__}")


# --- traced evaluation -----------------------------------------------------------------------------

Checks = list[dict[str, Any]]


def evaluate_traced(t: NormTree, facts: dict[str, Any], checks: Checks | None,
                    line: dict[str, Any] | None = None, line_no: int | None = None) -> bool:
    """Evaluate a normalised tree; with ``checks``, append one check per predicate evaluated."""
    tag = t[0]
    if tag == "p":
        p: NormPredicate = t[1]
        fact = (line.get(p.field) if line is not None else None) if p.scope == "line" else facts.get(p.field)
        currency = facts.get("order.currency")
        result = test(p, fact, currency)
        if checks is not None:
            check = {"field": p.field, "op": p.op, "expected": p.expected,
                     "actual": actual_text(p, fact, currency), "result": result}
            if p.scope == "line":
                check["line"] = line_no
            checks.append(check)
        return result
    if tag == "all":
        return all(evaluate_traced(c, facts, checks, line, line_no) for c in t[1])
    if tag == "any":
        return any(evaluate_traced(c, facts, checks, line, line_no) for c in t[1])
    if tag == "not":
        return not evaluate_traced(t[1], facts, checks, line, line_no)
    lines = facts["lines"]
    if tag == "any_line":
        return any(evaluate_traced(t[1], facts, checks, lf, i) for i, lf in enumerate(lines))
    if tag == "all_lines":
        return bool(lines) and all(evaluate_traced(t[1], facts, checks, lf, i) for i, lf in enumerate(lines))
    raise ValueKindError(f"unknown condition node {tag!r}")


# --- code generation ---------------------------------------------------------------------------


class SourceBuilder:
    """Collects constants and fact variables while condition trees become Python source."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self.fields: dict[str, str] = {}  # order-level field -> local variable name

    def const(self, value: Any) -> str:
        if isinstance(value, (int, str, bool)) or value is None or (
                isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    def var(self, field: str) -> str:
        if field not in self.fields:
            self.fields[field] = f"v{len(self.fields)}"
        return self.fields[field]

    def prologue(self) -> list[str]:
        lines = [f"{var} = F.get({field!r})" for field, var in self.fields.items()]
        return lines + ["cur = F.get('order.currency')", "L = F['lines']"]


def compile_source(t: NormTree, sb: SourceBuilder, line_var: str | None = None) -> str:
    """A Python expression for a normalised tree."""
    tag = t[0]
    if tag == "p":
        return _predicate_source(t[1], sb, line_var)
    if tag == "all":
        return "(" + " and ".join(compile_source(c, sb, line_var) for c in t[1]) + ")"
    if tag == "any":
        return "(" + " or ".join(compile_source(c, sb, line_var) for c in t[1]) + ")"
    if tag == "not":
        return f"(not {compile_source(t[1], sb, line_var)})"
    if tag == "any_line":
        return f"any({compile_source(t[1], sb, 'l')} for l in L)"
    if tag == "all_lines":
        return f"(bool(L) and all({compile_source(t[1], sb, 'l')} for l in L))"
    raise ValueKindError(f"unknown condition node {tag!r}")


_CMP = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _predicate_source(p: NormPredicate, sb: SourceBuilder, line_var: str | None) -> str:
    x = f"{line_var}[{p.field!r}]" if p.scope == "line" else sb.var(p.field)
    kind = FIELDS[p.field].kind
    fx = f"{x}.casefold()" if kind == "string" else x
    op, v = p.op, p.value
    # A missing fact (None) must make every predicate false. Equality and membership against
    # non-None constants are already false for None, and tags are never None, so those skip the
    # explicit guard; folded strings, orderings, ne and not_in need it.
    needs_guard = not (kind == "tags" or (op in ("eq", "in") and kind != "string"))
    guard = f"{x} is not None" if needs_guard else ""
    if p.currency is not None:
        guard = f"{guard} and cur == {p.currency!r}" if guard else f"cur == {p.currency!r}"
    if op in _CMP:
        body = f"{fx} {_CMP[op]} {sb.const(v)}"
    elif op == "between":
        body = f"{sb.const(v[0])} <= {fx} <= {sb.const(v[1])}"
    elif op == "in":
        body = f"{fx} in {sb.const(v)}"
    elif op == "not_in":
        body = f"{fx} not in {sb.const(v)}"
    elif op == "starts_with":
        # Postal facts are upper-cased once, in facts.py; other strings are upper-cased here.
        subject = x if p.field == "dest.postal_code" else f"{x}.upper()"
        body = f"{subject}.startswith({sb.const(v)})"
    elif op == "contains":
        body = f"{sb.const(v)} in {fx}"
    elif op == "contains_any":
        body = f"not {fx}.isdisjoint({sb.const(v)})"
    elif op == "contains_all":
        body = f"{sb.const(v)} <= {fx}"
    else:
        raise ValueKindError(f"unknown operator {op!r}")
    return f"({guard} and {body})" if guard else f"({body})"


def build_function(name: str, body: list[str], sb: SourceBuilder) -> Callable[..., Any]:
    src = "\n".join([f"def {name}(F):"] + ["    " + ln for ln in sb.prologue() + body])
    namespace: dict[str, Any] = dict(sb.consts)
    # The source is generated from normalised, validated values only (constants are bound by
    # name, never spliced in as text), so no rule text can inject code.
    exec(compile(src, f"<rulewright:{name}>", "exec"), namespace)  # noqa: S102
    fn = namespace[name]
    fn.__rulewright_source__ = src
    return fn
