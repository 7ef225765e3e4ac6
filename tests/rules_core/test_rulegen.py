"""The benchmark rule sets are valid rule books, so the figures measure real work."""

from evals.rulegen import generate_rules, raw_rules
from rules_core.validator import validate


def test_generated_rule_set_has_no_error_findings(catalog):
    findings = validate(raw_rules(300, seed=5), catalog)
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_generated_rules_spread_over_clients_and_stages():
    rules = generate_rules(200)
    assert {c for r in rules for c in r.clients} == {"ACME", "GLOBEX", "INITECH"}
    assert {r.stage for r in rules} >= {"hold", "routing", "carrier", "finishing"}
