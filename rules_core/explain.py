"""Canonical plain English for rules and decisions.

``explain(rule)`` renders a rule in rulewright's controlled English: complete (scope,
priority, state, effective window, every condition and every action parameter),
unambiguous and deterministic. The offline parser (``assistant.offline``) reads the same
text back, so the phrase tables below are the single definition of the controlled language:

    Rule acme-heavy "ACME heavy parcels" for ACME, priority 200, effective from 2026-12-01:
    use service UPS_GROUND when the order weight is over 10 lb and the shipping zone is
    between 5 and 8 and not (the order value is over 500 USD).

Shape of the language:

* header: ``Rule <id> ["<name>"] for <CLIENT, ...|all clients>, priority <n>[, disabled]
  [, effective [from <date>] [and] [before <date>]]:``
* actions first, separated by ``;``, then ``when <condition>`` (absent: every order), then ``.``
* conditions: ``A and B`` (all), ``A or B`` (any); a nested group is bracketed ``(...)``;
  ``not (...)``, ``any line has (...)``, ``every line has (...)``; a group of one is
  ``all of (...)`` / ``any of (...)``
* predicates: ``the <field> <operator phrase> <value>``; field names are the registry's
  canonical names; lists are ``A, B, C``; text is "quoted"; codes are bare.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from rules_core.models import (
    AddTag,
    AllLines,
    AllOf,
    AnyLine,
    AnyOf,
    Decision,
    ExcludeServices,
    ExcludeWarehouses,
    Hold,
    Insure,
    NotOf,
    Predicate,
    PreferWarehouses,
    RateShop,
    RequireSignature,
    Rule,
    ShipFrom,
    Substitute,
    TraceEntry,
    UseService,
)
from rules_core.quantities import Money, Quantity
from rules_core.registry import FIELDS

# --- the phrase tables of the controlled language --------------------------------------------

OP_PHRASES: dict[str, str] = {
    "eq": "is", "ne": "is not", "gt": "is over", "gte": "is at least", "lt": "is under",
    "lte": "is at most", "between": "is between", "in": "is one of", "not_in": "is not one of",
    "starts_with": "starts with", "contains": "includes", "contains_any": "includes any of",
    "contains_all": "includes all of",
}
# Dates read better with before/after; the parser accepts both tables for every kind.
DATETIME_OP_PHRASES: dict[str, str] = {
    **OP_PHRASES, "gt": "is after", "gte": "is on or after", "lt": "is before", "lte": "is on or before",
}
STARTS_WITH_ANY = "starts with any of"  # starts_with with a list value

# Words of the language; a code spelled like one of them is quoted so it cannot be misread.
KEYWORDS = frozenset("""
    rule for all clients priority disabled effective from before and when the is not over at least
    under most between one of starts with includes any or line has every after on hold order in
    queue substitute then ship prefer warehouses else default warehouse exclude services carriers
    use service rate shop cheapest fastest among within transit days add tag require a signature
    insure shipment true false
""".split())

_BARE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")


# --- values ------------------------------------------------------------------------------------


def number_text(x: float | int) -> str:
    """A number without exponent or trailing zeros: 10.0 -> '10', 0.00001 -> '0.00001'."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if float(x).is_integer() and abs(x) < 2**53:
        return str(int(x))
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def code_text(code: str) -> str:
    """A catalog code bare when it reads unambiguously, else quoted."""
    return code if _BARE.match(code) and code not in KEYWORDS else quoted(code)


def datetime_text(dt: datetime) -> str:
    """A date when the time is midnight UTC, else an ISO 8601 instant."""
    aware = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    if (aware.hour, aware.minute, aware.second, aware.microsecond) == (0, 0, 0, 0):
        return aware.date().isoformat()
    return aware.isoformat().replace("+00:00", "Z")


def value_text(field: str, raw: Any) -> str:
    """One predicate value in the controlled language, by the field's kind."""
    spec = FIELDS.get(field)
    kind = spec.kind if spec else "string"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, Quantity):
        return f"{number_text(raw.value)} {code_text(raw.unit)}"
    if isinstance(raw, Money):
        return f"{number_text(raw.amount)} {code_text(raw.currency)}"
    if isinstance(raw, (int, float)):
        return number_text(raw)
    text = str(raw)
    if kind == "datetime" and _ISO.match(text):
        return text
    if kind in ("code", "enum"):
        return code_text(text)
    return quoted(text)


def _list_text(field: str, raw: Any) -> str:
    items = raw if isinstance(raw, list) else [raw]
    return ", ".join(value_text(field, v) for v in items)


# --- conditions --------------------------------------------------------------------------------


def predicate_text(p: Predicate) -> str:
    spec = FIELDS.get(p.field)
    name = spec.english if spec else p.field
    kind = spec.kind if spec else "string"
    phrases = DATETIME_OP_PHRASES if kind == "datetime" else OP_PHRASES
    if p.op == "between" and isinstance(p.value, list) and len(p.value) == 2:
        lo, hi = p.value
        return f"the {name} is between {value_text(p.field, lo)} and {value_text(p.field, hi)}"
    if p.op == "starts_with" and isinstance(p.value, list):
        return f"the {name} {STARTS_WITH_ANY} {_list_text(p.field, p.value)}"
    if isinstance(p.value, list):
        return f"the {name} {phrases[p.op]} {_list_text(p.field, p.value)}"
    return f"the {name} {phrases[p.op]} {value_text(p.field, p.value)}"


def condition_text(node: Any) -> str:
    """A condition tree; groups of two or more read as ``A and B`` / ``A or B``."""
    if isinstance(node, Predicate):
        return predicate_text(node)
    if isinstance(node, (AllOf, AnyOf)):
        children = node.all if isinstance(node, AllOf) else node.any
        if len(children) == 1:
            word = "all of" if isinstance(node, AllOf) else "any of"
            return f"{word} ({condition_text(children[0])})"
        joiner = " and " if isinstance(node, AllOf) else " or "
        return joiner.join(_operand_text(c) for c in children)
    if isinstance(node, NotOf):
        return f"not ({condition_text(node.not_)})"
    if isinstance(node, AnyLine):
        return f"any line has ({condition_text(node.any_line)})"
    if isinstance(node, AllLines):
        return f"every line has ({condition_text(node.all_lines)})"
    raise TypeError(f"unknown condition node {type(node).__name__}")


def _operand_text(node: Any) -> str:
    """A member of an and/or group: nested groups of two or more are bracketed."""
    text = condition_text(node)
    if isinstance(node, AllOf) and len(node.all) > 1 or isinstance(node, AnyOf) and len(node.any) > 1:
        return f"({text})"
    return text


# --- actions -----------------------------------------------------------------------------------


def _codes(codes: Iterable[str], sep: str = ", ") -> str:
    return sep.join(code_text(c) for c in codes)


def _pool_text(services: list[str] | None, carriers: list[str] | None) -> str:
    parts = []
    if services is not None:
        parts.append(f"services {_codes(services)}" if services else "no services")
    if carriers is not None:
        parts.append(f"carriers {_codes(carriers)}" if carriers else "no carriers")
    return " and ".join(parts)


def action_text(action: Any) -> str:
    if isinstance(action, Hold):
        queue = f" in queue {quoted(action.queue)}" if action.queue is not None else ""
        return f"hold the order for {quoted(action.reason)}{queue}"
    if isinstance(action, Substitute):
        return f"substitute {code_text(action.sku)} with {_codes(action.with_, ' then ')}"
    if isinstance(action, ShipFrom):
        return f"ship from {code_text(action.warehouse)}"
    if isinstance(action, PreferWarehouses):
        fallback = "hold the order" if action.fallback == "hold" else "the default warehouse"
        return f"prefer warehouses {_codes(action.warehouses, ' then ')}, else {fallback}"
    if isinstance(action, ExcludeWarehouses):
        return f"exclude warehouses {_codes(action.warehouses)}"
    if isinstance(action, UseService):
        return f"use service {code_text(action.service)}"
    if isinstance(action, RateShop):
        pool = _pool_text(action.services, action.carriers) or "all services"
        within = f" within {action.max_transit_days} transit days" if action.max_transit_days else ""
        return f"rate shop for the {action.objective} among {pool}{within}"
    if isinstance(action, ExcludeServices):
        return f"exclude {_pool_text(action.services, action.carriers) or 'no services'}"
    if isinstance(action, AddTag):
        return f"add tag {quoted(action.tag)}"
    if isinstance(action, RequireSignature):
        return "require a signature"
    if isinstance(action, Insure):
        return "insure the shipment"
    raise TypeError(f"unknown action {type(action).__name__}")


# --- rules -------------------------------------------------------------------------------------


def _header(rule: Rule) -> str:
    name = f" {quoted(rule.name)}" if rule.name else ""
    scope = _codes(rule.clients) if rule.clients else "all clients"
    parts = [f"Rule {rule.id}{name} for {scope}", f"priority {rule.priority}"]
    if not rule.enabled:
        parts.append("disabled")
    eff = rule.effective
    if eff is not None and (eff.from_ is not None or eff.until is not None):
        window = []
        if eff.from_ is not None:
            window.append(f"from {datetime_text(eff.from_)}")
        if eff.until is not None:
            window.append(f"before {datetime_text(eff.until)}")
        parts.append("effective " + " and ".join(window))
    return ", ".join(parts)


def explain(rule: Rule) -> str:
    """The canonical controlled English of one rule (one line, ends with a full stop)."""
    actions = "; ".join(action_text(a) for a in rule.then)
    when = f" when {condition_text(rule.when)}" if rule.when is not None else ""
    return f"{_header(rule)}: {actions}{when}."


def explain_rules(rules: Iterable[Rule]) -> str:
    """Several rules, one per line, in the given order."""
    return "\n".join(explain(r) for r in rules)


# --- decisions ---------------------------------------------------------------------------------


def _check_text(check: Any) -> str:
    line = f"line {check.line}: " if check.line is not None else ""
    spec = FIELDS.get(check.field)
    name = spec.english if spec else ("effective window" if check.field == "rule.effective" else check.field)
    verdict = "yes" if check.result else "no"
    phrase = OP_PHRASES.get(check.op, check.op)
    return f"{line}{name} {phrase} {check.expected}? {verdict} (actual {check.actual})"


def _entry_text(entry: TraceEntry) -> str:
    if entry.matched:
        why = "; ".join(_check_text(c) for c in entry.checks) or "no conditions"
        return f"  - {entry.rule} matched: {why}"
    failing = next((c for c in entry.checks if not c.result), None)
    why = _check_text(failing) if failing is not None else (entry.note or "its conditions were not met")
    return f"  - {entry.rule} did not match: {why}"


def _by_whom(who: str, default: str) -> str:
    return f"rule {who.split(':', 1)[1]}" if who.startswith("rule:") else default


ROUTING_DEFAULT = "default routing (the nearest warehouse that can fill every line)"
CARRIER_DEFAULT = "default carrier selection (the cheapest eligible service that meets the service level)"


def _outcome_lines(d: Decision) -> list[str]:
    out = [f"Order {d.order_id}: {'HELD' if d.held else 'not held'}."]
    out += [f"Held by rule {h.rule}: {h.reason}" + (f" (queue {h.queue})" if h.queue else "") for h in d.holds]
    out += [f"Line {s.line}: {s.from_} substituted with {s.to} by rule {s.rule}." for s in d.substitutions]
    for s in d.shipments:
        if s.warehouse:
            out.append(f"Ships from {s.warehouse}, chosen by {_by_whom(s.routed_by, ROUTING_DEFAULT)}.")
        if s.service:
            cost = f", {s.cost}" if s.cost else ""
            days = f", {s.transit_days} days" if s.transit_days is not None else ""
            out.append(f"Service {s.service}{cost}{days}, chosen by {_by_whom(s.decided_by, CARRIER_DEFAULT)}.")
    if d.tags:
        out.append("Tags: " + ", ".join(d.tags) + ".")
    if d.signature_required:
        out.append("A signature is required.")
    if d.insured:
        out.append("The shipment is insured.")
    out += [f"Exception {e.code} ({e.stage}" + (f", rule {e.rule}" if e.rule else "") + f"): {e.message}"
            for e in d.exceptions]
    return out


def explain_decision(decision: Decision) -> str:
    """Why an order got its decision, from the decision's trace (decide with trace=True)."""
    lines = _outcome_lines(decision)
    if not decision.trace:
        lines.append("No rule applied to this order's client, or the decision was made without a trace.")
        return "\n".join(lines)
    stage = None
    for entry in decision.trace:
        if entry.stage != stage:
            stage = entry.stage
            lines.append(f"{stage.capitalize()} rules:")
        lines.append(_entry_text(entry))
    return "\n".join(lines)
