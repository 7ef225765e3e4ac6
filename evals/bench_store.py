"""Speed and concurrency of the rule store, printed as figures
(run: python -m evals.bench_store [--pg URL]; the PostgreSQL URL defaults to RULEWRIGHT_TEST_PG_URL).

Measures, on SQLite (a temporary file) and, when a URL is given, on PostgreSQL:
- approval latency with the real checks (validator + dry run on the 2,000 sample orders) and
  the store work (reads, merge, hash, commit), split into its parts, for (a) a first 1,000-rule set and (b) a 10-rule change
  on top of a 1,000-rule set (median of repeats);
- bundle export time of the active 1,000-rule version (median);
- concurrent approvals: N processes approve N proposals on the same base at the same moment,
  several rounds; the figure is how many approvals won per round (must be exactly 1).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from evals.rulegen import generate_rules
from rules_core.catalog import demo_catalog
from rules_core.models import Rule
from rules_core.samples import sample_orders
from rules_core.store import Store
from rules_core.store.checks import DryRun
from rules_core.store.db import normalise_url
from rules_core.store.roles import Roles


class TimedChecks(DryRun):
    """The real checks, timing each part."""

    def __init__(self) -> None:
        super().__init__(catalog=demo_catalog())
        self.times: dict[str, float] = {}

    def findings(self, changed: list[Rule], others: list[Rule]) -> Any:
        t = time.perf_counter()
        try:
            return super().findings(changed, others)
        finally:
            self.times["validate_s"] = time.perf_counter() - t

    def impact(self, current: list[Rule], proposed: list[Rule]) -> Any:
        t = time.perf_counter()
        try:
            return super().impact(current, proposed)
        finally:
            self.times["dry_run_s"] = time.perf_counter() - t


class NoChecks:
    def findings(self, changed: list[Rule], others: list[Rule]) -> list[Any]:
        return []

    def impact(self, current: list[Rule], proposed: list[Rule]) -> dict[str, Any]:
        return {}


@contextmanager
def fresh_database(kind: str, pg_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(pg_url or ""), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalise_url(pg_url or "")).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def valid_rules(n: int) -> list[Rule]:
    """``n`` generated rules without error findings (the generator's output is not all valid)."""
    from rules_core.findings import has_errors
    from rules_core.validator import validate

    catalog = demo_catalog()
    candidates = generate_rules(n * 2)
    bad = {int(f.path.split("/")[1]) for f in validate(candidates, catalog)
           if f.severity == "error" and f.path.split("/")[1:2] != [""] and f.path.split("/")[1].isdigit()}
    rules = [r for i, r in enumerate(candidates) if i not in bad][:n]
    if has_errors(validate(rules, catalog)):
        raise SystemExit("the generated rule set has set-level error findings; cannot benchmark approval")
    return rules


def _approval(store: Store, checks: TimedChecks, rules: list[Rule], full: bool) -> dict[str, float]:
    p = store.propose(rules, "bench-author", full=full)
    t = time.perf_counter()
    store.approve(p.id, "bench-reviewer")
    total = time.perf_counter() - t
    parts = dict(checks.times)
    # store_s: everything but the checks: reading the proposal and base, merging, hashing, the commit
    return {"total_s": total, **parts, "store_s": total - sum(parts.values())}


def _median_parts(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def bench_approval(kind: str, pg_url: str | None, repeats: int) -> dict[str, Any]:
    pool = valid_rules(1000 + 5 * repeats)
    rules, extra = pool[:1000], pool[1000:]
    first, change = [], []
    for i in range(repeats):
        with fresh_database(kind, pg_url) as url:
            checks = TimedChecks()
            store = Store.open(url, roles=Roles(), checker=checks)
            first.append(_approval(store, checks, rules, full=True))
            edited = [r.model_copy(update={"priority": r.priority + 1 + i}) for r in rules[:5]]
            new = [r.model_copy(update={"id": f"bench-new-{i}-{n}"}) for n, r in enumerate(extra[5 * i:5 * i + 5])]
            change.append(_approval(store, checks, edited + new, full=False))
            store.close()
    return {"rules": len(rules), "orders": len(sample_orders(demo_catalog())),
            "first_1000_rule_set": _median_parts(first), "change_10_rules_on_1000": _median_parts(change)}


def bench_export(kind: str, pg_url: str | None, repeats: int) -> dict[str, Any]:
    with fresh_database(kind, pg_url) as url, tempfile.TemporaryDirectory() as tmp:
        store = Store.open(url, roles=Roles(), checker=NoChecks())
        store.approve(store.propose(generate_rules(1000), "a").id, "b")
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            store.export_bundle(Path(tmp) / "ruleset.json")
            times.append(time.perf_counter() - t)
        size = (Path(tmp) / "ruleset.json").stat().st_size
        store.close()
    return {"rules": 1000, "bytes": size, "seconds": round(statistics.median(times), 3)}


def _approver(url: str, proposal: int, reviewer: str, barrier: Any, out: Any) -> None:
    store = Store.open(url, roles=Roles(), checker=NoChecks(), hooks={"approve:checked": lambda: barrier.wait(60)})
    try:
        store.approve(proposal, reviewer)
        out.put("approved")
    except Exception as exc:
        out.put(type(exc).__name__)
    finally:
        store.close()


def bench_concurrency(kind: str, pg_url: str | None, processes: int, rounds: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    outcomes: list[dict[str, int]] = []  # per round: outcome name -> processes
    with fresh_database(kind, pg_url) as url:
        store = Store.open(url, roles=Roles(), checker=NoChecks())
        for r in range(rounds):
            pids = [store.propose([Rule.model_validate({"id": f"r{r}-{i}", "then": [{"action": "insure"}]})],
                                  "author").id for i in range(processes)]
            barrier, out = ctx.Barrier(processes), ctx.Queue()
            procs = [ctx.Process(target=_approver, args=(url, pid, f"reviewer{i}", barrier, out))
                     for i, pid in enumerate(pids)]
            for p in procs:
                p.start()
            results = [out.get(timeout=120) for _ in procs]
            for p in procs:
                p.join()
            outcomes.append({k: results.count(k) for k in sorted(set(results))})
        audit_ok = store.verify_audit().ok
        versions = len(store.history())
        store.close()
    return {"processes": processes, "rounds": rounds,
            "approved_per_round": [o.get("approved", 0) for o in outcomes],
            "told_to_rebase_per_round": [o.get("Conflict", 0) for o in outcomes],
            "other_outcomes": [o for o in outcomes if set(o) - {"approved", "Conflict"}],
            "exactly_one_winner_every_round": all(o.get("approved") == 1 for o in outcomes),
            "versions": versions, "audit_ok": audit_ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg", default=os.environ.get("RULEWRIGHT_TEST_PG_URL"), help="PostgreSQL server URL")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sample_orders(demo_catalog())  # generate the sample orders once, outside the timings
    figures: dict[str, Any] = {}
    for kind in ["sqlite"] + (["postgresql"] if args.pg else []):
        figures[kind] = {
            "approval": bench_approval(kind, args.pg, args.repeats),
            "export_bundle": bench_export(kind, args.pg, args.repeats),
            "concurrent_approvals": bench_concurrency(kind, args.pg, args.processes, args.rounds),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
