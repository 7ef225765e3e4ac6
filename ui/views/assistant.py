"""The Assistant tab: a chat that drafts rules from plain English and submits them for review.

Each message goes to ``assistant.draft.draft``. After the assistant asked a question, the next
message is the answer: it is fitted into the request the question was about ("lb" after
"'20' has no unit"). While a draft is open, a follow-up message is an edit of it ("make it
25 lb"): the draft's rules go to the draft function as context. If that function cannot take
a draft to edit, the assistant says it did not understand rather than guess. "Submit for
review" makes a proposal through the store.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rules_core.errors import RulewrightError
from rules_core.models import Rule, rule_json
from rules_core.store import Provenance
from ui import render
from ui.views.context import AppContext, ok, refused

ANY_CLIENT = "(any client)"
EMPTY: dict[str, Any] = {"rules": [], "requests": [], "source": None, "usage": None, "pending": None}


def model_banner(ctx: AppContext) -> str:
    if ctx.model_configured:
        return f"Drafting with the offline parser first, then the model `{ctx.llm.model}` for what it cannot read."
    return ("**No model configured** (`RULEWRIGHT_LLM_BASE_URL` is not set): drafts come from the offline parser, "
            "which reads plain operations English such as *“Hold ACME orders over $2,000 for fraud review.”*")


def unchanged() -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(7))


def empty_outputs() -> tuple[Any, ...]:
    return ("", "[]", render.findings_frame([]), "No dry run yet.", render.changes_frame(None),
            mix_chart(None, "carrier"), mix_chart(None, "warehouse"))


def result_outputs(result: Any) -> tuple[Any, ...]:
    s = result.impact
    return (result.english, render.rules_json(result.rules), render.findings_frame(result.findings),
            render.impact_markdown(s), render.changes_frame(s), mix_chart(s, "carrier"), mix_chart(s, "warehouse"))


def run_draft(ctx: AppContext, text: str, client: str | None, editing: list[Rule],
              pending: dict[str, Any] | None = None) -> Any:
    """The draft function, with the open draft as the rules a follow-up may edit, or the
    question the assistant asked as what the message answers."""
    from assistant.answers import Pending
    from assistant.draft import draft

    extra: dict[str, Any] = {"http_client": ctx.settings.llm_http_client} if ctx.settings.llm_http_client else {}
    return draft(text, ctx.catalog, client=client, mode=ctx.settings.draft_mode, settings=ctx.llm,
                 current_rules=ctx.store.active_rules(), editing=editing or None,
                 answering=Pending.model_validate(pending) if pending else None, **extra)


def next_state(state: dict[str, Any], text: str, result: Any) -> dict[str, Any]:
    """The open draft after a reply: an edit replaces its rule in the draft (same id), a new
    request (or an answered question) starts the draft over; a refusal leaves it as it was. A
    question is remembered, so that the next message answers it."""
    if result.status == "clarify":
        pending = result.pending.model_dump() if result.pending is not None else None
        return {**state, "pending": pending}
    if not result.rules:
        return {**state, "pending": None}
    new = [rule_json(r) for r in result.rules]
    drafted = {r["id"]: r for r in state["rules"]}
    if drafted and all(r["id"] in drafted for r in new):
        drafted.update({r["id"]: r for r in new})
        new = list(drafted.values())
    return {"rules": new, "requests": [*state["requests"], result.request or text],
            "source": result.source, "usage": result.usage.model_dump(mode="json"), "ok": result.status == "ok",
            "pending": None}


def build(ctx: AppContext, who: gr.Textbox) -> None:
    with gr.Tab("Assistant", id="assistant"):
        gr.Markdown(model_banner(ctx), elem_id="rw-model-banner")
        state = gr.State(dict(EMPTY))
        with gr.Row():
            with gr.Column(scale=5):
                chat = gr.Chatbot(label="Chat", height=430, elem_id="rw-chat", buttons=["copy"])
                message = gr.Textbox(label="Your request", lines=2, elem_id="rw-request",
                                     placeholder="e.g. For ACME, ship orders heavier than 20 lb with UPS Ground.")
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="rw-send")
                    new = gr.Button("New draft", elem_id="rw-new-draft")
                client = gr.Dropdown([ANY_CLIENT, *ctx.catalog.clients], value=ANY_CLIENT, label="Client")
                note = gr.Textbox(label="Note for the reviewer", elem_id="rw-note")
                submit = gr.Button("Submit for review", variant="primary", elem_id="rw-submit")
                status = gr.Markdown(elem_id="rw-assistant-status")
            with gr.Column(scale=6):
                gr.Markdown("**Understood as** (canonical English)")
                english = gr.Markdown(elem_id="rw-english", container=True)
                rules = gr.Code(language="json", label="Rule JSON", lines=8, max_lines=24, elem_id="rw-rule-json")
                findings = findings_table()
                impact = gr.Markdown("No dry run yet.", elem_id="rw-impact", container=True)
                changes = changes_table()
                with gr.Row():
                    carriers = mix_plot("Carrier mix before / after")
                    warehouses = mix_plot("Warehouse mix before / after")

        outputs = [chat, state, message, english, rules, findings, impact, changes, carriers, warehouses]

        def on_message(text: str, history: list[dict[str, Any]], st: dict[str, Any], client_code: str,
                       progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            history = [*(history or []), {"role": "user", "content": text}]
            progress(0.2, desc="Drafting and running the dry run on the sample orders…")
            editing = [Rule.model_validate(r) for r in st["rules"]]
            try:
                result = run_draft(ctx, text, None if client_code == ANY_CLIENT else client_code, editing,
                                   st.get("pending"))
            except RulewrightError as exc:
                return (history + [{"role": "assistant", "content": f"✖ {exc}"}], st, "", *unchanged())
            history.append({"role": "assistant", "content": render.draft_reply(result, text)})
            if result.usage.note:
                history.append({"role": "assistant", "content": f"*Note: {result.usage.note}.*"})
            shown = result_outputs(result) if result.rules else unchanged()
            return (history, next_state(st, text, result), "", *shown)

        send.click(on_message, [message, chat, state, client], outputs, api_name="draft")
        # api_name=False (no API endpoint) is valid at runtime; gradio annotates api_name as str | None
        message.submit(on_message, [message, chat, state, client], outputs, api_name=False)  # type: ignore[arg-type]

        def on_new() -> tuple[Any, ...]:
            return ([], dict(EMPTY), "", *empty_outputs())

        new.click(on_new, None, outputs, api_name="new_draft")

        def on_submit(st: dict[str, Any], note_text: str, typed: str, request: gr.Request) -> tuple[str, Any]:
            """A proposal from the open draft; once submitted, the next message starts a new draft."""
            if not st["rules"]:
                return "Nothing to submit yet: draft a rule in the chat first.", st
            prov = Provenance(request=" / ".join(st["requests"]),
                              source="model" if st["source"] == "model" else "parser",
                              model=(st["usage"] or {}).get("model"), usage=st["usage"])
            try:
                p = ctx.store.propose([Rule.model_validate(r) for r in st["rules"]], ctx.user(typed, request),
                                      note_text or "", prov)
            except RulewrightError as exc:
                return refused(exc), st
            errors = sum(f.severity == "error" for f in p.findings)
            tail = f" It has {errors} error finding(s), so it cannot be approved as it is." if errors else ""
            return ok(f"Submitted as proposal #{p.id} for review (base v{p.base_version or 0}).{tail}"), dict(EMPTY)

        submit.click(on_submit, [state, note, who], [status, state], api_name="submit")


def mix_chart(summary: dict[str, Any] | None, kind: str) -> Any:
    # Plain data: a chart already on the page did not draw an update that also set its bar order.
    return render.mix_frame(summary, kind)


def mix_plot(title: str) -> gr.BarPlot:
    return gr.BarPlot(render.mix_frame(None, "carrier"), x="code", y="orders", color="when", title=title,
                      color_map={"before": "#94a3b8", "proposed": "#2563eb"}, colors_in_legend=["before", "proposed"],
                      x_label_angle=-45,
                      height=320, x_title="", y_title="orders", elem_classes="rw-chart")


def findings_table() -> gr.Dataframe:
    return gr.Dataframe(render.findings_frame([]), label="Findings (with hints)", wrap=True, interactive=False,
                        column_widths=["10%", "14%", "14%", "40%", "22%"])


def changes_table() -> gr.Dataframe:
    return gr.Dataframe(render.changes_frame(None), label="Changed orders (first 10)", wrap=True, interactive=False,
                        column_widths=["17%", "9%", "12%", "31%", "31%"])
