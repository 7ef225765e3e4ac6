"""The validator, table-driven: each fixture case is a rule and the findings it must produce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rules_core.catalog import Catalog, load_catalog
from rules_core.findings import Finding
from rules_core.models import Rule
from rules_core import validator
from rules_core.validator import CODES, parse_rules, validate, validate_rule

FIXTURES = Path(__file__).parent / "fixtures" / "validator"
CASES = yaml.safe_load((FIXTURES / "rule_findings.yaml").read_text(encoding="utf-8"))
VALID = yaml.safe_load((FIXTURES / "valid_rules.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _matches(finding: Finding, want: dict[str, Any]) -> bool:
    return (finding.code, finding.severity, finding.path) == (want["code"], want["severity"], want["path"])


def _check_hint(finding: Finding, want: dict[str, Any]) -> None:
    if "hint_contains" in want:
        assert want["hint_contains"] in (finding.hint or ""), finding
    else:
        assert finding.hint == want["hint"], finding


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_case(case: dict[str, Any], catalog: Catalog) -> None:
    findings = validate(case["rules"] if "rules" in case else case["rule"], catalog)
    for want in case["expect"]:
        assert "hint" in want or "hint_contains" in want, "every expectation states its hint"
        hits = [f for f in findings if _matches(f, want)]
        assert hits, f"missing {want} in {[str(f) for f in findings]}"
        _check_hint(hits[0], want)
    expected = {(w["code"], w["path"]) for w in case["expect"]}
    strict = {"error", "warning"} if case.get("strict_warnings") else {"error"}
    unexpected = [str(f) for f in findings if f.severity in strict and (f.code, f.path) not in expected]
    assert not unexpected, unexpected


def test_every_code_is_exercised_by_a_test() -> None:
    covered = {w["code"] for case in CASES for w in case["expect"]}
    covered |= {"equal_priority", "shadowed", "validator_failure"}  # test_validator_ruleset.py, below
    assert set(CODES) == covered


def test_every_code_is_documented_in_the_module_table() -> None:
    doc = validator.__doc__ or ""
    assert all(f"`{code}`" in doc for code in CODES)


@pytest.mark.parametrize("rule", VALID, ids=[r["id"] for r in VALID])
def test_demo_like_rule_has_no_errors(rule: dict[str, Any], catalog: Catalog) -> None:
    errors = [str(f) for f in validate(rule, catalog) if f.severity == "error"]
    assert errors == []


def test_demo_like_rule_set_has_no_errors_and_no_conflicts(catalog: Catalog) -> None:
    findings = validate({"rules": VALID}, catalog)
    assert [str(f) for f in findings if f.severity == "error" or f.code in ("shadowed", "equal_priority")] == []


# --- paths ---------------------------------------------------------------------------------------


BAD_UNIT = {"id": "a", "when": {"all": [{"field": "order.hazmat", "op": "eq", "value": True},
                                         {"field": "order.weight", "op": "gt", "value": {"value": 1, "unit": "lbs"}}]},
            "then": [{"action": "insure"}]}


def test_paths_point_into_a_list(catalog: Catalog) -> None:
    paths = [f.path for f in validate([BAD_UNIT, BAD_UNIT | {"id": "b"}], catalog) if f.code == "unknown_unit"]
    assert paths == ["/0/when/all/1/value/unit", "/1/when/all/1/value/unit"]


def test_paths_point_into_a_rules_document(catalog: Catalog) -> None:
    paths = [f.path for f in validate({"rules": [BAD_UNIT]}, catalog) if f.code == "unknown_unit"]
    assert paths == ["/rules/0/when/all/1/value/unit"]


def test_validate_rule_prefixes_its_path(catalog: Catalog) -> None:
    paths = [f.path for f in validate_rule(BAD_UNIT, catalog, path="/7") if f.code == "unknown_unit"]
    assert paths == ["/7/when/all/1/value/unit"]


def test_rules_document_with_an_extra_key(catalog: Catalog) -> None:
    findings = validate({"rules": [], "version": 3}, catalog)
    assert [(f.code, f.path) for f in findings] == [("unknown_key", "/version")]


def test_document_of_the_wrong_type(catalog: Catalog) -> None:
    findings = validate("rules please", catalog)
    assert [(f.code, f.severity, f.path) for f in findings] == [("schema", "error", "")]


def test_rule_that_is_not_an_object(catalog: Catalog) -> None:
    findings = validate([{"id": "a", "then": [{"action": "insure"}]}, 7], catalog)
    assert [(f.code, f.path) for f in findings if f.severity == "error"] == [("schema", "/1")]


# --- Rule objects and parse_rules -------------------------------------------------------------------


def test_rule_objects_are_validated_like_json(catalog: Catalog) -> None:
    rule = Rule.model_validate(BAD_UNIT)  # the model accepts any unit text; the validator does not
    assert [f.code for f in validate([rule], catalog) if f.severity == "error"] == ["unknown_unit"]


def test_parse_rules_returns_the_rules_that_parse(catalog: Catalog) -> None:
    good = {"id": "good", "then": [{"action": "insure"}]}
    rules, findings = parse_rules([good, {"id": "bad"}, "x"])
    assert [r.id for r in rules] == ["good"]
    assert [(f.code, f.path) for f in findings] == [("missing_key", "/1/then"), ("schema", "/2")]


def test_parse_rules_accepts_a_single_rule() -> None:
    rules, findings = parse_rules({"id": "one", "then": [{"action": "insure"}]})
    assert [r.id for r in rules] == ["one"] and findings == []


# --- catalog-dependent findings -----------------------------------------------------------------------


def test_currency_mismatch_against_a_client_currency(catalog: Catalog) -> None:
    cad = load_catalog()
    cad.clients["GLOBEX"] = cad.clients["GLOBEX"].model_copy(update={"currency": "CAD"})
    rule = {"id": "a", "clients": ["GLOBEX"], "then": [{"action": "insure"}],
            "when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}}}
    found = [f for f in validate(rule, cad) if f.code == "currency_mismatch"]
    assert [(f.severity, f.path, f.hint) for f in found] == [("warning", "/when/value", "give the amount in CAD")]
    assert not [f for f in validate(rule, catalog) if f.code == "currency_mismatch"]


def test_validator_failure_is_a_finding_not_an_exception(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validator, "_check_when", broken)
    findings = validate([BAD_UNIT], catalog)
    assert [(f.code, f.severity, f.path, f.hint) for f in findings] == [
        ("validator_failure", "error", "/0", "please report this input as a bug")]


def test_domestic_only_service_cannot_cross_the_border() -> None:
    wider = load_catalog()
    svc = wider.services["UPS_2DAY"]
    wider.services["UPS_2DAY"] = svc.model_copy(update={"dest_countries": ["US", "CA"]})
    rule = {"id": "a", "when": {"field": "dest.country", "op": "eq", "value": "CA"},
            "then": [{"action": "use_service", "service": "UPS_2DAY"}]}
    found = [f for f in validate(rule, wider) if f.code == "action_impossible"]
    assert [(f.severity, f.path) for f in found] == [("error", "/then/0/service")]
    assert "domestic only" in found[0].message


def test_unconditional_substitution_does_not_match_everything(catalog: Catalog) -> None:
    rule = {"id": "a", "then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]}
    assert validate(rule, catalog) == []
