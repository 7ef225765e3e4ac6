"""Scoring by behaviour: each verdict from a hand-made draft, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from evals.cases import case_from
from evals.scoring import comparable, score_draft, words
from rules_core.models import Rule

HEAVY = {"clients": ["ACME"], "when": {"field": "order.weight", "op": "gt", "value": {"value": 20, "unit": "lb"}},
         "then": [{"action": "use_service", "service": "UPS_GROUND"}]}
HOLD = {"when": {"field": "order.value", "op": "gt", "value": {"amount": 2000, "currency": "USD"}},
        "then": [{"action": "hold", "reason": "credit check"}]}


def case(expect: Any, **extra: Any) -> Any:
    return case_from({"id": "t", "request": "r", "expect": expect, **extra}, "holds", "test")


def rule(body: dict[str, Any], rid: str = "drafted", **changes: Any) -> Rule:
    return Rule.model_validate({**body, **changes, "id": rid})


def with_when(body: dict[str, Any], **pred: Any) -> dict[str, Any]:
    return {**body, "when": {**body["when"], **pred}}


SCORES = [
    # (name, expectation, status, drafted rules, verdict)
    ("same rule, other id", {"rules": [HEAVY]}, "ok", [rule(HEAVY)], "correct"),
    ("same threshold in kg is not the same", {"rules": [HEAVY]}, "ok",
     [rule(with_when(HEAVY, value={"value": 9, "unit": "kg"}))], "wrong"),
    ("gte where gt was meant", {"rules": [HEAVY]}, "ok", [rule(with_when(HEAVY, op="gte"))], "wrong"),
    ("client scope missing", {"rules": [HEAVY]}, "ok", [rule({**HEAVY, "clients": []})], "wrong"),
    ("other service", {"rules": [HEAVY]}, "ok",
     [rule({**HEAVY, "then": [{"action": "use_service", "service": "FEDEX_GROUND"}]})], "wrong"),
    ("an extra rule", {"rules": [HEAVY]}, "ok", [rule(HEAVY), rule(HOLD, "extra")], "wrong"),
    ("a question where a rule was expected", {"rules": [HEAVY]}, "clarify", [], "refused"),
    ("a validation error where a rule was expected", {"rules": [HEAVY]}, "error", [rule(HEAVY)], "refused"),
    ("a rule where it must ask", "clarify", "ok", [rule(HEAVY)], "wrong"),
    ("asked where it must ask", "clarify", "clarify", [], "correct"),
    ("declined where it must refuse", "refuse", "error", [], "correct"),
    ("declined where declining is fine", {"rules": [HEAVY], "refusal_ok": True}, "error", [], "correct"),
    ("wrong rule where declining is fine", {"rules": [HEAVY], "refusal_ok": True}, "ok",
     [rule(HOLD)], "wrong"),
    ("hold reason in other words", {"rules": [HOLD]}, "ok",
     [rule(HOLD, then=[{"action": "hold", "reason": "A Credit-Check."}])], "correct"),
    ("hold reason that says something else", {"rules": [HOLD]}, "ok",
     [rule(HOLD, then=[{"action": "hold", "reason": "fraud review"}])], "wrong"),
    ("any reason where the request named none", {"rules": [HOLD], "hold_reason": "any"}, "ok",
     [rule(HOLD, then=[{"action": "hold", "reason": "orders over 2000 USD"}])], "correct"),
]


@pytest.mark.parametrize("name,expect,status,drafted,verdict", SCORES, ids=[s[0] for s in SCORES])
def test_verdicts(name: str, expect: Any, status: str, drafted: list[Rule], verdict: str, catalog: Any) -> None:
    assert score_draft(case(expect), status, drafted, catalog).verdict == verdict


def test_wrong_comes_with_a_counterexample_at_the_boundary(catalog: Any) -> None:
    score = score_draft(case({"rules": [HEAVY]}), "ok", [rule(with_when(HEAVY, op="gte"))], catalog)
    assert score.verdict == "wrong"
    ce = score.counterexample
    assert ce["order"]["client"] == "ACME" and ce["order"]["weight"] == {"value": 20.0, "unit": "lb"}
    assert set(ce["differences"]) >= {"shipments"}
    assert "decides order" in score.reason


def test_an_alternative_reading_counts_as_correct(catalog: Any) -> None:
    region = {"when": {"field": "dest.region", "op": "in", "value": ["HI", "AK"]},
              "then": [{"action": "use_service", "service": "USPS_PRIORITY"}]}
    both = {"when": {"all": [{"field": "dest.country", "op": "eq", "value": "US"}, region["when"]]},
            "then": region["then"]}
    with_alt = case({"rules": [region], "alternatives": [[both]]})
    without = case({"rules": [region]})
    assert score_draft(with_alt, "ok", [rule(both)], catalog).verdict == "correct"
    assert score_draft(without, "ok", [rule(both)], catalog).verdict == "wrong"


EXISTING = {"id": "acme-heavy", **HEAVY}


def test_an_edit_must_replace_the_rule_it_edits(catalog: Any) -> None:
    edited = with_when(EXISTING, value={"value": 25, "unit": "lb"})
    c = case({"rules": [edited]}, existing=[EXISTING])
    assert c.is_edit
    assert score_draft(c, "ok", [rule(edited, "acme-heavy")], catalog).verdict == "correct"
    # The same rule under a new id leaves the old one in force: 22 lb still goes UPS Ground.
    assert score_draft(c, "ok", [rule(edited, "acme-heavy-25")], catalog).verdict == "wrong"


def test_an_edit_that_disables_a_rule(catalog: Any) -> None:
    c = case({"rules": [{**EXISTING, "enabled": False}]}, existing=[EXISTING])
    assert score_draft(c, "ok", [rule({**EXISTING, "enabled": False}, "acme-heavy")], catalog).verdict == "correct"
    assert score_draft(c, "ok", [rule(EXISTING, "acme-heavy")], catalog).verdict == "wrong"


def test_substitutions_of_in_stock_skus_are_exercised(catalog: Any) -> None:
    """The extra orders take a line beyond network stock, so the chosen substitute shows."""
    sub = {"then": [{"action": "substitute", "sku": "ACME-HOODIE", "with": ["ACME-TSHIRT"]}]}
    other = {"then": [{"action": "substitute", "sku": "ACME-HOODIE", "with": ["ACME-SOCKS"]}]}
    assert score_draft(case({"rules": [sub]}), "ok", [rule(other)], catalog).verdict == "wrong"


def test_international_orders_are_exercised(catalog: Any) -> None:
    intl = {"when": {"field": "dest.country", "op": "not_in", "value": ["US", "CA"]},
            "then": [{"action": "use_service", "service": "DHL_EXPRESS_WORLDWIDE"}]}
    only_gb = {"when": {"field": "dest.country", "op": "eq", "value": "GB"}, "then": intl["then"]}
    assert score_draft(case({"rules": [intl]}), "ok", [rule(only_gb)], catalog).verdict == "wrong"


def test_uncompilable_drafts_are_wrong(catalog: Any) -> None:
    two_stages = rule(HOLD, then=[{"action": "hold", "reason": "x"}, {"action": "insure"}])
    score = score_draft(case({"rules": [HOLD]}), "ok", [two_stages], catalog)
    assert score.verdict == "wrong" and "do not compile" in score.reason


def test_words_and_tags_are_compared_loosely() -> None:
    assert words("For a Credit-check.") == words("for credit check")
    out = {"holds": [("Fraud review!", "")], "tags": ["VIP", "vip", "Bulk"]}
    assert comparable(out, False) == {"holds": [("fraud review", "")], "tags": ["bulk", "vip"]}
    assert comparable(out, True)["holds"] == [("", "")]
