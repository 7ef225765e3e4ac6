"""Assistant commands: ``draft`` (plain English to a checked proposal) and ``why`` (decisions
explained from their trace). Also ``narrative_for_rule``, which ``explain --narrative`` uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from assistant.llm.settings import LLMSettings, load_llm_settings
from rules_core.models import Rule
from ui.common import CATALOG_OPT, JSON_OPT, console, fail, friendly, get_catalog, print_json


def narrative_for_rule(rule: Rule, settings: LLMSettings | None = None) -> str:
    """A model-written explanation of ``rule``; raises LLMError (one line) when there is none."""
    from assistant.llm.narrative import narrate_rule

    llm = settings if isinstance(settings, LLMSettings) else load_llm_settings()
    return narrate_rule(rule, llm)[0]


# --- draft ------------------------------------------------------------------------------------------


@friendly
def draft_cmd(text: str = typer.Argument(..., help="the rule in plain English"),
              client: Optional[str] = typer.Option(None, "--client", help="client code the rules are for"),
              offline: bool = typer.Option(False, "--offline", help="only the deterministic parser; never a model"),
              llm: bool = typer.Option(False, "--llm", help="always ask the model"),
              orders: Optional[Path] = typer.Option(None, "--orders", help="orders for the dry run (default: samples)"),
              answering: Optional[str] = typer.Option(
                  None, "--answering", metavar="REQUEST",
                  help="TEXT answers the question asked about this earlier request (e.g. TEXT 'lb' after "
                       "\"'20' has no unit\"); the JSON's request field is the completed request"),
              question: Optional[str] = typer.Option(
                  None, "--question", help="the question asked about --answering's request (default: the "
                                           "offline parser's question about it)"),
              as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """A rule proposal from plain English: rules, canonical English, findings, dry-run impact."""
    from assistant.answers import Pending
    from assistant.draft import draft, offline_result
    from rules_core.io import load_orders

    if offline and llm:
        fail("--offline and --llm exclude each other")
    if question and not answering:
        fail("--question needs --answering (the request the question was about)")
    cat = get_catalog(catalog)
    if client and client not in cat.clients:
        same = [c for c in cat.clients if c.casefold() == client.casefold()]
        if len(same) != 1:
            fail(f"unknown client {client!r} (one of {', '.join(cat.clients)})")
        client = same[0]  # "acme" on the command line means ACME; rules keep the exact code
    pending = None
    if answering:
        if not question:
            asked = offline_result(answering, cat, client, [])
            if asked.status != "clarify" or not asked.question:
                fail("--answering: the offline parser asks no question about that request; "
                     "pass the question that was asked with --question")
            question = asked.question
        pending = Pending(request=answering, question=question)
    result = draft(text, cat, client=client, mode="offline" if offline else "llm" if llm else "auto",
                   settings=load_llm_settings(), orders=load_orders(orders) if orders else None,
                   answering=pending)
    if as_json:
        print_json(result.to_json())
    else:
        render_draft(result, answered=pending is not None)
    if result.status == "error":
        fail(result.error or "the request could not be drafted")


def render_draft(result: Any, answered: bool = False) -> None:
    from ui.commands.core_cmds import print_findings

    head = {"ok": "[green]draft[/green]", "clarify": "[yellow]question[/yellow]", "error": "[red]error[/red]"}
    console.print(f"{head[result.status]} [dim](from the {'model' if result.source == 'model' else 'offline parser'})[/dim]")
    if answered and result.request:
        console.print(f"request: {result.request}", markup=False)
    if result.question:
        console.print(result.question)
    if result.rationale:
        console.print(f"[italic]{result.rationale}[/italic]")
    for change in result.diff:
        render_change(change)
    if result.rules:
        console.print(json.dumps([r for r in result.to_json()["rules"]], indent=2), markup=False)
    if result.english:
        console.print(result.english, markup=False)
    print_findings(result.findings)
    if result.impact:
        render_impact_summary(result.impact)
    render_usage(result.usage)


def render_change(change: Any) -> None:
    console.print(f"[bold]changes rule {change.id}[/bold]")
    for c in change.changes:
        before = json.dumps(c.get("before"), ensure_ascii=False)
        after = json.dumps(c.get("after"), ensure_ascii=False)
        console.print(f"  {c['path']}: [red]- {before}[/red] [green]+ {after}[/green]", markup=True)


def render_impact_summary(s: dict[str, Any]) -> None:
    console.print(f"[bold]Dry run[/bold] on {s['orders']} orders: {s['changed']} change, "
                  f"{s['newly_held']} newly held, {s['released']} released; cost {s['cost_delta']:+.2f}")
    for rid, n in s.get("rule_orders", {}).items():
        console.print(f"  rule {rid} applies to {n} orders")


def render_usage(u: Any) -> None:
    if u.note:
        print(f"rulewright: note: {u.note}", file=sys.stderr)
    if u.model_calls:
        console.print(f"[dim]model {u.model} ({u.mode}): {u.model_calls} call(s), {u.prompt_tokens} prompt + "
                      f"{u.completion_tokens} completion tokens, {u.latency_ms} ms[/dim]")


# --- why ----------------------------------------------------------------------------------------------


@friendly
def why_cmd(order_file: Path = typer.Argument(..., help="one order object or a JSON list of orders"),
            rules: Optional[Path] = typer.Option(None, "--rules", help="rules file (default: the active set)"),
            offline: bool = typer.Option(False, "--offline", help="canonical explanation only; never a model"),
            as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Why each order got its decision, from the trace (plus a narrative when a model is configured)."""
    from assistant.llm.narrative import iter_why
    from rules_core.io import load_orders

    cat = get_catalog(catalog)
    settings = None if offline else load_llm_settings()
    answers = iter_why(load_orders(order_file), cat, rules=load_rules(rules, cat), settings=settings)
    if as_json:  # streamed: a traced decision is large, and there may be many orders
        out, count = sys.stdout, 0
        out.write("[")
        for a in answers:
            text = json.dumps(a.to_json(), indent=2, ensure_ascii=False, default=str)
            out.write(("," if count else "") + "\n  " + text.replace("\n", "\n  "))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return
    for a in answers:
        console.print(a.explanation, markup=False)
        if a.narrative:
            console.print(f"[italic]{a.narrative}[/italic]")
        if a.note:
            print(f"rulewright: note: {a.note}", file=sys.stderr)


def load_rules(path: Optional[Path], cat: Any) -> list[Rule] | None:
    if path is None:
        return None
    from ui.commands.core_cmds import load_rules_file

    return load_rules_file(path, cat)[0]


def register(app: typer.Typer) -> None:
    app.command("draft")(draft_cmd)
    app.command("why")(why_cmd)
