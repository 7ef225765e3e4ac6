"""The command line under bad input: a non-zero exit, exactly one line on stderr that says what
and where, never a traceback, and a store left exactly as it was."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


def one_line_failure(res, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("rulewright: ")
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (["reject", "1", "--as", "bob"], "reject: Missing option '--reason'"),
    (["approve"], "approve: Missing argument"),
    (["audit", "log", "--limit", "abc"], "audit log: Invalid value for '--limit'"),
    (["export", "--catalog", "x", "--out", "y"], "export: No such option: --catalog"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
    (["review", "lst"], "review: No such command 'lst'"),
])
def test_usage_errors_are_one_line_not_a_usage_box(args, expected):
    line = one_line_failure(runner.invoke(app, args), code=2)
    assert expected in line and "--help" in line


def test_help_and_no_arguments_still_print_the_help():
    assert runner.invoke(app, ["--help"]).exit_code == 0
    res = runner.invoke(app, [])
    assert res.exit_code == 2 and "Commands" in res.stdout and not res.stderr.strip()


# --- the store is left exactly as it was ---------------------------------------------------

RULES = [{"id": "heavy", "clients": ["ACME"], "when": {"field": "order.weight", "op": "gt", "value": {"value": 2, "unit": "lb"}},
          "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]


def store_state() -> list[str]:
    return [runner.invoke(app, args).stdout for args in
            (["history", "--json"], ["review", "list", "--json"], ["audit", "verify", "--json"],
             ["audit", "log", "--limit", "1000", "--json"])]


@pytest.fixture
def approved(tmp_path):
    import json

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    assert runner.invoke(app, ["propose", str(rules), "--as", "alice"]).exit_code == 0
    assert runner.invoke(app, ["approve", "1", "--as", "bob"]).exit_code == 0
    return tmp_path


@pytest.mark.parametrize("fmt", ["bundle", "jdm"])
def test_export_over_a_folder_or_a_fifo_is_one_line_and_changes_nothing(approved, fmt):
    import os

    folder, fifo = approved / "out", approved / "fifo"
    folder.mkdir()
    os.mkfifo(fifo)
    before = store_state()
    for target, expected in ((folder, "is a folder"), (fifo, "is not a regular file"), ("", "is a folder")):
        line = one_line_failure(runner.invoke(app, ["export", "--format", fmt, "--out", str(target)]))
        assert expected in line
    assert folder.is_dir() and not os.path.isfile(fifo) and list(folder.iterdir()) == []
    assert store_state() == before


HUGE = "99999999999999999999999"


@pytest.mark.parametrize("args, expected", [
    (["approve", HUGE, "--as", "bob"], f"no proposal {HUGE}"),
    (["review", "show", HUGE], f"no proposal {HUGE}"),
    (["reject", HUGE, "--reason", "x", "--as", "bob"], f"no proposal {HUGE}"),
    (["rebase", HUGE, "--as", "alice"], f"no proposal {HUGE}"),
    (["submit", HUGE, "--as", "alice"], f"no proposal {HUGE}"),
    (["approve", "²", "--as", "bob"], "proposal ids are numbers"),
    (["rollback", HUGE, "--as", "alice"], f"no version {HUGE}"),
    (["rollback", "v²", "--as", "alice"], "no version"),
])
def test_huge_or_unicode_digit_ids_are_not_found_not_an_overflow(approved, args, expected):
    before = store_state()
    assert expected in one_line_failure(runner.invoke(app, args))
    assert store_state() == before


@pytest.mark.parametrize("user", ["  ", "bob ", " bob", "a\nb", "x" * 101, "bob\u200e"])
@pytest.mark.parametrize("command", [["approve", "2"], ["reject", "2", "--reason", "no"], ["rebase", "2"],
                                     ["submit", "2"], ["rollback", "1"], ["propose", "RULES"]])
def test_acting_user_with_spaces_or_control_characters_is_refused(approved, user, command):
    import json

    (approved / "more.json").write_text(json.dumps([{**RULES[0], "id": "heavy-2"}]))
    assert runner.invoke(app, ["propose", str(approved / "more.json"), "--as", "alice"]).exit_code == 0
    before = store_state()
    args = [str(approved / "more.json") if a == "RULES" else a for a in command]
    line = one_line_failure(runner.invoke(app, [*args, "--as", user]))
    assert "is not a valid user name" in line
    assert store_state() == before


# --- configuration ------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch):
    from ui import common

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        common.settings.cache_clear()

    yield set_env
    common.settings.cache_clear()


@pytest.mark.parametrize("url, expected", [
    ("postgresql+psycopg://x@[::1:1/db", "is not a database URL: 'postgresql+psycopg://x@[::1:1/db'"),
    ("postgresql+psycopg://x:s3cret@127.0.0.1:abc/db", "is not a database URL: 'postgresql+psycopg://x:***@127.0.0.1:abc/db'"),
    ("garbage", "is not a database URL: 'garbage'"),
    ("mysql://x@127.0.0.1:1/db", "unsupported store database 'mysql'"),
])
def test_malformed_database_url_is_one_line_without_the_password(env, url, expected):
    env(RULEWRIGHT_DATABASE_URL=url)
    for args in (["history"], ["db", "upgrade"], ["audit", "verify"]):
        line = one_line_failure(runner.invoke(app, args))
        assert expected in line and "s3cret" not in line


def test_home_that_is_a_file_is_one_line(env, tmp_path):
    home = tmp_path / "home.txt"
    home.write_text("not a folder")
    env(RULEWRIGHT_HOME=str(home))
    line = one_line_failure(runner.invoke(app, ["history"]))
    assert f"cannot create its folder {home} (it is a file, not a folder)" in line
    assert home.read_text() == "not a folder"


def test_empty_variables_mean_unset_not_the_current_folder(env, tmp_path, monkeypatch):
    from ui import common

    monkeypatch.chdir(tmp_path)
    env(RULEWRIGHT_HOME="", RULEWRIGHT_CATALOG="", RULEWRIGHT_USER="")
    s = common.settings()
    assert s.home.is_absolute() and s.catalog is None and s.user
    assert runner.invoke(app, ["catalog", "clients", "--json"]).exit_code == 0


# --- orders -------------------------------------------------------------------------------

BASE_ORDER = {"id": "A", "client": "ACME", "ship_to": {"country": "US"},
              "lines": [{"sku": "ACME-HOODIE", "qty": 1, "unit_price": 5}]}


@pytest.mark.parametrize("change, expected", [
    ({"weight": {"value": 5, "unit": "stone"}}, "order A at /weight: unit 'stone' is not a weight unit"),
    ({"weight": {"value": 5, "unit": "cm"}}, "order A at /weight: unit 'cm' is not a weight unit"),
    ({"weight": {"value": 1e308, "unit": "kg"}}, "order A at /weight: a weight must be a finite number"),
    ({"weight": {"value": -1, "unit": "kg"}}, "order A at /weight: a weight must be a finite number of at least 0"),
    ({"currency": "XYZ"}, "order A at /currency: unknown currency 'XYZ'"),
    ({"value": {"amount": 5, "currency": "XYZ"}}, "order A at /value: unknown currency 'XYZ'"),
    ({"lines": [{"sku": "ACME-HOODIE", "qty": 10, "unit_price": 1e308}]}, "order A at /lines: the lines' quantities"),
    ({"lines": [{"sku": "ACME-HOODIE", "qty": 10**400}]}, "order A at /lines/0/qty: Input should be less than"),
    ({"currency": "USD", "value": {"amount": 5, "currency": "EUR"}},
     "order A at /: value is in EUR but the order's currency is USD"),
])
@pytest.mark.parametrize("command", ["decide", "facts", "why", "simulate"])
def test_orders_with_bad_units_currencies_or_overflowing_numbers_are_one_line(tmp_path, change, expected, command):
    import json

    path = tmp_path / "o.json"
    path.write_text(json.dumps([{**BASE_ORDER, **change}]))
    args = ["simulate", "--orders", str(path)] if command == "simulate" else [command, str(path)]
    assert f"o.json: {expected}" in one_line_failure(runner.invoke(app, args))


def test_facts_json_is_always_valid_json(tmp_path):
    import json

    path = tmp_path / "o.json"
    path.write_text(json.dumps({**BASE_ORDER, "lines": [{"sku": "ACME-HOODIE", "qty": 3, "unit_price": 1e300}]}))
    res = runner.invoke(app, ["facts", str(path), "--origin", "DFW"])
    assert res.exit_code == 0
    json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"{c} in the facts"))


# --- rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, path", [
    ({"field": "order.value", "op": "gt", "value": {"amount": 1e35, "currency": "USD"}}, "/0/when/value/amount"),
    ({"field": "order.weight", "op": "gt", "value": {"value": 1e30, "unit": "lb"}}, "/0/when/value/value"),
])
def test_numbers_too_large_for_the_jdm_runtime_are_errors_so_an_approved_set_always_exports(tmp_path, value, path):
    """1e35 USD was approved, then `export --format jdm` failed with an internal error from zen."""
    import json

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"id": "huge", "when": value, "then": [{"action": "add_tag", "tag": "big"}]}]))
    res = runner.invoke(app, ["validate", str(rules), "--json"])
    assert res.exit_code == 1
    assert any(f["path"] == path and "too large" in f["message"] for f in json.loads(res.stdout)["findings"])
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps([{"id": "big", "when": {"field": "order.value", "op": "gt",
                                                     "value": {"amount": 1e12, "currency": "USD"}},
                               "then": [{"action": "add_tag", "tag": "big"}]}]))
    assert runner.invoke(app, ["propose", str(ok), "--as", "alice"]).exit_code == 0
    assert runner.invoke(app, ["approve", "1", "--as", "bob"]).exit_code == 0
    res = runner.invoke(app, ["export", "--format", "jdm", "--out", str(tmp_path / "g.json")])
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize("args, expected", [
    (["ui", "--port", "99999999"], "ui: Invalid value for '--port'"),
    (["ui", "--port", "-1"], "ui: Invalid value for '--port'"),
    (["audit", "log", "--limit", "0"], "audit log: Invalid value for '--limit'"),
    (["audit", "log", "--limit", "-5"], "audit log: Invalid value for '--limit'"),
])
def test_out_of_range_port_and_limit_are_usage_errors(args, expected):
    """--port 99999999 was an internal OverflowError from bind(); --limit 0 or -5 listed everything."""
    assert expected in one_line_failure(runner.invoke(app, args), code=2)


def test_json_files_with_a_byte_order_mark_are_read(tmp_path):
    """Files saved by Windows editors start with a UTF-8 BOM; they were 'malformed JSON' at 1:1."""
    import json

    orders = tmp_path / "o.json"
    orders.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE_ORDER).encode())
    rules = tmp_path / "r.json"
    rules.write_bytes(b"\xef\xbb\xbf" + json.dumps(RULES).encode())
    for args in (["decide", str(orders), "--rules", str(rules)], ["validate", str(rules)], ["facts", str(orders)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.stderr


def test_empty_and_non_utf8_files_are_one_line(tmp_path):
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "latin1.json").write_bytes(b'[{"id": "caf\xe9"}]')
    assert "empty.json:1:1: malformed JSON" in one_line_failure(runner.invoke(app, ["decide", str(tmp_path / "empty.json")]))
    assert "latin1.json: cannot read" in one_line_failure(runner.invoke(app, ["validate", str(tmp_path / "latin1.json")]))


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_regression_an_in_memory_store_url_is_refused_not_silently_forgotten(monkeypatch, url):
    from typer.testing import CliRunner

    from ui.cli import app

    monkeypatch.setenv("RULEWRIGHT_DATABASE_URL", url)
    from ui import common

    common.settings.cache_clear()
    res = CliRunner().invoke(app, ["history"])
    assert res.exit_code == 1
    assert "in-memory SQLite" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_an_order_value_alone_gives_the_order_its_currency():
    from rules_core.models import Order

    order = Order.model_validate({**BASE_ORDER, "value": {"amount": 5, "currency": "CAD"}})
    assert order.currency == "CAD"


def test_validate_json_with_errors_says_why_on_stderr(tmp_path):
    import json

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"id": "a", "name": "a", "then": [{"action": "use_service", "service": "UPS_GROUNDX"}]}]))
    res = runner.invoke(app, ["validate", str(path), "--json"])
    assert json.loads(res.stdout)["errors"] == 1
    assert "r.json: 1 error(s), the first at /0/then/0/service: unknown service" in one_line_failure(res)


def test_propose_with_a_repeated_rule_id_names_the_file_and_both_places(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("RULEWRIGHT_HOME", str(tmp_path))
    path = tmp_path / "dup.json"
    rule = {"id": "a", "name": "a", "then": [{"action": "hold", "reason": "x"}]}
    path.write_text(json.dumps([rule, {**rule, "name": "b"}]))
    res = runner.invoke(app, ["propose", str(path), "--as", "alice"])
    assert one_line_failure(res).endswith("dup.json: /1/id: rule id 'a' appears twice (also at /0/id)")


def test_draft_client_flag_is_matched_without_case():
    import json

    res = runner.invoke(app, ["draft", "Hold orders over $500 for review", "--client", "acme", "--offline", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rules"][0]["clients"] == ["ACME"]
    assert "unknown client 'acmee'" in one_line_failure(runner.invoke(app, ["draft", "x", "--client", "acmee"]))
