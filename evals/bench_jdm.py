"""Speed of the JDM export and of zen-engine evaluating the exported graph.

    python -m evals.bench_jdm [--rules N] [--orders N]

Prints: export time for an N-rule set (default 1,000), the graph's size, zen's time per order
(evaluation only, the input prepared beforehand), the time to build the input (jdm_facts), and
rulewright's compiled engine on the same outcomes for comparison. It also checks that both
agree on the benchmark orders.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from rules_core.catalog import demo_catalog
from rules_core.engine import compile_rules
from rules_core.export import jdm
from rules_core.facts import order_facts
from rules_core.models import Rule
from rules_core.samples import generate_orders

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "export" / "fixtures" / "jdm_rules.json"


def _jitter(node: Any, rng: random.Random) -> Any:
    """The condition with its numeric thresholds moved a little, so rows differ."""
    if isinstance(node, dict):
        out = {k: _jitter(v, rng) for k, v in node.items()}
        if "unit" in out and isinstance(out.get("value"), (int, float)):
            out["value"] = round(out["value"] * rng.uniform(0.5, 1.5), 2)
        if "currency" in out and isinstance(out.get("amount"), (int, float)):
            out["amount"] = round(out["amount"] * rng.uniform(0.5, 1.5), 2)
        return out
    if isinstance(node, list):
        return [_jitter(v, rng) for v in node]
    return node


def rule_set(n: int, seed: int = 1) -> list[Rule]:
    """``n`` rules: the differential-test rule set cloned with moved thresholds, clients and priorities."""
    base = json.loads(FIXTURE.read_text())["rules"]
    rng = random.Random(seed)
    rules = []
    for i in range(n):
        raw = copy.deepcopy(base[i % len(base)])
        raw["id"] = f"{raw['id']}-{i}"
        raw["priority"] = rng.randint(1, 1000)
        raw["clients"] = rng.choice([[], ["ACME"], ["GLOBEX"], ["INITECH", "GLOBEX"]])
        raw["when"] = _jitter(raw.get("when"), rng) if "when" in raw else None
        rules.append(Rule.model_validate({k: v for k, v in raw.items() if v is not None}))
    return rules


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench(n_rules: int, n_orders: int) -> dict[str, Any]:
    catalog = demo_catalog()
    rules = rule_set(n_rules)
    jdm.zen_number.cache_clear()
    cold, _ = timed(lambda: jdm.export_jdm(rules, catalog), repeat=1)
    warm, graph = timed(lambda: jdm.export_jdm(rules, catalog))
    evaluate = jdm.jdm_evaluator(graph)
    orders = generate_orders(n_orders, seed=3, catalog=catalog)
    origins = [None, "EWR", "LAX", "DFW", "TOR"]
    facts_time, inputs = timed(lambda: [jdm.jdm_facts(o, catalog, origin=origins[i % 5])
                                        for i, o in enumerate(orders)], repeat=1)
    evaluate(inputs[0])  # first call loads the graph
    per_call = []
    for inp in inputs:
        t0 = time.perf_counter()
        evaluate(inp)
        per_call.append(time.perf_counter() - t0)
    crs = compile_rules(rules)
    facts = [order_facts(o, catalog, None) for o in orders]
    rw_time, ours = timed(lambda: [jdm.rulewright_outcomes(o, crs, catalog, facts=f, origin=origins[i % 5])
                                   for i, (o, f) in enumerate(zip(orders, facts))], repeat=1)
    theirs = [jdm.zen_outcomes(evaluate(inp), inp) for inp in inputs]
    rows = sum(len(n["content"]["rules"]) for n in graph["nodes"] if n["type"] == "decisionTableNode")
    return {
        "rules": n_rules, "orders": n_orders, "table_rows": rows,
        "graph_kb": round(len(json.dumps(graph)) / 1024, 1),
        "export_ms_cold": round(cold * 1000, 1), "export_ms_warm": round(warm * 1000, 1),
        "zen_us_per_order_median": round(statistics.median(per_call) * 1e6, 1),
        "zen_us_per_order_p95": round(sorted(per_call)[int(len(per_call) * 0.95)] * 1e6, 1),
        "jdm_facts_us_per_order": round(facts_time / n_orders * 1e6, 1),
        "rulewright_outcomes_us_per_order": round(rw_time / n_orders * 1e6, 1),
        "mismatches": sum(a != b for a, b in zip(ours, theirs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=2_000)
    args = parser.parse_args()
    for n in sorted({len(json.loads(FIXTURE.read_text())["rules"]), args.rules}):
        print(json.dumps(bench(n, args.orders)))


if __name__ == "__main__":
    main()
