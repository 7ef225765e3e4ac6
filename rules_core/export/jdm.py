"""Export a rule set as one GoRules JDM graph that ``zen-engine`` evaluates.

Two stable entry points:

* ``export_jdm(rules, catalog=None) -> dict``: the graph (JSON-ready).
* ``jdm_facts(order, catalog, *, as_of=None, origin=None) -> dict``: the exact input the
  graph takes for one order.

The graph reproduces rulewright's *rule-level* outcomes: which hold rules match (with reason
and queue), which substitution rule applies to each out-of-stock line and the substitute it
picks, the deciding routing rule and its instruction plus excluded warehouses, the deciding
carrier rule and its instruction plus excluded services and carriers, added tags, signature
and insurance. Carrying out an instruction (which warehouse can fill the order, which service
is cheapest) stays with the runtime, as it needs live stock and rates.

The input (``jdm_facts``)
-------------------------

Everything is JSON: numbers, strings, booleans, lists, objects; ``null`` is a missing fact.

.. code-block:: text

    client            "ACME"
    channel           "shopify" | null
    order.value       98.0 | null          money amount, in order.currency
    order.currency    "USD"
    order.value_source   "given" | "lines"  given on the order, or summed from the lines
    order.weight      12.0 | null          lb
    order.weight_source  "given" | "lines"
    order.dim_weight  3.0 | null           lb, dimensional weight of the lines packed together
    order.billable_weight 12.0 | null      lb, ceil(max(weight, dim_weight))
    order.line_count, order.unit_count     integers
    order.tags        ["gift", "vip"]      sorted
    order.service_level "standard" | "expedited" | "overnight"
    order.created_at  "2026-11-02T10:00:00Z" | null   (creation time, or the as-of time)
    order.created_ts  1793613600 | null    the same instant as epoch seconds (the graph reads this)
    order.weekday     "mon".."sun" | null
    order.hour        0-23 | null          UTC
    order.hazmat      true | false
    dest.country, dest.region              ISO codes (region may be null)
    dest.city, dest.postal_code            case-folded text (str.casefold) or null
    dest.residential, dest.po_box          booleans
    lines[i]          {index, sku, qty, category, hazmat, out_of_stock,
                       unit_price, price, weight, volume}
                      category/hazmat/weight/volume are null for a SKU unknown to the catalog;
                      price is unit_price, else the catalog price; weight in lb, volume in in3;
                      out_of_stock: the SKU is in the catalog and the network holds fewer
                      units than the line's qty
    stock             {"SKU": units on hand over all warehouses}; the graph reads it only for
                      substitute SKUs (those named in substitute actions)
    zones             {"EWR": 5, "LAX": 2, "DFW": 4, "TOR": null}: zone from each warehouse to
                      the destination (null: cross-border or unknown)
    shipment.origin   "LAX" | null: the warehouse the shipment leaves from

The carrier stage depends on the origin. Routing happens between the routing and the carrier
stage, outside the graph (it needs live stock): the integrator evaluates the graph with the
origin routing chose (``jdm_facts(..., origin="LAX")`` fills it in). The graph derives the
shipment facts itself: ``shipment.zone = zones[shipment.origin]`` and the shipment weights from
the order after substitution. With ``shipment.origin`` null the carrier stage is skipped and
``carrier`` is null. Changing the origin needs no other change to the input.

The graph
---------

``request`` (input) -> ``hold`` (decision table, collect) -> ``substitution`` (decision table,
first, one evaluation per line) -> ``substitute`` (expression, per line: picks the first
substitute in stock and rewrites the line) -> ``substituted`` (expression: the list of
substitutions) -> ``after_substitution`` (expression: line-derived order facts recomputed
when a line changed) -> ``routing`` (first) -> ``routing_exclusions`` (collect) ->
``shipment`` (expression: shipment facts for the origin) -> ``carrier`` (first) ->
``carrier_exclusions`` (collect) -> ``finishing`` (collect) -> ``outcome`` (expression) ->
``response`` (output).

Each rule is one row per action of its stage, in priority order (higher first, ties by id).
Every row has the columns ``client`` (the rule's clients; empty for every client),
``effective`` (its window against ``order.created_ts``) and ``when`` (its condition in the ZEN
expression language); carrier rows add ``origin`` (the carrier stage needs one).
Disabled rules are left out. The response:

.. code-block:: text

    ruleset               "sha256:..." of the exported rules
    holds                 [{rule, reason, queue}]
    substitutions         [{line, from, to, rule}]   to is null when no substitute is in stock
    routing               {rule, action: {action: "ship_from", ...}} | null (null: default routing)
    excluded_warehouses   [...]
    carrier               {rule, action: {action: "use_service" | "rate_shop", ...}} | null
    excluded_services     [...]
    excluded_carriers     [...]
    tags                  tags added by rules, in rule order (may repeat, may repeat order tags)
    signature_required    bool
    insured               bool
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence, cast

from rules_core.catalog import Catalog, load_catalog
from rules_core.conditions import NormPredicate, NormTree, evaluate_traced
from rules_core.engine import CompiledRule, CompiledRuleSet, compile_rules
from rules_core.facts import Facts, order_facts, set_line_facts, set_shipment_facts, utc
from rules_core.models import Order, Rule, RuleSet, Substitute
from rules_core.registry import FIELDS

CONTENT_TYPE = "application/vnd.gorules.decision"

# --- the input ------------------------------------------------------------------------------


def jdm_facts(order: Order, catalog: Catalog, *, as_of: datetime | None = None,
              origin: str | None = None) -> dict[str, Any]:
    """The graph's input for ``order``; like ``decide``, a missing created_at means as_of (now)."""
    facts = order_facts(order, catalog, as_of or datetime.now(timezone.utc))
    return facts_to_jdm(facts, order, catalog, origin=origin)


def facts_to_jdm(facts: Facts, order: Order, catalog: Catalog, *, origin: str | None = None) -> dict[str, Any]:
    """rulewright's facts of ``order`` (from ``order_facts``) as the graph's JSON input."""
    created: datetime | None = facts["order.created_at"]
    dest = facts["dest.country"]
    return {
        "client": facts["client"],
        "channel": facts["channel"],
        "order": {
            "value": facts["order.value"],
            "currency": facts["order.currency"],
            "value_source": "given" if order.value is not None else "lines",
            "weight": facts["order.weight"],
            "weight_source": "given" if order.weight is not None else "lines",
            "dim_weight": facts["_dim_weight"],
            "billable_weight": facts["_billable_weight"],
            "line_count": facts["order.line_count"],
            "unit_count": facts["order.unit_count"],
            "tags": sorted(facts["order.tags"]),
            "service_level": facts["order.service_level"],
            "created_at": _iso(created) if created else None,
            "created_ts": _epoch(created) if created else None,
            "weekday": facts["order.weekday"],
            "hour": facts["order.hour"],
            "hazmat": facts["order.hazmat"],
        },
        "dest": {
            "country": dest,
            "region": facts["dest.region"],
            "city": _fold(facts["dest.city"]),
            "postal_code": _fold(facts["dest.postal_code"]),
            "residential": facts["dest.residential"],
            "po_box": facts["dest.po_box"],
        },
        "lines": [_line_json(i, line, lf, catalog) for i, (line, lf) in enumerate(zip(order.lines, facts["lines"]))],
        "stock": {sku: catalog.network_stock(sku) for sku in catalog.skus},
        "zones": {w: catalog.zone(w, dest, facts["dest.postal_code"]) for w in catalog.warehouses},
        "shipment": {"origin": origin},
    }


def _line_json(i: int, line: Any, lf: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    sku = catalog.skus.get(line.sku)
    price = line.unit_price if line.unit_price is not None else (sku.price if sku else None)
    return {
        "index": i,
        "sku": lf["line.sku"],
        "qty": lf["line.qty"],
        "category": lf["line.category"],
        "hazmat": lf["line.hazmat"],
        "out_of_stock": sku is not None and catalog.network_stock(line.sku) < line.qty,
        "unit_price": line.unit_price,
        "price": price,
        "weight": sku.weight_lb if sku else None,
        "volume": sku.volume_in3 if sku else None,
    }


def _fold(text: str | None) -> str | None:
    return text.casefold() if isinstance(text, str) else None


def _iso(dt: datetime) -> str:
    return utc(dt).isoformat().replace("+00:00", "Z")


def _epoch(dt: datetime) -> int | float:
    ts = utc(dt).timestamp()
    return int(ts) if ts.is_integer() else ts


# --- ZEN expression literals -----------------------------------------------------------------


def zen_string(text: str) -> str:
    """A ZEN string literal. ZEN strings have no escapes, so quotes are spliced in by concatenation."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "(" + " + \"'\" + ".join(f"'{part}'" for part in text.split("'")) + ")"


@functools.lru_cache(maxsize=65536)
def zen_number(x: float) -> str:
    """A number literal equal to what zen makes of the float ``x`` in an input.

    zen holds numbers as decimals and converts input floats with ~16 significant digits, so a
    literal written from the float's full repr could differ from the same float in an input
    (3 kg = 6.6138678655500005 lb becomes 6.61386786555); the literal uses zen's conversion.
    """
    import zen  # the optional runtime; imported here so that facts work without it

    seen = zen.evaluate_expression("x", {"x": float(x)})
    text = format(Decimal(repr(float(seen))), "f")
    return f"({text})" if text.startswith("-") else text


def zen_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"({value})" if value < 0 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} in a JDM graph")
        return zen_number(value)
    if isinstance(value, datetime):
        return zen_literal(_epoch(value))
    if isinstance(value, str):
        return zen_string(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(zen_literal(v) for v in items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {zen_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no ZEN literal for {type(value).__name__}")


# --- conditions as ZEN expressions --------------------------------------------------------------

# Where each registry field lives in the input; line fields are read from the closure item `#`.
_PATHS = {"order.created_at": "order.created_ts"}


def _path(field: str, root: str) -> str:
    if field.startswith("line."):
        return "#." + field[5:]
    return root + _PATHS.get(field, field)


def condition_expression(t: NormTree, root: str = "", stage: str = "finishing") -> str:
    """A ZEN boolean expression with rulewright's semantics for a normalised condition tree.

    ``root`` prefixes every input path (``$nodes.request.`` inside a per-line table). A fact
    not yet known at ``stage`` (``shipment.*`` before the carrier stage) is missing there, so
    its predicates are ``false``, as in rulewright.
    """
    tag = t[0]
    if tag == "p":
        known = FIELDS[t[1].field].known_at(stage)
        return predicate_expression(t[1], root) if known else "false"
    if tag in ("all", "any"):
        joiner = " and " if tag == "all" else " or "
        return "(" + joiner.join(condition_expression(c, root, stage) for c in t[1]) + ")"
    if tag == "not":
        return f"(not {condition_expression(t[1], root, stage)})"
    lines = root + "lines"
    inner = condition_expression(t[1], root, stage)
    if tag == "any_line":
        return f"some({lines}, {inner})"
    if tag == "all_lines":
        return f"(len({lines}) > 0 and all({lines}, {inner}))"
    raise ValueError(f"unknown condition node {tag!r}")


_CMP = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def predicate_expression(p: NormPredicate, root: str = "") -> str:
    """One predicate: false on a missing fact (null) whatever the operator, as in rulewright."""
    x = _path(p.field, root)
    kind = FIELDS[p.field].kind
    fx = f"lower({x})" if kind == "string" else x
    guard = f"{x} != null"
    if p.currency is not None:
        guard += f" and {root}order.currency == {zen_string(p.currency)}"
    return f"({guard} and {_body(p, kind, x, fx)})"


def _body(p: NormPredicate, kind: str, x: str, fx: str) -> str:
    op, v = p.op, p.value
    if op in _CMP:
        return f"{fx} {_CMP[op]} {zen_literal(v)}"
    if op == "between":
        return f"{fx} >= {zen_literal(v[0])} and {fx} <= {zen_literal(v[1])}"
    if op == "in":
        return f"{fx} in {zen_literal(v)}"
    if op == "not_in":
        return f"not ({fx} in {zen_literal(v)})"
    if op == "starts_with":
        return "(" + " or ".join(f"startsWith(upper({x}), {zen_string(s)})" for s in v) + ")"
    if op == "contains":
        return f"{zen_string(v)} in {x}" if kind == "tags" else f"contains({fx}, {zen_string(v)})"
    if op == "contains_any":
        return f"some({zen_literal(v)}, # in {x})"
    if op == "contains_all":
        return f"all({zen_literal(v)}, # in {x})"
    raise ValueError(f"unknown operator {op!r}")


def _client_cell(rule: Rule, root: str = "") -> str:
    return f"{root}client in {zen_literal(list(rule.clients))}" if rule.clients else ""


def _effective_cell(cr: CompiledRule, root: str = "") -> str:
    ts = f"{root}order.created_ts"
    parts = []
    if cr.eff_from is not None:
        parts.append(f"{ts} >= {zen_literal(cr.eff_from)}")
    if cr.eff_until is not None:
        parts.append(f"{ts} < {zen_literal(cr.eff_until)}")
    return f"{ts} != null and " + " and ".join(parts) if parts else ""


def _when_cell(cr: CompiledRule, root: str = "") -> str:
    return condition_expression(cr.tree, root, cr.rule.stage) if cr.tree is not None else ""


# --- the graph -------------------------------------------------------------------------------------


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def add(self, name: str, kind: str, content: dict[str, Any] | None = None) -> None:
        node: dict[str, Any] = {"id": f"node-{name}", "name": name, "type": kind,
                                "position": {"x": 80 + 280 * len(self.nodes), "y": 200}}
        if content is not None:
            node["content"] = content
        if self.nodes:
            prev = self.nodes[-1]["id"]
            self.edges.append({"id": f"edge-{len(self.edges)}", "type": "edge",
                               "sourceId": prev, "targetId": node["id"]})
        self.nodes.append(node)

    def json(self) -> dict[str, Any]:
        return {"contentType": CONTENT_TYPE, "nodes": self.nodes, "edges": self.edges}


def _table(name: str, hit: str, inputs: list[str], outputs: list[tuple[str, str]],
           rows: list[tuple[str, str, list[str], list[str]]], *, output_path: str,
           input_field: str | None = None) -> dict[str, Any]:
    """A decision table; ``rows`` are (row id, description, input cells, output cells)."""
    in_cols = [{"id": f"{name}-in-{c}", "name": c} for c in inputs]
    out_cols = [{"id": f"{name}-out-{f.replace('.', '-')}", "name": label, "field": f} for f, label in outputs]
    rules = []
    for rid, description, ins, outs in rows:
        row = {"_id": rid, "_description": description}
        row.update({col["id"]: cell for col, cell in zip(in_cols, ins)})
        row.update({col["id"]: cell for col, cell in zip(out_cols, outs)})
        rules.append(row)
    return {"hitPolicy": hit, "inputs": in_cols, "outputs": out_cols, "rules": rules,
            "passThrough": True, "inputField": input_field, "outputPath": output_path,
            "executionMode": "loop" if input_field else "single"}


def _expressions(pairs: list[tuple[str, str]], *, input_field: str | None = None,
                 output_path: str | None = None, pass_through: bool = True) -> dict[str, Any]:
    return {"expressions": [{"id": f"expr-{i}", "key": k, "value": v} for i, (k, v) in enumerate(pairs)],
            "passThrough": pass_through, "inputField": input_field, "outputPath": output_path,
            "executionMode": "loop" if input_field else "single"}


def _action_json(action: Any) -> dict[str, Any]:
    return action.model_dump(mode="json", by_alias=True, exclude_none=True)


def _ordered_rules(crs: CompiledRuleSet) -> list[CompiledRule]:
    """Every enabled rule once, in evaluation order (priority desc, then id; stable)."""
    by_rule = {id(cr.rule): cr for stages in crs.stages.values() for cs in stages.values() for cr in cs.rules}
    ordered = [by_rule[id(r)] for r in crs.rules if id(r) in by_rule]
    return sorted(ordered, key=lambda cr: (-cr.rule.priority, cr.rule.id))


def _scope_cells(cr: CompiledRule, root: str = "") -> list[str]:
    return [_client_cell(cr.rule, root), _effective_cell(cr, root), _when_cell(cr, root)]


def _row_id(cr: CompiledRule, k: int) -> str:
    return f"{cr.id}#{k}"


def _describe(cr: CompiledRule) -> str:
    return cr.rule.name or cr.rule.id


SCOPE = ["client", "effective", "when"]


def _hold_table(rules: list[CompiledRule]) -> dict[str, Any]:
    rows = [(_row_id(cr, k), _describe(cr), _scope_cells(cr),
             [zen_string(cr.id), zen_string(a.reason), zen_literal(a.queue)])
            for cr in rules for k, a in enumerate(cr.modifiers)]
    return _table("hold", "collect", SCOPE, [("rule", "rule"), ("reason", "reason"), ("queue", "queue")],
                  rows, output_path="hold_rows")


def _substitution_table(rules: list[CompiledRule]) -> dict[str, Any]:
    root = "$nodes.request."
    rows = [(_row_id(cr, 0), _describe(cr),
             [f"out_of_stock == true and sku == {zen_string(cast(Substitute, cr.decisive).sku)}",
              *_scope_cells(cr, root)],
             [zen_string(cr.id), zen_literal(list(cast(Substitute, cr.decisive).with_))]) for cr in rules]
    return _table("substitution", "first", ["line", *SCOPE], [("sub.rule", "rule"), ("sub.with", "with")],
                  rows, output_path="substitution_lines", input_field="lines")


def _sku_table(rules: list[CompiledRule], catalog: Catalog) -> str:
    """Catalog facts of every substitute SKU, as a ZEN list literal."""
    codes = sorted({s for cr in rules for s in cast(Substitute, cr.decisive).with_ if s in catalog.skus})
    rows = []
    for code in codes:
        sku = catalog.skus[code]
        rows.append({"code": code, "category": sku.category, "hazmat": sku.hazmat, "price": float(sku.price),
                     "weight": sku.weight_lb, "volume": sku.volume_in3})
    return zen_literal(rows)


def _substitute_node(sku_table: str) -> dict[str, Any]:
    """Per line: the first substitute with enough network stock, and the line rewritten to it."""
    found = "$.sub.to == null ? null : filter(" + sku_table + ", #.code == $.sub.to)[0]"
    s = "$.sub_sku"
    return _expressions([
        ("sub.from", "sub.rule == null ? null : sku"),
        ("sub.to", "sub.rule == null ? null : filter(sub.with, ($nodes.request.stock[#] ?? 0) >= qty)[0]"),
        ("sub_sku", found),
        ("sku", f"{s} == null ? sku : {s}.code"),
        ("category", f"{s} == null ? category : {s}.category"),
        ("hazmat", f"{s} == null ? hazmat : {s}.hazmat"),
        ("weight", f"{s} == null ? weight : {s}.weight"),
        ("volume", f"{s} == null ? volume : {s}.volume"),
        ("price", f"{s} == null ? price : (unit_price ?? {s}.price)"),
    ], input_field="substitution_lines", output_path="lines_after")


def _substituted_node() -> dict[str, Any]:
    return _expressions([
        ("substitutions", "map(filter(lines_after, #.sub.rule != null), "
                          "{line: #.index, from: #.sub.from, to: #.sub.to, rule: #.sub.rule})"),
        ("substituted", "some(lines_after, #.sub.to != null)"),
    ])


def _after_substitution_node(dim_divisor: float) -> dict[str, Any]:
    """Line-derived facts after substitution, computed as facts.set_line_facts does."""
    L = "$.lines"
    weight = (f"substituted and order.weight_source == 'lines' and order.weight != null ? "
              f"round(sum(map({L}, #.weight * #.qty)), 6) : order.weight")
    value = (f"substituted and order.value_source == 'lines' and order.value != null ? "
             f"round(sum(map({L}, #.price * #.qty)), 2) : order.value")
    dim = (f"substituted and order.dim_weight != null ? "
           f"ceil(sum(map({L}, #.volume * #.qty)) / {zen_literal(float(dim_divisor))}) : order.dim_weight")
    billable = ("substituted ? ($.order.weight == null ? null : "
                "ceil(max([$.order.weight, $.order.dim_weight ?? 0]) - 0.000000001)) : order.billable_weight")
    return _expressions([
        ("lines", "substituted ? lines_after : lines"),
        ("order.hazmat", f"substituted ? some({L}, #.hazmat == true) : order.hazmat"),
        ("order.weight", weight),
        ("order.value", value),
        ("order.dim_weight", dim),
        ("order.billable_weight", billable),
    ])


def _shipment_node() -> dict[str, Any]:
    return _expressions([
        ("shipment.zone", "shipment.origin == null ? null : zones[shipment.origin]"),
        ("shipment.weight", "shipment.origin == null ? null : order.weight"),
        ("shipment.dim_weight", "shipment.origin == null ? null : order.dim_weight"),
        ("shipment.billable_weight", "shipment.origin == null ? null : order.billable_weight"),
    ])


def _decisive_table(name: str, rules: list[CompiledRule], extra: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    cols = [c for c, _ in extra] + SCOPE
    rows = [(_row_id(cr, 0), _describe(cr), [cell for _, cell in extra] + _scope_cells(cr),
             [zen_string(cr.id), zen_literal(_action_json(cr.decisive))])
            for cr in rules if cr.decisive is not None]
    return _table(name, "first", cols, [("rule", "rule"), ("action", "action")], rows, output_path=name)


def _modifier_table(name: str, rules: list[CompiledRule], outputs: list[str],
                    extra: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    cols = [c for c, _ in extra] + SCOPE
    rows = []
    for cr in rules:
        for k, a in enumerate(cr.modifiers):
            data = _action_json(a)
            cells = [zen_string(cr.id)] + [zen_literal(data.get(f)) for f in outputs]
            rows.append((_row_id(cr, k), _describe(cr), [cell for _, cell in extra] + _scope_cells(cr), cells))
    return _table(name, "collect", cols, [("rule", "rule")] + [(f, f) for f in outputs], rows,
                  output_path=name + "_rows")


_ORIGIN = [("origin", "shipment.origin != null")]


def _outcome_node(version: str) -> dict[str, Any]:
    return _expressions([
        ("ruleset", zen_string(version)),
        ("holds", "map(hold_rows, {rule: #.rule, reason: #.reason, queue: #.queue})"),
        ("substitutions", "substitutions"),
        ("routing", "routing"),
        ("excluded_warehouses", "flatMap(routing_exclusions_rows, #.warehouses)"),
        ("carrier", "shipment.origin == null ? null : carrier"),
        ("excluded_services", "shipment.origin == null ? [] : "
                              "flatMap(carrier_exclusions_rows, #.services ?? [])"),
        ("excluded_carriers", "shipment.origin == null ? [] : "
                              "flatMap(carrier_exclusions_rows, #.carriers ?? [])"),
        ("tags", "map(filter(finishing_rows, #.action == 'add_tag'), #.tag)"),
        ("signature_required", "some(finishing_rows, #.action == 'require_signature')"),
        ("insured", "some(finishing_rows, #.action == 'insure')"),
    ], pass_through=False)


def export_jdm(rules: Iterable[Rule] | RuleSet, catalog: Catalog | None = None) -> dict[str, Any]:
    """One JDM graph for the enabled rules; ``catalog`` (default: the demo catalog) supplies the
    facts of substitute SKUs and the dimensional divisor."""
    catalog = catalog or load_catalog()
    crs = compile_rules(rules)
    ordered = _ordered_rules(crs)

    def stage(name: str) -> list[CompiledRule]:
        return [cr for cr in ordered if cr.rule.stage == name]

    subs = stage("substitution")
    g = _Graph()
    g.add("request", "inputNode")
    g.add("hold", "decisionTableNode", _hold_table(stage("hold")))
    g.add("substitution", "decisionTableNode", _substitution_table(subs))
    g.add("substitute", "expressionNode", _substitute_node(_sku_table(subs, catalog)))
    g.add("substituted", "expressionNode", _substituted_node())
    g.add("after_substitution", "expressionNode", _after_substitution_node(catalog.spec.dim_divisor))
    g.add("routing", "decisionTableNode", _decisive_table("routing", stage("routing")))
    g.add("routing_exclusions", "decisionTableNode",
          _modifier_table("routing_exclusions", stage("routing"), ["warehouses"]))
    g.add("shipment", "expressionNode", _shipment_node())
    g.add("carrier", "decisionTableNode", _decisive_table("carrier", stage("carrier"), _ORIGIN))
    g.add("carrier_exclusions", "decisionTableNode",
          _modifier_table("carrier_exclusions", stage("carrier"), ["services", "carriers"], _ORIGIN))
    g.add("finishing", "decisionTableNode", _modifier_table("finishing", stage("finishing"), ["action", "tag"]))
    g.add("outcome", "expressionNode", _outcome_node(crs.version))
    g.add("response", "outputNode")
    return g.json()


# --- evaluating and comparing -------------------------------------------------------------------


def jdm_evaluator(graph: dict[str, Any], key: str = "rules.json") -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function input -> response for ``graph`` (zen engine with a static loader, ~10 µs a call)."""
    import zen

    engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: graph}}})

    def evaluate(facts: dict[str, Any]) -> dict[str, Any]:
        return engine.evaluate(key, facts)["result"]

    evaluate.engine = engine  # type: ignore[attr-defined]
    return evaluate


def _num(x: Any) -> Any:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, list):
        return [_num(v) for v in x]
    if isinstance(x, dict):
        return {k: _num(v) for k, v in x.items()}
    return x


def _new_tags(order_tags: Iterable[str], added: Iterable[str]) -> list[str]:
    seen = set(order_tags)
    out = []
    for tag in added:
        if tag not in seen:
            seen.add(tag)
            out.append(tag)
    return out


def zen_outcomes(response: dict[str, Any], facts_json: dict[str, Any]) -> dict[str, Any]:
    """The rule-level outcomes of a graph response, in ``rulewright_outcomes``' shape."""
    r = _num(response)

    def decided(entry: Any) -> Any:
        return {"rule": entry["rule"], "action": {k: v for k, v in entry["action"].items() if v is not None}} if entry else None

    return {
        "holds": [{"rule": h["rule"], "reason": h["reason"], "queue": h.get("queue")} for h in r["holds"]],
        "substitutions": [{"line": s["line"], "from": s["from"], "to": s.get("to"), "rule": s["rule"]}
                          for s in r["substitutions"]],
        "routing": decided(r.get("routing")),
        "excluded_warehouses": sorted(set(r["excluded_warehouses"])),
        "carrier": decided(r.get("carrier")),
        "excluded_services": sorted(set(r["excluded_services"])),
        "excluded_carriers": sorted(set(r["excluded_carriers"])),
        "tags": _new_tags(facts_json["order"]["tags"], r["tags"]),
        "signature_required": bool(r["signature_required"]),
        "insured": bool(r["insured"]),
    }


def _matches(cr: CompiledRule, facts: Facts) -> bool:
    created = facts["order.created_at"]
    if cr.eff_from is not None or cr.eff_until is not None:
        if created is None or (cr.eff_from is not None and created < cr.eff_from) or (
                cr.eff_until is not None and created >= cr.eff_until):
            return False
    return cr.tree is None or evaluate_traced(cr.tree, facts, None)


def _substitutions(order: Order, crs: CompiledRuleSet, catalog: Catalog, facts: Facts) -> list[dict[str, Any]]:
    subs = crs.substitutions.get(order.client) or crs.substitutions["*"]
    out = []
    for i, line in enumerate(order.lines):
        if line.sku not in catalog.skus or catalog.network_stock(line.sku) >= line.qty:
            continue
        cr = next((c for c in subs.get(line.sku, ()) if _matches(c, facts)), None)
        if cr is not None:
            pick = next((s for s in cast(Substitute, cr.decisive).with_ if catalog.network_stock(s) >= line.qty), None)
            out.append({"line": i, "from": line.sku, "to": pick, "rule": cr.id})
    return out


def rulewright_outcomes(order: Order, crs: CompiledRuleSet, catalog: Catalog, *,
                        facts: Facts | None = None, as_of: datetime | None = None,
                        origin: str | None = None) -> dict[str, Any]:
    """The same rule-level outcomes from rulewright's compiled stages (the engine's fast path)."""
    f = dict(facts) if facts is not None else order_facts(order, catalog, as_of or datetime.now(timezone.utc))
    stages = crs.for_client(order.client)

    def run(stage: str) -> tuple[CompiledRule | None, list[CompiledRule]]:
        return stages[stage].fast(f)

    def decided(cr: CompiledRule | None) -> dict[str, Any] | None:
        return {"rule": cr.id, "action": _action_json(cr.decisive)} if cr else None

    _, holds = run("hold")
    substitutions = _substitutions(order, crs, catalog, f)
    if any(s["to"] for s in substitutions):
        lines = list(order.lines)
        for s in substitutions:
            if s["to"]:
                lines[s["line"]] = lines[s["line"]].model_copy(update={"sku": s["to"]})
        set_line_facts(f, order, lines, catalog)
    routing, exclusions = run("routing")
    carrier_mods: list[CompiledRule]
    carrier, carrier_mods, ex_services, ex_carriers = None, [], set(), set()
    if origin is not None:
        set_shipment_facts(f, origin, catalog)
        carrier, carrier_mods = run("carrier")
        ex_services = {s for cr in carrier_mods for a in cr.modifiers for s in (a.services or [])}
        ex_carriers = {c for cr in carrier_mods for a in cr.modifiers for c in (a.carriers or [])}
    _, finishing = run("finishing")
    actions = [a for cr in finishing for a in cr.modifiers]
    return {
        "holds": [{"rule": cr.id, "reason": a.reason, "queue": a.queue} for cr in holds for a in cr.modifiers],
        "substitutions": substitutions,
        "routing": decided(routing),
        "excluded_warehouses": sorted({w for cr in exclusions for a in cr.modifiers for w in a.warehouses}),
        "carrier": decided(carrier),
        "excluded_services": sorted(ex_services),
        "excluded_carriers": sorted(ex_carriers),
        "tags": _new_tags(order.tags, [a.tag for a in actions if a.action == "add_tag"]),
        "signature_required": any(a.action == "require_signature" for a in actions),
        "insured": any(a.action == "insure" for a in actions),
    }


__all__ = [
    "condition_expression", "export_jdm", "facts_to_jdm", "jdm_evaluator", "jdm_facts",
    "predicate_expression", "rulewright_outcomes", "zen_literal", "zen_outcomes",
]
