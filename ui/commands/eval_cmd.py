"""``rulewright eval``: the drafting eval suite, scored by behaviour (see docs/evals.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from assistant.llm.settings import load_llm_settings
from ui.common import CATALOG_OPT, JSON_OPT, console, fail, friendly, get_catalog, print_json

if TYPE_CHECKING:
    from assistant.draft import DraftMode


@friendly
def eval_cmd(offline: bool = typer.Option(False, "--offline", help="only the offline parser; never a model"),
             llm: bool = typer.Option(False, "--llm", help="every case to the model (needs RULEWRIGHT_LLM_*)"),
             report: Optional[Path] = typer.Option(None, "--report", help="write summary, table and chart here"),
             category: list[str] = typer.Option([], "--category", help="only these categories (repeatable)"),
             case: list[str] = typer.Option([], "--case", help="only these case ids (repeatable)"),
             limit: Optional[int] = typer.Option(None, "--limit", min=1, help="at most this many cases"),
             price_prompt: Optional[float] = typer.Option(None, "--price-prompt", min=0,
                                                          help="USD per million prompt tokens (for the cost)"),
             price_completion: Optional[float] = typer.Option(None, "--price-completion", min=0,
                                                              help="USD per million completion tokens"),
             gate: bool = typer.Option(False, "--gate", help="exit 1 unless the run passes evals/thresholds.json"),
             as_json: bool = JSON_OPT, catalog: Optional[Path] = CATALOG_OPT) -> None:
    """Draft every eval case and score it by behaviour: correct, refused or wrong, by category."""
    from evals.cases import load_dataset
    from evals.gate import gate_failures
    from evals.harness import Prices, evaluate, summary
    from evals.report import write_report

    if offline and llm:
        fail("--offline and --llm exclude each other")
    if gate and (category or case or limit):
        fail("--gate judges the whole dataset: drop --category, --case and --limit")
    dataset = load_dataset().select(category, case, limit)
    if not dataset.cases:
        fail("no eval case matches --category/--case")
    mode: DraftMode = "offline" if offline else "llm" if llm else "auto"
    run, baseline = evaluate(get_catalog(catalog), mode=mode, settings=load_llm_settings(), dataset=dataset,
                             prices=Prices(price_prompt, price_completion), progress=None if as_json else _progress)
    if report:
        write_report(run, report, baseline)
    s = summary(run)
    if as_json:
        print_json(s)
    else:
        render(s, summary(baseline, with_cases=False) if baseline else None)
    if not run.accuracy_reported:
        fail(s["withheld"])
    problems = gate_failures(run) if gate else []
    if problems:
        fail("eval gate: " + " | ".join(problems))


def _progress(done: int, total: int, result: Any) -> None:
    if result.usage.get("model_calls") and (done % 10 == 0 or done == total):
        print(f"rulewright: eval {done}/{total}", file=sys.stderr)


def render(s: dict[str, Any], base: dict[str, Any] | None) -> None:
    from evals.report import accuracy_table, chart_series, drafting_table, run_label

    console.print(f"[bold]Drafting eval[/bold]: {run_label(s)}, {s['run']['dataset']['cases']} cases")
    if s["accuracy_reported"]:
        for line in accuracy_table(s, chart_series(s, base, [])):
            console.print(line, markup=False)
        wrong = [c for c in s["cases"] if c["verdict"] == "wrong"]
        for c in wrong:
            console.print(f"[red]wrong[/red] {c['id']}: {c['reason']}", markup=True)
        console.print("")
    for line in drafting_table(s["drafting"]):
        console.print(line, markup=False)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
