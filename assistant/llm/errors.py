"""Exceptions of the model side.

    RulewrightError (rules_core.errors)
     └── LLMError                   the model could not produce a usable answer; one-line message
          ├── NotConfigured         no endpoint or model configured, or a setting is malformed
          ├── EndpointError         the endpoint failed: timeout, connection, HTTP 4xx/5xx
          └── ReplyError            the replies were unusable: garbage, cut off, or still
                                    invalid after the allowed repairs (carries the last findings)

Every message is redacted before it is raised: no API key reaches output, logs or records.
"""

from __future__ import annotations

from typing import Any

from rules_core.errors import RulewrightError


class LLMError(RulewrightError):
    def __init__(self, message: str, *, findings: list[Any] | None = None, usage: Any = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])
        self.usage = usage


class NotConfigured(LLMError):
    pass


class EndpointError(LLMError):
    pass


class ReplyError(LLMError):
    pass
