"""Service eligibility and quotes: which services can carry an order from an origin, at what
cost and in how many days (from the catalog's zone charts, transit tables and rate cards)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import AbstractSet, Any

from rules_core.catalog import Catalog, Service

SERVICE_LEVEL_DAYS = {"standard": 5, "expedited": 2, "overnight": 1}


@dataclass(frozen=True)
class Quote:
    service: str
    carrier: str
    cost: float
    transit_days: int


def ineligible_reason(service: Service, origin: str, facts: dict[str, Any], catalog: Catalog) -> str | None:
    """Why ``service`` cannot carry this order from ``origin``; None when it can."""
    country, region = facts["dest.country"], facts["dest.region"]
    if not catalog.serves(service, origin, country, region):
        where = f"{country}-{region}" if region else country
        return f"{service.code} does not serve {origin} to {where}"
    weight = facts["order.weight"]
    if weight is None:
        return f"{service.code} cannot be checked: the order weight is unknown"
    if weight > service.max_weight_lb + 1e-9:
        return f"{service.code} carries at most {service.max_weight}; the order weighs {round(weight, 2)} lb"
    if facts["dest.po_box"] and not service.po_box:
        return f"{service.code} does not deliver to PO boxes"
    if facts["order.hazmat"] and not service.hazmat:
        return f"{service.code} does not take hazmat"
    if _rate_zone(origin, facts, catalog) is None:
        return f"{service.code} has no zone for {origin} to postal code {facts['dest.postal_code'] or '(missing)'}"
    return None


def _rate_zone(origin: str, facts: dict[str, Any], catalog: Catalog) -> str | None:
    return catalog.rate_zone(origin, facts["dest.country"], facts["dest.postal_code"])


def eligible_quotes(origin: str, facts: dict[str, Any], catalog: Catalog) -> list[Quote]:
    """Quotes of every eligible service from ``origin``, cheapest first (cost, then transit
    days, then code).

    Memoised on the catalog at two levels, under everything eligibility and price depend on:
    which services are eligible, and their quotes. Many orders share both, and the rate tables
    never change while a catalog is loaded.
    """
    weight = facts["order.weight"]
    if weight is None:
        return []
    country, postal, region = facts["dest.country"], facts["dest.postal_code"], facts["dest.region"]
    rz = catalog.rate_zone(origin, country, postal)
    if rz is None:
        return []
    # Eligibility depends on the weight only through the service limits it exceeds, on the
    # region only where a service is limited to some regions, and on the postal code only
    # through the zone (known here); the price on the zone, the billable weight, the
    # residential flag and the delivery-area surcharge.
    eligibility = (origin, country, region if region in catalog.restricted_regions else None,
                   facts["dest.po_box"], facts["order.hazmat"],
                   bisect.bisect_left(catalog.weight_limits, weight - 1e-9))
    key = (eligibility, rz, catalog.in_delivery_area(country, postal), facts["dest.residential"],
           facts["_billable_weight"])
    cache = catalog.quote_cache
    every = cache.get(key)
    if every is None:
        services = catalog.eligibility_cache.get(eligibility)
        if services is None:
            services = catalog.eligibility_cache[eligibility] = [svc for svc in catalog.services.values()
                                             if ineligible_reason(svc, origin, facts, catalog) is None]
        every = _quotes(services, facts, catalog, rz)
        if len(cache) > 200_000:
            cache.clear()
        cache[key] = every
    return every


def _quotes(services: list[Service], facts: dict[str, Any], catalog: Catalog, rz: str) -> list[Quote]:
    """The eligible ``services`` priced from the tables, cheapest first."""
    out = []
    billable, residential = facts["_billable_weight"], facts["dest.residential"]
    postal, country = facts["dest.postal_code"], facts["dest.country"]
    for svc in services:
        days = catalog.transit_days(svc.code, rz)
        cost = catalog.shipment_cost(svc.code, rz, billable, residential, postal, country)
        if days is not None and cost is not None:
            out.append(Quote(svc.code, svc.carrier, cost, days))
    out.sort(key=_cheapest_key)  # callers rely on cheapest-first order
    return out


def allowed_quotes(quotes: list[Quote], services: AbstractSet[str], carriers: AbstractSet[str]) -> list[Quote]:
    """Quotes whose service and carrier are not excluded."""
    if not services and not carriers:
        return quotes
    return [q for q in quotes if q.service not in services and q.carrier not in carriers]


def _cheapest_key(q: Quote) -> tuple[float, int, str]:
    return (q.cost, q.transit_days, q.service)


def fastest(quotes: list[Quote]) -> Quote | None:
    return min(quotes, key=lambda q: (q.transit_days, q.cost, q.service), default=None)
