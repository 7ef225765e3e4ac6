"""Harness details: auto mode asks the model only for what the parser leaves, crashes are
reported (and fail the gate) instead of stopping the run, and the gate's arithmetic."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from assistant.llm import fake
from assistant.llm.settings import LLMSettings
from evals import harness
from evals.cases import Dataset, case_from
from evals.gate import gate_failures, gate_note
from evals.harness import run_eval

HOLD = {"when": {"field": "order.value", "op": "gt", "value": {"amount": 2500, "currency": "USD"}},
        "then": [{"action": "hold", "reason": "fraud review"}]}
UNDERSTOOD = case_from({"id": "h-understood", "request": "Put orders above $2,500 on hold for fraud review",
                        "expect": {"rules": [HOLD]}}, "holds", "test")
VAGUE = case_from({"id": "h-vague", "request": "Hold the suspicious orders", "expect": "clarify"}, "clarify", "test")
BAR = {"offline": {"min_correct": 2, "max_wrong": 0, "max_crashes": 0}}


def test_auto_mode_asks_the_model_only_for_the_rest(catalog: Any) -> None:
    settings = LLMSettings(base_url=fake.BASE_URL, model="fake-model", http_retries=0)
    with respx.mock(base_url=fake.BASE_URL) as mock:
        route = mock.post("/chat/completions")
        route.side_effect = [httpx.Response(200, json=fake.reply("tools", fake.clarify_payload("Which ones?")))]
        run = run_eval(catalog, mode="auto", settings=settings, dataset=Dataset([UNDERSTOOD, VAGUE]))
    assert route.call_count == 1
    assert [r.source for r in run.results] == ["offline", "model"]
    assert run.used_model and not run.accuracy_reported


def test_auto_mode_without_a_model_is_reported(catalog: Any) -> None:
    run = run_eval(catalog, mode="auto", settings=LLMSettings(), dataset=Dataset([UNDERSTOOD, VAGUE]))
    assert run.accuracy_reported and run.counts() == {"cases": 2, "correct": 2, "refused": 0, "wrong": 0}
    assert gate_failures(run, BAR) == [] and gate_note(run, BAR) is None


def test_a_crash_is_reported_not_raised(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(harness, "draft", broken)
    run = run_eval(catalog, mode="offline", dataset=Dataset([UNDERSTOOD, VAGUE]))
    first = run.results[0]
    assert first.crashed and first.verdict == "refused" and "crashed: KeyError" in (first.error or "")
    assert run.results[1].verdict == "refused"  # never correct, even where the case must be declined
    failures = gate_failures(run, BAR)
    assert any("crashed on h-understood, h-vague" in f for f in failures)
    assert any("0 correct, below the recorded 2" in f for f in failures)


def test_the_gate_lists_wrong_cases_and_asks_to_raise_the_bar(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = case_from({"id": "h-wrong", "request": "Put orders above $2,500 on hold for fraud review",
                       "expect": "clarify"}, "clarify", "test")
    run = run_eval(catalog, mode="offline", dataset=Dataset([UNDERSTOOD, VAGUE, wrong]))
    failures = gate_failures(run, BAR)
    assert failures == ["1 wrong (at most 0 allowed): h-wrong (drafted a rule where the request must be "
                        "asked about or declined)"]
    assert gate_note(run, {"offline": {**BAR["offline"], "min_correct": 1}}) == (
        "2 correct beats the recorded 1: raise min_correct in evals/thresholds.json")
