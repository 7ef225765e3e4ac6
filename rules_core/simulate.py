"""Dry runs: what a proposed change would do to a set of orders, before it goes live.

``simulate(current, proposed, orders, catalog)`` decides every order under the current rule
set and under the proposed one, and reports the orders whose decision changes (before and
after), how many orders each new or changed rule applied to, orders newly held or released,
the warehouse, carrier and service mix before and after, cost and transit-day deltas from the
rate cards, and new exceptions.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter, OrderedDict
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, Field

from rules_core.catalog import Catalog
from rules_core.engine import CompiledRuleSet, Run, compile_rules, run_order
from rules_core.facts import order_facts
from rules_core.models import Order, Rule, rule_json, ruleset_hash_of_json

DEFAULT_AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)
SUMMARY_EXAMPLES = 10  # changed orders carried in a summary


class Outcome(BaseModel):
    """The parts of a decision a person compares in a dry run."""

    held: bool
    holds: list[str] = Field(default_factory=list)
    substitutions: list[str] = Field(default_factory=list)
    warehouse: str | None = None
    service: str | None = None
    carrier: str | None = None
    cost: float | None = None
    transit_days: int | None = None
    routed_by: str | None = None
    decided_by: str | None = None
    tags: list[str] = Field(default_factory=list)
    signature_required: bool = False
    insured: bool = False
    exceptions: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, values: "OutcomeValues") -> "Outcome":
        return cls(**dict(zip(_FIELDS, values)))


# An outcome as a plain tuple, in this order: the fields a dry run compares come first (their
# slice is compared as one tuple), then the ones it only reports. Outcome models are built only
# for the orders that changed.
_COMPARED = ("held", "holds", "substitutions", "warehouse", "service", "tags",
             "signature_required", "insured", "exceptions")
_FIELDS = _COMPARED + ("carrier", "cost", "transit_days", "routed_by", "decided_by")
_N = len(_COMPARED)
OutcomeValues = tuple
_WAREHOUSE, _SERVICE, _CARRIER, _COST, _DAYS, _EXC = (
    _FIELDS.index(k) for k in ("warehouse", "service", "carrier", "cost", "transit_days", "exceptions"))


def outcome_values(run: Run) -> OutcomeValues:
    q = run.quote
    if q is None:
        tail: tuple = (None, None, None, run.routed_by, run.decided_by)
    else:
        tail = (q.carrier, q.cost, q.transit_days, run.routed_by, run.decided_by)
    return (run.held, tuple(h[1] for h in run.holds),
            tuple(f"{a}->{b}" for _, a, b, _ in run.substitutions) if run.substitutions else (),
            run.warehouse, q.service if q else None, tuple(run.tags), run.signature_required, run.insured,
            tuple(e[0] for e in run.exceptions) if run.exceptions else ()) + tail


class OrderChange(BaseModel):
    order_id: str
    client: str
    changed: list[str]
    before: Outcome
    after: Outcome


class Mix(BaseModel):
    before: dict[str, int]
    after: dict[str, int]


class Impact(BaseModel):
    orders: int
    changed: int
    added_rules: list[str] = Field(default_factory=list)
    changed_rules: list[str] = Field(default_factory=list)
    removed_rules: list[str] = Field(default_factory=list)
    rule_orders: dict[str, int] = Field(default_factory=dict, description="orders each new or changed rule applied to")
    newly_held: int = 0
    released: int = 0
    warehouse_mix: Mix
    carrier_mix: Mix
    service_mix: Mix
    cost_before: float = 0.0
    cost_after: float = 0.0
    transit_days_before: float | None = None
    transit_days_after: float | None = None
    new_exceptions: dict[str, int] = Field(default_factory=dict)
    changes: list[OrderChange] = Field(default_factory=list)
    changes_truncated: bool = False

    @property
    def cost_delta(self) -> float:
        return round(self.cost_after - self.cost_before, 2)

    def summary(self) -> dict[str, Any]:
        """The headline numbers, for short displays and stored proposals."""
        per_order = round(self.cost_delta / self.orders, 4) if self.orders else 0.0
        transit = (round(self.transit_days_after - self.transit_days_before, 3)
                   if self.transit_days_after is not None and self.transit_days_before is not None else None)
        return {
            "orders": self.orders, "changed": self.changed, "newly_held": self.newly_held,
            "released": self.released, "cost_delta": self.cost_delta, "cost_delta_per_order": per_order,
            "transit_days_delta": transit, "rule_orders": self.rule_orders,
            "new_exceptions": self.new_exceptions,
            "added_rules": self.added_rules, "changed_rules": self.changed_rules, "removed_rules": self.removed_rules,
            # For displays (the review app's chart and table): the mixes and the first changed orders.
            "warehouse_mix": self.warehouse_mix.model_dump(), "carrier_mix": self.carrier_mix.model_dump(),
            "service_mix": self.service_mix.model_dump(),
            "examples": [c.model_dump(mode="json") for c in self.changes[:SUMMARY_EXAMPLES]],
        }

    def to_json(self) -> dict[str, Any]:
        out = self.model_dump(mode="json")
        out["summary"] = self.summary()
        return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A dry run creates tens of thousands of small objects that all live until it returns:
    the cyclic collector's passes over them find nothing and cost a third of the run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The caches below are shared by every dry run of the process; the review app runs them in
# several threads, so every look-up-then-update holds the lock (compiling and deciding do not).
_CACHE_LOCK = threading.Lock()
_COMPILED: "OrderedDict[str, CompiledRuleSet]" = OrderedDict()


def compiled(rules: list[Rule], version: str) -> CompiledRuleSet:
    """The compiled rule set for a version, remembered: dry runs compare many drafts with
    the same active set. Versions are content hashes, so equal keys mean equal rules."""
    with _CACHE_LOCK:
        hit = _COMPILED.get(version)
        if hit is not None:
            _COMPILED.move_to_end(version)
            return hit
    hit = compile_rules(rules, version=version)
    remember_compiled(hit)
    return hit


def remember_compiled(crs: CompiledRuleSet) -> None:
    with _CACHE_LOCK:
        _COMPILED[crs.version] = crs
        _COMPILED.move_to_end(crs.version)
        while len(_COMPILED) > 4:
            _COMPILED.popitem(last=False)


_BASELINES: "OrderedDict[tuple, tuple[Catalog, list[Order], list[OutcomeValues]]]" = OrderedDict()


def baseline_outcomes(crs: CompiledRuleSet, orders: list[Order], catalog: Catalog,
                      when: datetime) -> list[OutcomeValues] | None:
    """The current rule set's outcomes on ``orders`` remembered from an earlier dry run, or None.

    Drafting runs many dry runs against the same active rule set and the same sample orders;
    their baseline is deterministic, so it is computed once. The cache holds the very catalog
    and order objects it was computed for and is only used for those (identity, not equality).
    """
    key = _baseline_key(crs, orders, catalog, when)
    with _CACHE_LOCK:
        hit = _BASELINES.get(key)
        if hit is None or hit[0] is not catalog or len(hit[1]) != len(orders) \
                or not all(a is b for a, b in zip(hit[1], orders)):
            return None
        _BASELINES.move_to_end(key)
        return hit[2]


def _baseline_key(crs: CompiledRuleSet, orders: list[Order], catalog: Catalog, when: datetime) -> tuple:
    return (crs.version, id(catalog), when, len(orders), id(orders[0]) if orders else 0)


def remember_baseline(crs: CompiledRuleSet, orders: list[Order], catalog: Catalog, when: datetime,
                      outcomes: list[OutcomeValues]) -> None:
    """Keep ``outcomes`` as the baseline of ``crs`` on ``orders``. A dry run remembers its
    proposed set's outcomes too: once that set is approved, the next draft's dry run is warm."""
    with _CACHE_LOCK:
        _BASELINES[_baseline_key(crs, orders, catalog, when)] = (catalog, list(orders), outcomes)
        while len(_BASELINES) > 4:
            _BASELINES.popitem(last=False)


def merge_rules(current: Iterable[Rule], proposed: Iterable[Rule], removed: Iterable[str] = ()) -> list[Rule]:
    """The rule set after a change: proposed rules replace same-id rules or are added."""
    merged = {r.id: r for r in current}
    for rid in removed:
        merged.pop(rid, None)
    for r in proposed:
        merged[r.id] = r
    return list(merged.values())


def _mix(outcomes: list[OutcomeValues], index: int) -> dict[str, int]:
    return dict(Counter(o[index] or "(none)" for o in outcomes).most_common())


def simulate(current: Iterable[Rule], proposed: Iterable[Rule], orders: list[Order], catalog: Catalog, *,
             full: bool = False, removed: Iterable[str] = (), as_of: datetime | None = None,
             max_changes: int | None = 500, before: CompiledRuleSet | None = None) -> Impact:
    """Dry-run ``proposed`` (changes merged by id onto ``current``, or the whole set when
    ``full``) against ``current`` on ``orders``. ``before`` may pass the compiled current set."""
    with _gc_paused():
        return _simulate(current, proposed, orders, catalog, full=full, removed=removed, as_of=as_of,
                         max_changes=max_changes, before=before)


def _simulate(current: Iterable[Rule], proposed: Iterable[Rule], orders: list[Order], catalog: Catalog, *,
              full: bool, removed: Iterable[str], as_of: datetime | None, max_changes: int | None,
              before: CompiledRuleSet | None) -> Impact:
    current = list(current)
    proposed = list(proposed)
    after_rules = proposed if full else merge_rules(current, proposed, removed)
    old = {r.id: rule_json(r) for r in current}
    if full:
        new = {r.id: rule_json(r) for r in after_rules}
    else:  # unchanged rules are the same objects: dump only what the change brings
        gone_ids = set(removed)
        new = {i: old[i] for i in old if i not in gone_ids} | {r.id: rule_json(r) for r in proposed}
    added = sorted(set(new) - set(old))
    changed_ids = sorted(i for i in set(new) & set(old) if new[i] != old[i])
    gone = sorted(set(old) - set(new))
    watch = set(added) | set(changed_ids)

    crs_before = before or compiled(current, ruleset_hash_of_json(old))
    crs_after = compile_rules(after_rules, version=ruleset_hash_of_json(new), reuse=crs_before)
    when = as_of or DEFAULT_AS_OF
    remembered = baseline_outcomes(crs_before, orders, catalog, when)
    cold = remembered is None
    # When cold, both sets are decided in one pass, sharing each order's facts.
    outs_before: list[OutcomeValues] = [] if remembered is None else remembered
    outs_after: list[OutcomeValues] = []
    changes: list[OrderChange] = []
    rule_orders: Counter[str] = Counter()
    new_exc: Counter[str] = Counter()
    n_changed = newly_held = released = 0
    for i, order in enumerate(orders):
        facts = order_facts(order, catalog, when)
        if cold:
            o0 = outcome_values(run_order(order, crs_before, catalog, as_of=when, facts=dict(facts)))
            outs_before.append(o0)
        else:
            o0 = outs_before[i]
        r1 = run_order(order, crs_after, catalog, as_of=when, facts=facts)
        o1 = outcome_values(r1)
        outs_after.append(o1)
        if watch:
            for rid in watch.intersection(r1.applied):
                rule_orders[rid] += 1
        if o1[_EXC]:
            for code in set(o1[_EXC]).difference(o0[_EXC]):
                new_exc[code] += 1
        if o0[:_N] == o1[:_N]:
            continue
        n_changed += 1
        held0, held1 = o0[0], o1[0]  # "held" comes first
        newly_held += (not held0) and held1
        released += held0 and not held1
        if max_changes is None or len(changes) < max_changes:
            diff = [k for k, a, b in zip(_COMPARED, o0, o1) if a != b]
            changes.append(OrderChange(order_id=order.id, client=order.client, changed=diff,
                                       before=Outcome.of(o0), after=Outcome.of(o1)))

    if cold:
        remember_baseline(crs_before, orders, catalog, when, outs_before)
    # Once this proposal is approved, its rules are the active set: keep what was computed.
    remember_baseline(crs_after, orders, catalog, when, outs_after)
    remember_compiled(crs_after)

    def total_cost(outs: list[OutcomeValues]) -> float:
        return round(sum(o[_COST] or 0.0 for o in outs), 2)

    def avg_days(outs: list[OutcomeValues]) -> float | None:
        days = [o[_DAYS] for o in outs if o[_DAYS] is not None]
        return round(sum(days) / len(days), 3) if days else None

    return Impact(
        orders=len(orders), changed=n_changed, added_rules=added, changed_rules=changed_ids,
        removed_rules=gone, rule_orders={rid: rule_orders.get(rid, 0) for rid in sorted(watch)},
        newly_held=newly_held, released=released,
        warehouse_mix=Mix(before=_mix(outs_before, _WAREHOUSE), after=_mix(outs_after, _WAREHOUSE)),
        carrier_mix=Mix(before=_mix(outs_before, _CARRIER), after=_mix(outs_after, _CARRIER)),
        service_mix=Mix(before=_mix(outs_before, _SERVICE), after=_mix(outs_after, _SERVICE)),
        cost_before=total_cost(outs_before), cost_after=total_cost(outs_after),
        transit_days_before=avg_days(outs_before), transit_days_after=avg_days(outs_after),
        new_exceptions=dict(new_exc.most_common()), changes=changes,
        changes_truncated=max_changes is not None and n_changed > len(changes),
    )
