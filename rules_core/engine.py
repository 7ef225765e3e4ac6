"""The decision engine: ``decide(order, ruleset, catalog) -> Decision``.

Stages run in order (hold, substitution, routing, carrier, finishing). Within a stage, rules
run by priority (higher first, ties by id); modifier actions apply from every matching rule,
the decisive action from the first matching rule that has one. When no decisive rule
matches, the defaults apply: routing picks the warehouse that can fill every line with the
lowest zone (ties: lowest cost), carrier selection the cheapest eligible service that meets
the order's service level. A decisive action that cannot be carried out records an exception
and holds the order; it is never skipped silently.

A rule set is compiled once (``compile_rules``): rules are indexed by client and stage and
each (client, stage) becomes one generated function over the facts, so per-order work never
re-interprets JSON. The traced path evaluates the same normalised conditions one check at a
time and records each check's expected and actual value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import AbstractSet, Any, Callable, Iterable, cast

from rules_core.catalog import Catalog
from rules_core.conditions import (
    NormTree,
    SourceBuilder,
    ValueKindError,
    build_function,
    compile_source,
    evaluate_traced,
    norm_tree,
)
from rules_core.errors import RuleSetError
from rules_core.facts import Facts, order_facts, set_line_facts, set_shipment_facts, utc
from rules_core.models import (
    ACTION_STAGE,
    DECISIVE_ACTIONS,
    Decision,
    ExceptionOut,
    HoldOut,
    Order,
    OrderLine,
    PreferWarehouses,
    RateShop,
    Rule,
    RuleSet,
    ShipFrom,
    Shipment,
    Substitute,
    SubstitutionOut,
    TraceEntry,
    UseService,
    ruleset_hash,
)
from rules_core.quantities import Money
from rules_core.registry import STAGES
from rules_core.shipping import (
    SERVICE_LEVEL_DAYS,
    allowed_quotes,
    Quote,
    eligible_quotes,
    fastest,
    ineligible_reason,
)

ALL_CLIENTS = "*"
_NONE: frozenset[str] = frozenset()


@dataclass(eq=False)  # compared by identity: comparing the pydantic rules is slow and never needed
class CompiledRule:
    rule: Rule
    tree: NormTree | None
    modifiers: list[Any]
    decisive: Any | None
    eff_from: datetime | None
    eff_until: datetime | None
    id: str = ""

    def __post_init__(self) -> None:
        self.id = self.rule.id


StageFunction = Callable[[Facts], tuple[CompiledRule | None, list[CompiledRule]]]


@dataclass
class CompiledStage:
    rules: list[CompiledRule]
    fast: StageFunction


@dataclass
class CompiledRuleSet:
    version: str
    rules: list[Rule]
    stages: dict[str, dict[str, CompiledStage]]  # client (or "*") -> stage -> compiled
    substitutions: dict[str, dict[str, list[CompiledRule]]] = field(default_factory=dict)

    def for_client(self, client: str) -> dict[str, CompiledStage]:
        return self.stages.get(client) or self.stages[ALL_CLIENTS]


# --- compiling -------------------------------------------------------------------------------


def _compile_rule(rule: Rule) -> CompiledRule:
    try:
        tree = norm_tree(rule.when) if rule.when is not None else None
    except ValueKindError as exc:
        raise RuleSetError(f"rule {rule.id}: {exc}") from None
    stages = {ACTION_STAGE[a.action] for a in rule.then}
    if len(stages) > 1:
        raise RuleSetError(f"rule {rule.id}: actions of several stages ({', '.join(sorted(stages))})")
    decisive = [a for a in rule.then if a.action in DECISIVE_ACTIONS]
    if len(decisive) > 1:
        raise RuleSetError(f"rule {rule.id}: more than one decisive action")
    eff = rule.effective
    return CompiledRule(
        rule=rule,
        tree=tree,
        modifiers=[a for a in rule.then if a.action not in DECISIVE_ACTIONS],
        decisive=decisive[0] if decisive else None,
        eff_from=utc(eff.from_) if eff and eff.from_ else None,
        eff_until=utc(eff.until) if eff and eff.until else None,
    )


def _rule_order(cr: CompiledRule) -> tuple[int, str]:
    return (-cr.rule.priority, cr.rule.id)


def _stage_function(name: str, rules: list[CompiledRule]) -> StageFunction:
    """One function per (client, stage): returns (the deciding rule or None, the matching
    rules with modifiers). Modifier rules are all tested; then the decisive rules in priority
    order, returning at the first match. A rule with both kinds is tested in both places (its
    condition has no side effects, so testing it twice is only time)."""
    sb = SourceBuilder()
    conds = [_condition_source(cr, sb) for cr in rules]
    rule_ref = sb.const(tuple(rules))
    body = ["c = F['order.created_at']", "m = []"]
    body += [f"if {cond}: m.append({rule_ref}[{i}])" for i, (cr, cond) in enumerate(zip(rules, conds))
             if cr.modifiers]
    body += [f"if {cond}: return {rule_ref}[{i}], m" for i, (cr, cond) in enumerate(zip(rules, conds))
             if cr.decisive]
    body.append("return None, m")
    return build_function(name, body, sb)


def _condition_source(cr: CompiledRule, sb: SourceBuilder) -> str:
    parts = []
    if cr.eff_from is not None:
        parts.append(f"(c is not None and c >= {sb.const(cr.eff_from)})")
    if cr.eff_until is not None:
        parts.append(f"(c is not None and c < {sb.const(cr.eff_until)})")
    if cr.tree is not None:
        parts.append(compile_source(cr.tree, sb))
    return " and ".join(parts) or "True"


def compile_rules(rules: Iterable[Rule] | RuleSet, *, version: str | None = None,
                  reuse: CompiledRuleSet | None = None) -> CompiledRuleSet:
    """Compile enabled rules once: indexed by client and stage, one function per pair.
    ``version`` may pass the rule set's hash when the caller has it already. ``reuse`` may pass
    a compiled set that shares rule objects with this one (a dry run's current set): what was
    compiled for the very same rules is taken from it instead of compiled again."""
    rule_list = list(rules.rules if isinstance(rules, RuleSet) else rules)
    known: dict[int, CompiledRule] = {}
    old_stages: dict[tuple[str, str], CompiledStage] = {}
    if reuse is not None:
        for client, reused_stages in reuse.stages.items():
            for stage, cs in reused_stages.items():
                old_stages[(client, stage)] = cs
                known.update((id(cr.rule), cr) for cr in cs.rules)
    compiled = []
    for r in rule_list:
        if r.enabled:
            cr = known.get(id(r))  # the very same rule object: held alive by ``reuse``
            compiled.append(cr if cr is not None and cr.rule is r else _compile_rule(r))
    clients = sorted({c for cr in compiled for c in cr.rule.clients}) + [ALL_CLIENTS]
    out = CompiledRuleSet(version=version or ruleset_hash(rule_list), rules=rule_list, stages={})
    for client in clients:
        in_scope = sorted((cr for cr in compiled if not cr.rule.clients or client in cr.rule.clients),
                          key=_rule_order)
        per_stage: dict[str, CompiledStage] = {}
        for stage in STAGES:
            stage_rules = [cr for cr in in_scope if cr.rule.stage == stage]
            old = old_stages.get((client, stage))
            if old is not None and len(old.rules) == len(stage_rules) and all(
                    a is b for a, b in zip(old.rules, stage_rules)):
                per_stage[stage] = old
            else:
                per_stage[stage] = CompiledStage(stage_rules, _stage_function(f"{stage}_{_ident(client)}", stage_rules))
        out.stages[client] = per_stage
        subs: dict[str, list[CompiledRule]] = {}
        for cr in per_stage["substitution"].rules:
            subs.setdefault(cast(Substitute, cr.decisive).sku, []).append(cr)
        out.substitutions[client] = subs
    return out


def _ident(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text) or "all"


# --- evaluating a stage ------------------------------------------------------------------------


class Run:
    """One order's decision in progress, as plain values. ``decide`` turns it into a
    ``Decision``; a dry run reads it directly (it compares ten thousand of them twice)."""

    __slots__ = ("order", "catalog", "tracing", "stages", "subs", "facts", "holds", "exceptions",
                 "substitutions", "tags", "signature_required", "insured", "applied", "trace",
                 "warehouse", "quote", "routed_by", "decided_by", "lines")

    def __init__(self, order: Order, crs: CompiledRuleSet, catalog: Catalog, trace: bool,
                 as_of: datetime | None, facts: Facts | None = None) -> None:
        self.order, self.catalog, self.tracing = order, catalog, trace
        self.stages = crs.for_client(order.client)
        self.subs = crs.substitutions.get(order.client) or crs.substitutions[ALL_CLIENTS]
        self.facts = facts if facts is not None else order_facts(order, catalog, as_of)
        self.holds: list[tuple[str, str, str | None]] = []  # rule, reason, queue
        self.exceptions: list[tuple[str, str, str, str | None]] = []  # code, message, stage, rule
        self.substitutions: list[tuple[int, str, str, str]] = []  # line, from, to, rule
        self.tags: list[str] = list(dict.fromkeys(order.tags))
        self.signature_required = False
        self.insured = False
        self.applied: list[str] = []  # rules whose actions applied, in stage order
        self.trace: list[TraceEntry] = []
        self.warehouse: str | None = None
        self.quote: Quote | None = None
        self.routed_by = "default"
        self.decided_by = "default"
        self.lines: list[OrderLine] = order.lines

    @property
    def held(self) -> bool:
        return bool(self.holds or self.exceptions)

    def exception(self, stage: str, code: str, message: str, rule: str | None = None) -> None:
        self.exceptions.append((code, message, stage, rule))

    def matches(self, cr: CompiledRule, stage: str) -> bool:
        """Traced evaluation of one rule (effective window, then conditions)."""
        checks: list[dict[str, Any]] | None = [] if self.tracing else None
        created = self.facts["order.created_at"]
        ok = _effective(cr, created)
        if checks is not None and (cr.eff_from or cr.eff_until):
            checks.append({"field": "rule.effective", "op": "between", "expected": _window_text(cr),
                           "actual": created.isoformat().replace("+00:00", "Z") if created else "(missing)",
                           "result": ok})
        if ok and cr.tree is not None:
            ok = evaluate_traced(cr.tree, self.facts, checks)
        if checks is not None:
            # pydantic validates the check dicts into ``Check`` models
            self.trace.append(TraceEntry(stage=stage, rule=cr.id, matched=ok, checks=cast(Any, checks)))
        return ok

    def run_stage(self, stage: str) -> tuple[CompiledRule | None, list[CompiledRule]]:
        """The deciding rule and the matching modifier rules of a stage."""
        cs = self.stages[stage]
        if not cs.rules:
            return None, []
        if self.tracing:
            decisive, modifiers = self._traced_stage(stage, cs)
        else:
            decisive, modifiers = cs.fast(self.facts)
        if modifiers:
            self.applied.extend([cr.id for cr in modifiers])
        if decisive is not None and not decisive.modifiers:  # else it is among the modifiers already
            self.applied.append(decisive.id)
        return decisive, modifiers

    def _traced_stage(self, stage: str, cs: CompiledStage) -> tuple[CompiledRule | None, list[CompiledRule]]:
        decisive: CompiledRule | None = None
        modifiers: list[CompiledRule] = []
        for cr in cs.rules:
            if decisive is not None and not cr.modifiers:
                continue  # first match already decided; modifier-free rules are not considered
            if self.matches(cr, stage):
                if cr.modifiers:
                    modifiers.append(cr)
                if cr.decisive is not None and decisive is None:
                    decisive = cr
        return decisive, modifiers


def _effective(cr: CompiledRule, created: datetime | None) -> bool:
    if cr.eff_from is None and cr.eff_until is None:
        return True
    if created is None:
        return False
    return (cr.eff_from is None or created >= cr.eff_from) and (cr.eff_until is None or created < cr.eff_until)


def _window_text(cr: CompiledRule) -> str:
    parts = []
    if cr.eff_from:
        parts.append("from " + cr.eff_from.isoformat().replace("+00:00", "Z"))
    if cr.eff_until:
        parts.append("until " + cr.eff_until.isoformat().replace("+00:00", "Z"))
    return " ".join(parts)


# --- the stages ---------------------------------------------------------------------------------


def _hold_stage(run: Run) -> None:
    _, mods = run.run_stage("hold")
    for cr in mods:
        for a in cr.modifiers:
            run.holds.append((cr.id, a.reason, a.queue))


def _substitution_stage(run: Run) -> list[OrderLine]:
    lines = list(run.order.lines)
    catalog = run.catalog
    for i, line in enumerate(run.order.lines):
        if line.sku not in catalog.skus or catalog.network_stock(line.sku) >= line.qty:
            continue
        for cr in run.subs.get(line.sku, ()):
            if not run.matches(cr, "substitution"):
                continue
            pick = next((s for s in cast(Substitute, cr.decisive).with_ if catalog.network_stock(s) >= line.qty), None)
            if pick is None:
                run.exception("substitution", "substitute_unavailable",
                              f"line {i}: {line.sku} is out of stock and none of "
                              f"{', '.join(cast(Substitute, cr.decisive).with_)} has {line.qty} in stock", cr.id)
            else:
                run.applied.append(cr.id)
                lines[i] = line.model_copy(update={"sku": pick})
                run.substitutions.append((i, line.sku, pick, cr.id))
            break
    if run.substitutions:
        set_line_facts(run.facts, run.order, lines, catalog)
    return lines


def _fillers(catalog: Catalog, lines: list[OrderLine]) -> tuple[str, ...]:
    """The warehouses that can fill every line (quantities of a SKU on several lines add up)."""
    need: dict[str, int] = {}
    for line in lines:
        need[line.sku] = need.get(line.sku, 0) + line.qty
    return catalog.warehouses_that_fill(tuple(sorted(need.items())))


def _default_warehouse(run: Run, fillers: tuple[str, ...], excluded: AbstractSet[str]) -> str | None:
    f, catalog = run.facts, run.catalog
    candidates = [w for w in fillers if w not in excluded]
    if not candidates:
        return None
    country = f["dest.country"]
    zones = catalog.zone_keys(country, f["dest.postal_code"])
    domestic = [w for w in candidates if catalog.warehouses[w].country == country]
    if domestic and all(zones[w] > 8 for w in domestic):
        # A warehouse in the destination's country could ship it, but the destination cannot
        # be zoned (postal code missing or unknown): shipping it cross-border instead would be
        # a guess that costs money and days.
        run.exception("routing", "unzoned_destination",
                      f"cannot find a zone for postal code {f['dest.postal_code'] or '(missing)'} in {country}")
        return None
    best = min(zones[w] for w in candidates)
    tied = [w for w in candidates if zones[w] == best]
    if len(tied) == 1:
        return tied[0]

    def cost_key(w: str) -> tuple[float, str]:
        quotes = eligible_quotes(w, f, catalog)  # cheapest first
        return (quotes[0].cost if quotes else float("inf"), w)

    return min(tied, key=cost_key)


def _routing_stage(run: Run, lines: list[OrderLine]) -> tuple[str | None, str]:
    decisive, mods = run.run_stage("routing")
    skus = run.catalog.skus
    if any(line.sku not in skus for line in lines):
        unknown = sorted({line.sku for line in lines if line.sku not in skus})
        run.exception("routing", "unknown_sku", f"SKU not in the catalog: {', '.join(unknown)}")
        return None, "default"
    excluded = {w for cr in mods for a in cr.modifiers for w in a.warehouses} if mods else _NONE
    fillers = _fillers(run.catalog, lines)
    if decisive is not None:
        a, rid = cast("ShipFrom | PreferWarehouses", decisive.decisive), decisive.id
        if a.action == "ship_from":
            if a.warehouse in excluded:
                run.exception("routing", "warehouse_excluded", f"{a.warehouse} is excluded by another routing rule", rid)
                return None, f"rule:{rid}"
            if a.warehouse not in fillers:
                run.exception("routing", "warehouse_cannot_fill",
                              f"{a.warehouse} cannot fill every line of the order", rid)
                return None, f"rule:{rid}"
            return a.warehouse, f"rule:{rid}"
        pick = next((w for w in a.warehouses if w not in excluded and w in fillers), None)
        if pick is not None:
            return pick, f"rule:{rid}"
        if a.fallback == "hold":
            run.exception("routing", "no_preferred_warehouse",
                          f"none of {', '.join(a.warehouses)} can fill every line", rid)
            return None, f"rule:{rid}"
    reported = len(run.exceptions)
    wh = _default_warehouse(run, fillers, excluded)
    if wh is None and len(run.exceptions) == reported:
        run.exception("routing", "no_warehouse_can_fill",
                      "no warehouse" + (" left after exclusions" if excluded else "") + " can fill every line")
    return wh, "default"


def _carrier_stage(run: Run, origin: str) -> tuple[Quote | None, str]:
    f, catalog = run.facts, run.catalog
    set_shipment_facts(f, origin, catalog)
    decisive, mods = run.run_stage("carrier")
    ex_services: AbstractSet[str]
    ex_carriers: AbstractSet[str]
    if mods:
        ex_services = {s for cr in mods for a in cr.modifiers for s in (a.services or ())}
        ex_carriers = {c for cr in mods for a in cr.modifiers for c in (a.carriers or ())}
    else:
        ex_services = ex_carriers = _NONE

    def allowed(code: str) -> bool:
        return code not in ex_services and catalog.services[code].carrier not in ex_carriers

    if decisive is None:
        deadline = SERVICE_LEVEL_DAYS[f["order.service_level"]]
        quotes = allowed_quotes(eligible_quotes(origin, f, catalog), ex_services, ex_carriers)
        best = next((q for q in quotes if q.transit_days <= deadline), None)  # cheapest first
        if best is None:
            run.exception("carrier", "no_eligible_service",
                          f"no eligible service from {origin} delivers within {deadline} days "
                          f"({f['order.service_level']})")
        return best, "default"
    a, rid = cast("UseService | RateShop", decisive.decisive), decisive.id
    if a.action == "use_service":
        svc = catalog.services.get(a.service)
        if svc is None:
            run.exception("carrier", "unknown_service", f"{a.service} is not in the catalog", rid)
            return None, f"rule:{rid}"
        if not allowed(svc.code):
            run.exception("carrier", "service_excluded", f"{svc.code} is excluded by another carrier rule", rid)
            return None, f"rule:{rid}"
        code = svc.code
        q = next((q for q in eligible_quotes(origin, f, catalog) if q.service == code), None)
        if q is None:
            reason = ineligible_reason(svc, origin, f, catalog)
            run.exception("carrier", "service_ineligible", reason or f"{svc.code} has no rate for this shipment", rid)
        return q, f"rule:{rid}"
    services, carriers, max_days = a.services or (), a.carriers or (), a.max_transit_days
    listed = not services and not carriers
    quotes = [q for q in allowed_quotes(eligible_quotes(origin, f, catalog), ex_services, ex_carriers)
              if (listed or q.service in services or q.carrier in carriers)
              and (max_days is None or q.transit_days <= max_days)]
    best = (quotes[0] if quotes else None) if a.objective == "cheapest" else fastest(quotes)
    if best is None:
        within = f" within {a.max_transit_days} days" if a.max_transit_days else ""
        run.exception("carrier", "no_eligible_service", f"no service of the rate shop is eligible{within}", rid)
    return best, f"rule:{rid}"


def _finishing_stage(run: Run) -> None:
    _, mods = run.run_stage("finishing")
    for cr in mods:
        for a in cr.modifiers:
            if a.action == "add_tag":
                if a.tag not in run.tags:
                    run.tags.append(a.tag)
            elif a.action == "require_signature":
                run.signature_required = True
            elif a.action == "insure":
                run.insured = True


# --- entry points ----------------------------------------------------------------------------------


def run_order(order: Order, crs: CompiledRuleSet, catalog: Catalog, *, trace: bool = False,
              as_of: datetime | None = None, facts: Facts | None = None) -> Run:
    """Decide one order, leaving the result as plain values. ``facts`` may pass the order's
    facts (``order_facts``) when the caller has them; they are updated in place."""
    run = Run(order, crs, catalog, trace, as_of or datetime.now(timezone.utc), facts)
    if order.client not in catalog.clients:
        run.exception("hold", "unknown_client", f"client {order.client!r} is not in the catalog "
                      "(client codes are exact, e.g. ACME)")
    _hold_stage(run)
    lines = run.lines = _substitution_stage(run)
    run.warehouse, run.routed_by = _routing_stage(run, lines)
    if run.warehouse is not None:
        run.quote, run.decided_by = _carrier_stage(run, run.warehouse)
    _finishing_stage(run)
    return run


def decide(order: Order, ruleset: CompiledRuleSet | RuleSet | Iterable[Rule], catalog: Catalog, *,
           trace: bool = False, as_of: datetime | None = None) -> Decision:
    """The decision for one order. Pass a compiled rule set when deciding many orders."""
    crs = ruleset if isinstance(ruleset, CompiledRuleSet) else compile_rules(ruleset)
    run = run_order(order, crs, catalog, trace=trace, as_of=as_of)
    q = run.quote
    shipment = Shipment(
        warehouse=run.warehouse, lines=list(range(len(run.lines))), zone=run.facts.get("shipment.zone"),
        carrier=q.carrier if q else None, service=q.service if q else None,
        cost=Money(amount=q.cost, currency=catalog.spec.currency) if q else None,
        transit_days=q.transit_days if q else None, routed_by=run.routed_by, decided_by=run.decided_by)
    return Decision(
        order_id=order.id, ruleset=crs.version, held=run.held,
        holds=[HoldOut(rule=r, reason=why, queue=queue) for r, why, queue in run.holds],
        # populate_by_name accepts the field name; pydantic's typing knows only the alias "from"
        substitutions=[SubstitutionOut(line=i, from_=a, to=b, rule=r)  # type: ignore[call-arg]
                       for i, a, b, r in run.substitutions],
        shipments=[shipment], tags=run.tags, signature_required=run.signature_required,
        insured=run.insured,
        exceptions=[ExceptionOut(code=c, message=m, stage=st, rule=r) for c, m, st, r in run.exceptions],
        applied_rules=run.applied, trace=run.trace)
