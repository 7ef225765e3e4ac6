"""Speed of the rules core, printed as figures (run: python -m evals.bench_engine).

Measures, in one run on one core:
- decide: orders/s with a 1,000-rule set over the three demo clients and 20,000 generated
  orders, tracing off and on (median of repeats);
- decide through the command line, JSON in and out, after start-up;
- simulate: a 50-rule change against 10,000 sample orders, cold (the first dry run of a fresh
  process: nothing compiled, no baseline, empty catalog caches) and warm (later drafts against
  the same active set);
- validate: a 1,000-rule set including rule-set findings.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from evals.rulegen import generate_rules, raw_rules
from rules_core.catalog import demo_catalog
from rules_core.engine import compile_rules, decide
from rules_core.models import rule_json
from rules_core.samples import generate_orders
from rules_core.simulate import simulate


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_decide(n_rules: int, n_orders: int, repeats: int) -> dict[str, float]:
    cat = demo_catalog()
    rules = generate_rules(n_rules)
    orders = generate_orders(n_orders, seed=21)
    t = time.perf_counter()
    crs = compile_rules(rules)
    compile_s = time.perf_counter() - t
    for o in orders[:2000]:  # warm the quote and zone caches as a long-running process would
        decide(o, crs, cat)
    gc.collect()
    gc.freeze()  # setup data (catalog, compiled rules, the orders) is long-lived

    def stream(trace: bool, batch: list) -> None:
        for o in batch:  # a runtime emits each decision and drops it
            decide(o, crs, cat, trace=trace)

    fast = _median(lambda: stream(False, orders), repeats)
    traced = _median(lambda: stream(True, orders[: n_orders // 4]), repeats)
    gc.unfreeze()
    return {"rules": n_rules, "orders": n_orders, "compile_s": round(compile_s, 3),
            "orders_per_s": round(n_orders / fast), "orders_per_s_traced": round((n_orders // 4) / traced)}


def bench_cli(n_orders: int) -> dict[str, float]:
    """The command line, JSON in and out, minus start-up (timed with 10 orders)."""
    cat = demo_catalog()
    orders = [o.model_dump(mode="json") for o in generate_orders(n_orders, seed=5, catalog=cat)]
    with tempfile.TemporaryDirectory() as tmp:
        rules_file = Path(tmp) / "rules.json"
        rules_file.write_text(json.dumps(raw_rules(1000)))
        big, small = Path(tmp) / "orders.json", Path(tmp) / "ten.json"
        big.write_text(json.dumps(orders))
        small.write_text(json.dumps(orders[:10]))
        env = {**os.environ, "RULEWRIGHT_HOME": tmp}

        def run(path: Path) -> float:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ui.cli", "decide", str(path), "--rules", str(rules_file), "--json"],
                           check=True, stdout=subprocess.DEVNULL, env=env)
            return time.perf_counter() - t

        startup = statistics.median(run(small) for _ in range(3))
        total = statistics.median(run(big) for _ in range(3))
    return {"orders": n_orders, "startup_s": round(startup, 3), "total_s": round(total, 3),
            "orders_per_s_after_startup": round(n_orders / max(total - startup, 1e-9))}


def _simulate_inputs(n_change: int, n_orders: int) -> tuple:
    return demo_catalog(), generate_rules(1000), generate_rules(n_change, seed=99), generate_orders(n_orders, seed=7)


def _cold_simulate_once(n_change: int, n_orders: int) -> float:
    """One dry run in this process, the first: nothing compiled, no baseline, empty catalog caches."""
    cat, current, proposed, orders = _simulate_inputs(n_change, n_orders)
    t = time.perf_counter()
    simulate(current, proposed, orders, cat)
    return time.perf_counter() - t


def bench_simulate(n_change: int, n_orders: int, repeats: int) -> dict[str, float]:
    # Cold: each run in a fresh process, so the figure is what a one-off dry run costs.
    colds = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-m", "evals.bench_engine", "--cold-simulate-once",
                              str(n_change), str(n_orders)], check=True, capture_output=True, text=True)
        colds.append(float(out.stdout))
    cat, current, proposed, orders = _simulate_inputs(n_change, n_orders)
    simulate(current, proposed, orders, cat)
    others = [generate_rules(n_change, seed=100 + i) for i in range(repeats)]
    times = []
    for change in others:  # later drafts against the same active set reuse its baseline
        t = time.perf_counter()
        simulate(current, change, orders, cat)
        times.append(time.perf_counter() - t)
    return {"change_rules": n_change, "orders": n_orders,
            "cold_seconds_median": round(statistics.median(colds), 3), "cold_seconds_max": round(max(colds), 3),
            "warm_seconds_median": round(statistics.median(times), 3)}


def bench_validate(n_rules: int, repeats: int) -> dict[str, float]:
    from rules_core.validator import validate

    cat = demo_catalog()
    raw = [rule_json(r) for r in generate_rules(n_rules)]
    seconds = _median(lambda: validate(raw, cat), repeats)
    return {"rules": n_rules, "seconds": round(seconds, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cold-simulate-once", nargs=2, type=int, metavar=("CHANGE", "ORDERS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_simulate_once:
        print(round(_cold_simulate_once(*args.cold_simulate_once), 4))
        return
    q = args.quick
    figures = {
        "decide": bench_decide(1000, 2000 if q else 20000, args.repeats),
        "decide_cli": bench_cli(1000 if q else 20000),
        "simulate": bench_simulate(50, 1000 if q else 10000, args.repeats),
        "validate": bench_validate(1000, args.repeats),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
