"""Report files of an offline run: summary, cases, markdown table, SVG chart, history."""

from __future__ import annotations

import json
import xml.dom.minidom
from pathlib import Path
from typing import Any

import pytest

from evals.cases import load_dataset
from evals.harness import run_eval
from evals.report import Series, png_chart, svg_chart, write_report

SMALL = load_dataset().select(["clarify", "holds"], limit=12)


@pytest.fixture(scope="module")
def run(catalog: Any) -> Any:
    return run_eval(catalog, mode="offline", dataset=SMALL)


def test_offline_report_files(run: Any, tmp_path: Path) -> None:
    names = {p.name for p in write_report(run, tmp_path)}
    assert {"summary.json", "cases.json", "report.md", "accuracy_by_category.svg", "history.jsonl"} <= names
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["accuracy_reported"] and s["run"]["mode"] == "offline" and s["run"]["model"] is None
    assert s["totals"]["cases"] == 12 == sum(c["cases"] for c in s["by_category"].values())
    assert s["run"]["dataset"]["sha256"].startswith("sha256:")
    cases = json.loads((tmp_path / "cases.json").read_text())
    assert {c["verdict"] for c in cases} <= {"correct", "refused", "wrong"}
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# Drafting eval: offline parser")
    assert "| clarify |" in md and "| **all** | **12** |" in md and "## Drafting" in md
    xml.dom.minidom.parse(str(tmp_path / "accuracy_by_category.svg"))


def test_history_grows_and_an_offline_chart_shows_the_last_model_run(run: Any, tmp_path: Path) -> None:
    model_line = {"run": {"date": "2026-12-01T10:00:00Z", "used_model": True, "model": "qwen-1.5b"},
                  "totals": {}, "by_category": {"clarify": {"accuracy": 0.5}}, "drafting": {}}
    (tmp_path / "history.jsonl").write_text(json.dumps(model_line) + "\nnot json\n")
    write_report(run, tmp_path)
    write_report(run, tmp_path)
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(lines) == 4
    svg = (tmp_path / "accuracy_by_category.svg").read_text()
    assert "model qwen-1.5b (2026-12-01)" in svg and "offline parser" in svg
    assert "| model qwen-1.5b (2026-12-01) |" in (tmp_path / "report.md").read_text()


def test_svg_chart_escapes_labels_and_marks_missing_figures() -> None:
    svg = svg_chart([Series("a <b> & c", {"holds": 0.5}), Series("other", {"clarify": 1.0})])
    xml.dom.minidom.parseString(svg)
    assert "a &lt;b&gt; &amp; c" in svg and "n/a" in svg and "50%" in svg and "100%" in svg


def test_png_only_with_matplotlib(tmp_path: Path) -> None:
    path = png_chart([Series("x", {"holds": 0.5})], tmp_path / "c.png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert path is None and not (tmp_path / "c.png").exists()
    else:
        assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
