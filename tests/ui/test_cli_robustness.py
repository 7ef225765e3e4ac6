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
