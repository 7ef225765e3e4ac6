"""Reports of a drafting eval run, written to ``--report DIR``:

| file                         | what                                                               |
|------------------------------|--------------------------------------------------------------------|
| ``summary.json``             | the run (date, mode, model, endpoint host, commit, dataset hash),  |
|                              | totals and by-category counts, drafting cost figures               |
| ``cases.json``               | every case: request, status, verdict and reason, drafted rules     |
| ``report.md``                | a markdown table by category, plus the drafting figures           |
| ``accuracy_by_category.svg`` | accuracy by category, one bar per source (offline parser, model)   |
| ``accuracy_by_category.png`` | the same chart, only when matplotlib is installed                  |
| ``history.jsonl``            | one line per reported run, appended, so results compare over time  |

A model run's chart and table put the offline parser beside it (the CLI runs both); an
offline run adds the latest model run recorded in ``history.jsonl``, if there is one.
Nothing about accuracy is written for a run whose endpoint is a mock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from evals.cases import CATEGORIES
from evals.harness import EvalRun, summary

HISTORY = "history.jsonl"
COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")


@dataclass(frozen=True)
class Series:
    """One bar per category: a source's accuracy (None where it has no figure)."""

    label: str
    accuracy: dict[str, float | None]


def run_label(s: dict[str, Any]) -> str:
    run = s["run"]
    if run.get("used_model") or run.get("model"):
        return f"model {run.get('model') or '?'} ({run['date'][:10]})"
    return "offline parser"


def series_of(s: dict[str, Any]) -> Series:
    cats = s.get("by_category") or {}
    return Series(run_label(s), {c: cats[c]["accuracy"] for c in cats})


def history_entry(s: dict[str, Any]) -> dict[str, Any]:
    keep = ("date", "mode", "used_model", "model", "endpoint", "llm_mode", "commit", "dataset")
    return {"run": {k: s["run"].get(k) for k in keep}, "totals": s["totals"],
            "by_category": s["by_category"], "drafting": s["drafting"]}


def read_history(directory: Path) -> list[dict[str, Any]]:
    path = directory / HISTORY
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a hand-edited line must not stop a report
    return out


def latest_model_entry(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    models = [h for h in history if h["run"].get("used_model")]
    return models[-1] if models else None


# --- writing ---------------------------------------------------------------------------------------


def write_report(run: EvalRun, directory: Path | str, baseline: EvalRun | None = None) -> list[Path]:
    """Write every report file for ``run`` (and ``baseline`` beside it); the paths written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    full = summary(run)
    cases = full.pop("cases")
    base = summary(baseline, with_cases=False) if baseline is not None and baseline.accuracy_reported else None
    if base is not None:
        full["baseline"] = {"run": base["run"], "totals": base["totals"], "by_category": base["by_category"]}
    history = read_history(out)
    written = [_write_json(out / "summary.json", full), _write_json(out / "cases.json", cases)]
    series = chart_series(full, base, history)
    written.append(_write_text(out / "report.md", markdown(full, series)))
    if series:
        written.append(_write_text(out / "accuracy_by_category.svg", svg_chart(series)))
        png = png_chart(series, out / "accuracy_by_category.png")
        written += [png] if png else []
    if run.accuracy_reported:
        with (out / HISTORY).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(history_entry(full), sort_keys=True) + "\n")
        written.append(out / HISTORY)
    return written


def chart_series(s: dict[str, Any], base: dict[str, Any] | None, history: list[dict[str, Any]]) -> list[Series]:
    if not s["accuracy_reported"]:
        return []
    series = [series_of(s)]
    if base is not None:
        series.insert(0, series_of(base))
    elif not s["run"].get("used_model"):
        last = latest_model_entry(history)
        if last is not None:
            series.append(series_of(last))
    return series


def _write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- markdown --------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def markdown(s: dict[str, Any], series: list[Series]) -> str:
    run = s["run"]
    lines = [f"# Drafting eval: {run_label(s)}", "",
             f"- date: {run['date']}; mode: `{run['mode']}`; commit: {run.get('commit') or 'unknown'}",
             f"- model: {run.get('model') or 'none'}; endpoint: {run.get('endpoint') or 'none'}",
             f"- dataset: {run['dataset']['cases']} cases, {run['dataset']['sha256'][:19]}", ""]
    if s["accuracy_reported"]:
        lines += accuracy_table(s, series)
    else:
        lines += [f"**{s['withheld']}.**", ""]
    lines += drafting_table(s["drafting"])
    return "\n".join(lines) + "\n"


def accuracy_table(s: dict[str, Any], series: list[Series]) -> list[str]:
    others = [x for x in series if x.label != run_label(s)]
    head = "| category | cases | correct | refused | wrong | accuracy |" + "".join(f" {x.label} |" for x in others)
    rule = "|---|---:|---:|---:|---:|---:|" + "---:|" * len(others)
    rows = [head, rule]
    for cat, c in s["by_category"].items():
        extra = "".join(f" {_pct(x.accuracy.get(cat))} |" for x in others)
        rows.append(f"| {cat} | {c['cases']} | {c['correct']} | {c['refused']} | {c['wrong']} | "
                    f"{_pct(c['accuracy'])} |{extra}")
    t = s["totals"]
    rows.append(f"| **all** | **{t['cases']}** | **{t['correct']}** | **{t['refused']}** | **{t['wrong']}** | "
                f"**{_pct(t['accuracy'])}** |" + " |" * len(others))
    legend = ["", "`correct`: behaves like the intended rules (or asked/declined where it must); "
                  "`refused`: asked or declined where a rule was expected; "
                  "`wrong`: a rule that behaves differently, or a rule where it must ask.", ""]
    return rows + legend


def drafting_table(d: dict[str, Any]) -> list[str]:
    rows = [("drafts with rules", d["drafts"]), ("schema-valid rate", _pct(d["schema_valid_rate"])),
            ("first-try valid rate", _pct(d["first_try_valid_rate"])),
            ("repairs per draft", d["repairs_per_draft"]), ("answered by the model", d["answered_by_model"]),
            ("model calls (per case)", f"{d['model_calls']} ({d['model_calls_per_case']})"),
            ("tokens prompt + completion (per case)",
             f"{d['prompt_tokens']} + {d['completion_tokens']} ({d['tokens_per_case']})"),
            ("latency mean / p50 / p95 ms", f"{d['latency_ms_mean']} / {d['latency_ms_p50']} / {d['latency_ms_p95']}"),
            ("estimated cost per case (USD)", "not estimated (no prices given)" if d["cost_per_case_usd"] is None
             else f"{d['cost_per_case_usd']:.6f}"),
            ("crashes", d["crashes"])]
    return ["## Drafting", "", "| figure | value |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows]


# --- charts ----------------------------------------------------------------------------------------

BAR_H, GAP, LABEL_W, PLOT_W, TOP = 14, 10, 200, 420, 50


def svg_chart(series: list[Series]) -> str:
    """Horizontal grouped bars, accuracy by category; plain SVG, no dependencies."""
    cats = [c for c in CATEGORIES if any(c in s.accuracy for s in series)]
    group_h = BAR_H * len(series) + GAP
    height = TOP + group_h * len(cats) + 30
    width = LABEL_W + PLOT_W + 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             '<text x="10" y="18" font-size="14" font-weight="bold">Drafting accuracy by category</text>']
    for i, s in enumerate(series):
        x: float = 10 + i * 230
        parts.append(f'<rect x="{x}" y="28" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
                     f'<text x="{x + 14}" y="37">{escape(s.label)}</text>')
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_W + PLOT_W * tick / 100
        parts.append(f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{height - 24}" stroke="#ddd"/>'
                     f'<text x="{x}" y="{height - 10}" text-anchor="middle">{tick}%</text>')
    for row, cat in enumerate(cats):
        y0 = TOP + row * group_h
        parts.append(f'<text x="{LABEL_W - 6}" y="{y0 + group_h / 2}" text-anchor="end">{escape(cat)}</text>')
        for i, s in enumerate(series):
            parts.append(_bar(s.accuracy.get(cat), y0 + i * BAR_H, COLOURS[i % len(COLOURS)]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _bar(acc: float | None, y: float, colour: str) -> str:
    if acc is None:
        return f'<text x="{LABEL_W + 4}" y="{y + BAR_H - 3}" fill="#888">n/a</text>'
    w = PLOT_W * acc
    return (f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H - 2}" fill="{colour}"/>'
            f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 3}">{100 * acc:.0f}%</text>')


def png_chart(series: list[Series], path: Path) -> Path | None:
    """The same chart as PNG when matplotlib is installed (it is not a dependency)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    cats = [c for c in CATEGORIES if any(c in s.accuracy for s in series)]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(cats) * max(1, len(series)) + 1.5))
    h = 0.8 / len(series)
    for i, s in enumerate(series):
        ys = [r + i * h for r in range(len(cats))]
        ax.barh(ys, [100 * (s.accuracy.get(c) or 0) for c in cats], height=h, label=s.label,
                color=COLOURS[i % len(COLOURS)])
    ax.set_yticks([r + h * (len(series) - 1) / 2 for r in range(len(cats))], cats)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("accuracy (%)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
