"""The Review tab: the proposal queue; one proposal's diff, English, findings, impact and
provenance; approve, reject or rebase it. Every check (roles, four eyes, stale base, error
findings) is the store's: this view shows its one-line reason."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui import render
from ui.views.assistant import changes_table, findings_table, mix_chart, mix_plot
from ui.views.context import AppContext, ok, one_line, picked_id, shown_as_error

STATUSES = ["open", "submitted", "draft", "approved", "rejected", "all"]


def build(ctx: AppContext, who: gr.Textbox) -> dict[str, Any]:
    with gr.Tab("Review", id="review") as tab:
        with gr.Row():
            status = gr.Dropdown(STATUSES, value="open", label="Show", scale=1)
            refresh = gr.Button("Refresh queue", scale=0)
        queue = gr.Dataframe(render.proposals_frame([]), label="Proposals (click a row to open it)", interactive=False,
                             wrap=True, elem_id="rw-queue")
        with gr.Row():
            pid = gr.Number(label="Proposal #", precision=0, minimum=1, elem_id="rw-proposal-id", scale=1)
            open_btn = gr.Button("Open", variant="primary", elem_id="rw-open", scale=0)
        header = gr.Markdown(elem_id="rw-proposal-header")
        with gr.Tabs():
            with gr.Tab("Diff"):
                diff = gr.HTML(elem_id="rw-diff")
            with gr.Tab("English"):
                english = gr.Markdown(elem_id="rw-review-english")
            with gr.Tab("Findings"):
                findings = findings_table()
            with gr.Tab("Impact"):
                impact = gr.Markdown(elem_id="rw-review-impact")
                changes = changes_table()
                with gr.Row():
                    carriers = mix_plot("Carrier mix before / after")
                    warehouses = mix_plot("Warehouse mix before / after")
            with gr.Tab("Provenance"):
                provenance = gr.Markdown(elem_id="rw-provenance")
        comment = gr.Textbox(label="Comment (required to reject)", elem_id="rw-comment")
        with gr.Row():
            approve = gr.Button("Approve", variant="primary", elem_id="rw-approve")
            reject = gr.Button("Reject", variant="stop", elem_id="rw-reject")
            rebase = gr.Button("Rebase onto the active version", elem_id="rw-rebase")
        outcome = gr.Markdown(elem_id="rw-review-outcome")

        def on_queue(show: str) -> Any:
            wanted = {"all": None, "open": None}.get(show, show)
            proposals = ctx.store.list_proposals(wanted)  # type: ignore[arg-type]
            if show == "open":
                proposals = [p for p in proposals if p.status in ("draft", "submitted")]
            return render.proposals_frame(proposals)

        refresh.click(on_queue, status, queue, api_name="queue")
        # api_name=False (no API endpoint) is valid at runtime; gradio annotates api_name as str | None
        status.change(on_queue, status, queue, api_name=False)  # type: ignore[arg-type]
        tab.select(on_queue, status, queue, api_name=False)  # fresh whenever the tab is opened

        @shown_as_error
        def on_open(number: float | None) -> tuple[Any, ...]:
            if not number:
                raise gr.Error("give a proposal number", print_exception=False)
            d, p = ctx.store.diff(int(number)), ctx.store.get_proposal(int(number))
            s = d.impact
            return (render.proposal_header(p, d), render.rule_diff_html(d.diff), render.english_markdown(d.diff),
                    render.findings_frame(d.findings), render.impact_markdown(s, d.checked_against),
                    render.changes_frame(s), mix_chart(s, "carrier"), mix_chart(s, "warehouse"),
                    render.provenance_markdown(p), "")

        shown = [header, diff, english, findings, impact, changes, carriers, warehouses, provenance, outcome]
        open_btn.click(on_open, pid, shown, api_name="proposal")
        pid.submit(on_open, pid, shown, api_name=False)  # type: ignore[arg-type]

        (queue.select(picked_id, queue, pid, api_name=False)  # type: ignore[arg-type]
            .then(on_open, pid, shown, api_name=False))

        @one_line
        def on_approve(number: float | None, note: str, typed: str, request: gr.Request) -> str:
            v = ctx.store.approve(int(number or 0), ctx.user(typed, request), note or "")
            return ok(f"Approved: version v{v.number} ({v.ruleset[:19]}…) is now active with {v.rule_count} rule(s).")

        @one_line
        def on_reject(number: float | None, note: str, typed: str, request: gr.Request) -> str:
            p = ctx.store.reject(int(number or 0), ctx.user(typed, request), note or "")
            return ok(f"Rejected proposal #{p.id}.")

        @one_line
        def on_rebase(number: float | None, typed: str, request: gr.Request) -> str:
            p = ctx.store.rebase(int(number or 0), ctx.user(typed, request))
            return ok(f"Rebased proposal #{p.id} onto v{p.base_version or 0}; findings and dry run are fresh. Open it again.")

        for button, fn, inputs, name in ((approve, on_approve, [pid, comment, who], "approve"),
                                         (reject, on_reject, [pid, comment, who], "reject"),
                                         (rebase, on_rebase, [pid, who], "rebase")):
            button.click(fn, inputs, outcome, api_name=name).then(on_queue, status, queue, api_name=False)
    return {"queue": queue, "status": status, "refresh": on_queue}
