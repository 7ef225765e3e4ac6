"""The offline parser on its request table: correct / refused / wrong counts and parse time.

    python -m evals.bench_parser [--table FILE] [--repeat N]

A case is *correct* when the drafted rules decide every order of the battery like the
intended rules (or when a refusal was intended and the parser refused), *refused* when the
parser asked or declined although a rule was intended, and *wrong* when it produced rules
that decide some order differently (or rules where a refusal was intended).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from assistant.offline import parse_request
from rules_core.catalog import Catalog, demo_catalog
from rules_core.equivalence import same_behaviour
from rules_core.models import Rule

TABLE = Path(__file__).resolve().parents[1] / "tests" / "assistant" / "fixtures" / "offline_requests.yaml"


@dataclass
class Score:
    correct: int = 0
    refused: int = 0
    wrong: int = 0
    wrong_cases: list[dict[str, Any]] = field(default_factory=list)
    refused_cases: list[str] = field(default_factory=list)


def load_table(path: Path = TABLE) -> tuple[date, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return date.fromisoformat(str(data["today"])), data["cases"]


def intended_rules(case: dict[str, Any], n: int) -> list[Rule]:
    out = []
    for i, raw in enumerate(case.get("rules") or []):
        body = {"id": f"intended-{n}-{i}", **raw}
        if case.get("client") and "clients" not in raw:
            body["clients"] = [case["client"]]
        out.append(Rule.model_validate(body))
    return out


def judge(case: dict[str, Any], n: int, catalog: Catalog, today: date) -> tuple[str, Any]:
    """('correct' | 'refused' | 'wrong', detail) for one table case."""
    result = parse_request(case["text"], catalog, client=case.get("client"), today=today)
    if case.get("refuse"):
        return ("correct", None) if result.status != "ok" else ("wrong", result.english)
    if result.status != "ok":
        return "refused", result.question or result.error
    ok, counter = same_behaviour(result.rules, intended_rules(case, n), catalog)
    return ("correct", None) if ok else ("wrong", {"english": result.english, "counterexample": counter})


def score_table(path: Path = TABLE, catalog: Catalog | None = None) -> Score:
    catalog = catalog or demo_catalog()
    today, cases = load_table(path)
    score = Score()
    for n, case in enumerate(cases):
        verdict, detail = judge(case, n, catalog, today)
        setattr(score, verdict, getattr(score, verdict) + 1)
        if verdict == "wrong":
            score.wrong_cases.append({"text": case["text"], "detail": detail})
        elif verdict == "refused":
            score.refused_cases.append(f"{case['text']} -> {detail}")
    return score


def parse_times(texts: list[str], catalog: Catalog, today: date, repeat: int) -> list[float]:
    for text in texts:  # warm the caches (vocabulary, grammar) once
        parse_request(text, catalog, today=today)
    times = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            parse_request(text, catalog, today=today)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-score", action="store_true", help="only time the parser")
    args = ap.parse_args(argv)
    catalog = demo_catalog()
    today, cases = load_table(args.table)
    times = sorted(parse_times([c["text"] for c in cases], catalog, today, args.repeat))
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"parse time over {len(cases)} requests x {args.repeat}: median {statistics.median(times):.2f} ms, "
          f"p95 {p95:.2f} ms, max {times[-1]:.2f} ms")
    if not args.no_score:
        score = score_table(args.table, catalog)
        print(f"correct {score.correct}, refused {score.refused}, wrong {score.wrong} (of {len(cases)})")
        for line in score.refused_cases:
            print(f"  refused: {line}")
        for case in score.wrong_cases:
            print(f"  WRONG: {case['text']}\n    {case['detail']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
