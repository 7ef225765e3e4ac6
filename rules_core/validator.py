"""The validator: findings for a rule or a rule set, never an exception.

``validate(rules, catalog, existing=...)`` accepts raw JSON (a list of rules, ``{"rules": [...]}``
or one rule) or parsed ``Rule`` objects and returns ``Finding``s whose ``path`` is a JSON pointer
into that input (``/0/when/all/1/value``; ``/rules/0/...`` for a rules document; ``/when/...``
for a single rule). Arbitrary JSON never raises: every problem becomes a finding.

Checks run in layers; each finding code belongs to one:

| code                       | severity | layer | what it says                                               |
|----------------------------|----------|-------|------------------------------------------------------------|
| `schema`                   | error    | 1     | wrong JSON type or shape (list expected, empty list, ...)  |
| `unknown_key`              | error    | 1     | a key the rule language does not have (did-you-mean)       |
| `missing_key`              | error    | 1     | a required key is absent (`then`, `field`, `reason`, ...)  |
| `bad_id`                   | error    | 1     | the id does not match the id pattern                       |
| `unknown_action`           | error    | 1     | `action` names no action (did-you-mean)                    |
| `unknown_field`            | error    | 2     | a condition tests a field the registry does not have       |
| `unknown_operator`         | error    | 2     | `op` is not an operator of the rule language               |
| `unknown_client`           | error    | 2     | a client code the catalog does not have                    |
| `unknown_channel`          | error    | 2     | likewise for channels                                      |
| `unknown_warehouse`        | error    | 2     | likewise for warehouses                                    |
| `unknown_carrier`          | error    | 2     | likewise for carriers                                      |
| `unknown_service`          | error    | 2     | likewise for services                                      |
| `unknown_sku`              | error    | 2     | likewise for SKUs                                          |
| `unknown_country`          | error    | 2     | likewise for countries                                     |
| `unknown_region`           | error    | 2     | likewise for regions (states, provinces)                   |
| `unknown_category`         | error    | 2     | likewise for SKU categories                                |
| `region_not_in_country`    | error    | 2     | a region outside every country the same `all` requires     |
| `wrong_value_kind`         | error    | 3     | a value of the wrong kind (money for a weight, text, ...)  |
| `unknown_unit`             | error    | 3     | a unit that is not lb, oz, kg or g                         |
| `unknown_currency`         | error    | 3     | a currency that is not a known ISO 4217 code               |
| `mixed_currencies`         | error    | 3     | the two ends of a money range are in different currencies  |
| `empty_range`              | error    | 3     | `between` with low above high                              |
| `out_of_range`             | both     | 3     | a number outside the field's range (zone 9): an error when |
|                            |          |       | the check can never hold, a warning when it always holds   |
| `unknown_enum_value`       | error    | 3     | a value outside an enum field's values (did-you-mean)      |
| `bad_date`                 | error    | 3     | a date or time that is not ISO 8601                        |
| `operator_not_allowed`     | error    | 4     | the operator does not apply to the field's kind            |
| `field_not_known_at_stage` | error    | 5     | the fact is not known yet at the rule's stage              |
| `line_field_outside_line`  | error    | 5     | a `line.*` field outside `any_line` / `all_lines`          |
| `mixed_stages`             | error    | 6     | actions of more than one stage in one rule                 |
| `several_decisive_actions` | error    | 6     | more than one decisive action in one rule                  |
| `substitute_self`          | error    | 6     | a substitute list that contains the SKU it replaces        |
| `empty_selection`          | error    | 6     | `services`/`carriers` given as an empty list, or an        |
|                            |          |       | `exclude_services` that names nothing                      |
| `impossible_condition`     | error    | 7     | checks joined by `all` that no order can meet together     |
| `matches_everything`       | warning  | 7     | no `when`, or one that every order in scope meets          |
| `optional_fact`            | warning  | 7     | the rule tests a fact that may be missing on an order      |
| `currency_mismatch`        | warning  | 7     | money in another currency than the clients' orders         |
| `empty_window`             | error    | 7     | `effective.from` is not before `effective.until`           |
| `action_impossible`        | error    | 8     | the action cannot be carried out for any order the rule    |
|                            |          |       | matches (service over its weight limit, wrong country, ...)|
| `warehouse_lacks_stock`    | warning  | 8     | the warehouse holds none of the SKUs the rule requires     |
| `duplicate_id`             | error    | 9     | two proposed rules share an id                             |
| `equal_priority`           | warning  | 9     | decisive rules of one stage, same priority, overlapping    |
| `shadowed`                 | warning  | 9     | a rule whose decisive action can never win                 |
| `validator_failure`        | error    | -     | the validator itself failed on this input (a bug: report)  |

Layers 7-9 reason about conjunctions of comparisons with an interval and set algebra
(``Domain``). They are conservative: an `impossible_condition`, `action_impossible` or
`shadowed` finding is reported only when it is certain for every order.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from pydantic import BaseModel, ValidationError

from rules_core.catalog import Catalog, Service
from rules_core.conditions import NormPredicate, ValueKindError, normalize, test
from rules_core.errors import QuantityError
from rules_core.findings import Finding, Severity, did_you_mean, pointer
from rules_core.models import (
    ACTION_STAGE,
    DECISIVE_ACTIONS,
    AddTag,
    AllLines,
    AllOf,
    AnyLine,
    AnyOf,
    Effective,
    ExcludeServices,
    ExcludeWarehouses,
    Hold,
    Insure,
    NotOf,
    PreferWarehouses,
    RateShop,
    RequireSignature,
    Rule,
    RuleSet,
    ShipFrom,
    Substitute,
    UseService,
    rule_json,
)
from rules_core.quantities import CURRENCIES, WEIGHT_UNITS, to_base, unit_kind
from rules_core.registry import ALL_OPS, FIELDS, OP_WORDS, FieldSpec
from rules_core.schema import rule_schema, ruleset_schema

__all__ = ["CODES", "validate", "validate_rule", "parse_rules", "rule_schema", "ruleset_schema"]

CODES: dict[str, Severity] = {
    "schema": "error", "unknown_key": "error", "missing_key": "error", "bad_id": "error",
    "unknown_action": "error", "unknown_field": "error", "unknown_operator": "error",
    "unknown_client": "error", "unknown_channel": "error", "unknown_warehouse": "error",
    "unknown_carrier": "error", "unknown_service": "error", "unknown_sku": "error",
    "unknown_country": "error", "unknown_region": "error", "unknown_category": "error",
    "region_not_in_country": "error", "wrong_value_kind": "error", "unknown_unit": "error",
    "unknown_currency": "error", "mixed_currencies": "error", "empty_range": "error",
    "out_of_range": "error", "unknown_enum_value": "error", "bad_date": "error",
    "operator_not_allowed": "error", "field_not_known_at_stage": "error",
    "line_field_outside_line": "error", "mixed_stages": "error",
    "several_decisive_actions": "error", "substitute_self": "error", "empty_selection": "error",
    "impossible_condition": "error", "matches_everything": "warning",
    "optional_fact": "warning", "currency_mismatch": "warning", "empty_window": "error",
    "action_impossible": "error", "warehouse_lacks_stock": "warning", "duplicate_id": "error",
    "equal_priority": "warning", "shadowed": "warning", "validator_failure": "error",
}

MAX_DEPTH = 32  # condition nesting deeper than this is not a rule anyone means to write
# Amounts and weights beyond this are no order's, and beyond ~7.9e28 the JDM runtime (zen-engine,
# decimal numbers) cannot hold them: an approved rule set must stay exportable.
MAX_QUANTITY = 1e15
LINE_SCOPES = ("any_line", "all_lines")
NODE_KEYS = ("all", "any", "not", "any_line", "all_lines")
PREDICATE_KEYS = ("field", "op", "value")

ACTION_MODELS: dict[str, type[BaseModel]] = {
    "hold": Hold, "substitute": Substitute, "ship_from": ShipFrom,
    "prefer_warehouses": PreferWarehouses, "exclude_warehouses": ExcludeWarehouses,
    "use_service": UseService, "rate_shop": RateShop, "exclude_services": ExcludeServices,
    "add_tag": AddTag, "require_signature": RequireSignature, "insure": Insure,
}
NODE_MODELS: dict[str, type[BaseModel]] = {
    "all": AllOf, "any": AnyOf, "not": NotOf, "any_line": AnyLine, "all_lines": AllLines,
}

# Words people (and models) write for operators and units, mapped to the canonical names.
OP_SYNONYMS = {
    "=": "eq", "==": "eq", "equals": "eq", "is": "eq", "!=": "ne", "not_eq": "ne",
    ">": "gt", "greater_than": "gt", ">=": "gte", "at_least": "gte", "<": "lt",
    "less_than": "lt", "<=": "lte", "at_most": "lte", "one_of": "in", "not_one_of": "not_in",
    "prefix": "starts_with", "startswith": "starts_with", "has": "contains",
}
UNIT_SYNONYMS = {
    "lbs": "lb", "pound": "lb", "pounds": "lb", "ounce": "oz", "ounces": "oz", "kgs": "kg",
    "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg", "gram": "g", "grams": "g",
}
CURRENCY_SYNONYMS = {"$": "USD", "US$": "USD", "C$": "CAD", "CA$": "CAD", "€": "EUR", "£": "GBP"}

# What each catalog collection is called in messages, and its finding code.
REF_LABELS = {
    "client": "client", "channel": "channel", "warehouse": "warehouse", "carrier": "carrier",
    "service": "service", "sku": "SKU", "country": "country", "region": "region",
    "category": "category",
}


# --- the public API ---------------------------------------------------------------------------


def validate(rules: Any, catalog: Catalog, *, existing: Sequence[Rule] | None = None) -> list[Finding]:
    """Every finding for ``rules`` (raw JSON or Rule objects) against ``catalog``.

    ``existing`` is the active rule set the proposal joins: a proposed rule with an existing id
    replaces it, and rule-set findings (shadowing, equal priority) consider the merged set.
    """
    refs = References(catalog)
    items, findings = _rule_items(rules)
    proposed: list[RuleView] = []
    for item, path in items:
        rule_findings, view = _guarded(path, lambda: _check_rule(item, refs, path))
        findings += rule_findings
        if view is not None:
            proposed.append(view)
    findings += _duplicate_ids(items)
    set_findings, _ = _guarded("", lambda: (_ruleset_findings(proposed, existing or (), refs), None))
    return findings + set_findings


def validate_rule(raw: Any, catalog: Catalog, path: str = "") -> list[Finding]:
    """Findings for one rule (layers 1-8); ``path`` is the rule's JSON pointer in its document."""
    findings, _ = _guarded(path, lambda: _check_rule(raw, References(catalog), path))
    return findings


def parse_rules(raw: Any) -> tuple[list[Rule], list[Finding]]:
    """The rules in ``raw`` that parse, and shape findings for those that do not."""
    items, findings = _rule_items(raw)
    rules: list[Rule] = []
    for item, path in items:
        if isinstance(item, Rule):
            rules.append(item)
            continue
        rule, shape = _parse_shape(item, path)
        findings += shape
        if rule is not None:
            rules.append(rule)
    return rules, findings


def _guarded(path: str, run: Callable[[], tuple[list[Finding], Any]]) -> tuple[list[Finding], Any]:
    """Run one check; a failure of the validator itself becomes a finding, never a traceback."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - the contract is: findings, never an exception
        message = f"the validator could not check this input ({type(exc).__name__}: {exc})"
        return [_finding("validator_failure", message, path, "please report this input as a bug")], None


def closest(name: str, choices: Iterable[str]) -> str | None:
    """'did you mean `X`?' naming only the closest choice (or None when nothing is close)."""
    pool = list(choices)
    folded = {c.upper().replace("-", "_").replace(" ", "_"): c for c in pool}
    key = name.upper().replace("-", "_").replace(" ", "_")
    best = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return did_you_mean(name, [folded[best[0]]]) if best else did_you_mean(name, pool)


def _finding(code: str, message: str, path: str, hint: str | None = None,
             severity: Severity | None = None) -> Finding:
    return Finding(code=code, severity=severity or CODES[code], message=message, path=path, hint=hint)


RuleItems = list[tuple[Any, str]]  # each rule item with its JSON pointer in the document


def _rule_items(raw: Any) -> tuple[RuleItems, list[Finding]]:
    """The rule items of a document with their pointers, and findings on the document's shape."""
    if isinstance(raw, RuleSet):
        raw = raw.rules
    if isinstance(raw, (list, tuple)):
        return [(item, f"/{i}") for i, item in enumerate(raw)], []
    if isinstance(raw, dict) and "rules" in raw and "then" not in raw:
        if isinstance(raw["rules"], list):
            extra = [_finding("unknown_key", f"a rules document has only `rules`, not `{k}`", pointer(k))
                     for k in raw if k != "rules"]
            return [(item, f"/rules/{i}") for i, item in enumerate(raw["rules"])], extra
        return [], [_finding("schema", "`rules` must be a list of rule objects", "/rules")]
    if isinstance(raw, (dict, Rule)):
        return [(raw, "")], []
    message = f'expected a rule object, a list of rules or {{"rules": [...]}}, got {_json_type(raw)}'
    return [], [_finding("schema", message, "")]


def _json_type(raw: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", type(None): "null",
             list: "a list", dict: "an object"}
    return names.get(type(raw), type(raw).__name__)


# --- the catalog's names, for references and hints -------------------------------------------------


class References:
    """The catalog's codes per collection, with the human names used for did-you-mean hints."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.names = catalog.names()

    def known(self, ref: str, code: str) -> bool:
        return code in self.names.get(ref, {})

    def codes(self, ref: str) -> list[str]:
        return list(self.names.get(ref, {}))

    def hint(self, ref: str, code: str) -> str | None:
        """'did you mean `UPS_GROUND`?' from a code, a human name or an alias."""
        folded = code.casefold().strip()
        for known, names in self.names.get(ref, {}).items():
            if folded in (n.casefold() for n in names) or folded == known.casefold():
                return f"did you mean `{known}`?"
        close = closest(code, self.codes(ref))
        if close:
            return close
        codes = self.codes(ref)
        if len(codes) <= 12:
            return f"known {REF_LABELS.get(ref, ref)} codes: {', '.join(codes)}"
        return None

    def finding(self, ref: str, code: Any, path: str) -> Finding | None:
        """An ``unknown_<ref>`` finding when ``code`` is text the catalog does not know."""
        if not isinstance(code, str) or self.known(ref, code):
            return None
        return _finding(f"unknown_{ref}", f"unknown {REF_LABELS[ref]} `{code}`", path, self.hint(ref, code))


# --- analysed conditions -----------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """A condition node after checking: ``p`` (a predicate that passed every check), a group
    (``all``, ``any``, ``not``, ``any_line``, ``all_lines``) or ``broken`` (has error findings)."""

    kind: str
    path: str
    pred: NormPredicate | None = None
    raw_value: Any = None
    children: tuple["Node", ...] = ()

    def key(self) -> Any:
        """Structure without paths: equal keys mean the same condition."""
        if self.kind == "p":
            return ("p", self.pred)
        if self.kind == "broken":
            return ("broken", id(self))
        return (self.kind, tuple(c.key() for c in self.children))

    @property
    def broken(self) -> bool:
        return self.kind == "broken" or any(c.broken for c in self.children)

    def describe(self) -> str:
        if self.pred is None:
            return f"the `{self.kind}` group at {self.path or '/'}"
        return predicate_text(self.pred)


def predicate_text(p: NormPredicate) -> str:
    if p.field == "client" and p.op == "in" and p.scope == "scope":
        return f"the rule's clients ({p.expected})"
    return f"`{p.field} {OP_WORDS.get(p.op, p.op)} {p.expected}`"


def conjuncts(node: Node) -> list[Node]:
    """The parts of a node that must all hold: nested ``all`` groups flattened."""
    if node.kind == "all":
        return [part for child in node.children for part in conjuncts(child)]
    return [node]


def scope_predicate(clients: Iterable[str]) -> NormPredicate:
    """The rule's client list as a predicate, so that scope joins the condition algebra."""
    codes = frozenset(clients)
    return NormPredicate("client", "in", codes, None, ", ".join(sorted(codes)), None, "scope")


# --- the domain algebra: what a conjunction allows for one field ---------------------------------------

_ORDERED = ("weight", "money", "integer", "datetime")
_SMALL_RANGE = 256


class Domain:
    """The values of one field that satisfy a conjunction of predicates.

    Ordered kinds keep an interval and excluded points; code-like kinds keep an allowed set and
    excluded values; strings keep prefixes and substrings; tags keep required tags. ``is_empty``
    and ``implies`` answer True only when certain.
    """

    def __init__(self, spec: FieldSpec, preds: Iterable[NormPredicate] = ()) -> None:
        self.spec = spec
        self.preds: list[NormPredicate] = []
        self.lo: Any = None
        self.lo_open = False
        self.hi: Any = None
        self.hi_open = False
        self.allowed: frozenset[Any] | None = None
        self.excluded: set[Any] = set()
        self.prefix_sets: list[tuple[str, ...]] = []
        self.substrings: set[str] = set()
        self.tags_all: set[str] = set()
        self.tags_any: list[frozenset[str]] = []
        self.currencies: set[str] = set()
        if spec.kind == "integer":
            self._bound_field_range()
        for p in preds:
            self.add(p)

    def _bound_field_range(self) -> None:
        if self.spec.minimum is not None:
            self.lo = math.ceil(self.spec.minimum)
        if self.spec.maximum is not None:
            self.hi = math.floor(self.spec.maximum)

    def merged(self, other: "Domain") -> "Domain":
        return Domain(self.spec, self.preds + other.preds)

    # -- narrowing

    def add(self, p: NormPredicate) -> None:
        self.preds.append(p)
        if p.currency is not None:
            self.currencies.add(p.currency)
        op, v = p.op, p.value
        if op == "eq":
            self._allow(frozenset([v]))
        elif op == "in":
            self._allow(v)
        elif op == "ne":
            self.excluded.add(v)
        elif op == "not_in":
            self.excluded |= v
        elif op in ("gt", "gte"):
            self._raise_lo(v, op == "gt")
        elif op in ("lt", "lte"):
            self._lower_hi(v, op == "lt")
        elif op == "between":
            self._raise_lo(v[0], False)
            self._lower_hi(v[1], False)
        elif op == "starts_with":
            self.prefix_sets.append(tuple(v))
        elif op == "contains" and self.spec.kind == "tags":
            self.tags_all.add(v)
        elif op == "contains":
            self.substrings.add(v)
        elif op == "contains_all":
            self.tags_all |= v
        elif op == "contains_any":
            self.tags_any.append(v)

    def _allow(self, values: frozenset[Any]) -> None:
        self.allowed = values if self.allowed is None else self.allowed & values

    def _raise_lo(self, v: Any, open_: bool) -> None:
        if self.lo is None or v > self.lo:
            self.lo, self.lo_open = v, open_
        elif v == self.lo:
            self.lo_open = self.lo_open or open_

    def _lower_hi(self, v: Any, open_: bool) -> None:
        if self.hi is None or v < self.hi:
            self.hi, self.hi_open = v, open_
        elif v == self.hi:
            self.hi_open = self.hi_open or open_

    # -- membership

    def in_interval(self, v: Any) -> bool:
        if self.lo is not None and (v < self.lo or (v == self.lo and self.lo_open)):
            return False
        return not (self.hi is not None and (v > self.hi or (v == self.hi and self.hi_open)))

    def admits(self, v: Any) -> bool:
        """Whether one concrete value meets every predicate of the conjunction."""
        if v in self.excluded or not self.in_interval(v):
            return False
        if isinstance(v, str):
            if not all(any(v.upper().startswith(q) for q in qs) for qs in self.prefix_sets):
                return False
            if not all(s in v for s in self.substrings):
                return False
        return self.allowed is None or v in self.allowed

    def _integer_bounds(self) -> tuple[int | None, int | None]:
        lo = None if self.lo is None else (math.floor(self.lo) + 1 if self.lo_open else math.ceil(self.lo))
        hi = None if self.hi is None else (math.ceil(self.hi) - 1 if self.hi_open else math.floor(self.hi))
        return lo, hi

    def universe(self) -> Iterable[Any] | None:
        """Every value the field can take, when that is a small finite set."""
        if self.allowed is not None:
            return self.allowed
        if self.spec.kind == "bool":
            return (True, False)
        if self.spec.kind == "enum":
            return self.spec.values
        if self.spec.kind == "integer":
            lo, hi = self._integer_bounds()
            if lo is not None and hi is not None and hi - lo <= _SMALL_RANGE:
                return range(lo, max(lo, hi + 1))
        return None

    def candidates(self) -> set[Any] | None:
        """The values that satisfy the conjunction, when finitely many; None when unbounded."""
        universe = self.universe()
        if universe is None:
            return None
        return {v for v in universe if self.admits(v)}

    # -- questions

    def is_empty(self) -> bool:
        if len(self.currencies) > 1:
            return True  # an order has one currency
        found = self.candidates()
        if found is not None:
            return not found
        if self.lo is not None and self.hi is not None:
            if self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open)):
                return True
            if self.lo == self.hi and self.lo in self.excluded:
                return True
        return not _prefixes_compatible(self.prefix_sets)

    def implies(self, p: NormPredicate) -> bool:
        """Whether every value this domain allows meets ``p`` (a predicate on the same field)."""
        if p.currency is not None and self.currencies != {p.currency}:
            return False
        found = self.candidates()
        if found is not None:
            return all(test(p, v, p.currency) for v in found)
        return _implied_by_bounds(self, p)

    def least(self) -> tuple[Any, bool] | None:
        """The lower bound (value, open) of an ordered domain, if any."""
        found = self.candidates()
        if found:
            return min(found), False
        return None if self.lo is None else (self.lo, self.lo_open)


def _implied_by_bounds(d: Domain, p: NormPredicate) -> bool:
    op, v = p.op, p.value
    if op == "gt":
        return d.lo is not None and (d.lo > v or (d.lo == v and d.lo_open))
    if op == "gte":
        return d.lo is not None and d.lo >= v
    if op == "lt":
        return d.hi is not None and (d.hi < v or (d.hi == v and d.hi_open))
    if op == "lte":
        return d.hi is not None and d.hi <= v
    if op == "between":
        return d.lo is not None and d.hi is not None and d.lo >= v[0] and d.hi <= v[1]
    if op == "ne":
        return not d.admits(v)
    if op == "not_in":
        return all(not d.admits(x) for x in v)
    if op == "starts_with":
        return any(all(any(q.startswith(pre) for pre in v) for q in qs) for qs in d.prefix_sets)
    if op == "contains" and d.spec.kind == "tags":
        return v in d.tags_all
    if op == "contains":
        return v in d.substrings
    if op == "contains_all":
        return v <= d.tags_all
    if op == "contains_any":
        return bool(v & d.tags_all) or any(u <= v for u in d.tags_any)
    return False  # eq / in over an unbounded domain


def _prefixes_compatible(prefix_sets: list[tuple[str, ...]]) -> bool:
    """Whether one text can start with a prefix from every set."""
    current = {""}
    for options in prefix_sets:
        current = {max(a, b, key=len) for a in current for b in options if a.startswith(b) or b.startswith(a)}
        if not current:
            return False
    return True


def domains_of(preds: Iterable[NormPredicate]) -> dict[str, Domain]:
    out: dict[str, Domain] = {}
    for p in preds:
        spec = FIELDS[p.field]
        out.setdefault(p.field, Domain(spec)).add(p)
    return out


# --- one rule: context and shape (layer 1) ------------------------------------------------------------


@dataclass
class RuleContext:
    refs: References
    path: str  # the rule's JSON pointer
    stage: str | None = None
    clients: tuple[str, ...] = ()
    findings: list[Finding] = field(default_factory=list)

    @property
    def catalog(self) -> Catalog:
        return self.refs.catalog

    def add(self, code: str, message: str, where: str, hint: str | None = None,
            severity: Severity | None = None) -> None:
        self.findings.append(_finding(code, message, where, hint, severity))

    def extend(self, found: Iterable[Finding | None]) -> None:
        self.findings.extend(f for f in found if f is not None)

    def errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


@dataclass
class RuleView:
    """What the rule-set checks need to know about one parsed, error-free rule."""

    rule: Rule
    path: str | None  # None for an existing (active) rule
    tree: Node | None
    order: tuple[int, str] = field(init=False)
    stage: str = field(init=False)
    decisive: Any = field(init=False)
    clients: frozenset[str] = field(init=False)
    window: tuple[datetime | None, datetime | None] = field(init=False)
    domains: dict[str, Domain] = field(init=False)
    requirements: list[NormPredicate] = field(init=False)
    opaque: frozenset[Any] = field(init=False)
    required_fields: frozenset[str] = field(init=False)
    sku: str | None = field(init=False)

    def __post_init__(self) -> None:
        r = self.rule
        self.order = (-r.priority, r.id)
        self.stage = r.stage
        self.decisive = r.decisive_action
        self.clients = frozenset(r.clients)
        self.window = _window(r)
        parts = conjuncts(self.tree) if self.tree is not None else []
        preds = [n.pred for n in parts if n.pred is not None]
        if self.clients:
            preds.append(scope_predicate(self.clients))
        self.domains = domains_of(preds)
        self.requirements = preds
        self.opaque = frozenset(n.key() for n in parts if n.pred is None)
        self.required_fields = frozenset(p.field for p in preds)
        self.sku = getattr(self.decisive, "sku", None)


def _check_rule(item: Any, refs: References, path: str) -> tuple[list[Finding], RuleView | None]:
    """All single-rule findings, and the rule's view for rule-set checks when it has no errors."""
    raw = rule_json(item) if isinstance(item, Rule) else item
    if not isinstance(raw, dict):
        return [_finding("schema", f"a rule must be a JSON object, got {_json_type(raw)}", path)], None
    ctx = RuleContext(refs, path, stage=_stage_of(raw.get("then")), clients=_clients_of(raw))
    rule, shape = (item, []) if isinstance(item, Rule) else _parse_shape(raw, path)
    tree = _check_when(raw, ctx)
    # The condition walk explains condition problems better than pydantic's union errors do;
    # pydantic's stand only when the walk found nothing.
    when_errors = _has_when_errors(ctx, path)
    ctx.findings += [f for f in shape if not (when_errors and _under(f.path, path + "/when"))]
    _check_scope(raw, ctx)
    _check_actions(raw, ctx)
    _check_effective(raw, ctx)
    if tree is not None and not tree.broken:
        _check_logic(tree, ctx)
        _check_action_feasibility(raw, tree, ctx)
    elif tree is None:
        _check_logic(None, ctx)
        _check_action_feasibility(raw, None, ctx)
    findings = _dedupe(ctx.findings)
    if rule is None or any(f.severity == "error" for f in findings):
        return findings, None
    return findings, RuleView(rule, path, tree)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _has_when_errors(ctx: RuleContext, base: str) -> bool:
    return any(f.severity == "error" and _under(f.path, base + "/when") for f in ctx.findings)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.path, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _stage_of(then: Any) -> str | None:
    if not isinstance(then, list):
        return None
    for action in then:
        name = action.get("action") if isinstance(action, dict) else None
        if isinstance(name, str) and name in ACTION_STAGE:
            return ACTION_STAGE[name]
    return None


def _clients_of(raw: dict[str, Any]) -> tuple[str, ...]:
    clients = raw.get("clients")
    if not isinstance(clients, list):
        return ()
    return tuple(c for c in clients if isinstance(c, str))


def _parse_shape(raw: Any, path: str) -> tuple[Rule | None, list[Finding]]:
    """The parsed rule, or shape findings from pydantic's errors with JSON pointer paths."""
    if not isinstance(raw, dict):
        return None, [_finding("schema", f"a rule must be a JSON object, got {_json_type(raw)}", path)]
    try:
        return Rule.model_validate(raw), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        return None, [_finding("schema", f"the rule cannot be read ({type(exc).__name__})", path)]
    findings: list[Finding] = []
    for err in errors:
        finding = _shape_finding(err, raw, path)
        if finding is not None:
            findings.append(finding)
    return None, _first_per_path(findings)


def _first_per_path(findings: list[Finding]) -> list[Finding]:
    """Union members each report an error at the same place; keep the first per path."""
    seen: set[str] = set()
    out = []
    for f in findings:
        if f.path not in seen or f.code in ("unknown_key", "missing_key"):
            seen.add(f.path)
            out.append(f)
    return out


def _resolve(raw: Any, loc: Sequence[Any]) -> tuple[list[Any], Any, Any]:
    """Follow a pydantic error location through the raw JSON, skipping union tags.

    Returns the real path parts, the parent value of the last part and the last part."""
    parts: list[Any] = []
    parent: Any
    current, parent, last = raw, None, None
    for i, step in enumerate(loc):
        is_last = i == len(loc) - 1
        if isinstance(current, dict) and step in current:
            parent, last, current = current, step, current[step]
            parts.append(step)
        elif isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current):
            parent, last, current = current, step, current[step]
            parts.append(step)
        elif isinstance(current, dict) and is_last and isinstance(step, str):
            parent, last = current, step
            parts.append(step)
    return parts, parent, last


def _shape_finding(err: Any, raw: dict[str, Any], path: str) -> Finding | None:
    parts, parent, last = _resolve(raw, err["loc"])
    where = path + pointer(*parts)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(parent, parts)
        hint = closest(str(last), allowed) if allowed else None
        return _finding("unknown_key", f"unknown key `{last}`{_in_what(parts)}", where,
                        hint or (f"allowed keys: {', '.join(allowed)}" if allowed else None))
    if kind == "missing":
        return _finding("missing_key", _missing_message(str(last), parts), where)
    if kind == "string_pattern_mismatch" and parts == ["id"]:
        return _finding("bad_id", f"rule id `{raw.get('id')}` is not a valid id", where,
                        "use letters, digits and . _ : - only, starting with a letter or digit "
                        f"(at most 100 characters), e.g. `{_slug(raw.get('id'))}`")
    if kind == "union_tag_invalid":
        name = parent[last].get("action") if isinstance(parent, (dict, list)) and _is_dict_at(parent, last) else None
        return _finding("unknown_action", f"unknown action `{name}`", where + "/action",
                        closest(str(name), ACTION_STAGE) or f"actions: {', '.join(ACTION_STAGE)}")
    if kind == "union_tag_not_found":
        return _finding("missing_key", "an action needs `action`, naming what to do", where,
                        f"actions: {', '.join(ACTION_STAGE)}")
    if kind == "recursion_loop" or kind == "recursion_depth_exceeded":
        return _finding("schema", "the condition is nested too deeply", where)
    return _finding("schema", f"{err['msg']}{_in_what(parts)}", where)


def _is_dict_at(parent: Any, key: Any) -> bool:
    try:
        return isinstance(parent[key], dict)
    except (KeyError, IndexError, TypeError):
        return False


def _in_what(parts: list[Any]) -> str:
    if not parts:
        return " in the rule"
    if parts[0] == "then" and len(parts) >= 2:
        return f" in action #{parts[1]}"
    if parts[0] == "when":
        return " in the condition"
    return f" in `{parts[0]}`" if len(parts) > 1 else ""


def _missing_message(key: str, parts: list[Any]) -> str:
    if parts == ["then"]:
        return "the rule has no `then`: add at least one action, e.g. [{\"action\": \"hold\", \"reason\": \"...\"}]"
    if parts == ["id"]:
        return "the rule has no `id`: give it a stable identifier such as `acme-heavy-far-zones`"
    return f"`{key}` is required{_in_what(parts[:-1]) if len(parts) > 1 else ' in the rule'}"


def _allowed_keys(parent: Any, parts: list[Any]) -> list[str]:
    """The keys the model at ``parent`` accepts."""
    if len(parts) == 1:
        return _model_keys(Rule)
    if parts[0] == "effective":
        return _model_keys(Effective)
    if isinstance(parent, dict) and parts[0] == "then" and isinstance(parent.get("action"), str):
        model = ACTION_MODELS.get(parent["action"])
        return _model_keys(model) if model else []
    if isinstance(parent, dict):
        node = next((k for k in NODE_KEYS if k in parent), None)
        return _model_keys(NODE_MODELS[node]) if node else list(PREDICATE_KEYS)
    return []


def _model_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _slug(raw: Any) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in str(raw).strip().lower())
    slug = "-".join(part for part in text.split("-") if part)[:100]
    return slug or "my-rule"


# --- conditions: fields, operators, values (layers 2-5) ---------------------------------------------


def _check_when(raw: dict[str, Any], ctx: RuleContext) -> Node | None:
    when = raw.get("when")
    if when is None:
        return None
    return _condition(when, ctx.path + "/when", ctx, in_line=False, depth=0)


def _condition(node: Any, where: str, ctx: RuleContext, in_line: bool, depth: int) -> Node:
    if depth > MAX_DEPTH:
        ctx.add("schema", f"the condition is nested more than {MAX_DEPTH} levels deep", where,
                "flatten it: `all` and `any` take lists")
        return Node("broken", where)
    if not isinstance(node, dict):
        ctx.add("schema", f"a condition must be an object, got {_json_type(node)}", where,
                'e.g. {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}}')
        return Node("broken", where)
    kind = next((k for k in NODE_KEYS if k in node), None)
    if kind is None:
        return _predicate(node, where, ctx, in_line)
    extra = [k for k in node if k != kind]
    for key in extra:
        ctx.add("unknown_key", f"`{key}` cannot sit beside `{kind}` in one condition", where + pointer(key),
                "wrap both in {\"all\": [...]}" if key in NODE_KEYS or key in PREDICATE_KEYS else None)
    body = node[kind]
    line = in_line or kind in LINE_SCOPES
    if kind in ("all", "any"):
        children = _group_children(body, where + pointer(kind), ctx, line, depth)
    else:
        children = (_condition(body, where + pointer(kind), ctx, line, depth + 1),)
    return Node("broken" if extra or children is None else kind, where, children=children or ())


def _group_children(body: Any, where: str, ctx: RuleContext, in_line: bool, depth: int) -> tuple[Node, ...] | None:
    if not isinstance(body, list) or not body:
        ctx.add("schema", f"`{where.rsplit('/', 1)[-1]}` needs a non-empty list of conditions", where)
        return None
    return tuple(_condition(c, f"{where}/{i}", ctx, in_line, depth + 1) for i, c in enumerate(body))


def _predicate(node: dict[str, Any], where: str, ctx: RuleContext, in_line: bool) -> Node:
    ok = _predicate_keys(node, where, ctx)
    spec = _predicate_field(node.get("field"), where, ctx) if "field" in node else None
    op = _predicate_op(node.get("op"), spec, where, ctx) if "op" in node else None
    if not ok or spec is None or op is None:
        return Node("broken", where)
    if spec.scope == "line" and not in_line:
        ctx.add("line_field_outside_line", f"{spec.name} is a property of one line; it can only be tested "
                "inside `any_line` or `all_lines`", where + "/field",
                f'write {{"any_line": {{"field": "{spec.name}", ...}}}}')
        ok = False
    if ctx.stage is not None and not spec.known_at(ctx.stage):
        ctx.add("field_not_known_at_stage", f"{spec.name} is known only from the {spec.since} stage on; "
                f"this {ctx.stage} rule runs before it exists", where + "/field",
                f"test it in a {spec.since} rule, or test an order field instead")
        ok = False
    value = _PredicateValue(spec, op, node["value"], where + "/value", ctx)
    if not value.check() or not ok:
        return Node("broken", where)
    try:
        pred = normalize({"field": spec.name, "op": op, "value": node["value"]})
    except (ValueKindError, QuantityError, ValueError, TypeError, OverflowError) as exc:
        ctx.add("wrong_value_kind", str(exc), where + "/value")
        return Node("broken", where)
    _after_normalize(pred, spec, node["value"], where, ctx)
    return Node("p", where, pred=pred, raw_value=node["value"])


def _predicate_keys(node: dict[str, Any], where: str, ctx: RuleContext) -> bool:
    ok = True
    for key in node:
        if key not in PREDICATE_KEYS:
            hint = closest(str(key), PREDICATE_KEYS) or "a check has `field`, `op` and `value`"
            ctx.add("unknown_key", f"unknown key `{key}` in a check", where + pointer(key), hint)
            ok = False
    for key in PREDICATE_KEYS:
        if key not in node:
            ctx.add("missing_key", f"a check needs `{key}`", where + "/" + key,
                    'e.g. {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}}')
            ok = False
    return ok


def _predicate_field(name: Any, where: str, ctx: RuleContext) -> FieldSpec | None:
    if not isinstance(name, str):
        ctx.add("schema", f"`field` must be a field name, got {_json_type(name)}", where + "/field")
        return None
    spec = FIELDS.get(name)
    if spec is None:
        ctx.add("unknown_field", f"unknown field `{name}`", where + "/field", _field_hint(name))
    return spec


def _field_hint(name: str) -> str | None:
    folded = name.casefold().replace("_", " ").strip()
    for spec in FIELDS.values():
        if folded in (n.casefold() for n in spec.names):
            return f"did you mean `{spec.name}`?"
    return closest(name, FIELDS)


def _predicate_op(op: Any, spec: FieldSpec | None, where: str, ctx: RuleContext) -> str | None:
    if not isinstance(op, str):
        ctx.add("schema", f"`op` must be an operator name, got {_json_type(op)}", where + "/op")
        return None
    if op not in ALL_OPS:
        canonical = OP_SYNONYMS.get(op.casefold())
        hint = f"did you mean `{canonical}`?" if canonical else closest(op, ALL_OPS)
        ctx.add("unknown_operator", f"unknown operator `{op}`", where + "/op",
                hint or f"operators: {', '.join(ALL_OPS)}")
        return None
    if spec is not None and op not in spec.operators:
        ctx.add("operator_not_allowed", f"`{op}` does not apply to {spec.name} (a {spec.kind} field)",
                where + "/op", f"use one of: {', '.join(spec.operators)}")
        return None
    return op


_BAD = object()


class _PredicateValue:
    """Checks one predicate's value against its field kind and operator."""

    def __init__(self, spec: FieldSpec, op: str, raw: Any, where: str, ctx: RuleContext) -> None:
        self.spec, self.op, self.raw, self.where, self.ctx = spec, op, raw, where, ctx
        self.ok = True

    def fail(self, code: str, message: str, where: str, hint: str | None = None) -> Any:
        self.ctx.add(code, message, where, hint)
        self.ok = False
        return _BAD

    def check(self) -> bool:
        op, raw = self.op, self.raw
        if op == "between":
            self._between(raw)
        elif op in ("in", "not_in", "contains_any", "contains_all"):
            self._items(raw)
        elif op == "starts_with":
            for i, item in enumerate(raw if isinstance(raw, list) else [raw]):
                self.scalar(item, f"{self.where}/{i}" if isinstance(raw, list) else self.where)
        elif isinstance(raw, list):
            self.fail("wrong_value_kind", f"`{op}` compares with one value, got a list", self.where,
                      "use `in` for a list of values" if op == "eq" else None)
        else:
            self.scalar(raw, self.where)
        return self.ok

    def _between(self, raw: Any) -> None:
        if not isinstance(raw, list) or len(raw) != 2:
            self.fail("wrong_value_kind", f"`between` needs a list [low, high], got {_json_type(raw)}",
                      self.where, f"e.g. {_example_range(self.spec)}")
            return
        lo, hi = self.scalar(raw[0], self.where + "/0"), self.scalar(raw[1], self.where + "/1")
        if lo is _BAD or hi is _BAD:
            return
        if self.spec.kind == "money" and raw[0]["currency"] != raw[1]["currency"]:
            self.fail("mixed_currencies", f"the range {raw[0]['currency']} to {raw[1]['currency']} mixes "
                      "currencies", self.where + "/1", f"give both ends in {raw[0]['currency']}")
        elif lo > hi:
            self.fail("empty_range", "`between` low end is above its high end, so nothing matches",
                      self.where, "write [low, high]; swap the two values")

    def _items(self, raw: Any) -> None:
        if not isinstance(raw, list) or not raw:
            self.fail("wrong_value_kind", f"`{self.op}` needs a non-empty list of values, got {_json_type(raw)}",
                      self.where, "use `eq` for a single value" if self.op == "in" else None)
            return
        for i, item in enumerate(raw):
            self.scalar(item, f"{self.where}/{i}")

    def scalar(self, raw: Any, where: str) -> Any:
        kind = self.spec.kind
        checker = {"weight": self._weight, "money": self._money, "integer": self._integer,
                   "bool": self._bool, "datetime": self._datetime, "enum": self._enum,
                   "tags": self._text}.get(kind, self._code)
        return checker(raw, where)

    def _weight(self, raw: Any, where: str) -> Any:
        name = self.spec.name
        if _is_money(raw):
            return self.fail("wrong_value_kind", f"{name} is a weight but the value is money", where,
                             'write a weight such as {"value": 10, "unit": "lb"}')
        if not (isinstance(raw, dict) and set(raw) == {"value", "unit"}):
            number = _finite(raw)
            example = f'{{"value": {raw if number is not None else 10}, "unit": "lb"}}'
            return self.fail("wrong_value_kind", f"{name} needs a weight with a unit, got {_json_type(raw)}",
                             where, f"write {example}")
        number = _finite(raw["value"])
        if number is None:
            return self.fail("wrong_value_kind", f"a weight's value must be a finite number, got "
                             f"{_json_type(raw['value'])}", where + "/value")
        unit = raw["unit"]
        if not isinstance(unit, str) or unit_kind(unit) is None:
            return self.fail("unknown_unit", f"unknown weight unit `{unit}`", where + "/unit",
                             _unit_hint(unit))
        if unit_kind(unit) != "weight":
            return self.fail("wrong_value_kind", f"`{unit}` is a length unit; {name} needs a weight unit "
                             f"({', '.join(WEIGHT_UNITS)})", where + "/unit")
        pounds = to_base(number, unit)
        if not math.isfinite(pounds) or abs(number) > MAX_QUANTITY:
            return self.fail("wrong_value_kind", f"{number:g} {unit} is too large to be a weight "
                             f"(at most {MAX_QUANTITY:g})", where + "/value")
        return pounds

    def _money(self, raw: Any, where: str) -> Any:
        name = self.spec.name
        if isinstance(raw, dict) and set(raw) == {"value", "unit"}:
            return self.fail("wrong_value_kind", f"{name} is money but the value is a weight", where,
                             'write money such as {"amount": 500, "currency": "USD"}')
        if not _is_money(raw):
            return self.fail("wrong_value_kind", f"{name} needs money with a currency, got {_json_type(raw)}",
                             where, f'write {{"amount": {raw if _finite(raw) is not None else 500}, '
                             f'"currency": "{self._currency()}"}}')
        amount = _finite(raw["amount"])
        if amount is None:
            return self.fail("wrong_value_kind", f"an amount must be a finite number, got "
                             f"{_json_type(raw['amount'])}", where + "/amount")
        if abs(amount) > MAX_QUANTITY:
            return self.fail("wrong_value_kind", f"{amount:g} is too large to be an amount (at most {MAX_QUANTITY:g})",
                             where + "/amount")
        currency = raw["currency"]
        if not isinstance(currency, str) or currency not in CURRENCIES:
            return self.fail("unknown_currency", f"unknown currency `{currency}`", where + "/currency",
                             _currency_hint(currency))
        return amount

    def _currency(self) -> str:
        clients = self.ctx.catalog.clients
        scoped = [clients[c].currency for c in self.ctx.clients if c in clients]
        return scoped[0] if scoped else self.ctx.catalog.spec.currency

    def _integer(self, raw: Any, where: str) -> Any:
        number = _finite(raw)
        if number is None or not number.is_integer():
            return self.fail("wrong_value_kind", f"{self.spec.name} needs a whole number, got "
                             f"{_json_type(raw) if number is None else raw}", where)
        return int(number)

    def _bool(self, raw: Any, where: str) -> Any:
        if isinstance(raw, bool):
            return raw
        hint = f"write {str(raw).lower()} without quotes" if str(raw).lower() in ("true", "false") else None
        return self.fail("wrong_value_kind", f"{self.spec.name} needs true or false, got {_json_type(raw)}",
                         where, hint)

    def _datetime(self, raw: Any, where: str) -> Any:
        if not isinstance(raw, str):
            return self.fail("wrong_value_kind", f"{self.spec.name} needs an ISO 8601 date or time, got "
                             f"{_json_type(raw)}", where, 'e.g. "2026-12-01" or "2026-12-01T09:00:00Z"')
        parsed = parse_instant(raw)
        if parsed is None:
            return self.fail("bad_date", f"`{raw}` is not an ISO 8601 date or time", where,
                             'e.g. "2026-12-01" or "2026-12-01T09:00:00Z"')
        return parsed

    def _enum(self, raw: Any, where: str) -> Any:
        values = self.spec.values
        if not isinstance(raw, str):
            return self.fail("wrong_value_kind", f"{self.spec.name} needs one of {', '.join(values)}, got "
                             f"{_json_type(raw)}", where)
        if raw not in values:
            folded = raw.casefold()
            close = next((v for v in values if folded.startswith(v) or folded == v.casefold()), None)
            hint = f"did you mean `{close}`?" if close else closest(raw, values)
            return self.fail("unknown_enum_value", f"`{raw}` is not a value of {self.spec.name}", where,
                             hint or f"values: {', '.join(values)}")
        return raw

    def _text(self, raw: Any, where: str) -> Any:
        if not isinstance(raw, str) or not raw:
            return self.fail("wrong_value_kind", f"{self.spec.name} needs non-empty text, got {_json_type(raw)}",
                             where)
        return raw

    def _code(self, raw: Any, where: str) -> Any:
        if self._text(raw, where) is _BAD:
            return _BAD
        if self.spec.ref is not None:
            finding = self.ctx.refs.finding(self.spec.ref, raw, where)
            if finding is not None:
                self.ctx.findings.append(finding)
                self.ok = False
                return _BAD
        return raw


def _is_money(raw: Any) -> bool:
    return isinstance(raw, dict) and set(raw) == {"amount", "currency"}


def _finite(raw: Any) -> float | None:
    """A finite float from a JSON number; None for anything else (bool, NaN, 1e999, text)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    try:
        number = float(raw)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _unit_hint(unit: Any) -> str:
    canonical = UNIT_SYNONYMS.get(str(unit).casefold().strip())
    if canonical:
        return f"did you mean `{canonical}`?"
    return closest(str(unit), WEIGHT_UNITS) or f"weight units: {', '.join(WEIGHT_UNITS)}"


def _currency_hint(currency: Any) -> str:
    text = str(currency).strip()
    canonical = CURRENCY_SYNONYMS.get(text) or (text.upper() if text.upper() in CURRENCIES else None)
    if canonical:
        return f"did you mean `{canonical}`?"
    return closest(text, sorted(CURRENCIES)) or "use an ISO 4217 code such as USD or CAD"


def _example_range(spec: FieldSpec) -> str:
    return {"weight": '[{"value": 1, "unit": "lb"}, {"value": 5, "unit": "lb"}]',
            "money": '[{"amount": 50, "currency": "USD"}, {"amount": 100, "currency": "USD"}]',
            "datetime": '["2026-12-01", "2026-12-31"]'}.get(spec.kind, "[5, 8]")


def parse_instant(raw: str) -> datetime | None:
    """An ISO 8601 date or time as an aware UTC datetime, as the engine reads it; None if not one."""
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return _utc(dt)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _after_normalize(pred: NormPredicate, spec: FieldSpec, raw: Any, where: str, ctx: RuleContext) -> None:
    """Findings that need the normalised value: field range and the clients' currency."""
    if spec.kind == "integer":
        _check_field_range(pred, spec, raw, where, ctx)
    if pred.currency is not None:
        _check_client_currency(pred, where, ctx)


def _check_field_range(pred: NormPredicate, spec: FieldSpec, raw: Any, where: str, ctx: RuleContext) -> None:
    items = raw if isinstance(raw, list) else [raw]
    outside = [i for i, v in enumerate(items) if _outside(spec, v)]
    if not outside:
        return
    at = f"{where}/value/{outside[0]}" if isinstance(raw, list) else f"{where}/value"
    bounds = f"{_num(spec.minimum)} to {_num(spec.maximum)}" if spec.maximum is not None else f"at least {_num(spec.minimum)}"
    if Domain(spec, [pred]).is_empty():
        ctx.add("out_of_range", f"{spec.name} is {bounds}, so {predicate_text(pred)} can never hold", at,
                f"use a value from {bounds}")
    else:
        ctx.add("out_of_range", f"{spec.name} is {bounds}; {items[outside[0]]} lies outside, so that part "
                f"of {predicate_text(pred)} has no effect", at, f"use a value from {bounds}", severity="warning")


def _outside(spec: FieldSpec, v: Any) -> bool:
    return ((spec.minimum is not None and v < spec.minimum) or
            (spec.maximum is not None and v > spec.maximum))


def _num(x: float | None) -> str:
    return "?" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


def _check_client_currency(pred: NormPredicate, where: str, ctx: RuleContext) -> None:
    clients = ctx.catalog.clients
    scoped = [clients[c] for c in ctx.clients if c in clients]
    if scoped:
        others = sorted({c.currency for c in scoped if c.currency != pred.currency})
        if others:
            names = ", ".join(c.code for c in scoped if c.currency != pred.currency)
            ctx.add("currency_mismatch", f"{predicate_text(pred)} is in {pred.currency} but {names} orders are "
                    f"in {', '.join(others)}; money in another currency never matches", where + "/value",
                    f"give the amount in {others[0]}")
    elif not ctx.clients and pred.currency != ctx.catalog.spec.currency:
        currency = ctx.catalog.spec.currency
        ctx.add("currency_mismatch", f"{predicate_text(pred)} is in {pred.currency} but orders are in "
                f"{currency} by default; money in another currency never matches", where + "/value",
                f"give the amount in {currency}, or limit the rule to clients that sell in {pred.currency}")


# --- scope, actions, effective window (layers 2 and 6) ---------------------------------------------


def _check_scope(raw: dict[str, Any], ctx: RuleContext) -> None:
    clients = raw.get("clients")
    if isinstance(clients, list):
        ctx.extend(ctx.refs.finding("client", c, f"{ctx.path}/clients/{i}") for i, c in enumerate(clients))


def _check_actions(raw: dict[str, Any], ctx: RuleContext) -> None:
    then = raw.get("then")
    if not isinstance(then, list):
        return
    first_stage, decisive_at = None, None
    for i, action in enumerate(then):
        where = f"{ctx.path}/then/{i}"
        name = action.get("action") if isinstance(action, dict) else None
        if not isinstance(name, str) or name not in ACTION_STAGE:
            continue
        stage = ACTION_STAGE[name]
        if first_stage is None:
            first_stage = stage
        elif stage != first_stage:
            ctx.add("mixed_stages", f"`{name}` belongs to the {stage} stage but this rule's first action is "
                    f"in the {first_stage} stage", where + "/action", "split it into one rule per stage")
        if name in DECISIVE_ACTIONS:
            if decisive_at is not None:
                ctx.add("several_decisive_actions", f"`{name}` is a second decisive action (the first is at "
                        f"{decisive_at}); a rule decides one thing", where + "/action",
                        "keep one, or split them into rules with different conditions")
            else:
                decisive_at = where
        _action_references(name, action, where, ctx)


def _action_references(name: str, action: dict[str, Any], where: str, ctx: RuleContext) -> None:
    refs = ctx.refs
    single = {"ship_from": ("warehouse", "warehouse"), "use_service": ("service", "service"),
              "substitute": ("sku", "sku")}
    if name in single:
        key, ref = single[name]
        ctx.extend([refs.finding(ref, action.get(key), f"{where}/{key}")])
    for key, ref in (("warehouses", "warehouse"), ("services", "service"), ("carriers", "carrier"),
                     ("with", "sku")):
        values = action.get(key)
        if isinstance(values, list):
            ctx.extend(refs.finding(ref, v, f"{where}/{key}/{i}") for i, v in enumerate(values))
    if name == "substitute":
        _check_substitute(action, where, ctx)
    if name in ("rate_shop", "exclude_services"):
        _check_selection(name, action, where, ctx)


def _check_selection(name: str, action: dict[str, Any], where: str, ctx: RuleContext) -> None:
    """An empty list reads as "none" to a person but acts as "not given" (every service for a
    rate shop); an exclusion naming nothing does nothing. Both are mistakes worth stopping."""
    for key in ("services", "carriers"):
        if action.get(key) == []:
            hint = ("omit it to rate shop across every eligible service" if name == "rate_shop"
                    else "name the services or carriers to exclude")
            ctx.add("empty_selection", f"`{key}` is an empty list", f"{where}/{key}", hint)
    if name == "exclude_services" and not action.get("services") and not action.get("carriers") \
            and "services" not in action and "carriers" not in action:
        ctx.add("empty_selection", "`exclude_services` names no services and no carriers, so it excludes nothing",
                where, "add `services` or `carriers`")


def _check_substitute(action: dict[str, Any], where: str, ctx: RuleContext) -> None:
    sku, subs = action.get("sku"), action.get("with")
    if isinstance(sku, str) and isinstance(subs, list) and sku in subs:
        ctx.add("substitute_self", f"`{sku}` is listed as its own substitute", f"{where}/with/{subs.index(sku)}",
                "list only other SKUs that can replace it")


def _check_effective(raw: dict[str, Any], ctx: RuleContext) -> None:
    window = raw.get("effective")
    if not isinstance(window, dict):
        return
    try:
        effective = Effective.model_validate(window)
    except ValidationError:
        return  # shape findings already say why
    if effective.from_ is not None and effective.until is not None:
        start, end = _utc(effective.from_), _utc(effective.until)
        if start >= end:
            ctx.add("empty_window", f"the rule is effective from {start.isoformat()} until {end.isoformat()}, "
                    "an empty window, so it never applies", f"{ctx.path}/effective/until",
                    "`until` must be after `from` (until is exclusive)")


def _window(rule: Rule) -> tuple[datetime | None, datetime | None]:
    eff = rule.effective
    if eff is None:
        return None, None
    return (_utc(eff.from_) if eff.from_ else None, _utc(eff.until) if eff.until else None)


# --- logic (layer 7) ------------------------------------------------------------------------------------


def _check_logic(tree: Node | None, ctx: RuleContext) -> None:
    if tree is None and ctx.stage == "substitution":
        return  # a substitution applies only to lines of its SKU that are out of stock: never "everything"
    if tree is None:
        ctx.add("matches_everything", "the rule has no `when`, so it applies to every order"
                + (f" of {', '.join(ctx.clients)}" if ctx.clients else " of every client"),
                ctx.path + "/when", "add a condition, or ignore this if the rule really is unconditional")
        return
    top = conjuncts(tree)
    _check_group(top, [scope_predicate(ctx.clients)] if ctx.clients else [], ctx)
    for group in _nested_groups(top):
        _check_group(group, [], ctx)
    if _always_true(tree, ctx):
        ctx.add("matches_everything", "the condition holds for every order"
                + (f" of {', '.join(ctx.clients)}" if ctx.clients else ""), ctx.path + "/when",
                "narrow the condition, or drop it if the rule really is unconditional")
    _check_optional_facts(tree, ctx)


def _nested_groups(parts: list[Node]) -> list[list[Node]]:
    """The conjunctions below one: one per `any` branch, `not` and line scope, recursively."""
    found: list[list[Node]] = []
    for part in parts:
        for child in part.children if part.kind != "all" else ():
            inner = conjuncts(child)
            found += [inner, *_nested_groups(inner)]
    return found


def _check_group(parts: list[Node], scope: list[NormPredicate], ctx: RuleContext) -> None:
    preds = [(p, ctx.path + "/clients") for p in scope]
    preds += [(n.pred, n.path) for n in parts if n.pred is not None]
    domains: dict[str, Domain] = {}
    for pred, where in preds:
        spec = FIELDS[pred.field]
        domain = domains.setdefault(pred.field, Domain(spec))
        if domain.is_empty():
            continue  # already reported
        before = list(domain.preds)
        domain.add(pred)
        if domain.is_empty() and before and not Domain(spec, [pred]).is_empty():
            others = ", ".join(predicate_text(p) for p in before)
            ctx.add("impossible_condition", f"{predicate_text(pred)} contradicts {others}: no order meets "
                    "both, so the rule never applies", where,
                    "use `any` if either should match, or fix the value")
    _check_regions(parts, domains, ctx)


def _check_regions(parts: list[Node], domains: dict[str, Domain], ctx: RuleContext) -> None:
    countries = domains.get("dest.country")
    allowed = countries.candidates() if countries is not None else None
    catalog = ctx.catalog
    if not allowed or any(c not in catalog.spec.regions for c in allowed):
        return
    regions = {r for c in allowed for r in catalog.regions(c)}
    for node in parts:
        p = node.pred
        if p is None or p.field != "dest.region" or p.op not in ("eq", "in"):
            continue
        values = node.raw_value if isinstance(node.raw_value, list) else [node.raw_value]
        for i, value in enumerate(values):
            if value not in regions:
                at = f"{node.path}/value/{i}" if isinstance(node.raw_value, list) else f"{node.path}/value"
                ctx.add("region_not_in_country", f"region `{value}` is not in {', '.join(sorted(allowed))}, "
                        "the destination country this rule requires", at,
                        ctx.refs.hint("region", value) if value not in catalog.regions() else
                        f"`{value}` is a region of {_country_of(value, catalog)}")


def _country_of(region: str, catalog: Catalog) -> str:
    return ", ".join(c for c, regs in catalog.spec.regions.items() if region in regs)


def _always_true(tree: Node, ctx: RuleContext) -> bool:
    """Certainly true for every order in scope (only required enum and client facts count)."""
    if tree.kind == "all":
        return all(_always_true(c, ctx) for c in tree.children)
    if tree.kind == "any":
        return any(_always_true(c, ctx) for c in tree.children)
    if tree.kind != "p" or tree.pred is None:
        return False
    p, spec = tree.pred, FIELDS[tree.pred.field]
    if spec.optional:
        return False
    if spec.kind == "enum":
        universe: Iterable[Any] = spec.values
    elif p.field == "client":
        universe = ctx.clients or ctx.refs.codes("client")
    else:
        return False
    return all(test(p, v, None) for v in universe)


def _check_optional_facts(tree: Node, ctx: RuleContext) -> None:
    seen: set[str] = set()
    for node in _predicates(tree):
        spec = FIELDS[node.pred.field]  # type: ignore[union-attr]
        if spec.optional and spec.name not in seen:
            seen.add(spec.name)
            ctx.add("optional_fact", f"{spec.name} may be missing on an order; a check on a missing fact "
                    "is false, so such orders do not match it",
                    node.path + "/field", "fine if intended; otherwise also handle orders without it")


def _predicates(tree: Node) -> Iterable[Node]:
    if tree.kind == "p":
        yield tree
    for child in tree.children:
        yield from _predicates(child)


# --- actions under the rule's own conditions (layer 8) ---------------------------------------------------


@dataclass
class Requirements:
    """What every order a rule matches is certain to have (from its top-level conjunction)."""

    domains: dict[str, Domain]
    sku_sets: list[set[str]]  # each: the order has a line with one of these SKUs
    hazmat: bool

    def values(self, name: str) -> set[Any] | None:
        d = self.domains.get(name)
        return d.candidates() if d is not None else None

    def min_weight(self) -> tuple[float, bool] | None:
        bounds = [d.least() for n, d in self.domains.items() if n in ("order.weight", "shipment.weight")]
        known = [b for b in bounds if b is not None]
        return max(known) if known else None


def requirements_of(tree: Node | None, catalog: Catalog) -> Requirements:
    parts = conjuncts(tree) if tree is not None else []
    domains = domains_of(n.pred for n in parts if n.pred is not None)
    sku_sets: list[set[str]] = []
    hazmat = domains.get("order.hazmat") is not None and domains["order.hazmat"].candidates() == {True}
    for part in parts:
        if part.kind != "any_line":
            continue
        line = domains_of(n.pred for n in conjuncts(part.children[0]) if n.pred is not None)
        skus = line["line.sku"].candidates() if "line.sku" in line else None
        if skus:
            sku_sets.append(skus)
            hazmat = hazmat or all(s in catalog.skus and catalog.skus[s].hazmat for s in skus)
        if "line.hazmat" in line and line["line.hazmat"].candidates() == {True}:
            hazmat = True
    return Requirements(domains, sku_sets, hazmat)


def service_blocker(svc: Service, req: Requirements, catalog: Catalog) -> str | None:
    """Why ``svc`` can carry no order with these requirements; None when it may carry some."""
    least = req.min_weight()
    if least is not None:
        weight, open_ = least
        if weight > svc.max_weight_lb + 1e-9 or (open_ and weight >= svc.max_weight_lb - 1e-9):
            return (f"{svc.code} carries at most {svc.max_weight}, but the rule requires orders "
                    f"{'over' if open_ else 'of at least'} {round(weight, 2)} lb")
    countries = req.values("dest.country")
    if countries is not None and not countries & set(svc.dest_countries):
        return f"{svc.code} delivers only to {', '.join(svc.dest_countries)}, but the rule requires {', '.join(sorted(countries))}"
    origins = req.values("shipment.origin")
    if origins is not None and not origins & set(svc.origins):
        return f"{svc.code} ships only from {', '.join(svc.origins)}, but the rule requires {', '.join(sorted(origins))}"
    regions = req.values("dest.region")
    if svc.dest_regions is not None and regions is not None and not regions & set(svc.dest_regions):
        return f"{svc.code} serves only {', '.join(svc.dest_regions)}, but the rule requires {', '.join(sorted(regions))}"
    if svc.domestic_only and not _domestic_pair(svc, origins, countries, catalog):
        return f"{svc.code} is domestic only and no origin it serves is in {', '.join(sorted(countries or []))}"
    if req.values("dest.po_box") == {True} and not svc.po_box:
        return f"{svc.code} does not deliver to PO boxes, and the rule requires a PO box"
    if req.hazmat and not svc.hazmat:
        return f"{svc.code} does not take hazmat, and the rule requires hazmat orders"
    return None


def _domestic_pair(svc: Service, origins: set[Any] | None, countries: set[Any] | None, catalog: Catalog) -> bool:
    for origin in svc.origins:
        wh = catalog.warehouses.get(origin)
        if wh is None or (origins is not None and origin not in origins):
            continue
        if wh.country in svc.dest_countries and (countries is None or wh.country in countries):
            return True
    return False


def _check_action_feasibility(raw: dict[str, Any], tree: Node | None, ctx: RuleContext) -> None:
    then = raw.get("then")
    if not isinstance(then, list):
        return
    req = requirements_of(tree, ctx.catalog)
    for i, action in enumerate(then):
        if isinstance(action, dict):
            _action_feasibility(action, f"{ctx.path}/then/{i}", req, ctx)


def _action_feasibility(action: dict[str, Any], where: str, req: Requirements, ctx: RuleContext) -> None:
    catalog, name = ctx.catalog, action.get("action")
    service = action.get("service")
    if name == "use_service" and isinstance(service, str) and service in catalog.services:
        reason = service_blocker(catalog.services[action["service"]], req, catalog)
        if reason:
            ctx.add("action_impossible", f"{reason}; every order this rule matches would be held",
                    where + "/service", "choose a service that can carry these orders, or rate_shop")
    elif name == "rate_shop":
        _rate_shop_feasibility(action, where, req, ctx)
    elif name == "ship_from" and isinstance(action.get("warehouse"), str):
        _stock_feasibility([action["warehouse"]], where + "/warehouse", req, ctx)
    elif name == "prefer_warehouses" and isinstance(action.get("warehouses"), list):
        _stock_feasibility(action["warehouses"], where + "/warehouses", req, ctx)


def _rate_shop_feasibility(action: dict[str, Any], where: str, req: Requirements, ctx: RuleContext) -> None:
    services, carriers = action.get("services"), action.get("carriers")
    if not (services is None or isinstance(services, list)) or not (carriers is None or isinstance(carriers, list)):
        return
    pool = [s for s in ctx.catalog.services.values()
            if (services is None or s.code in services) and (carriers is None or s.carrier in carriers)]
    if not pool:
        known = services is None or any(isinstance(s, str) and s in ctx.catalog.services for s in services)
        if known:
            ctx.add("action_impossible", "no service is both in `services` and of one of `carriers`, so "
                    "rate shopping has nothing to choose from", where, "drop one of the two lists")
        return
    reasons = [service_blocker(s, req, ctx.catalog) for s in pool]
    if all(reasons):
        ctx.add("action_impossible", "none of the services to rate shop can carry the orders this rule "
                f"matches: {'; '.join(r for r in reasons[:3] if r)}" + ("; ..." if len(reasons) > 3 else ""),
                where, "add a service that can carry these orders")


def _stock_feasibility(warehouses: list[Any], where: str, req: Requirements, ctx: RuleContext) -> None:
    catalog = ctx.catalog
    known = [w for w in warehouses if isinstance(w, str) and w in catalog.warehouses]
    if not known or len(known) != len(warehouses):
        return
    for skus in req.sku_sets:
        if all(catalog.on_hand(w, s) <= 0 for w in known for s in skus):
            ctx.add("warehouse_lacks_stock", f"{', '.join(known)} {'holds' if len(known) == 1 else 'hold'} none of "
                    f"{', '.join(sorted(skus))}, which every order this rule matches contains", where,
                    f"stocked at: {', '.join(_stocking(skus, catalog)) or 'no warehouse'}")
            return


def _stocking(skus: set[str], catalog: Catalog) -> list[str]:
    return [w for w in catalog.warehouses if any(catalog.on_hand(w, s) > 0 for s in skus)]


# --- the rule set (layer 9) --------------------------------------------------------------------------------


def _duplicate_ids(items: RuleItems) -> list[Finding]:
    first: dict[str, str] = {}
    findings = []
    for item, path in items:
        rule_id = item.id if isinstance(item, Rule) else item.get("id") if isinstance(item, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in first:
            findings.append(_finding("duplicate_id", f"rule id `{rule_id}` is already used by the rule at "
                                     f"{first[rule_id] or '/'}", f"{path}/id",
                                     "give each rule its own id; to change a rule, edit it in place"))
        else:
            first[rule_id] = path
    return findings


def _ruleset_findings(proposed: list[RuleView], existing: Sequence[Rule], refs: References) -> list[Finding]:
    replaced = {v.rule.id for v in proposed}
    views = [v for v in proposed if v.rule.enabled]
    for rule in existing:
        view = _existing_view(rule, refs)
        if view is not None and view.rule.id not in replaced and view.rule.enabled:
            views.append(view)
    views.sort(key=lambda v: v.order)
    by_stage: dict[Any, list[RuleView]] = {}
    for view in views:
        if view.decisive is not None:
            by_stage.setdefault((view.stage, view.sku), []).append(view)
    findings: list[Finding] = []
    for group in by_stage.values():
        findings += _shadowing(group)
        findings += _equal_priorities(group)
    return findings


def _existing_view(rule: Any, refs: References) -> RuleView | None:
    if not isinstance(rule, Rule):
        try:
            rule = Rule.model_validate(rule)
        except (ValidationError, ValueError, TypeError, RecursionError):
            return None
    findings, view = _check_rule(rule, refs, "/existing")
    return RuleView(view.rule, None, view.tree) if view is not None else None


def _window_contains(outer: RuleView, inner: RuleView) -> bool:
    (of, ou), (inf, inu) = outer.window, inner.window
    starts = of is None or (inf is not None and inf >= of)
    ends = ou is None or (inu is not None and inu <= ou)
    return starts and ends


def _windows_overlap(a: RuleView, b: RuleView) -> bool:
    (af, au), (bf, bu) = a.window, b.window
    return (au is None or bf is None or bf < au) and (bu is None or af is None or af < bu)


def covers(a: RuleView, b: RuleView) -> bool:
    """Whether ``a`` matches every order ``b`` matches (scope, window and condition)."""
    if not a.required_fields <= b.required_fields or not a.opaque <= b.opaque:
        return False
    if not _window_contains(a, b):
        return False
    return all(p.field in b.domains and b.domains[p.field].implies(p) for p in a.requirements)


def _shadowing(group: list[RuleView]) -> list[Finding]:
    """Rules (in evaluation order) whose decisive action an earlier rule always takes first."""
    findings = []
    for j, later in enumerate(group):
        for earlier in group[:j]:
            if (later.path is not None or earlier.path is not None) and covers(earlier, later):
                findings.append(_shadow_finding(earlier, later))
                break
    return findings


def _shadow_finding(earlier: RuleView, later: RuleView) -> Finding:
    tie = " (same priority; ties go by id)" if earlier.rule.priority == later.rule.priority else ""
    action = later.decisive.action
    if later.path is not None:
        return _finding("shadowed", f"the {action} of rule `{later.rule.id}` never applies: rule `{earlier.rule.id}` "
                        f"(priority {earlier.rule.priority}) matches every order it matches and decides the "
                        f"{later.stage} stage first{tie}", later.path,
                        f"give `{later.rule.id}` a higher priority than {earlier.rule.priority}, or narrow "
                        f"`{earlier.rule.id}`")
    return _finding("shadowed", f"this rule makes the active rule `{later.rule.id}` unreachable: it matches "
                    f"every order `{later.rule.id}` matches and decides the {later.stage} stage first{tie}",
                    earlier.path or "", f"narrow this rule, or give it a lower priority than {later.rule.priority}")


def _clients_overlap(a: RuleView, b: RuleView) -> bool:
    return not a.clients or not b.clients or bool(a.clients & b.clients)


def may_both_match(a: RuleView, b: RuleView) -> bool:
    """False only when no order can match both (disjoint scope, window or conditions)."""
    if not _clients_overlap(a, b) or not _windows_overlap(a, b):
        return False
    return not any(a.domains[f].merged(b.domains[f]).is_empty() for f in a.domains.keys() & b.domains.keys())


MAX_TIES_NAMED = 3


def _equal_priorities(group: list[RuleView]) -> list[Finding]:
    by_priority: dict[int, list[RuleView]] = {}
    for view in group:
        by_priority.setdefault(view.rule.priority, []).append(view)
    findings = []
    for ties in by_priority.values():
        for view in ties:
            if view.path is None:
                continue
            partners = _tie_partners(view, ties)
            if partners:
                findings.append(_tie_finding(view, partners))
    return findings


def _tie_partners(view: RuleView, ties: list[RuleView]) -> list[RuleView]:
    partners: list[RuleView] = []
    for other in ties:
        if other is not view and may_both_match(view, other):
            partners.append(other)
            if len(partners) > MAX_TIES_NAMED:
                break
    return partners


def _tie_finding(view: RuleView, partners: list[RuleView]) -> Finding:
    names = ", ".join(f"`{p.rule.id}`" for p in partners[:MAX_TIES_NAMED])
    more = " and others" if len(partners) > MAX_TIES_NAMED else ""
    first = min([view, *partners], key=lambda v: v.rule.id)
    return _finding("equal_priority", f"rule `{view.rule.id}` has priority {view.rule.priority}, like {names}{more}, "
                    f"in the {view.stage} stage, and they can match the same orders; ties go by id, so "
                    f"`{first.rule.id}` is tried first", f"{view.path}/priority",
                    "give the rule that should win a higher priority")
