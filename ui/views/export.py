"""The Export tab: the approved versions, and downloads of the active version as a bundle and
as a JDM graph for the runtime engine."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from rules_core.errors import NotFound
from ui import render
from ui.views.context import AppContext, shown_as_error


def build(ctx: AppContext) -> dict[str, Any]:
    with gr.Tab("Export", id="export") as tab:
        versions = gr.Dataframe(render.versions_frame([]), label="Versions (● active)", wrap=True, interactive=False,
                                elem_id="rw-versions")
        refresh = gr.Button("Refresh versions")
        with gr.Row():
            bundle_btn = gr.Button("Download bundle", variant="primary", elem_id="rw-export-bundle")
            jdm_btn = gr.Button("Download JDM graph", elem_id="rw-export-jdm")
        with gr.Row():
            bundle_file = gr.File(label="Bundle (rules, version, hash, approvals)", elem_id="rw-bundle-file")
            jdm_file = gr.File(label="JDM graph (GoRules zen-engine)", elem_id="rw-jdm-file")
        folder = Path(tempfile.mkdtemp(prefix="rulewright-export-"))

        def on_versions() -> Any:
            return render.versions_frame(ctx.store.history())

        refresh.click(on_versions, None, versions, api_name="versions")
        tab.select(on_versions, None, versions, api_name=False)

        @shown_as_error
        def on_bundle() -> str:
            bundle = ctx.store.bundle()
            path = folder / f"rulewright-bundle-v{bundle['version']}.json"
            from rules_core.export.bundle import write_json_atomic

            write_json_atomic(path, bundle)
            return str(path)

        @shown_as_error
        def on_jdm() -> str:
            from rules_core.export.bundle import write_json_atomic
            from rules_core.export.jdm import export_jdm

            version = ctx.store.active_version()
            if version is None:
                raise NotFound("nothing to export: no rule set has been approved yet")
            path = folder / f"rulewright-jdm-v{version.number}.json"
            write_json_atomic(path, export_jdm(ctx.store.version_rules(version.number), ctx.catalog))
            return str(path)

        bundle_btn.click(on_bundle, None, bundle_file, api_name="export_bundle")
        jdm_btn.click(on_jdm, None, jdm_file, api_name="export_jdm")
    return {"refresh": on_versions, "outputs": [versions]}
