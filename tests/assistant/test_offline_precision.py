"""Requests the offline parser once drafted as a different rule, and what it does now.

Each ``READ`` case must be drafted (status ok) and behave like the intended rules on the
boundary orders; each ``REFUSE`` case must come back as a question or an error, never a rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from assistant.offline import parse_request
from rules_core.catalog import demo_catalog
from rules_core.equivalence import same_behaviour
from rules_core.models import Rule

TODAY = date(2026, 11, 4)
HOLD = [{"action": "hold", "reason": "manual review"}]
SUB_BLUE_RED = {"then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]}


def _line(field: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": "eq", "value": value}


# (request, intended rules as JSON)
READ: list[tuple[str, list[dict[str, Any]]]] = [
    # line quantifiers: "every item" is every line, not any line and not the whole order
    ("Tag orders where every item is apparel as soft",
     [{"when": {"all_lines": _line("line.category", "apparel")}, "then": [{"action": "add_tag", "tag": "soft"}]}]),
    ("Tag orders where all items are apparel as soft",
     [{"when": {"all_lines": _line("line.category", "apparel")}, "then": [{"action": "add_tag", "tag": "soft"}]}]),
    ("Hold orders where all items are hazmat",
     [{"when": {"all_lines": _line("line.hazmat", True)}, "then": HOLD}]),
    ("Hold orders where every item is GLOBEX-BATTERY",
     [{"when": {"all_lines": _line("line.sku", "GLOBEX-BATTERY")}, "then": HOLD}]),
    ("Hold orders unless every item is apparel",
     [{"when": {"not": {"all_lines": _line("line.category", "apparel")}}, "then": HOLD}]),
    # "containing A and B" needs both, "containing A or B" either
    ("Hold orders containing TV and cable",
     [{"when": {"all": [{"any_line": _line("line.sku", "GLOBEX-TV-55")},
                        {"any_line": _line("line.sku", "GLOBEX-CABLE")}]}, "then": HOLD}]),
    ("Hold orders containing apparel and drinkware",
     [{"when": {"all": [{"any_line": _line("line.category", "apparel")},
                        {"any_line": _line("line.category", "drinkware")}]}, "then": HOLD}]),
    ("Hold orders containing TV or cable",
     [{"when": {"any_line": {"field": "line.sku", "op": "in", "value": ["GLOBEX-TV-55", "GLOBEX-CABLE"]}},
       "then": HOLD}]),
    ("Hold orders containing only apparel and drinkware",
     [{"when": {"all_lines": {"field": "line.category", "op": "in", "value": ["apparel", "drinkware"]}},
       "then": HOLD}]),
    ("Hold orders over $5.00",
     [{"when": {"field": "order.value", "op": "gt", "value": {"amount": 5, "currency": "USD"}}, "then": HOLD}]),
    ("Hold orders over 0.125 lb",
     [{"when": {"field": "order.weight", "op": "gt", "value": {"value": 0.125, "unit": "lb"}}, "then": HOLD}]),
    ("Hold orders over $5,000.00",
     [{"when": {"field": "order.value", "op": "gt", "value": {"amount": 5000, "currency": "USD"}}, "then": HOLD}]),
    ("Route Amazon orders to Newark",
     [{"when": {"field": "channel", "op": "eq", "value": "amazon"}, "then": [{"action": "ship_from", "warehouse": "EWR"}]}]),
    ("Hold orders to the destination city \"Toronto\"",
     [{"when": {"field": "dest.city", "op": "eq", "value": "Toronto"}, "then": HOLD}]),
    ("Hold orders to Louisiana",
     [{"when": {"field": "dest.region", "op": "eq", "value": "LA"}, "then": HOLD}]),
    # the shipment's weights are their own fields (it read "shipment weight" as the order weight)
    ("Use UPS Ground when the shipment weight is over 20 lb",
     [{"when": {"field": "shipment.weight", "op": "gt", "value": {"value": 20, "unit": "lb"}},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Use UPS Ground when the dim weight is over 20 lb",
     [{"when": {"field": "shipment.dim_weight", "op": "gt", "value": {"value": 20, "unit": "lb"}},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Use UPS Ground for billable weight under 5 lb",
     [{"when": {"field": "shipment.billable_weight", "op": "lt", "value": {"value": 5, "unit": "lb"}},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Hold orders over $500 and ship with UPS Ground",
     [{"when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}}, "then": HOLD},
      {"when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Ship from Dallas with UPS Ground",
     [{"then": [{"action": "ship_from", "warehouse": "DFW"}]},
      {"then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    # "them", "it" in a later sentence are the previous sentence's orders (was: every order)
    ("Hold ACME orders over $500. Tag them as review.",
     [{"clients": ["ACME"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}},
       "then": HOLD},
      {"clients": ["ACME"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}},
       "then": [{"action": "add_tag", "tag": "review"}]}]),
    ("Ship GLOBEX orders from Newark. Hold them if over $3000.",
     [{"clients": ["GLOBEX"], "then": [{"action": "ship_from", "warehouse": "EWR"}]},
      {"clients": ["GLOBEX"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 3000, "currency": "USD"}},
       "then": HOLD}]),
    ("ACME orders to Texas ship from Dallas. It should use UPS Ground.",
     [{"clients": ["ACME"], "when": {"field": "dest.region", "op": "eq", "value": "TX"},
       "then": [{"action": "ship_from", "warehouse": "DFW"}]},
      {"clients": ["ACME"], "when": {"field": "dest.region", "op": "eq", "value": "TX"},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Hold orders not from amazon or walmart",
     [{"when": {"not": {"field": "channel", "op": "in", "value": ["amazon", "walmart"]}}, "then": HOLD}]),
    ("Hold orders unless tagged vip or gold",
     [{"when": {"not": {"field": "order.tags", "op": "contains_any", "value": ["vip", "gold"]}}, "then": HOLD}]),
    ("Hold GLOBEX orders over $3000. If ACME-MUG-BLUE is out of stock, replace it with ACME-MUG-RED.",
     [{"clients": ["GLOBEX"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 3000, "currency": "USD"}},
       "then": HOLD},
      {"then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]}]),
    # substitutions as people phrase them: the SKU that runs out, and what goes instead
    ("Send the red mug when the blue mug is out of stock", [SUB_BLUE_RED]),
    ("Use the red mug if the blue mug is unavailable", [SUB_BLUE_RED]),
    ("If we're out of the blue mug, the red mug goes out instead", [SUB_BLUE_RED]),
    ("Out-of-stock blue mugs get replaced with red mugs", [SUB_BLUE_RED]),
    ("When the blue mug is out, send a red mug", [SUB_BLUE_RED]),
    ("When ACME-MUG-BLUE can't be filled, use ACME-MUG-RED", [SUB_BLUE_RED]),
    # "swap X for Y": X goes, Y comes
    ("Swap ACME-MUG-BLUE for ACME-MUG-RED when we run out", [SUB_BLUE_RED]),
    ("Swap blue mugs for red mugs", [SUB_BLUE_RED]),
    ("Substitute the red mug or the t-shirt for the blue mug",
     [{"then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED", "ACME-TSHIRT"]}]}]),
    # a service right after the orders a routing verb began; fillers around conditions
    ("Ship hazmat orders UPS Ground",
     [{"when": {"field": "order.hazmat", "op": "eq", "value": True},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Hold orders from ACME over $500",
     [{"clients": ["ACME"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 500, "currency": "USD"}},
       "then": HOLD}]),
    ("Anything with more than 10 units in it gets a bulk tag",
     [{"when": {"field": "order.unit_count", "op": "gt", "value": 10}, "then": [{"action": "add_tag", "tag": "bulk"}]}]),
    # a tag word at the end, right after the orders; the tag stands where its verb is
    ("Tag hazmat orders dg",
     [{"when": {"field": "order.hazmat", "op": "eq", "value": True}, "then": [{"action": "add_tag", "tag": "dg"}]}]),
    ("Ship all Initech orders from Dallas and tag them b2b",
     [{"clients": ["INITECH"], "then": [{"action": "ship_from", "warehouse": "DFW"}]},
      {"clients": ["INITECH"], "then": [{"action": "add_tag", "tag": "b2b"}]}]),
    ("For Initech try Dallas first, then Newark, and hold the order if neither can fill it",
     [{"clients": ["INITECH"],
       "then": [{"action": "prefer_warehouses", "warehouses": ["DFW", "EWR"], "fallback": "hold"}]}]),
    ("Canadian orders above 250 CAD need insurance",
     [{"when": {"all": [{"field": "dest.country", "op": "eq", "value": "CA"},
                        {"field": "order.value", "op": "gt", "value": {"amount": 250, "currency": "CAD"}}]},
       "then": [{"action": "insure"}]}]),
    ("Ship anything 500 grams or lighter with USPS Ground Advantage",
     [{"when": {"field": "order.weight", "op": "lte", "value": {"value": 500, "unit": "g"}},
       "then": [{"action": "use_service", "service": "USPS_GROUND_ADVANTAGE"}]}]),
    # "all X orders" is every such order, not every item
    ("Ship all hazmat orders UPS Ground",
     [{"when": {"field": "order.hazmat", "op": "eq", "value": True},
       "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]),
    ("Insure all TV orders",
     [{"when": {"any_line": {"field": "line.sku", "op": "eq", "value": "GLOBEX-TV-55"}}, "then": [{"action": "insure"}]}]),
    # rate shops as people phrase them
    ("For Globex, shop UPS against FedEx and take whichever is cheapest",
     [{"clients": ["GLOBEX"], "then": [{"action": "rate_shop", "carriers": ["UPS", "FEDEX"], "objective": "cheapest"}]}]),
    ("Compare Canada Post and Purolator and use the cheaper one",
     [{"then": [{"action": "rate_shop", "carriers": ["CANADA_POST", "PUROLATOR"], "objective": "cheapest"}]}]),
    ("Whichever of UPS Next Day Air or FedEx Standard Overnight is fastest",
     [{"then": [{"action": "rate_shop", "services": ["UPS_NEXT_DAY", "FEDEX_OVERNIGHT"], "objective": "fastest"}]}]),
    ("Rate shop FedEx and USPS, fastest, max 5 transit days",
     [{"then": [{"action": "rate_shop", "carriers": ["FEDEX", "USPS"], "objective": "fastest",
                 "max_transit_days": 5}]}]),
    ("Orders to ZIPs beginning 967 or 968 go on hold for address review",
     [{"when": {"field": "dest.postal_code", "op": "starts_with", "value": ["967", "968"]},
       "then": [{"action": "hold", "reason": "address review"}]}]),
    ("Starting December 20, 2026 and before January 4, 2027, hold INITECH orders",
     [{"clients": ["INITECH"], "effective": {"from": "2026-12-20T00:00:00Z", "until": "2027-01-04T00:00:00Z"},
       "then": HOLD}]),
    ("Whichever of UPS, FedEx or USPS is quickest",
     [{"then": [{"action": "rate_shop", "carriers": ["UPS", "FEDEX", "USPS"], "objective": "fastest"}]}]),
    ("Insure and require a signature for GLOBEX orders over $1,500",
     [{"clients": ["GLOBEX"], "when": {"field": "order.value", "op": "gt", "value": {"amount": 1500, "currency": "USD"}},
       "then": [{"action": "insure"}, {"action": "require_signature"}]}]),
    ("Pick the cheapest carrier that can deliver within 2 days",
     [{"then": [{"action": "rate_shop", "objective": "cheapest", "max_transit_days": 2}]}]),
    ("Substitute the red mug for the blue mug on ACME orders under $30",
     [{"clients": ["ACME"], "when": {"field": "order.value", "op": "lt", "value": {"amount": 30, "currency": "USD"}},
       "then": [{"action": "substitute", "sku": "ACME-MUG-BLUE", "with": ["ACME-MUG-RED"]}]}]),
]

# (request, why it must not become a rule)
REFUSE: list[tuple[str, str]] = [
    ("Hold orders where every item is over 5 lb", "per-item weight is not the order weight"),
    ("Hold orders where each item weighs over 5 lb", "per-item weight is not the order weight"),
    ("Hold orders where every item is apparel and drinkware", "one item cannot be both"),
    ("Hold orders containing TV, cable", "both or either?"),
    ("Hold orders containing TV and cable or soundbar", "and/or mixed"),
    # "not A or B": neither, or (not A) or B? It drafted the second.
    ("Hold orders not to Texas or to California", "'not ... or' was (not TX) or CA"),
    ("Hold orders not from amazon or tagged vip", "'not ... or' was (not amazon) or vip"),
    ("Hold orders not over $500 or to Texas", "'not ... or' was (not > $500) or TX"),
    # a catalog name after a tag list: it drafted 'wholesale' as the b2b channel
    ("Hold orders over $500 that are not tagged vip or wholesale", "was (not vip) or channel b2b"),
    ("Hold orders unless tagged vip or wholesale", "'wholesale' tag or b2b channel?"),
    # a dot before three digits is a thousands separator in much of the world (it drafted $5)
    ("Hold orders over $5.000", "5 or 5,000?"),
    ("Hold orders over 1.500 kg", "1.5 or 1,500 kg?"),
    ("Hold orders over 5.000,00 EUR", "European number format"),
    # a warehouse city after "to" (it drafted ship_from TOR, and Louisiana for LA)
    ("Ship orders to Toronto with Purolator Ground", "destination Toronto, or ship from TOR?"),
    ("Send GLOBEX orders to Toronto", "destination Toronto, or ship from TOR?"),
    ("Hold orders to LA", "Louisiana or Los Angeles?"),
    ("Ship orders to LA from LAX", "Louisiana or Los Angeles?"),
    ("Hold orders to the destination city", "which city?"),
    ("Hold orders with a shipment weight over 20 lb", "not known at the hold stage"),
    # a service that describes the orders became a second action for every order
    ("Require a signature for orders shipped via UPS Ground", "was: signature for all + use UPS Ground"),
    ("Insure orders that use UPS Next Day Air", "was: insure all + use UPS Next Day Air"),
    ("Tag orders using USPS Priority as mail", "was: tag all + use USPS Priority"),
    ("Exclude FedEx for orders shipped via UPS Ground", "was: exclude FedEx + use UPS Ground"),
    ("Orders shipped via UPS Ground need a signature", "was: use UPS Ground + signature for all"),
    ("Hold orders over $500 with UPS Ground", "hold, and use UPS Ground, or hold those with it?"),
    # substitutions: which SKU runs out, and one SKU sent or the first in stock?
    ("Swap the blue mug for the red mug when the red mug is out of stock", "which one runs out?"),
    ("Substitute the blue mug with the red mug and the t-shirt", "both, or the first in stock?"),
    ("Send the red mug and the t-shirt when the blue mug is out of stock", "both, or the first in stock?"),
    ("Substitute the red mug and the t-shirt for the blue mug", "both, or the first in stock?"),
    ("Hold ACME orders over 20 lb or more", "over, or at least?"),
    ("Ship orders over 5 lb UPS Ground or FedEx Ground", "cheapest or fastest of the two?"),
    ("Send ACME orders UPS", "which UPS service?"),
    # the tag's conditions come after its verb; the hold's before: not shared
    ("Hold orders over $3,000 for fraud review, and tag every Amazon order amazon", "which conditions go where?"),
    ("Prefer Dallas, then Newark, then Toronto, and hold the order if neither can fill it", "neither of three?"),
    # an action next to a substitution would apply to every order, not the substituted ones
    ("If the blue mug is out of stock send the red mug. Hold it for review.", "hold every order"),
    ("Send the red mug when the blue mug is out of stock and tag them sub", "tag every order"),
    ("If the hoodie is out of stock, the t-shirt goes out instead, and hold the order", "hold every order"),
    # the second action's object carries its conditions; the first action has its own object
    ("Insure everything and hold hazmat orders", "was: insure hazmat orders only"),
    ("Tag hazmat orders dg and insure everything", "was: insure hazmat orders only"),
    ("Ship from Newark and hold hazmat orders", "was: ship hazmat orders from EWR only"),
    ("Require a signature and tag hazmat orders dg", "was: signature on hazmat orders only"),
    ("Tag hazmat orders dg, b2b", "two tags, or a channel?"),
    ("Replace the blue mug for the red mug", "which one is replaced?"),
    ("Prefer Newark then Dallas, and hold the order", "hold every order, or else hold?"),
    ("Prefer Newark then Dallas, falling back to the default, and hold the order if neither can fill it",
     "default, or hold?"),
    ("Tag orders hazmat", "tag 'hazmat', or tag hazmat orders?"),
    ("Tag orders overnight", "tag 'overnight', or tag overnight orders?"),
    ("Use UPS Ground for orders $50 or lighter", "lighter is a weight"),
    ("Rate shop UPS and FedEx for the cheapest, fastest", "cheapest or fastest?"),
    # a client named on one action is not the other's
    ("Use the cheapest service for Acme and insure Globex orders", "was: both rules for ACME and GLOBEX"),
    ("Hold Acme orders and insure Globex orders", "was: both rules for ACME and GLOBEX"),
    ("Use the cheapest service for Acme and insure everything", "was: insure ACME orders only"),
    # "cheapest"/"fastest" describing orders is not a rate shop
    ("Hold the cheapest orders", "was: hold every order + rate shop"),
    ("Insure orders that go cheapest", "was: insure every order + rate shop"),
    ("Hold orders over $500 that ship fastest", "was: hold + rate shop"),
    ("Use the cheapest overnight service", "was: a service-level condition"),
    ("Use the cheapest FedEx or UPS ground service", "was: all FedEx services + UPS Ground"),
    ("Rate shop UPS and FedEx for Acme. Whichever is fastest.", "was: a second rate shop of everything"),
    ("Compare UPS and FedEx for Acme", "was: cheapest by default"),
    ("Use the cheapest service within 2 days within 3 days", "was: the last limit"),
    ("Rate shop UPS and FedEx for the cheapest in 0 days", "cannot be met"),
]


@pytest.fixture(scope="module")
def catalog():
    return demo_catalog()


@pytest.mark.parametrize("text,intended", READ, ids=[t for t, _ in READ])
def test_request_is_read_as_meant(text, intended, catalog):
    result = parse_request(text, catalog, today=TODAY)
    assert result.status == "ok", result.question or result.error
    rules = [Rule.model_validate({"id": f"intended-{i}", **raw}) for i, raw in enumerate(intended)]
    same, counter = same_behaviour(result.rules, rules, catalog)
    assert same, f"{result.english}\n{counter}"


@pytest.mark.parametrize("text,why", REFUSE, ids=[t for t, _ in REFUSE])
def test_request_is_refused(text, why, catalog):
    result = parse_request(text, catalog, today=TODAY)
    assert result.status in ("clarify", "error"), f"{why}: {result.english}"
    assert (result.question or result.error or "").strip()
