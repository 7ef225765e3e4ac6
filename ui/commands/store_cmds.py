"""Review-workflow commands: propose, review, approve, reject, rebase, submit, history,
rollback, export, db upgrade, audit verify/log. Thin handlers over ``rules_core.store``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, cast

import typer
from pydantic import ValidationError

from rules_core.errors import InputError, StoreError
from rules_core.io import error_where, raw_rules, read_json
from rules_core.models import Rule
from rules_core.store import Proposal, ProposalDiff, Provenance, Store, Version, repeated_rule_id
from ui.common import JSON_OPT, acting_user, console, friendly, print_json, settings

AS_OPT = typer.Option(None, "--as", help="acting user (default: RULEWRIGHT_USER or the login name)")
review_app = typer.Typer(help="List proposals and show one with its diff and dry-run impact.", no_args_is_help=True)
db_app = typer.Typer(help="The store's database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def open_store() -> Store:
    return Store.open(settings=settings())


def read_proposal_file(path: Path) -> tuple[list[Rule], Provenance]:
    """Rules from a rules file (or a `draft --json` output) and the provenance it records."""
    data = read_json(path)
    rules = []
    for i, raw in enumerate(raw_rules(data, str(path))):
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as exc:
            name = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{i}"
            raise InputError(f"{path}: rule {name} at {error_where(exc)}") from None
    repeated = repeated_rule_id(rules)  # checked by the store too; here the message can name the file
    if repeated is not None:
        raise InputError(f"{path}: {repeated}")
    meta: dict[str, Any] = data if isinstance(data, dict) and "rules" in data else {}
    source = meta.get("source") if meta.get("source") in ("parser", "model") else ("model" if meta.get("model") else "manual")
    request = meta.get("request") if isinstance(meta.get("request"), str) else None
    return rules, Provenance(request=request, source=cast(Literal["parser", "model", "manual"], source),
                             model=meta.get("model"), usage=meta.get("usage") or None)


# --- rendering ----------------------------------------------------------------------------


def show_proposal_line(p: Proposal) -> None:
    changes = f"{len(p.rules)} changed/added, {len(p.removes)} removed"
    errors = sum(f.severity == "error" for f in p.findings)
    flag = f" [red]{errors} error(s)[/red]" if errors else ""
    console.print(f"#{p.id} [bold]{p.status}[/bold] by {p.author} on v{p.base_version or 0}: {changes}{flag}"
                  + (f" — {p.note}" if p.note else ""))


def show_diff(d: ProposalDiff, p: Proposal) -> None:
    show_proposal_line(p)
    if p.provenance.request:
        console.print(f"  request: {p.provenance.request!r} ({p.provenance.source}"
                      + (f", {p.provenance.model}" if p.provenance.model else "") + ")")
    if d.stale:
        console.print(f"[yellow]the active version is now v{d.active_version or 0}: run `rulewright rebase {d.proposal}`[/yellow]")
    for rule in d.diff.added:
        console.print(f"[green]+ {rule['id']}[/green] {rule.get('name', '')}")
    for rule in d.diff.removed:
        console.print(f"[red]- {rule['id']}[/red] {rule.get('name', '')}")
    for ch in d.diff.changed:
        console.print(f"[cyan]~ {ch.id}[/cyan]")
        for fc in ch.fields:
            console.print(f"    {fc.path}: {fc.before!r} -> {fc.after!r}")
    for f in d.findings:
        console.print(f"[{'red' if f.severity == 'error' else 'yellow'}]{finding_text(f, p)}[/]")
    show_impact(d.impact or {}, d.checked_against)
    for r in p.reviews:
        console.print(f"  {r.decision} by {r.reviewer} at {r.at:%Y-%m-%d %H:%M}" + (f": {r.comment}" if r.comment else ""))


def finding_text(f: Any, p: Proposal) -> str:
    """A finding, naming the rule its path points at (paths index the proposal's rules)."""
    head = f.path.split("/")[1] if f.path.count("/") >= 1 else ""
    if head.isdigit() and int(head) < len(p.rules):
        return f"{p.rules[int(head)].id}: {f}"
    return str(f)


def show_impact(impact: dict[str, Any], against: int | None) -> None:
    if not impact:
        return
    keys = ("orders", "changed", "newly_held", "released", "cost_delta", "transit_days_delta")
    parts = [f"{k.replace('_', ' ')} {impact[k]}" for k in keys if impact.get(k) is not None]
    console.print(f"dry run against v{against or 0}: " + ", ".join(parts))


def show_version(v: Version) -> None:
    mark = "[bold green]*[/bold green]" if v.active else " "
    console.print(f"{mark} v{v.number} {v.ruleset[:19]}… {v.rule_count} rules, by {v.author}, approved by "
                  f"{v.approver} {v.created_at:%Y-%m-%d %H:%M}" + (f" — {v.note}" if v.note else ""))


# --- commands -----------------------------------------------------------------------------


@friendly
def propose_cmd(file: Path = typer.Argument(..., help="rules JSON (a list, {\"rules\": [...]}, or `draft --json` output)"),
                note: str = typer.Option("", "--note", help="why this change"),
                full: bool = typer.Option(False, "--full", help="FILE is the complete new rule set: rules missing from it are removed"),
                remove: list[str] = typer.Option([], "--remove", help="also remove this rule id (repeatable)"),
                draft: bool = typer.Option(False, "--draft", help="save as a draft instead of submitting for review"),
                request: Optional[str] = typer.Option(None, "--request", help="the plain-English request it came from"),
                as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Propose rule changes for review (merged by id onto the active rule set)."""
    rules, prov = read_proposal_file(file)
    if request:
        prov.request = request
    with open_store() as store:
        p = store.propose(rules, acting_user(as_user), note, prov, full=full, removes=remove, submit=not draft)
    if as_json:
        print_json({"id": p.id, "status": p.status, "base_version": p.base_version,
                    "findings": [f.model_dump() for f in p.findings], "impact": p.impact})
        return
    show_proposal_line(p)
    show_impact(p.impact or {}, p.checked_against)


@friendly
def review_list_cmd(status: Optional[str] = typer.Option(None, "--status", help="draft, submitted, approved or rejected"),
                    as_json: bool = JSON_OPT) -> None:
    """Proposals, newest first."""
    if status not in (None, "draft", "submitted", "approved", "rejected"):
        raise InputError(f"unknown status {status!r}: use draft, submitted, approved or rejected")
    with open_store() as store:
        proposals = store.list_proposals(status)  # type: ignore[arg-type]
    if as_json:
        print_json([p.to_json() for p in proposals])
        return
    for p in proposals:
        show_proposal_line(p)
    if not proposals:
        console.print("no proposals")


@friendly
def review_show_cmd(proposal: str = typer.Argument(..., help="proposal id"), as_json: bool = JSON_OPT) -> None:
    """A proposal's rule-level diff, findings and dry-run impact."""
    with open_store() as store:
        d, p = store.diff(proposal), store.get_proposal(proposal)
    if as_json:
        print_json({**d.model_dump(mode="json"), "proposal": p.to_json()})
    else:
        show_diff(d, p)


@friendly
def approve_cmd(proposal: str = typer.Argument(..., help="proposal id"),
                comment: str = typer.Option("", "--comment", help="review comment"),
                as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Approve a proposal: re-validates, re-runs the dry run, makes it the active version."""
    with open_store() as store:
        v = store.approve(proposal, acting_user(as_user), comment)
    if as_json:
        print_json(v.model_dump(mode="json"))
    else:
        console.print(f"approved: v{v.number} ({v.ruleset}) is now active")


@friendly
def reject_cmd(proposal: str = typer.Argument(..., help="proposal id"),
               reason: str = typer.Option(..., "--reason", help="why (shown to the author)"),
               as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Reject a proposal (or withdraw your own)."""
    with open_store() as store:
        p = store.reject(proposal, acting_user(as_user), reason)
    if as_json:
        print_json({"id": p.id, "status": p.status})
    else:
        console.print(f"proposal #{p.id} rejected")


@friendly
def rebase_cmd(proposal: str = typer.Argument(..., help="proposal id"),
               as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Move a proposal onto the active version; re-runs validation and the dry run."""
    with open_store() as store:
        p = store.rebase(proposal, acting_user(as_user))
    if as_json:
        print_json({"id": p.id, "base_version": p.base_version, "findings": [f.model_dump() for f in p.findings],
                    "impact": p.impact})
        return
    show_proposal_line(p)
    show_impact(p.impact or {}, p.checked_against)


@friendly
def submit_cmd(proposal: str = typer.Argument(..., help="proposal id"),
               as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Submit a draft proposal for review."""
    with open_store() as store:
        p = store.submit(proposal, acting_user(as_user))
    print_json({"id": p.id, "status": p.status}) if as_json else show_proposal_line(p)


@friendly
def history_cmd(as_json: bool = JSON_OPT) -> None:
    """Approved versions, newest first (* marks the active one)."""
    with open_store() as store:
        versions = store.history()
    if as_json:
        print_json([v.model_dump(mode="json") for v in versions])
        return
    for v in versions:
        show_version(v)
    if not versions:
        console.print("no approved versions yet")


@friendly
def rollback_cmd(version: str = typer.Argument(..., help="version number (3 or v3) or hash prefix"),
                 note: Optional[str] = typer.Option(None, "--note", help="why"),
                 as_user: Optional[str] = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Propose restoring an earlier version (reviewed and approved like any change)."""
    with open_store() as store:
        p = store.rollback(version, acting_user(as_user), note)
    if as_json:
        print_json({"id": p.id, "status": p.status, "base_version": p.base_version})
    else:
        show_proposal_line(p)


@friendly
def export_cmd(fmt: str = typer.Option("bundle", "--format", help="bundle or jdm"),
               out: Path = typer.Option(..., "--out", help="file to write (atomically)"),
               as_json: bool = JSON_OPT) -> None:
    """Export the active approved rule set for the runtime engine."""
    if fmt not in ("bundle", "jdm"):
        raise InputError(f"unknown export format {fmt!r}: use bundle or jdm")
    with open_store() as store:
        version = store.active_version()
        if fmt == "bundle":
            store.export_bundle(out)
        else:
            export_jdm_file(store, out)
    if as_json:
        print_json({"format": fmt, "out": str(out), "version": version.number if version else None,
                    "ruleset": version.ruleset if version else None})
    else:
        console.print(f"wrote {out} ({fmt}, v{version.number if version else 0})")


def export_jdm_file(store: Store, out: Path) -> None:
    from rules_core.export.bundle import write_json_atomic
    from ui.common import get_catalog

    try:
        from rules_core.export.jdm import export_jdm
    except ImportError:
        raise StoreError("the jdm export is not available in this installation") from None
    if store.active_version() is None:
        raise StoreError("nothing to export: no rule set has been approved yet")
    write_json_atomic(out, export_jdm(store.active_rules(), get_catalog()))


@friendly
def db_upgrade_cmd(as_json: bool = JSON_OPT) -> None:
    """Apply the store's migrations (they also run automatically on first use)."""
    from rules_core.store import db

    engine = db.make_engine(settings().store_url)
    try:
        before, after = db.upgrade(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json({"url": db.safe_url(settings().store_url), "from": before, "to": after})
    else:
        console.print(f"store schema {after}" + (" (already current)" if before == after else f" (was {before or 'empty'})"))


@friendly
def audit_verify_cmd(as_json: bool = JSON_OPT) -> None:
    """Check the audit log's hash chain; exit 1 when it was tampered with."""
    with open_store() as store:
        report = store.verify_audit()
    print_json(report.model_dump()) if as_json else console.print(report.summary())
    if not report.ok:
        raise typer.Exit(1)


@friendly
def audit_log_cmd(limit: int = typer.Option(20, "--limit", min=1, help="how many entries, newest first"),
                  as_json: bool = JSON_OPT) -> None:
    """The newest audit entries."""
    with open_store() as store:
        entries = store.audit_log(limit)
    if as_json:
        print_json([e.model_dump() for e in entries])
        return
    for e in entries:
        console.print(f"{e.seq:>5} {e.at[:19]} {e.actor} {e.action} {e.subject}")


def register(app: typer.Typer) -> None:
    app.command("propose")(propose_cmd)
    review_app.command("list")(review_list_cmd)
    review_app.command("show")(review_show_cmd)
    app.add_typer(review_app, name="review")
    app.command("approve")(approve_cmd)
    app.command("reject")(reject_cmd)
    app.command("rebase")(rebase_cmd)
    app.command("submit")(submit_cmd)
    app.command("history")(history_cmd)
    app.command("rollback")(rollback_cmd)
    app.command("export")(export_cmd)
    db_app.command("upgrade")(db_upgrade_cmd)
    app.add_typer(db_app, name="db")
    audit_app.command("verify")(audit_verify_cmd)
    audit_app.command("log")(audit_log_cmd)
    app.add_typer(audit_app, name="audit")
