"""``rulewright eval`` end to end (offline): JSON, human table, report folder, one-line failures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


def test_json_by_category() -> None:
    result = runner.invoke(app, ["eval", "--offline", "--category", "clarify", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["run"]["mode"] == "offline" and out["accuracy_reported"]
    assert out["totals"]["cases"] == out["by_category"]["clarify"]["cases"] >= 10
    assert out["drafting"]["model_calls"] == 0


def test_human_table_and_report_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--offline", "--category", "holds", "--limit", "5",
                                 "--report", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.stderr
    assert "| category | cases | correct | refused | wrong | accuracy |" in result.stdout
    assert "| holds | 5 |" in result.stdout and "schema-valid rate" in result.stdout
    assert (tmp_path / "rep" / "summary.json").exists() and (tmp_path / "rep" / "accuracy_by_category.svg").exists()


def test_one_line_failures() -> None:
    cases = [
        (["eval", "--offline", "--llm"], "--offline and --llm exclude each other"),
        (["eval", "--llm"], "no model configured: set RULEWRIGHT_LLM_BASE_URL, or use --offline"),
        (["eval", "--offline", "--case", "no-such-case"], "no eval case matches"),
        (["eval", "--offline", "--gate", "--category", "holds"], "--gate judges the whole dataset"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
