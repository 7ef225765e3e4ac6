"""Rules-core commands: schema, validate, explain, decide, simulate, catalog."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from pydantic import TypeAdapter

from rules_core.catalog import Catalog
from rules_core.errors import InputError, RuleSetError
from rules_core.findings import Finding, has_errors
from rules_core.io import load_orders, parse_orders, raw_rules, read_json
from rules_core.models import Decision, Rule
from ui.common import CATALOG_OPT, JSON_OPT, console, fail, friendly, get_catalog, print_json


def load_rules_file(path: Path, catalog: Catalog) -> tuple[list[Rule], list[Finding]]:
    """Rules from a file with their findings; RuleSetError when any finding is an error."""
    from rules_core.validator import parse_rules, validate

    data = read_json(path)
    raw = raw_rules(data, str(path))
    findings = validate(raw, catalog)
    if has_errors(findings):
        first = next(f for f in findings if f.severity == "error")
        more = sum(f.severity == "error" for f in findings) - 1
        tail = f" (and {more} more errors; run `rulewright validate {path}`)" if more else ""
        raise RuleSetError(f"{path}: {first}{tail}", findings)
    rules, _ = parse_rules(raw)
    return rules, findings


def active_rules() -> list[Rule]:
    """The active approved rule set of the store (empty when nothing was approved yet)."""
    from rules_core.store import active_rules as store_active_rules

    return store_active_rules()


def rules_or_active(rules_file: Optional[Path], catalog: Catalog) -> list[Rule]:
    return load_rules_file(rules_file, catalog)[0] if rules_file else active_rules()


def print_findings(findings: list[Finding]) -> None:
    for f in findings:
        style = "red" if f.severity == "error" else "yellow"
        console.print(f"[{style}]{f.severity}[/{style}] {f.code} [dim]{f.path or '/'}[/dim]: {f.message}"
                      + (f" [cyan]({f.hint})[/cyan]" if f.hint else ""))


@friendly
def schema_cmd(ruleset: bool = typer.Option(False, "--ruleset", help="the schema of a rules file instead of one rule"),
               as_json: bool = typer.Option(True, "--json", help="JSON (the only output of this command)")) -> None:
    """Print the JSON Schema of a rule (the canonical schema the assistant fills)."""
    from rules_core.validator import rule_schema, ruleset_schema

    print_json(ruleset_schema() if ruleset else rule_schema())


@friendly
def validate_cmd(file: Path = typer.Argument(..., help="a rule or rules JSON file"),
                 as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Findings for a rule or rule set file; exit 1 on errors."""
    from rules_core.validator import validate

    cat = get_catalog(catalog)
    raw = raw_rules(read_json(file), str(file))
    findings = validate(raw, cat, existing=_active_or_empty())
    if as_json:
        print_json({"file": str(file), "rules": len(raw), "errors": sum(f.severity == "error" for f in findings),
                    "findings": [f.model_dump() for f in findings]})
    else:
        print_findings(findings)
        errors = sum(f.severity == "error" for f in findings)
        console.print(f"{len(raw)} rule(s): {errors} error(s), {len(findings) - errors} warning(s)")
    if has_errors(findings):
        if as_json:  # stdout is the JSON; the one-line reason for the exit code goes to stderr
            first = next(f for f in findings if f.severity == "error")
            errors = sum(f.severity == "error" for f in findings)
            fail(f"{file}: {errors} error(s), the first at {first.path or '/'}: {first.message}")
        raise typer.Exit(1)


def _active_or_empty() -> list[Rule]:
    try:
        return active_rules()
    except Exception:  # an unreachable store must not stop offline validation
        return []


@friendly
def explain_cmd(rule_id: Optional[str] = typer.Argument(None, help="id of a rule in the active set"),
                file: Optional[Path] = typer.Option(None, "--file", help="explain the rules in this file"),
                narrative: bool = typer.Option(False, "--narrative", help="add a model-written explanation"),
                as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """The canonical English of rules."""
    from rules_core.explain import explain

    cat = get_catalog(catalog)
    if file:
        rules = load_rules_file(file, cat)[0]
    elif rule_id:
        by_id = {r.id: r for r in active_rules()}
        if rule_id not in by_id:
            raise InputError(f"no rule {rule_id!r} in the active rule set (use --file FILE for a rules file)")
        rules = [by_id[rule_id]]
    else:
        fail("give a RULE_ID or --file FILE")
    out = [{"id": r.id, "english": explain(r)} for r in rules]
    if narrative:
        from ui.commands.assistant_cmds import narrative_for_rule

        for item, rule in zip(out, rules):
            item["narrative"] = narrative_for_rule(rule)
    if as_json:
        print_json(out)
        return
    for item in out:
        console.print(item["english"])
        if item.get("narrative"):
            console.print(f"[italic]{item['narrative']}[/italic]")


@friendly
def decide_cmd(order_file: Path = typer.Argument(..., help="one order object or a JSON list of orders"),
               rules: Optional[Path] = typer.Option(None, "--rules", help="rules file (default: the active set)"),
               as_json: bool = JSON_OPT, trace: bool = typer.Option(False, "--trace", help="include the trace"),
               catalog: Optional[Path] = CATALOG_OPT) -> None:
    """The decision for each order in the file."""
    from rules_core.engine import compile_rules, decide

    cat = get_catalog(catalog)
    gc.disable()  # loading allocates many long-lived objects: collecting meanwhile finds nothing
    try:
        data = read_json(order_file)
        orders = parse_orders(data, str(order_file))
        crs = compile_rules(rules_or_active(rules, cat))
    finally:
        gc.freeze()  # the catalog, rules and orders live to the end: keep them out of GC passes
        gc.enable()
    if as_json:
        write_decisions_json(orders, crs, cat, trace=trace, as_list=isinstance(data, list))
        return
    from rules_core.explain import explain_decision

    for o in orders:
        d = decide(o, crs, cat, trace=trace)
        console.print(explain_decision(d) if trace else _decision_line(d))


_DECISIONS = TypeAdapter(list[Decision])


def write_decisions_json(orders: list[Any], crs: Any, cat: Catalog, *, trace: bool, as_list: bool,
                         chunk: int = 1000) -> None:
    """Decide and write in chunks, so memory stays flat and output starts early."""
    from rules_core.engine import decide

    exclude = None if trace else {"__all__": {"trace"}}
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    write = out.write if out is not None else (lambda b: sys.stdout.write(b.decode()))
    write(b"[" if as_list else b"")
    for start in range(0, len(orders), chunk):
        decisions = [decide(o, crs, cat, trace=trace) for o in orders[start:start + chunk]]
        body = _DECISIONS.dump_json(decisions, by_alias=True, exclude=exclude)[1:-1]
        write((b"," if start else b"") + body)
    write(b"]\n" if as_list else b"\n")
    sys.stdout.flush()


def _decision_line(d: Any) -> str:
    s = d.shipments[0] if d.shipments else None
    where = f"{s.warehouse or '-'} -> {s.service or '-'}" if s else "-"
    cost = f" ${s.cost.amount:.2f}" if s and s.cost else ""
    flags = [x for x, on in (("HELD", d.held), ("signature", d.signature_required), ("insured", d.insured)) if on]
    tags = f" tags={','.join(d.tags)}" if d.tags else ""
    exc = f" exceptions={','.join(e.code for e in d.exceptions)}" if d.exceptions else ""
    return f"{d.order_id}: {where}{cost} {' '.join(flags)}{tags}{exc}".rstrip()


@friendly
def simulate_cmd(rules: Optional[Path] = typer.Option(None, "--rules", help="proposed rules (merged by id onto the active set)"),
                 orders: Optional[Path] = typer.Option(None, "--orders", help="orders file (default: sample orders)"),
                 count: int = typer.Option(2000, "--count", help="number of sample orders when no --orders"),
                 as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Dry-run impact of proposed rules against the active rule set."""
    from rules_core.samples import sample_orders
    from rules_core.simulate import simulate

    cat = get_catalog(catalog)
    proposed = load_rules_file(rules, cat)[0] if rules else []
    order_list = load_orders(orders) if orders else sample_orders(cat, n=count)
    impact = simulate(active_rules(), proposed, order_list, cat)
    if as_json:
        print_json(impact.to_json())
        return
    render_impact(impact)


def render_impact(impact: Any, limit: int = 10) -> None:
    s = impact.summary()
    console.print(f"[bold]Dry run[/bold] on {s['orders']} orders: {s['changed']} change, "
                  f"{s['newly_held']} newly held, {s['released']} released; "
                  f"cost {s['cost_delta']:+.2f} USD ({s['cost_delta_per_order']:+.4f}/order)"
                  + (f", transit {s['transit_days_delta']:+.3f} days/order" if s["transit_days_delta"] is not None else ""))
    for rid, n in s["rule_orders"].items():
        console.print(f"  rule {rid} applies to {n} orders")
    for code, n in s["new_exceptions"].items():
        console.print(f"  [yellow]new exception[/yellow] {code}: {n} orders")
    for change in impact.changes[:limit]:
        b, a = change.before, change.after
        console.print(f"  {change.order_id} ({change.client}): "
                      + "; ".join(f"{k} {getattr(b, k)} -> {getattr(a, k)}" for k in change.changed))
    if impact.changed > limit:
        console.print(f"  ... and {impact.changed - limit} more changed orders (use --json for all)")


@friendly
def facts_cmd(order_file: Path = typer.Argument(..., help="one order object or a JSON list of orders"),
              origin: Optional[str] = typer.Option(None, "--origin", help="warehouse the shipment leaves from (fills the carrier-stage facts)"),
              as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """The exact JSON input the exported JDM graph takes, for each order (see docs/jdm.md)."""
    from rules_core.export.jdm import jdm_facts

    cat = get_catalog(catalog)
    if origin is not None and origin not in cat.warehouses:
        fail(f"--origin: unknown warehouse {origin!r} (one of {', '.join(cat.warehouses)})")
    data = read_json(order_file)
    orders = parse_orders(data, str(order_file))
    write_json_items((jdm_facts(o, cat, origin=origin) for o in orders), as_list=isinstance(data, list))


def write_json_items(items: Any, *, as_list: bool) -> None:
    """One JSON document per item as it is made (one line each), so a large batch never sits
    in memory twice."""
    write = sys.stdout.write
    write("[" if as_list else "")
    for n, item in enumerate(items):
        write(("," if n else "") + ("\n" if as_list else "") + json.dumps(item, ensure_ascii=False, allow_nan=False))
    write("\n]\n" if as_list else "\n")


SECTIONS = {"clients": "client", "channels": "channel", "warehouses": "warehouse", "carriers": "carrier",
            "services": "service", "skus": "sku", "countries": "country", "regions": "region",
            "categories": "category"}


@friendly
def catalog_cmd(kind: Optional[str] = typer.Argument(None, help="clients, channels, warehouses, carriers, services, skus, ..."),
                as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Show the catalog's codes with their names and aliases."""
    cat = get_catalog(catalog)
    names = cat.names()
    if kind:
        key = SECTIONS.get(kind.lower(), kind.lower())
        if key not in names:
            fail(f"unknown catalog section {kind!r} (one of {', '.join(SECTIONS)})")
        names = {key: names[key]}
    if as_json:
        print_json({"source": cat.source, "demo": cat.spec.demo, **names})
        return
    if cat.spec.demo:
        console.print("[dim]demo catalog (demo data)[/dim]")
    for section, entries in names.items():
        console.print(f"[bold]{section}[/bold]")
        for code, aliases in entries.items():
            console.print(f"  {code}: {', '.join(a for a in aliases if a != code)}")


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_cmd)
    app.command("validate")(validate_cmd)
    app.command("explain")(explain_cmd)
    app.command("decide")(decide_cmd)
    app.command("simulate")(simulate_cmd)
    app.command("catalog")(catalog_cmd)
    app.command("facts")(facts_cmd)
