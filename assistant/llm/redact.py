"""Keeping the API key out of everything a person or a log can see."""

from __future__ import annotations

import logging
import re
from typing import Iterable

MASK = "[redacted]"
# Key-shaped tokens that an endpoint may echo even when they are not exactly our key.
_KEY_SHAPES = re.compile(r"(?i)\b(sk-[A-Za-z0-9_\-*.]{6,}|bearer\s+[A-Za-z0-9_\-.~+/=*]{6,})")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _KEY_SHAPES.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites log records of the HTTP and model libraries so no secret is ever logged."""

    def __init__(self) -> None:
        super().__init__("rulewright-redact")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error path
            return True
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()
_LIBRARIES = ("instructor", "openai", "httpx", "httpcore")
# Loggers that see request and error text; named here so the filter is in place even before
# the module that logs to them is imported (a filter sits on the logger a record starts at).
_KNOWN = ("instructor.v2", "instructor.v2.retry", "instructor.v2.core.retry", "openai._base_client",
          "httpcore.http11", "httpcore.connection")


def guard_logs(secrets: Iterable[str]) -> None:
    """Install the redacting filter on every logger of the libraries that see the key.

    The libraries also get a NullHandler, so that with no logging configured their error
    records are not printed on stderr by logging's last-resort handler: the command line
    prints one line per failure, nothing more.
    """
    _FILTER.secrets.update(s for s in secrets if s)
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in _LIBRARIES]
    for name in {*names, *_LIBRARIES, *_KNOWN}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for name in _LIBRARIES:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
