"""The first two things a new user runs: `rulewright demo`, and the README's examples."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner
from zen import ZenEngine

from ui.cli import app

runner = CliRunner()
README = (Path(__file__).parents[2] / "README.md").read_text()


def test_demo_runs_the_whole_flow_and_leaves_working_exports(tmp_path, monkeypatch):
    monkeypatch.setenv("RULEWRIGHT_HOME", str(tmp_path))
    res = runner.invoke(app, ["demo", "--json", "--orders", "300"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert len(report["drafted"]) == 5 and report["ambiguous_request"]["status"] == "clarify"
    answered = report["answered_question"]
    assert "'3000' has no unit" in answered["question"] and answered["status"] == "ok"
    assert answered["completed"] == "Hold GLOBEX orders over 3000 dollars for fraud review."
    assert report["version"] == 1 and report["ruleset"].startswith("sha256:") and report["audit_ok"]
    bundle = json.loads(Path(report["bundle"]).read_text())
    assert sorted(r["id"] for r in bundle["rules"]) == sorted(report["drafted"])
    graph = json.loads(Path(report["jdm"]).read_text())
    engine = ZenEngine({"loader": {"type": "static", "content": {"rules": graph}}})
    assert engine is not None
    # A second run starts from a fresh demo store: same outcome, nothing piles up.
    again = json.loads(runner.invoke(app, ["demo", "--json", "--orders", "300"]).stdout)
    assert again["version"] == 1 and again["proposal"] == 1


def test_readme_gives_the_two_fresh_machine_commands():
    assert "rulewright demo" in README and ".ci/run" in README
    assert Path(__file__).parents[2].joinpath(".ci", "run").exists()


def _readme_examples() -> list[list[str]]:
    """The README's self-contained command examples (those needing no files or store)."""
    out = []
    code = "\n".join(re.findall(r"```bash\n(.*?)```", README, flags=re.S))
    for line in re.findall(r"^rulewright .*$", code, flags=re.M):
        for cmd in line.split(" ; "):
            cmd = cmd.split("  #")[0].strip().replace("\\$", "$")
            args = shlex.split(cmd)[1:]
            if args and args[0] in {"draft", "schema", "catalog"}:
                out.append(args)
    return out


@pytest.mark.parametrize("args", _readme_examples(), ids=lambda a: " ".join(a))
def test_readme_examples_run(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output


def test_readme_has_examples_to_run():
    assert len(_readme_examples()) >= 3
