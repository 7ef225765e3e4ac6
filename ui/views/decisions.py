"""The Decisions tab: paste an order (or pick a sample one) and see its decision under the
active rule set, with the "why" from the trace."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from rules_core.io import parse_orders
from rules_core.models import Decision, Order
from ui import render
from ui.views.context import AppContext, shown_as_error


def samples(ctx: AppContext) -> list[Order]:
    return ctx.sample_orders[:ctx.settings.sample_size]


def sample_label(o: Order) -> str:
    where = "-".join(x for x in (o.ship_to.country, o.ship_to.region) if x)
    skus = ", ".join(f"{line.qty}× {line.sku}" for line in o.lines[:2]) + ("…" if len(o.lines) > 2 else "")
    return f"{o.id} · {o.client} · {o.service_level} → {where} · {skus}"


def order_json(o: Order) -> str:
    return render.pretty(o.model_dump(mode="json", exclude_none=True))


def build(ctx: AppContext) -> None:
    with gr.Tab("Decisions", id="decisions"):
        choices = [(sample_label(o), o.id) for o in samples(ctx)]
        with gr.Row():
            pick = gr.Dropdown(choices, label="Sample order", value=None, elem_id="rw-sample", scale=4)
            load = gr.Button("Load sample", scale=0)
        order = gr.Code(language="json", label="Order JSON (paste one order)", lines=12, interactive=True,
                        elem_id="rw-order-json")
        decide = gr.Button("Decide", variant="primary", elem_id="rw-decide")
        with gr.Row():
            summary = gr.Markdown(elem_id="rw-decision")
            why = gr.Textbox(label="Why (from the trace)", lines=14, elem_id="rw-why")
        with gr.Accordion("Decision JSON", open=False):
            raw = gr.Code(language="json", lines=10)

        @shown_as_error
        def on_sample(order_id: str | None) -> str:
            found = next((o for o in samples(ctx) if o.id == order_id), None)
            if found is None:
                raise gr.Error(f"no sample order {order_id!r}: pick one from the list", print_exception=False)
            return order_json(found)

        load.click(on_sample, pick, order, api_name="sample_order")
        # api_name=False (no API endpoint) is valid at runtime; gradio annotates api_name as str | None
        pick.change(on_sample, pick, order, api_name=False)  # type: ignore[arg-type]

        @shown_as_error
        def on_decide(text: str) -> tuple[str, str, str]:
            from assistant.llm.narrative import why as explain_why

            orders = parse_orders(_json(text), "the order")
            answer = explain_why(orders[:1], ctx.catalog, rules=ctx.store.active_rules(),
                                 settings=ctx.llm if ctx.model_configured else None)[0]
            text_why = answer.explanation + (f"\n\n{answer.narrative}" if answer.narrative else "")
            return (render.decision_markdown(Decision.model_validate(answer.decision)), text_why,
                    render.pretty(answer.decision))

        decide.click(on_decide, order, [summary, why, raw], api_name="decide")


def _json(text: str) -> Any:
    from rules_core.errors import InputError

    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise InputError(f"the order is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
