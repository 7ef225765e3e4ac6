"""The speed benchmark's dry-run figures: they must keep running (figures are printed by
``python -m evals.bench_engine``, never asserted)."""

from evals.bench_engine import bench_simulate


def test_bench_simulate_reports_cold_runs_from_fresh_processes_and_warm_runs():
    figures = bench_simulate(5, 200, 1)
    assert figures["change_rules"] == 5 and figures["orders"] == 200
    assert figures["cold_seconds_median"] > 0 and figures["cold_seconds_max"] >= figures["cold_seconds_median"]
    assert figures["warm_seconds_median"] > 0
