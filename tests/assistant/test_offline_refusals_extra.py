"""Regressions: readings that would have been guesses now ask."""

import pytest

from assistant.offline import parse_request
from rules_core.catalog import demo_catalog

CATALOG = demo_catalog()


@pytest.mark.parametrize("text", [
    # a condition between two actions may belong to the second only
    "For Globex: insure anything over $500 and require a signature above $1,000",
    "hold orders over $2,000 for fraud review and tag them as bulk when they have more than 10 units",
    "for orders over $500 insure, and for orders over $1,000 require a signature",
    # a repeated action is garbled input, not a rule that holds everything
    " ".join(["hold"] * 40),
])
def test_regression_ambiguous_or_garbled_requests_ask(text):
    result = parse_request(text, CATALOG)
    assert result.status == "clarify" and not result.rules, result.english


@pytest.mark.parametrize("text", [
    "Insure and require a signature on orders over $500.",
    "Hold orders to PO boxes for address check and tag them as pobox",
    "For orders over $500, insure and require a signature",
])
def test_conditions_in_one_place_apply_to_every_action(text):
    result = parse_request(text, CATALOG)
    assert result.status == "ok", result.question or result.error
    whens = {str(r.when) for r in result.rules}
    assert len(whens) == 1 and len(result.rules[0].then) + len(result.rules) >= 2


def test_shared_trailing_condition_still_applies_to_both_actions():
    result = parse_request("Insure and require a signature on orders over $500.", CATALOG)
    assert result.status == "ok"
    assert {a.action for r in result.rules for a in r.then} == {"insure", "require_signature"}


@pytest.mark.parametrize("text, days", [
    ("Hold orders placed Mon-Fri for review", ["mon", "tue", "wed", "thu", "fri"]),
    ("Hold orders placed Monday through Friday for review", ["mon", "tue", "wed", "thu", "fri"]),
    ("Hold orders placed Monday to Wednesday for review", ["mon", "tue", "wed"]),
    ("Hold orders placed Fri-Mon for review", ["fri", "sat", "sun", "mon"]),
])
def test_regression_weekday_ranges_are_every_day_between_not_both_ends(text, days):
    # "Mon-Fri" used to read as "weekday is mon and weekday is fri", which no order meets.
    result = parse_request(text, CATALOG)
    assert result.status == "ok", result.question or result.error
    when = result.rules[0].when
    assert when.field == "order.weekday" and sorted(when.value) == sorted(days)
