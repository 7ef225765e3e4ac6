"""``parse_request``: plain English to canonical rules, offline and deterministic.

Two readers share one result type:

* text that starts with ``Rule`` is the canonical controlled English ``rules_core.explain``
  writes; the LALR grammar reads it back exactly (``canonical.py``);
* anything else is read as ops English, sentence by sentence (``reader.py``).

Decisions this module makes, deliberately:

* It never guesses. A word it does not know, a number without a unit, a vague adjective, an
  unknown name or a request that is not a rule stops the sentence with ``clarify`` (and a
  specific question) or ``error`` (and the reason, with the nearest catalog names).
* Scope: a client named in the request wins; otherwise the ``client`` argument; otherwise
  the rule applies to every client (it says "for all clients" in the English, so a reviewer
  sees it). A request naming another client than ``client`` is an error.
* A sentence that refines the previous one ("GLOBEX orders ship from Newark; Canadian ones
  from Toronto") inherits its scope and conditions and gets priority +10 so that the
  refinement is tried first. Actions of different stages in one sentence become one rule
  per stage with the same conditions.
* Priority 100 by default; "before other rules" 200, "after other rules" 50, "priority N".
* A hold without a stated reason gets the reason "manual review".
* "until/through Dec 24" includes Dec 24 (the window ends before Dec 25); "after Dec 1"
  starts on Dec 2; a date without a year is the next such day from ``today``, except one
  that passed less than a month ago ("from Dec 1" on Dec 4): that is asked about, since this
  year's (in force at once) and next year's (a year away) are both likely.
* "$" means the catalog's currency; "CA$40" and "$40 CAD" are CAD.
* When some sentences are understood and others are not, the result carries the rules of
  the understood ones, ``complete=False``, and the question or error about the rest.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from assistant.offline.canonical import CanonicalError, parse_canonical
from assistant.offline.normalize import Tok, tokenize
from assistant.offline.reader import Clause, Refusal, SentenceReader
from assistant.offline.vocabulary import vocabulary
from rules_core.catalog import Catalog
from rules_core.explain import explain_rules, number_text, predicate_text
from rules_core.models import ACTION_STAGE, DECISIVE_ACTIONS, Predicate, Rule
from rules_core.registry import FIELDS

DEFAULT_PRIORITY = 100
BUT_AND = frozenset("under over less more below above at between fewer".split())
REFINEMENT_STEP = 10


class ParseResult(BaseModel):
    """What the offline parser understood: rules, their canonical English, or a question."""

    status: Literal["ok", "clarify", "error"]
    rules: list[Rule] = Field(default_factory=list)
    english: str = ""
    question: str | None = None
    error: str | None = None
    suggestions: list[str] = Field(default_factory=list)
    complete: bool = False


# --- sentences ---------------------------------------------------------------------------------


def split_sentences(toks: list[Tok]) -> list[tuple[list[Tok], bool]]:
    """Sentences of a request: (tokens, starts with 'but' so it refines the previous one)."""
    out: list[tuple[list[Tok], bool]] = []
    cur: list[Tok] = []
    refine = False
    i = 0
    while i < len(toks):
        t = toks[i]
        boundary = t.kind == "PUNCT" and t.text in (".", ";", "?")
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        but = t.kind == "WORD" and t.text in ("but", "while") and cur and not (
            nxt is not None and nxt.kind == "WORD" and nxt.text in ("not", "only")) and not cur[-1].is_word("nothing")
        if but and nxt is not None and nxt.kind == "WORD" and nxt.text in BUT_AND:
            i += 1  # "over 5 lb but under 10 lb": but = and
            continue
        also = t.kind == "WORD" and t.text == "also" and cur and cur[-1].kind == "PUNCT"
        if boundary or but or also:
            if cur:
                while cur and cur[-1].kind == "PUNCT" and cur[-1].text in (",", "and"):
                    cur.pop()
                out.append((cur, refine))
            cur, refine = [], bool(but)
        elif t.kind == "WORD" and t.text == "and" and i + 1 < len(toks) and toks[i + 1].is_word("also"):
            if cur:
                out.append((cur, refine))
            cur, refine = [], False
            i += 1
        else:
            cur.append(t)
        i += 1
    if cur:
        out.append((cur, refine))
    return [(s, r) for s, r in out if any(t.kind != "PUNCT" for t in s)]


# --- clauses to rules --------------------------------------------------------------------------


def _fields(node: Any) -> list[str]:
    if isinstance(node, dict):
        if "field" in node:
            return [node["field"]]
        return [f for v in node.values() for f in _fields(v)]
    if isinstance(node, list):
        return [f for v in node for f in _fields(v)]
    return []


def _resolve_from(clause: Clause, previous: Clause | None) -> None:
    wh = clause.bare_from
    if wh is None:
        return
    stages = {ACTION_STAGE[a["action"]] for a in clause.actions}
    prev_routing = previous is not None and any(a["action"] == "ship_from" for a in previous.actions)
    if "routing" in stages:
        raise Refusal("clarify", f"'from {wh}' and another routing action: which warehouse should ship?")
    if clause.refers_back and prev_routing or not stages:
        clause.actions.insert(0, {"action": "ship_from", "warehouse": wh})
        clause.words.append("from-" + wh.lower())
        return
    if stages == {"carrier"} or stages == {"finishing"}:
        raise Refusal("clarify", f"'from {wh}': should these orders ship from {wh}, or does the rule only "
                      f"apply to orders already leaving {wh} (say 'shipping from {wh}')?")
    raise Refusal("clarify", f"'from {wh}' does not fit this kind of rule; say 'ship from {wh}'.")


ORDER_PRONOUNS = frozenset("them they their those these ones".split())


def _points_back(sentence: list[Tok], clause: Clause, previous: Clause | None) -> bool:
    """A later sentence that says "them", "those" or "it" is about the previous sentence's orders
    ("Hold ACME orders over $500. Tag them as review."), so it keeps their scope and conditions."""
    if previous is None:
        return False
    if any(t.kind == "WORD" and t.text in ORDER_PRONOUNS for t in sentence):
        return True
    substitutes = clause.sub_source is not None or any(a["action"] == "substitute" for a in clause.actions)
    return not substitutes and any(t.is_word("it", "its") for t in sentence)


def _merge_previous(clause: Clause, previous: Clause | None) -> None:
    if not clause.refers_back or previous is None:
        return
    clause.conds = previous.conds + clause.conds
    clause.clients = clause.clients or list(previous.clients)
    if clause.priority is None:
        clause.priority = (previous.priority or DEFAULT_PRIORITY) + REFINEMENT_STEP
    clause.eff_from = clause.eff_from or previous.eff_from
    clause.eff_until = clause.eff_until or previous.eff_until


SUBSTITUTED_ONLY = ("A rule cannot single out the orders that got a substitute: the {what} here would apply to "
                    "every order the rule covers. Write the substitution as its own sentence, and the {what} as "
                    "another with its own conditions (e.g. 'Hold orders containing ACME-MUG-RED for review').")
ACTION_NOUNS = {"hold": "hold", "add_tag": "tag", "require_signature": "signature", "insure": "insurance",
                "ship_from": "warehouse choice", "prefer_warehouses": "warehouse choice",
                "exclude_warehouses": "warehouse exclusion", "use_service": "service choice",
                "rate_shop": "rate shop", "exclude_services": "service exclusion"}


def _check_clause(clause: Clause, previous: Clause | None = None) -> None:
    if clause.pending_tag:
        raise Refusal("clarify", "Tag with what? Say e.g. 'tag them as \"bulk\"'.")
    others = [a["action"] for a in clause.actions if a["action"] != "substitute"]
    if others and len(others) != len(clause.actions):  # "send the red mug when blue is out, and tag them"
        raise Refusal("clarify", SUBSTITUTED_ONLY.format(what=ACTION_NOUNS.get(others[0], others[0])))
    if others and clause.refers_back and previous is not None \
            and any(a["action"] == "substitute" for a in previous.actions):  # "... red mug. Hold it."
        raise Refusal("clarify", SUBSTITUTED_ONLY.format(what=ACTION_NOUNS.get(others[0], others[0])))
    kinds = {a["action"] for a in clause.actions}
    if {"prefer_warehouses", "hold"} <= kinds and not clause.conds:  # "prefer EWR then DFW, and hold the order"
        raise Refusal("clarify", "Hold every order, or only when none of the preferred warehouses can fill it? "
                      "For the second, say 'prefer EWR then DFW, else hold'.")
    if clause.sub_source and not any(a["action"] == "substitute" for a in clause.actions):
        raise Refusal("clarify", f"What should replace {clause.sub_source} when it is out of stock?")
    if not clause.actions:
        raise Refusal("clarify", "What should happen to these orders: hold, substitute, ship from a warehouse, "
                      "use a service, rate shop, tag, require a signature or insure?")
    if clause.eff_from and clause.eff_until and clause.eff_until <= clause.eff_from:
        raise Refusal("clarify", "The end date is not after the start date.")


def _stage_groups(actions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in actions:
        a.pop("_reason_set", None)
        a.pop("_default_said", None)
        a.pop("_objective_said", None)
        groups.setdefault(ACTION_STAGE[a["action"]], []).append(a)
    for stage, acts in groups.items():
        if sum(a["action"] in DECISIVE_ACTIONS for a in acts) > 1:
            raise Refusal("clarify", f"Two {stage} decisions in one sentence; which one should apply?")
    return groups


def _check_stage_fields(stage: str, when: Any) -> None:
    for name in _fields(when):
        spec = FIELDS[name]
        if not spec.known_at(stage):
            raise Refusal("error", f"The {spec.english} is only known when the carrier is chosen, so a "
                          f"{stage} rule cannot test it.")


def _midnight(d: date | None) -> datetime | None:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc) if d else None


def clause_rules(clause: Clause, client: str | None) -> list[dict[str, Any]]:
    if client and clause.clients and clause.clients != [client]:
        raise Refusal("error", f"The request names {', '.join(clause.clients)} but the draft is for {client}.")
    clients = clause.clients or ([client] if client else [])
    when: Any = None
    if len(clause.conds) == 1:
        when = clause.conds[0]
    elif clause.conds:
        when = {"all": clause.conds}
    out = []
    for stage, actions in _stage_groups(clause.actions).items():
        _check_stage_fields(stage, when)
        raw: dict[str, Any] = {"id": "draft", "clients": clients,
                               "priority": clause.priority if clause.priority is not None else DEFAULT_PRIORITY,
                               "then": actions}
        if when is not None:
            raw["when"] = when
        if clause.eff_from or clause.eff_until:
            raw["effective"] = {"from": _midnight(clause.eff_from), "until": _midnight(clause.eff_until)}
        raw["_words"] = clause.words
        out.append(raw)
    return out


# --- ids and names -------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def _summary(rule: Rule) -> str:
    from rules_core.explain import action_text
    scope = "/".join(rule.clients) if rule.clients else "All clients"
    what = "; ".join(action_text(a) for a in rule.then)
    first = _first_predicate(rule.when)
    cond = f" when {predicate_text(first)[4:]}" if first is not None else ""
    more = " ..." if first is not None and not isinstance(rule.when, Predicate) else ""
    text = f"{scope}: {what}{cond}{more}"
    return text if len(text) <= 100 else text[:97] + "..."


def _first_predicate(node: Any) -> Predicate | None:
    from rules_core.equivalence import predicates
    return next(iter(predicates(node)), None)


_OP_SLUG = {"eq": "", "ne": "not", "gt": "over", "gte": "min", "lt": "under", "lte": "max",
            "between": "", "in": "", "not_in": "not", "starts_with": "", "contains": "",
            "contains_any": "", "contains_all": ""}


def _action_slug(a: Any) -> str:
    kind = a.action
    slugs = {
        "hold": lambda: "hold",
        "substitute": lambda: f"sub-{a.sku}",
        "ship_from": lambda: f"from-{a.warehouse}",
        "prefer_warehouses": lambda: f"prefer-{a.warehouses[0]}",
        "exclude_warehouses": lambda: f"no-{a.warehouses[0]}",
        "use_service": lambda: a.service,
        "rate_shop": lambda: f"rate-shop-{a.objective}",
        "exclude_services": lambda: "no-" + ((a.services or []) + (a.carriers or []) + ["services"])[0],
        "add_tag": lambda: f"tag-{a.tag}",
        "require_signature": lambda: "signature",
        "insure": lambda: "insure",
    }
    return slugs[kind]()


def _predicate_slug(p: Predicate) -> str:
    raw = p.value[0] if isinstance(p.value, list) and p.value else p.value
    value = getattr(raw, "value", getattr(raw, "amount", raw))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = number_text(value)
    if isinstance(value, bool):
        value = "" if value else "no"
    short = p.field.split(".")[-1].replace("_", "-")
    return f"{_OP_SLUG[p.op]}-{short}-{value}" if isinstance(value, str) and value == "no" else \
        f"{short}-{_OP_SLUG[p.op]}-{value}"


def rule_slug(rule: Rule) -> str:
    from rules_core.equivalence import predicates
    scope = [c.lower() for c in rule.clients] or ["all"]
    preds = [_predicate_slug(p) for p in list(predicates(rule.when))[:2]]
    return (_slug("-".join(scope + [_action_slug(a) for a in rule.then[:2]] + preds)) or "rule")[:64].rstrip("-")


def _name_rules(raws: list[dict[str, Any]]) -> list[Rule]:
    rules, seen = [], set()
    for raw in raws:
        raw.pop("_words", None)
        base = rule_slug(Rule.model_validate(raw))
        rid, n = base, 2
        while rid in seen:
            rid, n = f"{base}-{n}", n + 1
        seen.add(rid)
        raw["id"] = rid
        rule = Rule.model_validate(raw)
        rules.append(rule.model_copy(update={"name": _summary(rule)}))
    return rules


# --- the entry point -----------------------------------------------------------------------------


def _refused(r: Refusal, rules: list[Rule]) -> ParseResult:
    return ParseResult(status=r.status, rules=rules, english=explain_rules(rules),
                       question=r.message if r.status == "clarify" else None,
                       error=r.message if r.status == "error" else None,
                       suggestions=r.suggestions, complete=False)


def _parse_canonical_text(text: str) -> ParseResult:
    try:
        rules = parse_canonical(text)
    except CanonicalError as exc:
        return ParseResult(status="error", error=f"not valid rule English: {exc}", complete=False)
    return ParseResult(status="ok", rules=rules, english=explain_rules(rules), complete=True)


def parse_request(text: str, catalog: Catalog, *, client: str | None = None,
                  existing: list[Rule] | None = None, today: date | None = None) -> ParseResult:
    """Rules from a plain-English request, or a question/error; never a guessed rule.

    ``existing`` rules keep generated ids unique; ``today`` anchors dates written without a year.
    """
    if text.lstrip().startswith("Rule "):
        return _parse_canonical_text(text.strip())
    if not text.strip():
        return ParseResult(status="clarify", question="What rule would you like? e.g. "
                           "'Hold orders over $2,000 for fraud review.'")
    if client is not None and client not in catalog.clients:
        return ParseResult(status="error", error=f"unknown client {client!r}",
                           suggestions=sorted(catalog.clients))
    vocab = vocabulary(catalog)
    today = today or date.today()
    raws: list[dict[str, Any]] = []
    previous: Clause | None = None
    for sentence, refines in split_sentences(tokenize(text, vocab)):
        try:
            clause = SentenceReader(sentence, vocab, catalog, today, previous).read()
            clause.refers_back = clause.refers_back or refines or _points_back(sentence, clause, previous)
            _resolve_from(clause, previous)
            _merge_previous(clause, previous)
            _check_clause(clause, previous)
            raws += clause_rules(clause, client)
        except Refusal as r:
            return _refused(r, _safe_rules(raws, existing))
        previous = clause
    if not raws:
        return ParseResult(status="clarify", question="What rule would you like?")
    try:
        rules = _unique(_name_rules(raws), existing)
    except (ValidationError, ValueError) as exc:
        return ParseResult(status="error", error=f"could not build the rule: {str(exc).splitlines()[0]}")
    return ParseResult(status="ok", rules=rules, english=explain_rules(rules), complete=True)


def _safe_rules(raws: list[dict[str, Any]], existing: list[Rule] | None) -> list[Rule]:
    try:
        return _unique(_name_rules(raws), existing)
    except (ValidationError, ValueError):
        return []


def _unique(rules: list[Rule], existing: list[Rule] | None) -> list[Rule]:
    taken = {r.id for r in existing or []}
    out = []
    for rule in rules:
        rid, n = rule.id, 2
        while rid in taken:
            rid, n = f"{rule.id}-{n}", n + 1
        taken.add(rid)
        out.append(rule if rid == rule.id else rule.model_copy(update={"id": rid}))
    return out
