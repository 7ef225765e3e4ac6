"""The Rules tab: the active rule set by client and stage, searchable; one rule's explanation,
JSON and history (the versions it appeared in); and rollback proposals."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rules_core.models import Rule, rule_json
from ui import render
from ui.views.context import AppContext, ok, one_line, picked_id, shown_as_error

ALL = "(all)"


def matches(rule: Rule, client: str, stage: str, text: str) -> bool:
    """The filter of the table: client (a rule without clients applies to all), stage, free text."""
    if client != ALL and rule.clients and client not in rule.clients:
        return False
    if stage != ALL and render.rule_stage(rule) != stage:
        return False
    needle = text.strip().lower()
    return not needle or needle in f"{rule.id} {rule.name} {render.pretty(rule_json(rule))}".lower()


def build(ctx: AppContext, who: gr.Textbox) -> dict[str, Any]:
    with gr.Tab("Rules", id="rules") as tab:
        active = gr.Markdown(elem_id="rw-active-version")
        with gr.Row():
            client = gr.Dropdown([ALL, *ctx.catalog.clients], value=ALL, label="Client")
            stage = gr.Dropdown([ALL, *render.STAGES], value=ALL, label="Stage")
            search = gr.Textbox(label="Search", placeholder="id, name, service, SKU…", elem_id="rw-rule-search")
            refresh = gr.Button("Refresh", scale=0)
        table = gr.Dataframe(render.rules_frame([]), label="Active rules (click a row for details)", wrap=True,
                             interactive=False, elem_id="rw-rules-table",
                             column_widths=["17%", "20%", "8%", "8%", "6%", "6%", "35%"])
        with gr.Row():
            rule_id = gr.Textbox(label="Rule id", elem_id="rw-rule-id", scale=3)
            show = gr.Button("Show rule", scale=0)
        explanation = gr.Markdown(elem_id="rw-rule-explanation")
        with gr.Row():
            rule_json_box = gr.Code(language="json", label="Rule JSON", lines=6)
            timeline = gr.Markdown(label="History", elem_id="rw-rule-history", container=True)
        with gr.Accordion("Roll back to an earlier version", open=False):
            version = gr.Textbox(label="Version (number like 3, or a hash prefix)", elem_id="rw-rollback-version")
            note = gr.Textbox(label="Why")
            rollback = gr.Button("Propose rollback", elem_id="rw-rollback")
            rolled = gr.Markdown(elem_id="rw-rollback-status")

        def on_rules(client_code: str, stage_name: str, text: str) -> tuple[Any, str]:
            v = ctx.store.active_version()
            rules = [r for r in ctx.store.active_rules() if matches(r, client_code, stage_name, text or "")]
            head = (f"**Active version v{v.number}** · {v.rule_count} rule(s) · approved by {v.approver} · `{v.ruleset[:19]}…`"
                    if v else "**No approved version yet.** Draft a rule in the Assistant and get it reviewed.")
            return render.rules_frame(rules), head

        filters = [client, stage, search]
        refresh.click(on_rules, filters, [table, active], api_name="rules")
        # api_name=False (no API endpoint) is valid at runtime; gradio annotates api_name as str | None
        for box in (client, stage):
            box.change(on_rules, filters, [table, active], api_name=False)  # type: ignore[arg-type]
        search.submit(on_rules, filters, [table, active], api_name=False)  # type: ignore[arg-type]
        tab.select(on_rules, filters, [table, active], api_name=False)

        @shown_as_error
        def on_rule(rid: str) -> tuple[str, str, str]:
            rid = (rid or "").strip()
            found = next((r for r in ctx.store.active_rules() if r.id == rid), None)
            timeline_md = render.timeline_markdown(ctx.store.rule_history(rid))
            if found is None:
                return f"`{rid}` is not in the active rule set.", "", timeline_md
            from rules_core.explain import explain

            return f"> {explain(found)}", render.pretty(rule_json(found)), timeline_md

        detail = [explanation, rule_json_box, timeline]
        show.click(on_rule, rule_id, detail, api_name="rule")
        rule_id.submit(on_rule, rule_id, detail, api_name=False)  # type: ignore[arg-type]
        (table.select(picked_id, table, rule_id, api_name=False)  # type: ignore[arg-type]
            .then(on_rule, rule_id, detail, api_name=False))

        @one_line
        def on_rollback(ref: str, why: str, typed: str, request: gr.Request) -> str:
            p = ctx.store.rollback((ref or "").strip(), ctx.user(typed, request), why or None)
            return ok(f"Rollback proposed as #{p.id}; it is reviewed and approved like any other change.")

        rollback.click(on_rollback, [version, note, who], rolled, api_name="rollback")
    return {"refresh": on_rules, "inputs": filters, "outputs": [table, active]}
