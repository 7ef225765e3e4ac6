"""Pure functions from core objects to what the review app shows: Markdown, HTML, DataFrames.

Nothing here reads the store or decides anything; every function takes values and returns a
display value, so the views stay thin and these stay testable without a browser.
"""

from __future__ import annotations

import difflib
import html
import json
from typing import Any, Iterable, Sequence

import pandas as pd

from rules_core.findings import Finding
from rules_core.models import Decision, Rule, rule_json

STAGES = ("hold", "substitution", "routing", "carrier", "finishing")
FINDING_COLUMNS = ["severity", "code", "path", "message", "hint"]
CHANGE_COLUMNS = ["order", "client", "changed", "before", "after"]
MIX_COLUMNS = ["code", "when", "orders"]
PROPOSAL_COLUMNS = ["id", "status", "author", "base", "rules", "errors", "note", "created"]
RULE_COLUMNS = ["id", "name", "clients", "stage", "priority", "enabled", "english"]
VERSION_COLUMNS = ["version", "active", "rules", "author", "approver", "proposal", "note", "created", "ruleset"]


def pretty(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# --- findings ----------------------------------------------------------------------------------


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    rows = [[f.severity, f.code, f.path or "/", f.message, f.hint or ""] for f in findings]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def findings_markdown(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings: the validator is happy."
    icon = {"error": "✖", "warning": "⚠"}
    lines = [f"- {icon.get(f.severity, '')} **{f.severity}** `{f.code}`"
             + (f" at `{f.path}`" if f.path else "") + f": {f.message}"
             + (f" — *{f.hint}*" if f.hint else "") for f in findings]
    return "\n".join(lines)


# --- dry-run impact (the summary dict of rules_core.simulate.Impact) ----------------------------


def _signed(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:+,.{digits}f}"


def impact_markdown(summary: dict[str, Any] | None, against: int | None = None) -> str:
    if not summary:
        return "No dry run yet."
    where = f" against v{against}" if against else ""
    lines = [f"**Dry run{where}** on {summary.get('orders', 0):,} sample orders: "
             f"**{summary.get('changed', 0):,} order(s) change**, {summary.get('newly_held', 0)} newly held, "
             f"{summary.get('released', 0)} released.",
             f"- Cost: {_signed(summary.get('cost_delta'))} USD in total "
             f"({_signed(summary.get('cost_delta_per_order'), 4)} per order)",
             f"- Transit: {_signed(summary.get('transit_days_delta'), 3)} days per order (average)"]
    lines += [f"- Rule `{rid}` applies to {n:,} orders" for rid, n in (summary.get("rule_orders") or {}).items()]
    lines += [f"- ⚠ New exception `{code}` on {n:,} orders" for code, n in (summary.get("new_exceptions") or {}).items()]
    return "\n".join(lines)


def _outcome_text(o: dict[str, Any]) -> str:
    if o.get("held"):
        return "HELD: " + "; ".join(o.get("holds") or []) if o.get("holds") else "HELD"
    cost = f" ${o['cost']:.2f}" if o.get("cost") is not None else ""
    days = f" {o['transit_days']}d" if o.get("transit_days") is not None else ""
    return f"{o.get('warehouse') or '-'} → {o.get('service') or '-'}{cost}{days}"


def changes_frame(summary: dict[str, Any] | None) -> pd.DataFrame:
    rows = [[c["order_id"], c["client"], ", ".join(c["changed"]), _outcome_text(c["before"]), _outcome_text(c["after"])]
            for c in (summary or {}).get("examples", [])]
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def mix_frame(summary: dict[str, Any] | None, kind: str) -> pd.DataFrame:
    """Long format for a bar chart: one row per code and side. The labels ("UPS before", "UPS
    proposed") sort alphabetically into pairs, so the chart needs no custom order."""
    mix = (summary or {}).get(f"{kind}_mix") or {}
    before, after = mix.get("before", {}), mix.get("after", {})
    rows = [[f"{code} {side}", side, counts.get(code, 0)] for code in sorted(set(before) | set(after))
            for side, counts in (("before", before), ("proposed", after))]
    # Both sides always present: a chart fixes its colours from the first data it is given.
    rows = rows or [["(no dry run yet)", side, 0] for side in ("before", "proposed")]
    # Typed even when empty: the chart picks a quantitative or a categorical axis from the first frame.
    return pd.DataFrame(rows, columns=MIX_COLUMNS).astype({"code": str, "when": str, "orders": "int64"})


# --- rule diffs ----------------------------------------------------------------------------------

_CELL = "padding:1px 8px;font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;vertical-align:top;"
_MARK = {"del": "background:#fde2e1;", "ins": "background:#dcfce7;", "same": ""}


def _row(left: str, right: str, lkind: str, rkind: str) -> str:
    return (f"<tr><td class='rw-{lkind}' style='{_CELL}{_MARK[lkind]}'>{esc(left)}</td>"
            f"<td class='rw-{rkind}' style='{_CELL}{_MARK[rkind]}'>{esc(right)}</td></tr>")


def side_by_side(before: Any, after: Any) -> str:
    """Two pretty-printed JSON documents aligned line by line; changed lines highlighted."""
    a = pretty(before).splitlines() if before is not None else []
    b = pretty(after).splitlines() if after is not None else []
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [_row(x, y, "same", "same") for x, y in zip(a[i1:i2], b[j1:j2])]
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            x, y = (left[k] if k < len(left) else ""), (right[k] if k < len(right) else "")
            rows.append(_row(x, y, "del" if k < len(left) else "same", "ins" if k < len(right) else "same"))
    return ("<table class='rw-diff' style='width:100%;border-collapse:collapse;table-layout:fixed'>"
            "<tr><th style='text-align:left'>before</th><th style='text-align:left'>after</th></tr>"
            + "".join(rows) + "</table>")


def rule_diff_html(diff: Any) -> str:
    """A ``rules_core.store.diff.RuleDiff`` as side-by-side tables, one per added, removed or changed rule."""
    parts = []
    for rule in diff.added:
        parts.append(f"<h4>+ added <code>{esc(rule['id'])}</code></h4>" + side_by_side(None, rule))
    for rule in diff.removed:
        parts.append(f"<h4>− removed <code>{esc(rule['id'])}</code></h4>" + side_by_side(rule, None))
    for ch in diff.changed:
        fields = ", ".join(f"<code>{esc(f.path)}</code>" for f in ch.fields)
        parts.append(f"<h4>~ changed <code>{esc(ch.id)}</code></h4><p>changed fields: {fields}</p>"
                     + side_by_side(ch.before, ch.after))
    if not parts:
        return "<p>No rule changes.</p>"
    return f"<div class='rw-diffs'>{''.join(parts)}<p>{diff.unchanged} other rule(s) unchanged.</p></div>"


def _english(raw: dict[str, Any]) -> str:
    from rules_core.explain import explain

    try:
        return explain(Rule.model_validate(raw))
    except Exception as exc:  # a stored rule that no longer parses is shown, not hidden
        return f"(cannot explain: {exc.__class__.__name__})"


def english_markdown(diff: Any) -> str:
    """The canonical English before and after, for each rule the diff touches."""
    out = []
    for rule in diff.added:
        out.append(f"**New `{rule['id']}`**\n\n> {_english(rule)}")
    for rule in diff.removed:
        out.append(f"**Removed `{rule['id']}`** (was)\n\n> {_english(rule)}")
    for ch in diff.changed:
        out.append(f"**Changed `{ch.id}`**\n\nBefore:\n> {_english(ch.before)}\n\nAfter:\n> {_english(ch.after)}")
    return "\n\n".join(out) or "No rule changes."


# --- proposals, rules, versions ------------------------------------------------------------------


def proposals_frame(proposals: Iterable[Any]) -> pd.DataFrame:
    rows = [[p.id, p.status, p.author, p.base_version or 0, len(p.rules) + len(p.removes),
             sum(f.severity == "error" for f in p.findings), p.note, f"{p.created_at:%Y-%m-%d %H:%M}"]
            for p in proposals]
    return pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)


def proposal_header(p: Any, d: Any) -> str:
    stale = (f"\n\n⚠ **Stale:** the active version is now v{d.active_version or 0} but this proposal was "
             f"made on v{p.base_version or 0}. Rebase it before approving.") if d.stale else ""
    note = f" — {p.note}" if p.note else ""
    return f"### Proposal #{p.id} · {p.status} · by {p.author} on v{p.base_version or 0}{note}{stale}"


def provenance_markdown(p: Any) -> str:
    prov = p.provenance
    source = {"parser": "offline parser", "model": "model", "manual": "written by hand",
              "rollback": "rollback"}.get(prov.source, prov.source)
    lines = [f"- **Request:** {prov.request!r}" if prov.request else "- **Request:** (none recorded)",
             f"- **Drafted by:** {source}" + (f" (`{prov.model}`)" if prov.model else "")]
    usage = prov.usage or {}
    if usage.get("model_calls"):
        lines.append(f"- **Tokens:** {usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} "
                     f"completion in {usage.get('model_calls')} call(s)")
    else:
        lines.append("- **Tokens:** none (no model call)")
    lines += [f"- **{r.decision.capitalize()}** by {r.reviewer} at {r.at:%Y-%m-%d %H:%M}"
              + (f": {r.comment}" if r.comment else "") for r in p.reviews]
    return "\n".join(lines)


def rule_stage(rule: Rule) -> str:
    return rule.stage if rule.then else ""


def rules_frame(rules: Iterable[Rule]) -> pd.DataFrame:
    from rules_core.explain import explain

    rows = [[r.id, r.name, ", ".join(r.clients) or "(all)", rule_stage(r), r.priority, r.enabled, explain(r)]
            for r in rules]
    return pd.DataFrame(rows, columns=RULE_COLUMNS)


def versions_frame(versions: Iterable[Any]) -> pd.DataFrame:
    rows = [[v.number, "●" if v.active else "", v.rule_count, v.author, v.approver, v.proposal or "", v.note,
             f"{v.created_at:%Y-%m-%d %H:%M}", v.ruleset[:19] + "…"] for v in versions]
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def timeline_markdown(timeline: Sequence[tuple[Any, str]]) -> str:
    """``(version, what happened to the rule in it)`` pairs, oldest first."""
    if not timeline:
        return "Not in any approved version yet."
    return "\n".join(f"- **v{v.number}** ({v.created_at:%Y-%m-%d %H:%M}, approved by {v.approver}): {what}"
                     + (" ← active" if v.active else "") for v, what in timeline)


# --- decisions ----------------------------------------------------------------------------------


def decision_markdown(d: Decision) -> str:
    head = "**HELD**" if d.held else "**Released**"
    lines = [f"### Order {d.order_id}: {head}"]
    lines += [f"- Hold by `{h.rule}`: {h.reason}" for h in d.holds]
    lines += [f"- Line {s.line}: `{s.from_}` → `{s.to}` (rule `{s.rule}`)" for s in d.substitutions]
    for s in d.shipments:
        cost = f", {s.cost.amount:.2f} {s.cost.currency}" if s.cost else ""
        days = f", {s.transit_days} day(s)" if s.transit_days is not None else ""
        lines.append(f"- Ships from **{s.warehouse or '-'}** (zone {s.zone if s.zone is not None else '-'}, "
                     f"{_who(s.routed_by)}) by **{s.service or '-'}**{cost}{days} ({_who(s.decided_by)})")
    if d.tags:
        lines.append("- Tags: " + ", ".join(f"`{t}`" for t in d.tags))
    lines += [x for x, on in (("- Signature required", d.signature_required), ("- Insured", d.insured)) if on]
    lines += [f"- ⚠ Exception `{e.code}` ({e.stage}): {e.message}" for e in d.exceptions]
    return "\n".join(lines)


def _who(by: str) -> str:
    return f"rule `{by.split(':', 1)[1]}`" if by.startswith("rule:") else "default"


# --- the assistant's chat turns --------------------------------------------------------------------


def draft_reply(result: Any, text: str | None = None) -> str:
    """What the assistant says for a ``DraftResult``; ``text`` is the message it answers (when
    that message answered a question, the request it completed is shown)."""
    source = "the model" if result.source == "model" else "the offline parser"
    lead = ""
    if text is not None and result.request and result.request.strip() != text.strip():
        lead = f"With your answer, the request reads: “{result.request.strip()}”\n\n"
        if result.status == "clarify" and result.pending is not None and result.pending.asked_again:
            lead = ""  # the question says it already
    if result.status == "clarify":
        return f"{lead}**Question:** {result.question}"
    if result.status == "error" and not result.rules:
        return f"{lead}I did not understand that, so I drafted nothing ({source}): {result.error}"
    parts = [f"{lead}Here is what I understood ({source}):", "",
             *[f"> {line}" for line in result.english.splitlines()]]
    for change in result.diff:
        paths = ", ".join(f"`{c['path']}`" for c in change.changes)
        parts.append(f"\nThis edits the active rule `{change.id}`: {paths}.")
    if result.status == "error":
        parts.append(f"\n✖ {result.error}. Rephrase the request to fix it; it cannot be submitted as it is.")
    else:
        s = result.impact or {}
        parts.append(f"\nDry run: {s.get('changed', 0):,} of {s.get('orders', 0):,} sample orders change. "
                     "Send a follow-up to adjust it, or **Submit for review**.")
    return "\n".join(parts)


def rules_json(rules: Iterable[Rule]) -> str:
    return pretty([rule_json(r) for r in rules])
