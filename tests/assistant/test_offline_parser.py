"""The offline parser on the request tables: behaviour of drafted rules, and refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from assistant.offline import ParseResult, parse_request
from evals.bench_parser import intended_rules, judge, load_table
from rules_core.catalog import demo_catalog
from rules_core.equivalence import same_behaviour
from rules_core.explain import explain_rules

FIXTURES = Path(__file__).parent / "fixtures"
TODAY, CASES = load_table(FIXTURES / "offline_requests.yaml")
REFUSALS = yaml.safe_load((FIXTURES / "offline_refusals.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def catalog():
    return demo_catalog()


def test_the_table_is_big_enough():
    assert len(CASES) >= 150
    assert len(REFUSALS) >= 30


@pytest.mark.parametrize("n", range(len(CASES)), ids=[c["text"][:60] for c in CASES])
def test_request_is_never_drafted_wrong(n, catalog):
    verdict, detail = judge(CASES[n], n, catalog, TODAY)
    assert verdict != "wrong", detail


def test_most_requests_are_understood(catalog):
    verdicts = [judge(c, n, catalog, TODAY)[0] for n, c in enumerate(CASES)]
    assert verdicts.count("wrong") == 0
    assert verdicts.count("correct") >= 180


@pytest.mark.parametrize("case", REFUSALS, ids=[c["text"][:60] or "(empty)" for c in REFUSALS])
def test_request_is_refused(case, catalog):
    result = parse_request(case["text"], catalog, client=case.get("client"), today=date(2026, 11, 4))
    assert result.status != "ok", result.english
    assert not result.complete
    if case["expect"] != "refuse":
        assert result.status == case["expect"], result.question or result.error
    assert (result.question or result.error or "").strip()


def test_unknown_name_suggests_the_nearest_catalog_names(catalog):
    result = parse_request("Substitute ACME-MUG-GREEN for ACME-MUG-BLUE", catalog)
    assert result.status == "error"
    assert any("ACME-MUG-RED" in s for s in result.suggestions)


@pytest.mark.parametrize("text, expected, not_expected", [
    # the word before the name says what kind of name it is
    ("Ship ACME orders to Canada with Canpar", "Purolator (PUROLATOR)", "apparel"),
    ("Ship GLOBEX orders from Chicago", "Dallas DC (DFW)", "Ohio"),
])
def test_unknown_name_suggestions_follow_the_word_before_it(catalog, text, expected, not_expected):
    result = parse_request(text, catalog)
    assert result.status == "error"
    assert expected in result.suggestions and not any(not_expected in s for s in result.suggestions)


def test_a_carrier_with_one_service_is_still_asked_about_not_guessed(catalog):
    result = parse_request("Send orders going to Japan via DHL", catalog)
    assert result.status == "clarify" and result.rules == []
    assert "DHL Express Worldwide (DHL_EXPRESS_WORLDWIDE)" in result.question and "several" not in result.question


def test_result_english_is_the_explain_of_its_rules(catalog):
    result = parse_request("Hold orders over $2,000 for fraud review.", catalog)
    assert result.status == "ok" and result.complete
    assert result.english == explain_rules(result.rules)
    assert "hold the order for \"fraud review\" when the order value is over 2000 USD" in result.english


def test_client_argument_scopes_unscoped_requests(catalog):
    result = parse_request("Hold orders over $5,000 for review", catalog, client="ACME")
    assert [r.clients for r in result.rules] == [["ACME"]]


def test_no_client_means_every_client(catalog):
    result = parse_request("Insure orders over $250", catalog)
    assert result.rules[0].clients == []
    assert "for all clients" in result.english


def test_ids_are_deterministic_slugs_unique_with_existing_rules(catalog):
    first = parse_request("Require a signature over $500; require a signature over $500.", catalog)
    ids = [r.id for r in first.rules]
    assert len(set(ids)) == 2 and ids[0] == "all-signature-value-over-500"
    again = parse_request("Require a signature over $500", catalog, existing=first.rules)
    assert again.rules[0].id not in ids
    assert parse_request("Require a signature over $500", catalog).rules[0].id == ids[0]


def test_refinement_gets_a_higher_priority(catalog):
    result = parse_request("GLOBEX Amazon orders ship from Newark; Canadian ones from Toronto with "
                           "Purolator Ground.", catalog)
    assert [r.priority for r in result.rules] == [100, 110, 110]
    assert [r.stage for r in result.rules] == ["routing", "routing", "carrier"]


def test_partly_understood_request_keeps_the_understood_rules(catalog):
    result = parse_request("Hold orders over $2,000 for fraud review. Ship heavy orders via UPS Ground.", catalog)
    assert result.status == "clarify" and not result.complete
    assert len(result.rules) == 1 and "heavy" in (result.question or "")


def test_a_date_without_year_is_the_next_such_day(catalog):
    result = parse_request("From Jan 15, hold orders over $3,000 for review", catalog, today=date(2026, 12, 5))
    assert result.rules[0].effective.from_.date() == date(2027, 1, 15)
    result = parse_request("From Dec 24, hold orders over $3,000 for review", catalog, today=date(2026, 12, 5))
    assert result.rules[0].effective.from_.date() == date(2026, 12, 24)


def test_a_date_without_year_that_just_passed_is_asked_about(catalog):
    result = parse_request("From Dec 1, hold orders over $3,000 for review", catalog, today=date(2026, 12, 5))
    assert result.status == "clarify" and result.rules == []
    assert "'Dec 1' passed on 2026-12-01" in result.question and "2027-12-01" in result.question
    written = parse_request("From Dec 1 2026, hold orders over $3,000 for review", catalog, today=date(2026, 12, 5))
    assert written.rules[0].effective.from_.date() == date(2026, 12, 1)


def test_canonical_text_is_read_back(catalog):
    text = ('Rule acme-heavy "ACME heavy" for ACME, priority 200, effective from 2026-12-01: use service '
            "UPS_GROUND when the order weight is over 10 lb and the shipping zone is between 5 and 8 and "
            "not (the order value is over 500 USD).")
    result = parse_request(text, catalog)
    assert result.status == "ok"
    assert result.english == text


def test_broken_canonical_text_is_an_error_that_says_where(catalog):
    result = parse_request('Rule x for ACME, priority 100: use service UPS_GROUND when the order weight is '
                           "over 10.", catalog)
    assert result.status == "error" and "weight" in (result.error or "")


def test_parse_result_is_json_ready(catalog):
    result = parse_request("Tag orders with more than 10 units as bulk.", catalog)
    data = ParseResult.model_validate_json(result.model_dump_json())
    assert data.rules[0].then[0].action == "add_tag"


def test_same_behaviour_is_what_the_table_uses(catalog):
    case = CASES[1]
    rules = intended_rules(case, 1)
    assert same_behaviour(rules, rules, catalog)[0]
