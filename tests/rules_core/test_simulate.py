"""Dry runs report what a change would do, order by order and in aggregate."""

from __future__ import annotations

from rules_core.models import Rule
from rules_core.samples import generate_orders
from rules_core.simulate import merge_rules, simulate

HOLD_BIG = Rule.model_validate({"id": "hold-big", "when": {"field": "order.value", "op": "gt",
                                "value": {"amount": 500, "currency": "USD"}}, "then": [{"action": "hold", "reason": "fraud"}]})
MUG = Rule.model_validate({"id": "mug", "then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]})
FEDEX = Rule.model_validate({"id": "fedex", "clients": ["ACME"], "then": [{"action": "use_service", "service": "FEDEX_GROUND"}]})


def test_no_change_changes_nothing(catalog):
    orders = generate_orders(200, seed=3)
    impact = simulate([HOLD_BIG], [], orders, catalog)
    assert impact.changed == 0 and impact.changes == [] and impact.cost_before == impact.cost_after


def test_new_hold_rule_counts_newly_held_orders_and_rule_matches(catalog):
    orders = generate_orders(500, seed=3)
    impact = simulate([], [HOLD_BIG], orders, catalog)
    expected = sum(1 for o in orders if sum(l.qty * l.unit_price for l in o.lines) > 500)
    assert impact.rule_orders["hold-big"] == expected > 0
    assert impact.added_rules == ["hold-big"]
    already_held = {c.order_id for c in impact.changes if c.before.held}
    assert impact.newly_held == expected - len(already_held & {c.order_id for c in impact.changes})
    assert all("holds" in c.changed for c in impact.changes)


def test_substitution_releases_orders_that_could_not_be_filled(catalog):
    orders = generate_orders(800, seed=4)
    impact = simulate([], [MUG], orders, catalog)
    # every released order was released by the substitution (some substituted orders stay held for other reasons)
    assert 0 < impact.released <= impact.rule_orders["mug"]
    assert all(c.after.substitutions for c in impact.changes if c.before.held and not c.after.held)
    assert "no_warehouse_can_fill" not in impact.new_exceptions


def test_carrier_change_moves_the_mix_and_the_cost(catalog):
    orders = generate_orders(600, seed=5)
    impact = simulate([], [FEDEX], orders, catalog)
    assert impact.carrier_mix.after.get("FEDEX", 0) > impact.carrier_mix.before.get("FEDEX", 0)
    assert impact.cost_after != impact.cost_before
    summary = impact.summary()
    assert summary["cost_delta"] == round(impact.cost_after - impact.cost_before, 2)
    assert all(c.client == "ACME" for c in impact.changes)


def test_edits_replace_rules_by_id_and_removals_are_reported(catalog):
    edited = HOLD_BIG.model_copy(update={"priority": 5})
    assert [r.priority for r in merge_rules([HOLD_BIG, MUG], [edited])] == [5, 100]
    impact = simulate([HOLD_BIG, MUG], [edited], generate_orders(50), catalog)
    assert impact.changed_rules == ["hold-big"] and impact.changed == 0
    full = simulate([HOLD_BIG, MUG], [MUG], generate_orders(50), catalog, full=True)
    assert full.removed_rules == ["hold-big"]


def test_change_list_is_capped_but_counts_are_not(catalog):
    orders = generate_orders(400, seed=6)
    impact = simulate([], [FEDEX], orders, catalog, max_changes=3)
    assert len(impact.changes) == 3 and impact.changed > 3 and impact.changes_truncated


def test_a_dry_run_remembers_its_proposed_set_as_the_next_baseline(catalog):
    from rules_core import simulate as sim

    orders = generate_orders(300, seed=8)
    first = simulate([], [HOLD_BIG], orders, catalog)
    calls = []
    real = sim.run_order
    sim.run_order = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        second = simulate([HOLD_BIG], [FEDEX], orders, catalog)
    finally:
        sim.run_order = real
    assert len(calls) == len(orders)  # only the proposed set was decided: the baseline was remembered
    assert second.changed > 0 and first.changed > 0
    fresh = simulate([HOLD_BIG], [FEDEX], generate_orders(300, seed=8), catalog)  # new order objects
    assert fresh.model_dump(exclude={"changes"}) == second.model_dump(exclude={"changes"})


def test_dry_runs_in_several_threads_agree_with_one_at_a_time(catalog):
    """The review app runs dry runs in threads; they share the compiled-set and baseline caches."""
    import threading

    orders = generate_orders(300, seed=11)
    changes = [[HOLD_BIG], [FEDEX], [HOLD_BIG, FEDEX]]
    alone = [simulate([], change, orders, catalog).to_json() for change in changes]
    results: dict[tuple[int, int], bool] = {}
    errors: list[str] = []

    def work(n: int) -> None:
        try:
            for k in range(4):
                results[(n, k)] = simulate([], changes[n % 3], orders, catalog).to_json() == alone[n % 3]
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 24 and all(results.values())
