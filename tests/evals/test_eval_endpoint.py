"""Mock detection: accuracy is never reported for answers that did not come from a real model."""

from __future__ import annotations

import socket
from typing import Any
from unittest import mock

import httpx
import pytest
import respx

from assistant.llm import fake
from evals.endpoint import endpoint_host, mock_reason

REAL_LOOKING = "https://models.example-corp.net/v1"


@pytest.fixture
def resolvable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host resolves (the tests have no DNS); unresolvable hosts are tested on their own."""
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [(socket.AF_INET, 0, 0, "", ("10.0.0.1", 0))])


@pytest.mark.parametrize("url", [fake.BASE_URL, "http://llm.example/v1", "https://example.com/v1",
                                 "http://api.invalid/v1", "http://LLM.TEST./v1"])
def test_reserved_test_hosts_are_mocks(url: str, resolvable: None) -> None:
    assert "reserved for testing" in (mock_reason(url) or "")


def test_a_host_that_does_not_resolve_is_a_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    def nowhere(host: str, *a: Any, **k: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    assert "does not resolve" in (mock_reason(REAL_LOOKING) or "")


def test_a_resolvable_host_without_interception_is_not_a_mock(resolvable: None) -> None:
    assert mock_reason(REAL_LOOKING) is None
    assert mock_reason("http://127.0.0.1:18080/v1") is None


def test_respx_routing_is_a_mock_while_it_runs(resolvable: None) -> None:
    with respx.mock(base_url=REAL_LOOKING, assert_all_called=False):
        assert "respx" in (mock_reason(REAL_LOOKING) or "")
    assert mock_reason(REAL_LOOKING) is None


def test_a_mock_transport_client_is_a_mock(resolvable: None) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    assert "MockTransport" in (mock_reason(REAL_LOOKING, client) or "")
    assert mock_reason(REAL_LOOKING, httpx.Client()) is None


def test_a_patched_transport_is_a_mock(resolvable: None) -> None:
    with mock.patch.object(httpx.HTTPTransport, "handle_request"):
        assert "replaced by a mock" in (mock_reason(REAL_LOOKING) or "")


def test_no_host_is_a_mock() -> None:
    assert mock_reason(None) == "the endpoint has no host"


def test_the_report_names_the_host_only() -> None:
    assert endpoint_host("https://user:secret@models.example-corp.net:8443/v1?key=abc") == "models.example-corp.net:8443"
    assert endpoint_host(None) is None
