"""Reading the canonical controlled English (what ``rules_core.explain`` writes) back into rules.

The grammar is LALR (``grammar.lark``) with lark's contextual lexer, so a code spelled like a
keyword is read as a code wherever a keyword cannot stand; explain quotes the rest.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from pydantic import ValidationError

from rules_core.models import Rule
from rules_core.quantities import CURRENCIES, WEIGHT_UNITS
from rules_core.registry import FIELDS, FieldSpec

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")
FIELD_BY_ENGLISH: dict[str, FieldSpec] = {spec.english: spec for spec in FIELDS.values()}


class CanonicalError(ValueError):
    """The text is not valid controlled English; the message says where and what was expected."""


@functools.lru_cache(maxsize=1)
def canonical_parser() -> Lark:
    names = sorted(FIELD_BY_ENGLISH, key=len, reverse=True)
    grammar = GRAMMAR_FILE.read_text(encoding="utf-8").replace(
        "__FIELDS__", "|".join(re.escape(n) for n in names))
    return Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=False)


# --- values ---------------------------------------------------------------------------------------

Value = tuple  # ("num", number, unit|None) | ("code", s) | ("str", s) | ("dt", s) | ("bool", b)


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def coerce(spec: FieldSpec, v: Value) -> Any:
    """A parsed value as the JSON value the field takes; CanonicalError when it cannot be."""
    tag = v[0]
    if spec.kind == "money":
        if tag != "num" or v[2] not in CURRENCIES:
            raise CanonicalError(f"the {spec.english} needs an amount with a currency, like 500 USD")
        return {"amount": v[1], "currency": v[2]}
    if spec.kind == "weight":
        if tag != "num" or v[2] not in WEIGHT_UNITS:
            raise CanonicalError(f"the {spec.english} needs a weight with a unit, like 10 lb")
        return {"value": v[1], "unit": v[2]}
    if spec.kind == "integer":
        if tag != "num" or v[2] is not None:
            raise CanonicalError(f"the {spec.english} needs a plain number")
        return v[1]
    if spec.kind == "bool":
        if tag != "bool":
            raise CanonicalError(f"the {spec.english} needs true or false")
        return v[1]
    if tag in ("code", "str", "dt"):
        return v[1]
    raise CanonicalError(f"the {spec.english} needs a name or quoted text, not a number")


def when_text(text: str) -> datetime:
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


# --- the transformer ------------------------------------------------------------------------------

_OPS = {
    "op_eq": "eq", "op_ne": "ne", "op_gt": "gt", "op_gte": "gte", "op_lt": "lt", "op_lte": "lte",
    "op_between": "between", "op_in": "in", "op_not_in": "not_in", "op_starts_with": "starts_with",
    "op_starts_with_any": "starts_with", "op_contains": "contains",
    "op_contains_any": "contains_any", "op_contains_all": "contains_all",
}
_LIST_OPS = {"op_in", "op_not_in", "op_starts_with_any", "op_contains_any", "op_contains_all"}


@v_args(inline=True)
class _ToRules(Transformer):
    def start(self, *rules: dict) -> list[dict]:
        return list(rules)

    # header
    def rule(self, rule_id: Token, *rest: Any) -> dict:
        items = list(rest)
        out: dict[str, Any] = {"id": str(rule_id), "name": ""}
        if items and isinstance(items[0], tuple) and items[0][0] == "name" and len(items[0]) == 2 and isinstance(items[0][1], str):
            out["name"] = items.pop(0)[1]
        out["clients"], out["priority"] = items.pop(0)
        while items and isinstance(items[0], tuple):
            key, val = items.pop(0)
            out[key] = val
        out["then"] = items.pop(0)
        if items:
            out["when"] = items.pop(0)
        return out

    def name(self, s: Token) -> tuple:
        return ("name", json.loads(s))

    def all_clients(self, priority: Token) -> tuple:
        return ([], int(priority))

    def some_clients(self, codes: list[str], priority: Token) -> tuple:
        return (codes, int(priority))

    def disabled(self) -> tuple:
        return ("enabled", False)

    def effective(self, window: dict) -> tuple:
        return ("effective", window)

    def window_from(self, a: Token) -> dict:
        return {"from": when_text(a)}

    def window_until(self, b: Token) -> dict:
        return {"until": when_text(b)}

    def window_both(self, a: Token, b: Token) -> dict:
        return {"from": when_text(a), "until": when_text(b)}

    # actions
    def actions(self, *acts: dict) -> list[dict]:
        return list(acts)

    def hold(self, reason: Token, queue: Token | None = None) -> dict:
        out = {"action": "hold", "reason": json.loads(reason)}
        if queue is not None:
            out["queue"] = json.loads(queue)
        return out

    def substitute(self, sku: str, *subs: str) -> dict:
        return {"action": "substitute", "sku": sku, "with": list(subs)}

    def ship_from(self, wh: str) -> dict:
        return {"action": "ship_from", "warehouse": wh}

    def prefer_warehouses(self, *items: str) -> dict:
        return {"action": "prefer_warehouses", "warehouses": list(items[:-1]), "fallback": items[-1]}

    def fallback_hold(self) -> str:
        return "hold"

    def fallback_default(self) -> str:
        return "default"

    def exclude_warehouses(self, codes: list[str]) -> dict:
        return {"action": "exclude_warehouses", "warehouses": codes}

    def use_service(self, code: str) -> dict:
        return {"action": "use_service", "service": code}

    def rate_shop(self, objective: Token, pool: dict, within: int | None = None) -> dict:
        out = {"action": "rate_shop", **pool, "objective": str(objective)}
        if within is not None:
            out["max_transit_days"] = within
        return out

    def within(self, n: Token) -> int:
        return int(n)

    def exclude_services(self, pool: dict) -> dict:
        return {"action": "exclude_services", **pool}

    def add_tag(self, tag: Token) -> dict:
        return {"action": "add_tag", "tag": json.loads(tag)}

    def require_signature(self) -> dict:
        return {"action": "require_signature"}

    def insure(self) -> dict:
        return {"action": "insure"}

    def pool_all(self) -> dict:
        return {}

    def pool_parts(self, *parts: dict) -> dict:
        out: dict = {}
        for part in parts:
            out.update(part)
        return out

    def pool_services(self, codes: list[str]) -> dict:
        return {"services": codes}

    def pool_carriers(self, codes: list[str]) -> dict:
        return {"carriers": codes}

    def codes(self, *items: Any) -> list[str]:
        return [*items[0], items[1]] if len(items) == 2 else [items[0]]

    def code(self, tok: Token) -> str:
        return json.loads(tok) if tok.type == "STRING" else str(tok)

    # conditions
    def when(self, cond: dict) -> dict:
        return cond

    def all_of(self, *children: dict) -> dict:
        return {"all": list(children)}

    def any_of(self, *children: dict) -> dict:
        return {"any": list(children)}

    def all_of_one(self, child: dict) -> dict:
        return {"all": [child]}

    def any_of_one(self, child: dict) -> dict:
        return {"any": [child]}

    def not_of(self, child: dict) -> dict:
        return {"not": child}

    def any_line(self, child: dict) -> dict:
        return {"any_line": child}

    def all_lines(self, child: dict) -> dict:
        return {"all_lines": child}

    def predicate(self, field: Token, op: tuple) -> dict:
        spec = FIELD_BY_ENGLISH[str(field)]
        name, raw = op
        if name == "op_between":
            value: Any = [coerce(spec, raw[0]), coerce(spec, raw[1])]
        elif name in _LIST_OPS:
            value = [coerce(spec, v) for v in raw]
        else:
            value = coerce(spec, raw)
        return {"field": spec.name, "op": _OPS[name], "value": value}

    def values(self, *items: Any) -> list[Value]:
        return [*items[0], items[1]] if len(items) == 2 else [items[0]]

    def v_number(self, n: Token, unit: Token | None = None) -> Value:
        return ("num", _number(n), str(unit) if unit is not None else None)

    def v_code(self, t: Token) -> Value:
        return ("code", str(t))

    def v_string(self, t: Token) -> Value:
        return ("str", json.loads(t))

    def v_datetime(self, t: Token) -> Value:
        return ("dt", str(t))

    def v_true(self) -> Value:
        return ("bool", True)

    def v_false(self) -> Value:
        return ("bool", False)

    def op_between(self, lo: Value, hi: Value) -> tuple:
        return ("op_between", (lo, hi))


def _op_method(name: str) -> Any:
    def method(self: Any, value: Any) -> tuple:
        return (name, value)
    return v_args(inline=True)(method)


for _name in _OPS:
    if _name != "op_between":
        setattr(_ToRules, _name, _op_method(_name))


def _where(exc: UnexpectedInput, text: str) -> str:
    pos = getattr(exc, "pos_in_stream", None) or 0
    snippet = text[pos:pos + 30].split("\n")[0]
    if isinstance(exc, UnexpectedToken):
        expected = sorted(t for t in exc.expected if not t.startswith("__ANON"))[:8]
        hint = f"; expected {', '.join(expected)}" if expected else ""
        return f"column {exc.column}: unexpected {snippet!r}{hint}"
    if isinstance(exc, UnexpectedCharacters):
        return f"column {exc.column}: cannot read {snippet!r}"
    return "unexpected end of text"


def parse_canonical(text: str) -> list[Rule]:
    """Rules from canonical controlled English; CanonicalError says where it went wrong."""
    try:
        tree = canonical_parser().parse(text)
        raw = _ToRules().transform(tree)
    except VisitError as exc:
        raise CanonicalError(str(exc.orig_exc)) from None
    except UnexpectedInput as exc:
        raise CanonicalError(_where(exc, text)) from None
    except LarkError as exc:
        raise CanonicalError(str(exc).splitlines()[0]) from None
    rules = []
    for item in raw:
        try:
            rules.append(Rule.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise CanonicalError(f"rule {item.get('id')}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return rules
