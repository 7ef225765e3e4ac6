"""Scoring a draft by behaviour (execution accuracy), not by its JSON.

The drafted rules and the intended rules are each merged onto the case's existing rules and
both sets decide the same battery of orders: ``rules_core.equivalence.boundary_orders`` over
the existing, intended and drafted rules (every threshold, just above and below, every listed
value, missing facts, effective-window edges, seeded combinations) plus its fixed sample
orders, plus a few orders that battery does not reach (``extra_orders``: destinations
outside every listed country, weekday and hour together, lines beyond network stock). A
draft is ``correct`` when some intended reading decides every order alike.

Verdicts:

| verdict   | when                                                                             |
|-----------|----------------------------------------------------------------------------------|
| correct   | a rule was expected and the draft behaves like it; or the case must be asked      |
|           | about or declined and it was (or declining is acceptable and it declined)        |
| refused   | a rule was expected but the drafter asked, declined, or its draft failed          |
|           | validation (a person sees a question or an error, not a rule)                    |
| wrong     | a rule that behaves differently from every intended reading, or any rule where   |
|           | the case must be asked about or declined                                          |

Two outcome details are compared loosely, because they are words a person chose rather than
behaviour: hold reasons are compared by their words, ignoring case, punctuation and articles
("a credit check" = "Credit check"), and not at all when the request names no reason; tags
are compared case-insensitively.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from evals.cases import Case
from rules_core.catalog import Catalog
from rules_core.engine import compile_rules, decide
from rules_core.equivalence import AS_OF, boundary_orders, outcome
from rules_core.errors import RuleSetError
from rules_core.models import Order, Rule
from rules_core.simulate import merge_rules

Verdict = Literal["correct", "refused", "wrong"]
VERDICTS: tuple[Verdict, ...] = ("correct", "refused", "wrong")


@dataclass(frozen=True)
class Score:
    verdict: Verdict
    reason: str
    counterexample: dict[str, Any] | None = None


def score_draft(case: Case, status: str, drafted: Sequence[Rule], catalog: Catalog) -> Score:
    """The verdict for a draft of ``case`` that ended with ``status`` and ``drafted`` rules."""
    proposed = status == "ok" and bool(drafted)
    if not proposed:
        if case.must_refuse:
            return Score("correct", f"{status}: asked or declined, as expected")
        if case.refusal_ok:
            return Score("correct", f"{status}: declined, which is acceptable here")
        return Score("refused", f"{status}: no rule drafted")
    if case.must_refuse:
        return Score("wrong", "drafted a rule where the request must be asked about or declined")
    return compare(case, list(drafted), catalog)


def compare(case: Case, drafted: list[Rule], catalog: Catalog) -> Score:
    """Correct when the drafted rules decide the battery like one of the intended readings."""
    existing = list(case.existing)
    everything = existing + drafted + [r for reading in case.readings for r in reading]
    try:
        orders = battery(everything, catalog)
        mine = compile_rules(merge_rules(existing, drafted))
    except RuleSetError as exc:
        return Score("wrong", f"the drafted rules do not compile: {exc}")
    diffs = []
    for reading in case.readings:
        diff = first_difference(mine, compile_rules(merge_rules(existing, reading)), orders, catalog,
                                case.any_hold_reason)
        if diff is None:
            return Score("correct", "decides every order of the battery like the intended rules")
        diffs.append(diff)
    first = diffs[0]  # reported against the main reading
    return Score("wrong", f"decides order {first['order']['id']} differently "
                          f"({', '.join(first['differences'])})", first)


def _extra(oid: str, client: str, country: str, postal: str | None, sku: str, qty: int = 1,
           **more: Any) -> Order:
    return Order.model_validate({"id": oid, "client": client, "lines": [{"sku": sku, "qty": qty}],
                                 "ship_to": {"country": country, "postal_code": postal}, **more})


@functools.lru_cache(maxsize=1)
def _extra_orders() -> tuple[Order, ...]:
    skus = {"ACME": "ACME-TSHIRT", "GLOBEX": "GLOBEX-CABLE", "INITECH": "INITECH-STAPLER"}
    abroad = [("GB", "SW1A 1AA"), ("MX", "06600"), ("DE", "10115"), ("JP", "100-0001"), ("AU", "2000")]
    out = [_extra(f"X-{client}-{country}", client, country, postal, sku, created_at="2026-11-05T10:00:00Z")
           for client, sku in skus.items() for country, postal in abroad]
    evenings = ["2026-11-06T19:30:00Z", "2026-11-07T03:00:00Z", "2026-11-08T22:00:00Z", "2026-11-09T18:00:00Z"]
    out += [_extra(f"X-{client}-{when[:13]}", client, "US", "10001", sku, created_at=when,
                   service_level="overnight", channel="shopify")
            for client, sku in skus.items() for when in evenings]
    beyond_stock = [("ACME", "ACME-HOODIE", 1200), ("GLOBEX", "GLOBEX-TV-55", 80), ("INITECH", "INITECH-TONER", 300)]
    out += [_extra(f"X-{client}-stock", client, "US", "75001", sku, qty) for client, sku, qty in beyond_stock]
    return tuple(out)


def extra_orders() -> list[Order]:
    """Orders the generated battery does not reach: a destination outside every listed country
    (it only tries the listed ones), weekday and hour together (each overwrites the order
    time), and a line beyond network stock (so substitutions of in-stock SKUs can fire)."""
    return list(_extra_orders())


def battery(rules: Sequence[Rule], catalog: Catalog) -> list[Order]:
    """The orders a draft is judged on: the rules' boundary battery plus ``extra_orders``."""
    return boundary_orders(rules, catalog) + extra_orders()


def first_difference(mine: Any, intended: Any, orders: list[Order], catalog: Catalog,
                     any_reason: bool) -> dict[str, Any] | None:
    for order in orders:
        got = comparable(outcome(decide(order, mine, catalog, as_of=AS_OF)), any_reason)
        want = comparable(outcome(decide(order, intended, catalog, as_of=AS_OF)), any_reason)
        if got != want:
            keys = [k for k in want if want[k] != got[k]]
            return {"order": order.model_dump(mode="json", exclude_none=True),
                    "differences": {k: {"drafted": got[k], "intended": want[k]} for k in keys}}
    return None


def comparable(out: dict[str, Any], any_reason: bool) -> dict[str, Any]:
    """An outcome with the words people choose (hold reasons, tag case) made comparable."""
    out = dict(out)
    out["holds"] = sorted(("" if any_reason else words(reason), queue) for reason, queue in out["holds"])
    out["tags"] = sorted({t.lower() for t in out["tags"]})
    return out


ARTICLES = frozenset({"a", "an", "the"})


def words(text: str) -> str:
    """A hold reason as its words: "For a Credit-check." reads as "for credit check"."""
    return " ".join(w for w in re.findall(r"[a-z0-9$]+", text.lower()) if w not in ARTICLES)
