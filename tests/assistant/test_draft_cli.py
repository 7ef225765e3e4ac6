"""``rulewright draft`` and ``rulewright why`` end to end, with the model faked at the HTTP seam:
one line on stderr for every failure, never a traceback, never the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from assistant.llm import fake
from rules_core.catalog import demo_catalog
from rules_core.samples import sample_orders

FAKE_KEY = "sk-test-" + "cli0123456789FIXTURE"  # a marker, not a credential
HEAVY = {
    "id": "acme-heavy-ups-ground", "name": "ACME heavy orders by UPS Ground", "clients": ["ACME"],
    "when": {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
    "then": [{"action": "use_service", "service": "UPS_GROUND"}],
}


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import ui.common

    monkeypatch.setenv("RULEWRIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RULEWRIGHT_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for name in ("BASE_URL", "MODEL", "API_KEY", "MODE", "REPAIRS", "TIMEOUT", "API_VERSION"):
        monkeypatch.delenv(f"RULEWRIGHT_LLM_{name}", raising=False)
    ui.common.settings.cache_clear()
    yield tmp_path
    ui.common.settings.cache_clear()


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_BASE_URL", fake.BASE_URL)
    monkeypatch.setenv("RULEWRIGHT_LLM_MODEL", "fake-model")
    monkeypatch.setenv("RULEWRIGHT_LLM_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RULEWRIGHT_LLM_HTTP_RETRIES", "0")


@pytest.fixture
def endpoint() -> Any:
    with respx.mock(base_url=fake.BASE_URL, assert_all_called=False) as mock:
        yield mock.post("/chat/completions")


def cli(*args: str) -> Any:
    from ui.cli import app

    return CliRunner().invoke(app, list(args))


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_llm_without_a_model(model_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RULEWRIGHT_LLM_BASE_URL")
    result = cli("draft", "ACME heavy orders go UPS Ground", "--llm")
    assert one_line_error(result) == "rulewright: no model configured: set RULEWRIGHT_LLM_BASE_URL, or use --offline"


def test_offline_and_llm_exclude_each_other() -> None:
    assert "exclude each other" in one_line_error(cli("draft", "x", "--offline", "--llm"))


def test_unknown_client() -> None:
    assert "unknown client 'NOPE'" in one_line_error(cli("draft", "x", "--client", "NOPE"))


def test_bad_mode_is_one_line(model_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_MODE", "grammar")
    assert "RULEWRIGHT_LLM_MODE: must be one of" in one_line_error(cli("draft", "x", "--llm"))


def test_draft_json_with_the_model(model_env: None, endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.reply("tools", fake.draft_payload(HEAVY)))
    result = cli("draft", "ACME orders over 10 lb ship UPS Ground", "--llm", "--client", "ACME", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["source"] == "model"
    assert out["rules"][0]["id"] == "acme-heavy-ups-ground"
    assert out["english"].startswith("Rule acme-heavy-ups-ground")
    assert out["impact"]["added_rules"] == ["acme-heavy-ups-ground"]
    assert out["usage"]["model_calls"] == 1
    sent = json.loads(endpoint.calls[0].request.content)["messages"][1]["content"]
    assert 'Client scope, set by the user: ACME' in sent


def test_draft_human_output(model_env: None, endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.reply("tools", fake.draft_payload(HEAVY)))
    result = cli("draft", "ACME orders over 10 lb ship UPS Ground", "--llm")
    assert result.exit_code == 0, result.output
    assert "from the model" in result.stdout and "Dry run" in result.stdout and "1 call(s)" in result.stdout


def test_clarify_exits_zero(model_env: None, endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.reply("tools", fake.clarify_payload("Which client?")))
    result = cli("draft", "heavy orders go ground", "--llm", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["question"] == "Which client?"


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


@pytest.mark.parametrize("respond,expected", [
    (lambda r: httpx.Response(500, json={"error": {"message": "boom"}}), "the model endpoint failed (HTTP 500: boom)"),
    (lambda r: httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {FAKE_KEY}"}}),
     "refused the credentials (HTTP 401: Incorrect API key provided: [redacted])"),
    (_timeout, "did not answer within 60 s"),
    (lambda r: httpx.Response(200, json=fake.text_reply("{{{ not json")), "did not return a usable reply"),
], ids=["500", "401-echoing-the-key", "timeout", "garbage"])
def test_failures_are_one_line_without_the_key(model_env: None, endpoint: respx.Route, respond: Any,
                                               expected: str) -> None:
    endpoint.side_effect = respond
    for args in (("--llm",), ("--llm", "--json")):
        result = cli("draft", "ACME heavy orders go UPS Ground", *args)
        line = one_line_error(result)
        assert line.startswith("rulewright: ") and expected in line
        assert FAKE_KEY not in result.output + result.stderr
        if "--json" in args:
            out = json.loads(result.stdout)
            assert out["status"] == "error" and expected in out["error"] and out["rules"] == []


def test_retries_exhausted_show_the_last_findings(model_env: None, endpoint: respx.Route) -> None:
    typo = json.loads(json.dumps(HEAVY).replace("UPS_GROUND", "UPS_GRND"))
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.reply("tools", fake.draft_payload(typo)))
    result = cli("draft", "ACME heavy orders go UPS Ground", "--llm", "--json")
    assert "after 2 repairs" in one_line_error(result)
    out = json.loads(result.stdout)
    assert any(f["code"] == "unknown_service" and "UPS_GROUND" in (f["hint"] or "") for f in out["findings"])
    assert out["usage"]["model_calls"] == 3


# --- why and narratives ---------------------------------------------------------------------------


@pytest.fixture
def order_file(tmp_path: Path) -> Path:
    orders = sample_orders(demo_catalog(), n=2)
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([json.loads(o.model_dump_json()) for o in orders]))
    return path


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([HEAVY]))
    return path


def test_why_without_a_model_is_canonical(order_file: Path, rules_file: Path, endpoint: respx.Route) -> None:
    result = cli("why", str(order_file), "--rules", str(rules_file), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out) == 2 and all(a["explanation"].startswith("Order ") for a in out)
    assert all(a["narrative"] is None for a in out) and endpoint.call_count == 0


def test_why_json_is_streamed_as_one_valid_list(tmp_path: Path, order_file: Path, rules_file: Path) -> None:
    empty = tmp_path / "none.json"
    empty.write_text("[]")
    assert json.loads(cli("why", str(empty), "--rules", str(rules_file), "--json", "--offline").stdout) == []
    out = json.loads(cli("why", str(order_file), "--rules", str(rules_file), "--json", "--offline").stdout)
    assert [a["order_id"] for a in out] == [o["id"] for o in json.loads(order_file.read_text())]
    assert all("trace" in a["decision"] and a["explanation"].startswith("Order ") for a in out)


def test_why_with_a_model_adds_a_narrative(model_env: None, order_file: Path, rules_file: Path,
                                           endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.text_reply("It ships from Dallas by UPS Ground."))
    result = cli("why", str(order_file), "--rules", str(rules_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("It ships from Dallas by UPS Ground.") == 2
    body = json.loads(endpoint.calls[0].request.content)
    user = body["messages"][1]["content"]
    assert "<order>" in user and "<decision>" in user and "<explanation>\nOrder " in user
    assert "tools" not in body


def test_why_keeps_the_canonical_text_when_the_model_fails(model_env: None, order_file: Path, rules_file: Path,
                                                           endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(500, json={"error": {"message": "boom"}})
    result = cli("why", str(order_file), "--rules", str(rules_file))
    assert result.exit_code == 0 and result.stdout.count("Order ") >= 2
    assert "narrative unavailable: the model endpoint failed (HTTP 500: boom)" in result.stderr


def test_why_offline_never_calls_the_model(model_env: None, order_file: Path, rules_file: Path,
                                           endpoint: respx.Route) -> None:
    assert cli("why", str(order_file), "--rules", str(rules_file), "--offline").exit_code == 0
    assert endpoint.call_count == 0


def test_explain_narrative_uses_the_model(model_env: None, rules_file: Path, endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.text_reply("Heavy ACME parcels go by UPS Ground."))
    result = cli("explain", "--file", str(rules_file), "--narrative", "--json")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["english"].startswith("Rule acme-heavy-ups-ground")
    assert item["narrative"] == "Heavy ACME parcels go by UPS Ground."
    user = json.loads(endpoint.calls[0].request.content)["messages"][1]["content"]
    assert '<rule>\n{"id": "acme-heavy-ups-ground"' in user


def test_explain_narrative_without_a_model_is_one_line(rules_file: Path) -> None:
    line = one_line_error(cli("explain", "--file", str(rules_file), "--narrative"))
    assert line == "rulewright: no model configured: set RULEWRIGHT_LLM_BASE_URL, or use --offline"


# --- the default without a model ----------------------------------------------------------------------


def test_default_without_a_model_uses_the_parser_and_says_so(endpoint: respx.Route) -> None:
    result = cli("draft", "make shipping nicer for ACME")
    assert result.exit_code == 0, result.output
    assert "from the offline parser" in result.stdout
    assert "note: no model configured (RULEWRIGHT_LLM_BASE_URL)" in result.stderr
    assert endpoint.call_count == 0


def test_offline_json(model_env: None, endpoint: respx.Route) -> None:
    result = cli("draft", "Hold GLOBEX orders over $2,000 for fraud review", "--offline", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["status"], out["source"], out["usage"]["model_calls"]) == ("ok", "offline", 0)
    assert out["impact"]["orders"] > 0 and endpoint.call_count == 0
