"""The review app served on a free loopback port, with a temporary store and users config.

``served_app(tmp, auth=...)`` builds and launches it in a thread (Gradio's server) and yields
an ``AppUnderTest`` with its URL, store and passwords; the app is closed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import yaml

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
USERS = {"alice": ["author"], "bob": ["reviewer"], "carol": ["author", "reviewer"], "dana": ["admin"]}
PASSWORDS = {name: f"{name}-secret-pw" for name in USERS}


@dataclass
class AppUnderTest:
    url: str
    store: object
    catalog: object
    passwords: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_users(home: Path) -> None:
    from ui.app import hash_password

    home.mkdir(parents=True, exist_ok=True)
    hashes = {name: hash_password(pw, rounds=1_000) for name, pw in PASSWORDS.items()}
    (home / "users.yaml").write_text(yaml.safe_dump({"users": USERS, "default": [], "passwords": hashes}))


def served(home: Path, *, auth: bool, **overrides: object) -> Iterator[AppUnderTest]:
    from assistant.llm.settings import load_llm_settings
    from rules_core.catalog import demo_catalog
    from rules_core.settings import CoreSettings
    from rules_core.store import Store
    from ui.app import build_app, launch, load_passwords, password_check
    from ui.views.context import UISettings

    write_users(home)
    settings = CoreSettings(home=home, database_url=f"sqlite:///{home / 'store.sqlite'}", user="nobody")
    store = Store.open(settings=settings)
    catalog = demo_catalog()
    options: dict[str, object] = {"draft_mode": "auto", "llm": load_llm_settings(base_url=None, model=None)}
    ui_settings = UISettings(auth=auth, **{**options, **overrides})  # type: ignore[arg-type]
    app = build_app(store, catalog, ui_settings)
    check = password_check(load_passwords(home)) if auth else None
    url = launch(app, host="127.0.0.1", port=free_port(), auth=check, block=False, quiet=True)
    try:
        yield AppUnderTest(url=url, store=store, catalog=catalog, passwords=PASSWORDS)
    finally:
        app.close()
        store.close()


@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppUnderTest]:
    """Served without login: the acting user is the "Acting as" field (an API parameter)."""
    yield from served(tmp_path_factory.mktemp("ui-open") / "home", auth=False)


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[AppUnderTest]:
    """An app over an empty store, for one test."""
    yield from served(tmp_path / "home", auth=False)


@pytest.fixture
def model_app(tmp_path: Path) -> Iterator[AppUnderTest]:
    """An app whose model is a fake endpoint (httpx MockTransport) that drafts one GLOBEX rule."""
    import httpx

    from assistant.llm import fake
    from assistant.llm.settings import load_llm_settings

    rule = {"id": "globex-tv-fedex-ground", "name": "GLOBEX TVs by FedEx Ground", "clients": ["GLOBEX"],
            "when": {"any_line": {"field": "line.sku", "op": "eq", "value": "GLOBEX-TV-55"}},
            "then": [{"action": "use_service", "service": "FEDEX_GROUND"}]}
    body = fake.reply("tools", fake.draft_payload(rule), prompt_tokens=1234, completion_tokens=56)
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)))
    llm = load_llm_settings(base_url=fake.BASE_URL, model="fake-model", api_key="sk-test-key", mode="tools")
    yield from served(tmp_path / "home", auth=False, llm=llm, llm_http_client=client)


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppUnderTest]:
    """Served with login: the acting user is the login name."""
    yield from served(tmp_path_factory.mktemp("ui-auth") / "home", auth=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests skip without Chromium, unless RULEWRIGHT_REQUIRE_BROWSER=1 (CI), where they fail."""
    if CHROMIUM.exists() or os.environ.get("RULEWRIGHT_REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests "
                                   "(set RULEWRIGHT_REQUIRE_BROWSER=1 to make this a failure)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
