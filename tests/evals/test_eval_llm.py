"""The model path of the harness, faked at the HTTP seam with respx: usage accounting, what is
sent, and the refusal to report accuracy for a mock (which only an explicit patch lifts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from assistant.llm import fake
from assistant.llm.settings import LLMSettings
from evals import harness
from evals.cases import Dataset, case_from
from evals.harness import evaluate, run_eval, summary
from evals.report import write_report

HEAVY = {"clients": ["ACME"], "when": {"field": "order.weight", "op": "gt", "value": {"value": 20, "unit": "lb"}},
         "then": [{"action": "use_service", "service": "UPS_GROUND"}]}
FEDEX = {**HEAVY, "then": [{"action": "use_service", "service": "FEDEX_GROUND"}]}
TYPO = {**HEAVY, "then": [{"action": "use_service", "service": "FEDEX_GRND"}]}
DATASET = Dataset([
    case_from({"id": "m-heavy", "request": "ACME parcels over 20 lb go UPS Ground", "client": "ACME",
               "expect": {"rules": [HEAVY]}}, "carrier", "test"),
    case_from({"id": "m-vague", "request": "Ship the big ones cheaper", "expect": "clarify"}, "clarify", "test"),
    case_from({"id": "m-fedex", "request": "ACME parcels over 20 lb go FedEx Ground",
               "expect": {"rules": [FEDEX]}}, "carrier", "test"),
])
MODEL_RULE = {"id": "acme-heavy", "name": "ACME heavy", **HEAVY}


def settings() -> LLMSettings:
    return LLMSettings(base_url=fake.BASE_URL, model="fake-model", mode="tools", http_retries=0)


def replies() -> list[httpx.Response]:
    """Right rule; a question; a typo the validator sends back, then a wrong (UPS) rule."""
    payloads = [fake.draft_payload(MODEL_RULE), fake.clarify_payload("Which orders are the big ones?"),
                fake.draft_payload({**TYPO, "id": "acme-fedex"}), fake.draft_payload({**MODEL_RULE, "id": "acme-fedex"})]
    return [httpx.Response(200, json=fake.reply("tools", p)) for p in payloads]


@pytest.fixture
def endpoint() -> Any:
    with respx.mock(base_url=fake.BASE_URL, assert_all_called=False) as mock:
        route = mock.post("/chat/completions")
        route.side_effect = replies()
        yield route


def test_a_mocked_model_run_withholds_accuracy(endpoint: respx.Route, catalog: Any) -> None:
    run = run_eval(catalog, mode="llm", settings=settings(), dataset=DATASET)

    assert run.mock and not run.accuracy_reported
    s = summary(run)
    assert s["accuracy_reported"] is False and "accuracy withheld" in s["withheld"]
    assert "totals" not in s and "by_category" not in s
    assert all("verdict" not in c and "reason" not in c for c in s["cases"])
    # The harness's plumbing still scored each case (kept in memory, never reported).
    assert [r.verdict for r in run.results] == ["correct", "correct", "wrong"]


def test_usage_is_accounted_per_case(endpoint: respx.Route, catalog: Any) -> None:
    run = run_eval(catalog, mode="llm", settings=settings(), dataset=DATASET, prices=harness.Prices(2.0, 8.0))
    d = summary(run)["drafting"]
    assert (d["model_calls"], d["prompt_tokens"], d["completion_tokens"]) == (4, 4000, 320)
    assert d["answered_by_model"] == 3 and d["drafts"] == 2
    assert d["schema_valid_rate"] == 1.0
    assert d["first_try_valid_rate"] == 0.5 and d["repairs_per_draft"] == 0.5
    assert d["cost_per_case_usd"] == pytest.approx((4000 * 2.0 + 320 * 8.0) / 1e6 / 3, abs=1e-6)
    assert d["latency_ms_mean"] > 0
    assert summary(run)["run"]["model"] == "fake-model" and summary(run)["run"]["endpoint"] == "llm.test"


def test_what_is_sent_is_the_case(endpoint: respx.Route, catalog: Any) -> None:
    run_eval(catalog, mode="llm", settings=settings(), dataset=DATASET)
    first = json.loads(endpoint.calls[0].request.content)
    user = next(m for m in first["messages"] if m["role"] == "user")
    assert "ACME parcels over 20 lb go UPS Ground" in user["content"]
    third, fourth = (json.loads(c.request.content) for c in endpoint.calls[2:4])
    assert "FEDEX_GRND" in json.dumps(fourth["messages"][len(third["messages"]):])  # the repair


def test_mock_reports_write_no_accuracy(endpoint: respx.Route, catalog: Any, tmp_path: Path) -> None:
    run = run_eval(catalog, mode="llm", settings=settings(), dataset=DATASET)
    written = {p.name for p in write_report(run, tmp_path)}
    assert written == {"summary.json", "cases.json", "report.md"}
    s = json.loads((tmp_path / "summary.json").read_text())
    assert "totals" not in s and not s["accuracy_reported"]
    assert "accuracy withheld" in (tmp_path / "report.md").read_text()
    assert all("verdict" not in c for c in json.loads((tmp_path / "cases.json").read_text()))


def test_a_real_endpoint_run_records_model_and_date(endpoint: respx.Route, catalog: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the detector is patched (as if the endpoint were real) to test what such a run writes."""
    monkeypatch.setattr(harness, "mock_reason", lambda *a, **k: None)
    run, baseline = evaluate(catalog, mode="llm", settings=settings(), dataset=DATASET)
    assert baseline is not None and baseline.mode == "offline"
    s = summary(run)
    assert s["accuracy_reported"] and s["totals"]["correct"] == 2 and s["totals"]["wrong"] == 1
    assert s["run"]["model"] == "fake-model" and s["run"]["date"].endswith("Z") and s["run"]["used_model"]
    write_report(run, tmp_path, baseline)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert history[-1]["run"]["model"] == "fake-model" and history[-1]["totals"]["wrong"] == 1
    svg = (tmp_path / "accuracy_by_category.svg").read_text()
    assert "offline parser" in svg and "model fake-model" in svg
    table = (tmp_path / "report.md").read_text()
    assert "| category | cases | correct | refused | wrong | accuracy | offline parser |" in table


def test_the_command_refuses_to_report_a_mock(endpoint: respx.Route, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.cli import app

    monkeypatch.setenv("RULEWRIGHT_LLM_BASE_URL", fake.BASE_URL)
    monkeypatch.setenv("RULEWRIGHT_LLM_MODEL", "fake-model")
    monkeypatch.setenv("RULEWRIGHT_LLM_HTTP_RETRIES", "0")
    endpoint.side_effect = replies()[:1]
    result = CliRunner().invoke(app, ["eval", "--llm", "--case", "carrier-acme-heavy-ups-ground", "--json"])
    assert result.exit_code == 1
    assert "accuracy withheld: the model endpoint is a mock" in result.stderr
    out = json.loads(result.stdout)
    assert out["accuracy_reported"] is False and out["drafting"]["model_calls"] == 1
