"""``rulewright ui``: when login is on, where passwords come from, and one-line failures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ui import app as review_app
from ui.cli import app as cli

runner = CliRunner()


@pytest.mark.parametrize("host, flag, expected", [
    ("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
    ("0.0.0.0", None, True), ("10.1.2.3", None, True), ("ops.example.com", None, True),
    ("127.0.0.1", True, True), ("0.0.0.0", False, False),
])
def test_login_is_on_unless_bound_to_loopback(host: str, flag: bool | None, expected: bool) -> None:
    assert review_app.wants_auth(host, flag) is expected


def test_password_hashes_check_and_do_not_leak_the_password() -> None:
    stored = review_app.hash_password("s3cret!", rounds=1_000)
    assert "s3cret" not in stored and stored.startswith("pbkdf2_sha256$1000$")
    assert review_app.check_password(stored, "s3cret!")
    assert not review_app.check_password(stored, "s3cret")
    assert not review_app.check_password("garbage", "s3cret!")


def captured_launch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_launch(app: Any, **kwargs: Any) -> str:
        seen.update(kwargs, app=app)
        return "http://test"

    monkeypatch.setattr(review_app, "launch", fake_launch)
    return seen


def test_public_address_without_passwords_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = captured_launch(monkeypatch)
    result = runner.invoke(cli, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "authentication needs users with passwords" in result.output
    assert "Traceback" not in result.output and not seen


def test_public_address_logs_in_with_users_yaml_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["RULEWRIGHT_HOME"])
    home.mkdir(parents=True)
    hashed = review_app.hash_password("pw-bob", rounds=1_000)
    (home / "users.yaml").write_text(f"users:\n  bob: [reviewer]\npasswords:\n  bob: '{hashed}'\n")
    seen = captured_launch(monkeypatch)
    result = runner.invoke(cli, ["ui", "--host", "0.0.0.0", "--port", "9999"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 9999)
    assert seen["auth"]("bob", "pw-bob") and not seen["auth"]("bob", "nope") and not seen["auth"]("eve", "pw-bob")


def test_loopback_runs_without_login_and_prefills_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEWRIGHT_USER", "alice")
    seen = captured_launch(monkeypatch)
    result = runner.invoke(cli, ["ui", "--port", "7999"])
    assert result.exit_code == 0, result.output
    assert seen["auth"] is None and seen["host"] == "127.0.0.1"


def test_no_auth_on_a_public_address_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    captured_launch(monkeypatch)
    result = runner.invoke(cli, ["ui", "--host", "0.0.0.0", "--no-auth"])
    assert result.exit_code == 0
    assert "without login" in result.output


def test_hash_password_prints_a_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw-carol")
    result = runner.invoke(cli, ["ui", "--hash-password"])
    assert result.exit_code == 0
    assert review_app.check_password(result.output.strip(), "pw-carol")


def test_bad_passwords_section_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["RULEWRIGHT_HOME"])
    home.mkdir(parents=True)
    (home / "users.yaml").write_text("users:\n  bob: [reviewer]\npasswords: [bob]\n")
    captured_launch(monkeypatch)
    result = runner.invoke(cli, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "`passwords:` must map each user" in result.output
