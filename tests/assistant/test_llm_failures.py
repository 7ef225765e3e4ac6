"""When the model cannot give a usable answer: one clear, redacted line with the last findings.

Timeouts, HTTP errors, garbage replies and exhausted repairs all become an ``LLMError``;
the API key never appears in the message, the logs, or anything returned.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import respx

from assistant.llm import fake
from assistant.llm.client import ChatModel
from assistant.llm.errors import EndpointError, ReplyError
from assistant.llm.settings import LLMSettings
from rules_core.catalog import demo_catalog

CATALOG = demo_catalog()
FAKE_KEY = "sk-test-" + "0123456789abcdefFIXTURE"  # a marker, not a credential
BAD_RULE = {
    "id": "acme-heavy", "clients": ["ACME"],
    "when": {"field": "order.weight", "op": "gt", "value": {"value": 10, "unit": "lb"}},
    "then": [{"action": "use_service", "service": "UPS_GRND"}],
}


def settings(mode: str = "tools", **kw: Any) -> LLMSettings:
    base: dict[str, Any] = {"base_url": fake.BASE_URL, "model": "fake-model", "mode": mode, "http_retries": 0,
                            "api_key": FAKE_KEY}
    return LLMSettings(**{**base, **kw})


@pytest.fixture
def endpoint() -> Any:
    with respx.mock(base_url=fake.BASE_URL, assert_all_called=False) as mock:
        yield mock.post("/chat/completions")


def draft(s: LLMSettings | None = None) -> Any:
    return ChatModel(s or settings()).draft("ACME heavy orders go UPS ground", CATALOG)


@pytest.mark.parametrize("repairs", [0, 1, 2])
def test_repairs_run_out_with_the_last_findings(endpoint: respx.Route, repairs: int) -> None:
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.reply("tools", fake.draft_payload(BAD_RULE)))
    with pytest.raises(ReplyError) as err:
        draft(settings(repairs=repairs))
    assert endpoint.call_count == repairs + 1
    assert "still had 1 validation error after" in str(err.value)
    assert [f.code for f in err.value.findings if f.severity == "error"] == ["unknown_service"]
    assert err.value.usage.model_calls == repairs + 1


def test_default_is_two_repairs(endpoint: respx.Route) -> None:
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.reply("tools", fake.draft_payload(BAD_RULE)))
    with pytest.raises(ReplyError, match="after 2 repairs"):
        draft(LLMSettings(base_url=fake.BASE_URL, model="fake-model", http_retries=0))
    assert endpoint.call_count == 3


def test_timeout(endpoint: respx.Route) -> None:
    endpoint.side_effect = httpx.ReadTimeout("timed out")
    with pytest.raises(EndpointError, match=r"did not answer within 7 s \(raise RULEWRIGHT_LLM_TIMEOUT"):
        draft(settings(timeout=7))
    assert endpoint.call_count == 1


def test_connection_refused(endpoint: respx.Route) -> None:
    endpoint.side_effect = httpx.ConnectError("connection refused")
    with pytest.raises(EndpointError, match=r"cannot reach the model endpoint at http://llm.test/v1"):
        draft()


def test_http_retries_apply_to_server_errors(endpoint: respx.Route, monkeypatch: pytest.MonkeyPatch) -> None:
    import openai._base_client as base_client

    monkeypatch.setattr(base_client.SyncAPIClient, "_calculate_retry_timeout", lambda *a, **k: 0.0)
    endpoint.side_effect = [httpx.Response(503, json={"error": {"message": "loading model"}}),
                            httpx.Response(200, json=fake.reply("tools", fake.clarify_payload("Which client?")))]
    out = draft(settings(http_retries=1))
    assert out.reply.kind == "clarify" and endpoint.call_count == 2


def test_server_error(endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(500, json={"error": {"message": "CUDA out of memory"}})
    with pytest.raises(EndpointError, match=r"^the model endpoint failed \(HTTP 500: CUDA out of memory\)$"):
        draft()


def test_unauthorized_echoing_the_key_is_redacted(endpoint: respx.Route, caplog: pytest.LogCaptureFixture) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {FAKE_KEY}", "type": "invalid_request_error"}}
    endpoint.return_value = httpx.Response(401, json=echo)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(EndpointError) as err:
            draft()
    message = str(err.value)
    assert message.startswith("the model endpoint refused the credentials (HTTP 401")
    assert "check RULEWRIGHT_LLM_API_KEY" in message and "[redacted]" in message
    assert FAKE_KEY not in message and FAKE_KEY not in repr(err.value)
    assert "Incorrect API key provided: [redacted]" in caplog.text  # the libraries did log the echo...
    assert FAKE_KEY not in caplog.text  # ...without the key
    assert FAKE_KEY not in err.value.usage.model_dump_json()


def test_key_redacted_from_server_error_and_logs(endpoint: respx.Route, caplog: pytest.LogCaptureFixture) -> None:
    endpoint.return_value = httpx.Response(500, text=f"upstream said: Authorization: Bearer {FAKE_KEY}")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(EndpointError) as err:
            draft()
    assert FAKE_KEY not in str(err.value) and FAKE_KEY not in caplog.text


def test_key_is_sent_only_as_the_authorization_header(endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.reply("tools", fake.clarify_payload("Which client?")))
    draft()
    request = endpoint.calls[0].request
    assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert FAKE_KEY not in request.content.decode()


def test_not_found_names_the_model_setting(endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(404, json={"error": {"message": "model 'fake-model' not found"}})
    with pytest.raises(EndpointError, match="check RULEWRIGHT_LLM_MODEL"):
        draft()


def test_bad_request_suggests_another_mode(endpoint: respx.Route) -> None:
    # What the llama.cpp server says to a json_schema response_format.
    endpoint.return_value = httpx.Response(400, json={"error": {"message": "response_format type must be one of "
                                                                           "text, json_object"}})
    with pytest.raises(EndpointError, match=r"try RULEWRIGHT_LLM_MODE=json_object_schema"):
        draft(settings("json_schema"))


def test_rate_limited(endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(429, json={"error": {"message": "slow down"}})
    with pytest.raises(EndpointError, match="HTTP 429"):
        draft()


@pytest.mark.parametrize("mode,content", [
    ("json", "I think you want UPS Ground for heavy ACME orders."),
    ("json_schema", '{"reply": {"kind": "draft", "rules": [{"id": '),
    ("md_json", "no code block here"),
    ("json_object_schema", '{"reply": {"kind": "poem", "text": "roses"}}'),
])
def test_garbage_replies(endpoint: respx.Route, mode: str, content: str) -> None:
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.text_reply(content))
    with pytest.raises(ReplyError, match=r"did not return a usable reply in 3 attempts") as err:
        draft(settings(mode))
    assert endpoint.call_count == 3
    assert "\n" not in str(err.value)


def test_tools_mode_reply_without_a_tool_call(endpoint: respx.Route) -> None:
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.text_reply("Sure! Here you go."))
    with pytest.raises(ReplyError, match="usable reply"):
        draft(settings("tools", repairs=0))


def test_garbage_then_good_is_repaired(endpoint: respx.Route) -> None:
    endpoint.side_effect = [httpx.Response(200, json=fake.text_reply("not json")),
                            httpx.Response(200, json=fake.reply("json", fake.clarify_payload("Which client?")))]
    out = draft(settings("json"))
    assert out.reply.kind == "clarify" and out.usage.repairs == 1
    assert "Correct your JSON" in json.dumps(json.loads(endpoint.calls[1].request.content)["messages"][-1])


def test_cut_off_reply(endpoint: respx.Route) -> None:
    endpoint.return_value = httpx.Response(200, json=fake.completion(
        {"role": "assistant", "content": '{"reply": {"kind": "dr'}, finish_reason="length"))
    with pytest.raises(ReplyError, match="cut off at 256 tokens"):
        draft(settings("json", max_tokens=256))


def test_provider_refusal(endpoint: respx.Route) -> None:
    endpoint.side_effect = lambda request: httpx.Response(200, json=fake.completion(
        {"role": "assistant", "content": None, "refusal": "I can't help with that."}))
    with pytest.raises(ReplyError, match=r"^the model refused: I can't help with that\.$"):
        draft(settings("json_schema", repairs=0))


def test_auto_draft_falls_back_to_the_parsers_answer_when_the_endpoint_is_down(endpoint: respx.Route) -> None:
    from assistant.draft import draft as make_draft

    endpoint.side_effect = httpx.ConnectError("connection refused")
    result = make_draft("Ship the heavy ones with the cheap carrier", CATALOG, mode="auto", settings=settings(),
                        current_rules=[])
    assert result.status == "clarify" and result.source == "offline" and not result.rules
    assert "could not be reached" in (result.usage.note or "") and FAKE_KEY not in (result.usage.note or "")
    assert endpoint.call_count == 1


def test_llm_mode_still_reports_the_endpoint_error(endpoint: respx.Route) -> None:
    from assistant.draft import draft as make_draft

    endpoint.side_effect = httpx.ConnectError("connection refused")
    result = make_draft("Ship the heavy ones with the cheap carrier", CATALOG, mode="llm", settings=settings(),
                        current_rules=[])
    assert result.status == "error" and "cannot reach the model endpoint" in (result.error or "")
