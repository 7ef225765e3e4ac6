"""The model settings: read from the environment once, with one-line errors that name the variable."""

from __future__ import annotations

import pytest

from assistant.llm.errors import NotConfigured
from assistant.llm.settings import MODES, NOT_CONFIGURED, load_llm_settings

FAKE_KEY = "sk-" + "settingsfixture0000"  # not a key: a marker the tests look for


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASE_URL", "MODEL", "API_KEY", "MODE", "TIMEOUT", "REPAIRS", "HTTP_RETRIES", "API_VERSION"):
        monkeypatch.delenv(f"RULEWRIGHT_LLM_{name}", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_without_a_base_url_the_model_is_off() -> None:
    s = load_llm_settings()
    assert not s.configured
    with pytest.raises(NotConfigured) as err:
        s.require()
    assert str(err.value) == NOT_CONFIGURED == "no model configured: set RULEWRIGHT_LLM_BASE_URL, or use --offline"


def test_reads_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("RULEWRIGHT_LLM_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("RULEWRIGHT_LLM_MODE", "json_schema")
    monkeypatch.setenv("RULEWRIGHT_LLM_TIMEOUT", "12.5")
    monkeypatch.setenv("RULEWRIGHT_LLM_REPAIRS", "1")
    monkeypatch.setenv("RULEWRIGHT_LLM_HTTP_RETRIES", "0")
    s = load_llm_settings().require()
    assert (s.base_url, s.model, s.mode, s.timeout, s.repairs, s.http_retries) == (
        "http://localhost:11434/v1", "qwen2.5:7b", "json_schema", 12.5, 1, 0)


def test_defaults() -> None:
    s = load_llm_settings()
    assert (s.mode, s.repairs, s.timeout) == ("tools", 2, 60.0)


def test_key_falls_back_to_openai_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    assert load_llm_settings().secrets() == [FAKE_KEY]
    monkeypatch.setenv("RULEWRIGHT_LLM_API_KEY", FAKE_KEY + "x")
    assert load_llm_settings().secrets() == [FAKE_KEY + "x"]


def test_key_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_API_KEY", FAKE_KEY)
    s = load_llm_settings()
    assert FAKE_KEY not in repr(s) and FAKE_KEY not in str(s) and FAKE_KEY not in s.model_dump_json()


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_is_accepted(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_MODE", mode)
    assert load_llm_settings().mode == mode


def test_bad_mode_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_MODE", "grammar")
    with pytest.raises(NotConfigured, match=r"^RULEWRIGHT_LLM_MODE: must be one of tools, json_schema, json, "
                                            r"md_json, json_object_schema$"):
        load_llm_settings()


def test_bad_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_TIMEOUT", "soon")
    with pytest.raises(NotConfigured, match=r"^RULEWRIGHT_LLM_TIMEOUT: "):
        load_llm_settings()


def test_base_url_without_model_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_LLM_BASE_URL", "http://localhost:8080/v1")
    with pytest.raises(NotConfigured, match="RULEWRIGHT_LLM_MODEL"):
        load_llm_settings().require()


# --- redaction and the client the settings build ------------------------------------------------------


def test_redact_masks_the_key_and_key_shaped_tokens() -> None:
    from assistant.llm.redact import redact

    assert redact(f"bad key {FAKE_KEY}!", [FAKE_KEY]) == "bad key [redacted]!"
    assert redact("Authorization: Bearer abc.def-123456") == "Authorization: [redacted]"
    assert redact("key sk-proj-AbCdEf123456 rejected") == "key [redacted] rejected"
    assert redact("orders over 10 lb ship UPS_GROUND") == "orders over 10 lb ship UPS_GROUND"


def test_client_gets_timeout_retries_and_key() -> None:
    from assistant.llm.client import NO_KEY, make_openai
    from assistant.llm.settings import LLMSettings

    client = make_openai(LLMSettings(base_url="http://localhost:8080/v1", model="local", timeout=9, http_retries=3))
    assert (client.timeout, client.max_retries, client.api_key) == (9, 3, NO_KEY)
    assert str(client.base_url) == "http://localhost:8080/v1/"
    keyed = make_openai(LLMSettings(base_url="http://localhost:8080/v1", model="local", api_key=FAKE_KEY))
    assert keyed.api_key == FAKE_KEY
