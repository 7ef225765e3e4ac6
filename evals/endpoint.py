"""Is the model endpoint real? Accuracy measured against a mock is not reported.

A drafting eval run against a mocked endpoint measures the mock, not a model, so the harness
withholds every accuracy figure (correct / refused / wrong counts, by category and per case)
when any of these holds, and says which one:

1. the HTTP client handed to the harness sends through ``httpx.MockTransport``;
2. respx is routing requests (a respx router is started, in a test or anywhere else);
3. httpx's or httpcore's transport method has been replaced by a ``unittest.mock`` object
   (how respx and similar libraries intercept requests);
4. the endpoint's host is a name reserved for testing and documentation (RFC 2606 / 6761:
   ``*.test``, ``*.example``, ``*.invalid``, ``example.com|net|org``): rulewright's own fake
   replies (``assistant.llm.fake.BASE_URL``) use ``llm.test``;
5. the endpoint's host does not resolve (no real server can have answered).

The checks run before the first case and again after the last. They cannot prove that a
resolvable server runs a model (a stub HTTP server on 127.0.0.1 passes), so every report
also records the endpoint host, the model name and the date for whoever compares results.
"""

from __future__ import annotations

import socket
import sys
from typing import Any
from unittest import mock
from urllib.parse import urlparse

RESERVED_SUFFIXES = (".test", ".example", ".invalid")
RESERVED_NAMES = ("test", "example", "invalid", "example.com", "example.net", "example.org")


def mock_reason(base_url: str | None, http_client: Any = None) -> str | None:
    """Why the endpoint at ``base_url`` is a mock, or None when nothing says so."""
    for check in (_mock_transport(http_client), _respx_active(), _patched_transport(),
                  _reserved_host(base_url), _unresolvable(base_url)):
        if check:
            return check
    return None


def endpoint_host(base_url: str | None) -> str | None:
    """The host (and port) of the endpoint, for the report; never the path or a key."""
    if not base_url:
        return None
    parsed = urlparse(base_url)
    return parsed.netloc.rsplit("@", 1)[-1] or None


def _host(base_url: str | None) -> str:
    return (urlparse(base_url or "").hostname or "").lower().rstrip(".")


def _mock_transport(http_client: Any) -> str | None:
    import httpx

    transport = getattr(http_client, "_transport", None)
    if isinstance(transport, httpx.MockTransport):
        return "the HTTP client sends through httpx.MockTransport"
    return None


def _respx_active() -> str | None:
    if "respx" not in sys.modules:
        return None
    from respx.mocks import Mocker

    if any(m.routers or getattr(m, "_patches", None) for m in Mocker.registry.values()):
        return "respx is intercepting HTTP requests"
    return None


def _patched_transport() -> str | None:
    import httpcore
    import httpx

    targets = [(httpx.HTTPTransport, "handle_request"),
               (httpcore.ConnectionPool, "handle_request")]
    for owner, name in targets:
        if isinstance(getattr(owner, name, None), mock.Base):
            return f"{owner.__module__}.{owner.__name__}.{name} is replaced by a mock"
    return None


def _reserved_host(base_url: str | None) -> str | None:
    host = _host(base_url)
    if host and (host in RESERVED_NAMES or host.endswith(RESERVED_SUFFIXES)):
        return f"the endpoint host {host!r} is reserved for testing (RFC 2606)"
    return None


def _unresolvable(base_url: str | None) -> str | None:
    host = _host(base_url)
    if not host:
        return "the endpoint has no host"
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return f"the endpoint host {host!r} does not resolve"
    return None
