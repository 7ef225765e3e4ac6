"""Round trips through each structured-output mode, faked at the HTTP seam.

Each test asserts on what was sent (the system prompt carries the catalog, the request sits
in its block, the mode's request shape, the re-ask carries the validator's findings) as
well as on what came back.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
import respx

from assistant.llm import fake
from assistant.llm.client import ChatModel
from assistant.llm.envelope import ClarifyReply, DraftReply, RefuseReply
from assistant.llm.settings import MODES, LLMSettings
from rules_core.catalog import demo_catalog

CATALOG = demo_catalog()
REQUEST = "ACME orders over 10 lb ship UPS Ground"
TYPO_RULE = {
    "id": "acme-heavy-ups-ground", "name": "ACME heavy orders by UPS Ground", "clients": ["ACME"],
    "when": {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
    "then": [{"action": "use_service", "service": "UPS_GRND"}],
}
FIXED_RULE = copy.deepcopy(TYPO_RULE)
FIXED_RULE["then"][0]["service"] = "UPS_GROUND"


def settings(mode: str, **kw: Any) -> LLMSettings:
    return LLMSettings(base_url=fake.BASE_URL, model="fake-model", mode=mode, http_retries=0, **kw)


def bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


def answer(route: respx.Route, mode: str, *payloads: dict[str, Any]) -> None:
    route.side_effect = [httpx.Response(200, json=fake.reply(mode, p)) for p in payloads]


@pytest.fixture
def endpoint() -> Any:
    with respx.mock(base_url=fake.BASE_URL, assert_all_called=False) as mock:
        yield mock.post("/chat/completions")


@pytest.mark.parametrize("mode", MODES)
def test_repair_round_trip(endpoint: respx.Route, mode: str) -> None:
    answer(endpoint, mode, fake.draft_payload(TYPO_RULE), fake.draft_payload(FIXED_RULE))
    out = ChatModel(settings(mode)).draft(REQUEST, CATALOG, client="ACME")

    # What came back: the repaired rule, its (warning-only) findings, usage over both calls.
    assert isinstance(out.reply, DraftReply)
    assert out.reply.rules[0].then[0].service == "UPS_GROUND"
    assert not any(f.severity == "error" for f in out.findings)
    assert (out.usage.model_calls, out.usage.repairs) == (2, 1)
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (2000, 160)

    # What was sent.
    first, second = bodies(endpoint)
    system = first["messages"][0]
    assert system["role"] == "system"
    for code in ("UPS_GROUND", "FEDEX_2DAY", "LAX", "ACME", "GLOBEX-BATTERY", "order.weight"):
        assert code in system["content"]
    user = next(m for m in first["messages"] if m["role"] == "user")
    assert f"<request>\n{REQUEST}\n</request>" in user["content"]
    assert first["model"] == "fake-model" and first["temperature"] == 0

    # The second request carries the validator's findings back to the model.
    sent_back = json.dumps(second["messages"][len(first["messages"]):])
    assert "unknown service `UPS_GRND`" in sent_back
    assert "did you mean `UPS_GROUND`" in sent_back
    assert "/0/then/0/service" in sent_back
    assert len(second["messages"]) > len(first["messages"])


def test_tools_mode_sends_one_forced_tool(endpoint: respx.Route) -> None:
    answer(endpoint, "tools", fake.draft_payload(FIXED_RULE))
    ChatModel(settings("tools")).draft(REQUEST, CATALOG)
    body = bodies(endpoint)[0]
    # The model's only tool is the reply envelope: nothing that saves, approves or exports.
    assert [t["function"]["name"] for t in body["tools"]] == ["AssistantReply"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "AssistantReply"}}
    assert "response_format" not in body
    params = body["tools"][0]["function"]["parameters"]
    assert "when" in params["$defs"]["ModelRule"]["required"]


def test_json_schema_mode_sends_response_format(endpoint: respx.Route) -> None:
    answer(endpoint, "json_schema", fake.draft_payload(FIXED_RULE))
    ChatModel(settings("json_schema")).draft(REQUEST, CATALOG)
    body = bodies(endpoint)[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "AssistantReply"
    assert "tools" not in body


def test_llama_cpp_mode_sends_json_object_with_schema(endpoint: respx.Route) -> None:
    answer(endpoint, "json_object_schema", fake.draft_payload(FIXED_RULE))
    ChatModel(settings("json_object_schema")).draft(REQUEST, CATALOG)
    body = bodies(endpoint)[0]
    assert set(body["response_format"]) == {"type", "schema"}
    assert body["response_format"]["type"] == "json_object"
    assert body["response_format"]["schema"]["$defs"]["Predicate"]["required"] == ["field", "op", "value"]
    # The grammar carries the schema, so the prompt does not: the context stays small.
    assert '"$defs"' not in body["messages"][0]["content"]
    assert "tools" not in body


def test_json_mode_puts_the_schema_in_the_prompt(endpoint: respx.Route) -> None:
    answer(endpoint, "json", fake.draft_payload(FIXED_RULE))
    ChatModel(settings("json")).draft(REQUEST, CATALOG)
    body = bodies(endpoint)[0]
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]["content"]
    # One compact copy of the schema, not instructor's indented one as well.
    assert system.count("REPLY JSON SCHEMA:") == 1 and '"title":"AssistantReply"' in system
    assert system.count('"$defs"') == 1


def test_md_json_mode_asks_for_a_fenced_block(endpoint: respx.Route) -> None:
    answer(endpoint, "md_json", fake.draft_payload(FIXED_RULE))
    out = ChatModel(settings("md_json")).draft(REQUEST, CATALOG)
    body = bodies(endpoint)[0]
    assert "response_format" not in body and "tools" not in body
    assert "```json" in body["messages"][-1]["content"]
    assert isinstance(out.reply, DraftReply)


@pytest.mark.parametrize("mode", MODES)
def test_clarify_envelope(endpoint: respx.Route, mode: str) -> None:
    answer(endpoint, mode, fake.clarify_payload("Which weight should count as heavy?"))
    out = ChatModel(settings(mode)).draft("ship heavy ACME orders cheaper", CATALOG)
    assert isinstance(out.reply, ClarifyReply)
    assert out.reply.question == "Which weight should count as heavy?"
    assert out.usage.model_calls == 1 and out.findings == []


@pytest.mark.parametrize("mode", MODES)
def test_refusal_envelope(endpoint: respx.Route, mode: str) -> None:
    answer(endpoint, mode, fake.refuse_payload("Rules cannot issue refunds."))
    out = ChatModel(settings(mode)).draft("refund every late order", CATALOG)
    assert isinstance(out.reply, RefuseReply) and out.reply.reason == "Rules cannot issue refunds."


def test_client_scope_is_applied_when_the_model_leaves_it_empty(endpoint: respx.Route) -> None:
    unscoped = {k: v for k, v in FIXED_RULE.items() if k != "clients"}
    answer(endpoint, "tools", fake.draft_payload(unscoped))
    out = ChatModel(settings("tools")).draft(REQUEST, CATALOG, client="ACME")
    assert out.reply.rules[0].clients == ["ACME"]  # type: ignore[union-attr]
    assert out.usage.model_calls == 1


def test_a_rule_for_another_client_is_sent_back(endpoint: respx.Route) -> None:
    other = {**FIXED_RULE, "clients": ["GLOBEX"]}
    answer(endpoint, "tools", fake.draft_payload(other), fake.draft_payload(FIXED_RULE))
    out = ChatModel(settings("tools")).draft(REQUEST, CATALOG, client="ACME")
    assert out.reply.rules[0].clients == ["ACME"]  # type: ignore[union-attr]
    assert "client_scope" in json.dumps(bodies(endpoint)[1]["messages"][-1])


def test_azure_deployment_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://example-resource.openai.azure.com"
    s = LLMSettings(base_url=base, model="rules-gpt", api_version="2024-10-21", api_key="azure-test-key",
                    http_retries=0)
    with respx.mock(base_url=base) as mock:
        route = mock.post("/openai/deployments/rules-gpt/chat/completions").mock(
            return_value=httpx.Response(200, json=fake.reply("tools", fake.draft_payload(FIXED_RULE))))
        ChatModel(s).draft(REQUEST, CATALOG)
    request = route.calls[0].request
    assert request.url.params["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "azure-test-key"


# What each mode really sends on the demo catalog (tokens estimated as characters / 4).
SENT_BUDGET = {"tools": 4700, "json_schema": 4700, "json_object_schema": 4700, "json": 4700, "md_json": 6600}


@pytest.mark.parametrize("mode", MODES)
def test_size_of_what_is_sent(endpoint: respx.Route, mode: str) -> None:
    from assistant.llm.prompt import estimate_tokens

    answer(endpoint, mode, fake.clarify_payload("Which client?"))
    ChatModel(settings(mode)).draft("Hold GLOBEX orders over $2,000 for fraud review", CATALOG, client="GLOBEX")
    body = bodies(endpoint)[0]
    text = "".join(m["content"] or "" for m in body["messages"])
    schema = json.dumps(body.get("tools") or body.get("response_format") or "", separators=(",", ":"))
    tokens = estimate_tokens(text) + estimate_tokens(schema)
    print(f"\n{mode}: ~{tokens} prompt tokens sent (messages {estimate_tokens(text)}, schema {estimate_tokens(schema)})")
    assert tokens <= SENT_BUDGET[mode]
