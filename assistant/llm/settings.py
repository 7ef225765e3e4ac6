"""Settings of the model side, read from the environment in one place and passed down.

| variable                        | meaning                                                   | default  |
|---------------------------------|-----------------------------------------------------------|----------|
| RULEWRIGHT_LLM_BASE_URL         | any OpenAI-compatible endpoint (OpenAI, Azure, Ollama,    | none:    |
|                                 | vLLM, llama.cpp server)                                   | model off|
| RULEWRIGHT_LLM_MODEL            | model (or Azure deployment) name at that endpoint         |          |
| RULEWRIGHT_LLM_API_KEY          | its key; falls back to OPENAI_API_KEY                     |          |
| RULEWRIGHT_LLM_MODE             | tools, json_schema, json, md_json, json_object_schema     | tools    |
| RULEWRIGHT_LLM_API_VERSION      | Azure only: the dated api-version of a deployment URL     |          |
| RULEWRIGHT_LLM_TIMEOUT          | seconds per model call                                    | 60       |
| RULEWRIGHT_LLM_REPAIRS          | repairs after validation findings (0 = no repair)         | 2        |
| RULEWRIGHT_LLM_HTTP_RETRIES     | retries of a failed HTTP call (connection, 429, 5xx)      | 1        |
| RULEWRIGHT_LLM_TEMPERATURE      | sampling temperature                                      | 0        |
| RULEWRIGHT_LLM_MAX_TOKENS       | completion token limit per call                           | 2048     |

The key is a ``SecretStr``: it prints as ``**********`` and only ``client.py`` unwraps it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.llm.errors import NotConfigured

LLMMode = Literal["tools", "json_schema", "json", "md_json", "json_object_schema"]
MODES: tuple[str, ...] = ("tools", "json_schema", "json", "md_json", "json_object_schema")

NOT_CONFIGURED = "no model configured: set RULEWRIGHT_LLM_BASE_URL, or use --offline"


class LLMSettings(BaseSettings):
    """Where the model is and how to ask it for structured replies."""

    model_config = SettingsConfigDict(env_prefix="RULEWRIGHT_LLM_", extra="ignore", populate_by_name=True)

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    model: str | None = Field(default=None, description="model name (Azure: deployment name)")
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("RULEWRIGHT_LLM_API_KEY", "OPENAI_API_KEY", "api_key"),
    )
    mode: LLMMode = "tools"
    api_version: str | None = Field(default=None, description="Azure api-version for deployment URLs")
    timeout: float = Field(default=60.0, gt=0)
    repairs: int = Field(default=2, ge=0, le=10)
    http_retries: int = Field(default=1, ge=0, le=10)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=64)

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.base_url.strip())

    def secrets(self) -> list[str]:
        """Values that must never appear in output, logs or errors."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return [key] if len(key) >= 4 else []

    def require(self) -> "LLMSettings":
        """Self when a model can be called; NotConfigured with the fix otherwise."""
        if not self.configured:
            raise NotConfigured(NOT_CONFIGURED)
        if not (self.model and self.model.strip()):
            raise NotConfigured("no model name: set RULEWRIGHT_LLM_MODEL to the model served at RULEWRIGHT_LLM_BASE_URL")
        return self


def load_llm_settings(**overrides: object) -> LLMSettings:
    """The settings from the environment; a bad value is a one-line NotConfigured naming the variable."""
    try:
        return LLMSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "RULEWRIGHT_LLM_" + str(first["loc"][0]).upper() if first["loc"] else "RULEWRIGHT_LLM_*"
        if name == "RULEWRIGHT_LLM_MODE":
            raise NotConfigured(f"{name}: must be one of {', '.join(MODES)}") from None
        # Never echo the input: it may be the key.
        raise NotConfigured(f"{name}: {first['msg']}") from None
