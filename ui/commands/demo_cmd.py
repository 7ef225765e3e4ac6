"""`rulewright demo`: the whole flow on the demo data, with readable output.

Plain English -> rules (offline parser) -> findings -> dry run -> proposal -> four-eyes review
-> approved version -> exports (bundle and JDM) -> decisions with their reasons. The demo uses
a store of its own (``RULEWRIGHT_HOME/demo``), made anew on every run, so it never touches the
user's real rules.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import typer
from rich.panel import Panel

from ui.common import CATALOG_OPT, JSON_OPT, console, friendly, get_catalog, print_json, settings

REQUESTS = [
    ("ACME", "For ACME, anything over 20 lb to zones 5-8 goes FedEx Ground unless it's worth more than $500."),
    (None, "Hold orders over $2,000 for fraud review."),
    ("ACME", "If ACME-MUG-BLUE is out of stock, substitute ACME-MUG-RED."),
    (None, "Tag orders with more than 10 units as bulk."),
    (None, "Never use OnTrac for PO boxes."),
]
AMBIGUOUS = "Ship the heavy ones with the cheap carrier."
ASKED, ANSWER = "Hold GLOBEX orders over 3000 for fraud review.", "dollars"
AUTHOR, REVIEWER = "alice", "bob"


def _step(title: str) -> None:
    console.print()
    console.rule(f"[bold]{title}")


@friendly
def demo_cmd(orders: int = typer.Option(2000, "--orders", help="sample orders for the dry run"),
             as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Walk through drafting, validating, reviewing, exporting and deciding on the demo data."""
    console.quiet = as_json
    try:
        report = run_demo(orders, catalog)
    finally:
        console.quiet = False
    if as_json:
        print_json(report)


def run_demo(orders: int, catalog: Optional[Path]) -> dict[str, Any]:
    """The demo's steps, printed as they go; returns what a script would want to check."""
    from assistant.draft import draft
    from rules_core.engine import compile_rules, decide
    from rules_core.explain import explain, explain_decision
    from rules_core.export.jdm import export_jdm
    from rules_core.export.bundle import write_json_atomic
    from rules_core.samples import sample_orders
    from rules_core.store import Provenance, Store
    from rules_core.errors import PermissionDenied
    from ui.commands.core_cmds import print_findings, render_impact

    cat = get_catalog(catalog)
    home = settings().home / "demo"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    store = Store.open(f"sqlite:///{home / 'store.sqlite'}")
    sample = sample_orders(cat, n=orders)
    console.print(Panel.fit(f"rulewright demo on the {'demo ' if cat.spec.demo else ''}catalog "
                            f"({len(cat.clients)} clients, {len(cat.warehouses)} warehouses, "
                            f"{len(cat.services)} services; demo data)\nstore: {home / 'store.sqlite'}"))

    _step("1. Plain English to rules (offline parser, no model needed)")
    drafted = []
    for client, text in REQUESTS:
        result = draft(text, cat, client=client, mode="offline", current_rules=[], orders=sample)
        console.print(f"[bold cyan]> {text}[/bold cyan]")
        if result.status != "ok":
            console.print(f"  [yellow]{result.status}[/yellow]: {result.question or result.error}")
            continue
        console.print(f"  understood: {result.english}")
        print_findings(result.findings)
        drafted.extend(result.rules)

    _step("2. It asks instead of guessing, and takes the answer")
    result = draft(AMBIGUOUS, cat, mode="offline", current_rules=[], orders=sample)
    console.print(f"[bold cyan]> {AMBIGUOUS}[/bold cyan]\n  {result.status}: {result.question or result.error}")
    asked = draft(ASKED, cat, mode="offline", current_rules=[], orders=sample)
    console.print(f"[bold cyan]> {ASKED}[/bold cyan]\n  {asked.status}: {asked.question}")
    answered = draft(ANSWER, cat, mode="offline", current_rules=[], orders=sample, answering=asked.pending)
    console.print(f"[bold cyan]> {ANSWER}[/bold cyan]\n  the request now reads: {answered.request}\n"
                  f"  understood: {answered.english}")

    _step(f"3. Dry run of the {len(drafted)} drafted rules on {len(sample)} sample orders")
    from rules_core.simulate import simulate

    impact = simulate([], drafted, sample, cat)
    render_impact(impact, limit=5)

    _step("4. Review: four eyes")
    proposal = store.propose(drafted, AUTHOR, note="demo rules",
                             provenance=Provenance(request=" / ".join(t for _, t in REQUESTS), source="parser"))
    console.print(f"{AUTHOR} proposed #{proposal.id} ({len(drafted)} rules)")
    try:
        store.approve(proposal.id, AUTHOR)
    except PermissionDenied as exc:
        console.print(f"{AUTHOR} tries to approve it: [red]refused[/red] - {exc}")
    version = store.approve(proposal.id, REVIEWER, comment="looks right")
    console.print(f"{REVIEWER} approved it: version {version.number} ({version.ruleset[:19]}...) is active")

    _step("5. Export for the runtime engine")
    active = store.active_rules()
    bundle_path, jdm_path = home / "bundle.json", home / "rules.jdm.json"
    store.export_bundle(bundle_path)
    write_json_atomic(jdm_path, export_jdm(active, cat))
    console.print(f"bundle: {bundle_path}\nJDM graph (zen-engine): {jdm_path}")

    _step("6. Decisions, and why")
    crs = compile_rules(active)
    picks = [o for o in sample if o.client == "ACME" and any(l.sku == "ACME-MUG-BLUE" for l in o.lines)][:1]
    picks += [o for o in sample if o.ship_to.po_box][:1]
    for order in picks:
        console.print(Panel(explain_decision(decide(order, crs, cat, trace=True)), title=order.id))

    _step("7. The active rules, in canonical English")
    for rule in active:
        console.print(f"- {explain(rule)}")
    audit = store.verify_audit()
    console.print(f"\n{audit.summary()}")
    store.close()
    return {"store": str(home / "store.sqlite"), "drafted": [r.id for r in drafted],
            "ambiguous_request": {"text": AMBIGUOUS, "status": result.status},
            "answered_question": {"request": ASKED, "question": asked.question, "answer": ANSWER,
                                  "completed": answered.request, "status": answered.status,
                                  "rules": [r.id for r in answered.rules]},
            "impact": impact.summary(), "proposal": proposal.id, "version": version.number,
            "ruleset": version.ruleset, "bundle": str(bundle_path), "jdm": str(jdm_path),
            "audit_ok": audit.ok}


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
