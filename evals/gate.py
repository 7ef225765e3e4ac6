"""The CI gate on the offline eval: no wrong rule, and at least the recorded number correct.

``evals/thresholds.json`` records the bar. Raise ``min_correct`` whenever the parser improves
(the gate's failure message prints the new count), so a regression cannot hide behind it;
``max_wrong`` stays 0: a wrong rule that looks right is the failure this product must not have.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.harness import EvalRun

THRESHOLDS = Path(__file__).with_name("thresholds.json")


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def gate_failures(run: EvalRun, thresholds: dict[str, Any] | None = None) -> list[str]:
    """Why ``run`` fails the gate (empty: it passes). Only offline runs are gated."""
    bar = (thresholds or load_thresholds())["offline"]
    counts = run.counts()
    out = []
    if not run.accuracy_reported:
        out.append(f"accuracy withheld ({run.mock})")
        return out
    if counts["wrong"] > bar["max_wrong"]:
        wrong = [f"{r.case.id} ({r.score.reason})" for r in run.results if r.verdict == "wrong"]
        out.append(f"{counts['wrong']} wrong (at most {bar['max_wrong']} allowed): " + "; ".join(wrong))
    if counts["correct"] < bar["min_correct"]:
        out.append(f"{counts['correct']} correct, below the recorded {bar['min_correct']} "
                   f"(evals/thresholds.json)")
    crashes = [r.case.id for r in run.results if r.crashed]
    if len(crashes) > bar.get("max_crashes", 0):
        out.append(f"the drafter crashed on {', '.join(crashes)}")
    return out


def gate_note(run: EvalRun, thresholds: dict[str, Any] | None = None) -> str | None:
    """A reminder to raise the bar when the run beats it."""
    bar = (thresholds or load_thresholds())["offline"]
    n = run.counts()["correct"]
    if n > bar["min_correct"]:
        return f"{n} correct beats the recorded {bar['min_correct']}: raise min_correct in evals/thresholds.json"
    return None
