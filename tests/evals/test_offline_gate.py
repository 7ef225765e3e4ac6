"""The CI gate: the offline parser over the whole eval dataset drafts no wrong rule, and at
least as many correct ones as evals/thresholds.json records (raise it as the parser improves).

Run the same gate by hand with ``rulewright eval --offline --gate``; see docs/evals.md.
"""

from __future__ import annotations

from typing import Any

from evals.gate import gate_failures, gate_note, load_thresholds
from evals.harness import run_eval


def test_offline_eval_gate(catalog: Any) -> None:
    run = run_eval(catalog, mode="offline")
    counts = run.counts()
    failures = gate_failures(run)
    assert not failures, f"offline eval {counts}: " + " | ".join(failures)
    note = gate_note(run)
    if note:
        print(note)


def test_thresholds_are_recorded() -> None:
    bar = load_thresholds()["offline"]
    assert bar["max_wrong"] == 0 and bar["min_correct"] >= 100
