"""Seeded sample orders: a realistic mix for dry runs, benchmarks and tests (demo data).

The mix: the catalog's clients with their own SKUs, every channel, destinations across the
US and Canada (weighted by population, real ZIP and postal prefixes), a few international
ones, PO boxes, residential and business addresses, multi-line and bulk orders, hazmat lines,
out-of-stock SKUs, all three service levels, and creation times spread over weeks and hours.
The same seed always gives the same orders.
"""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta, timezone
from typing import Literal, cast

from rules_core.catalog import Catalog, demo_catalog
from rules_core.models import Address, Order, OrderLine

# (region, weight, ZIP prefixes, a city) for US destinations; weights loosely follow population.
US_PLACES = [
    ("CA", 12, ["900", "902", "921", "941", "945", "958"], "Los Angeles"),
    ("TX", 9, ["750", "770", "787", "782"], "Houston"),
    ("FL", 7, ["331", "328", "336", "322"], "Miami"),
    ("NY", 6, ["100", "112", "142", "146"], "New York"),
    ("PA", 4, ["191", "152", "170"], "Philadelphia"),
    ("IL", 4, ["606", "605", "617"], "Chicago"),
    ("OH", 3, ["432", "441", "452"], "Columbus"),
    ("GA", 3, ["303", "300", "314"], "Atlanta"),
    ("NC", 3, ["282", "276", "274"], "Charlotte"),
    ("MI", 3, ["482", "495", "488"], "Detroit"),
    ("NJ", 3, ["070", "077", "088"], "Jersey City"),
    ("WA", 2, ["981", "980", "992"], "Seattle"),
    ("AZ", 2, ["850", "852", "857"], "Phoenix"),
    ("MA", 2, ["021", "017", "011"], "Boston"),
    ("CO", 2, ["802", "809", "805"], "Denver"),
    ("OR", 1, ["972", "974"], "Portland"),
    ("NV", 1, ["891", "895"], "Las Vegas"),
    ("MN", 1, ["554", "559"], "Minneapolis"),
    ("MO", 1, ["631", "641"], "St. Louis"),
    ("TN", 1, ["372", "381"], "Nashville"),
    ("UT", 1, ["841", "844"], "Salt Lake City"),
    ("MT", 1, ["591", "598"], "Billings"),
    ("WY", 1, ["820", "826"], "Cheyenne"),
    ("ND", 1, ["581", "587"], "Fargo"),
    ("HI", 1, ["968", "967"], "Honolulu"),
    ("AK", 1, ["995", "997"], "Anchorage"),
    ("PR", 1, ["006", "009"], "San Juan"),
]
CA_PLACES = [
    ("ON", 8, ["M5V", "M4C", "L5B", "K1P", "N2L"], "Toronto"),
    ("QC", 5, ["H2X", "H3B", "G1R"], "Montreal"),
    ("BC", 3, ["V6B", "V5K", "V8W"], "Vancouver"),
    ("AB", 3, ["T2P", "T5J"], "Calgary"),
    ("MB", 1, ["R3C"], "Winnipeg"),
    ("NS", 1, ["B3H"], "Halifax"),
    ("SK", 1, ["S4P"], "Regina"),
    ("NL", 1, ["A1C"], "St. John's"),
]
INTERNATIONAL = [("GB", "SW1A 1AA", "London"), ("DE", "10115", "Berlin"), ("MX", "06600", "Mexico City")]
CHANNEL_WEIGHTS = {"shopify": 40, "amazon": 30, "walmart": 12, "edi": 10, "b2b": 8}
TAGS = ["vip", "gift", "wholesale", "first-order", "subscription", "preorder"]
START = datetime(2026, 11, 2, tzinfo=timezone.utc)


def _pick(rng: random.Random, table: list[tuple]) -> tuple:
    return rng.choices(table, weights=[row[1] for row in table])[0]


def _address(rng: random.Random, countries: list[str]) -> Address:
    roll = rng.random()
    if "CA" in countries and roll < 0.25:
        region, _, prefixes, city = _pick(rng, CA_PLACES)
        fsa = rng.choice(prefixes)
        return Address(country="CA", region=region, postal_code=f"{fsa} {rng.randint(1, 9)}{rng.choice('ABCEGH')}{rng.randint(1, 9)}",
                       city=city, residential=rng.random() < 0.7)
    if roll > 0.985:
        country, postal, city = rng.choice(INTERNATIONAL)
        return Address(country=country, postal_code=postal, city=city, residential=True)
    region, _, prefixes, city = _pick(rng, US_PLACES)
    po_box = rng.random() < 0.06
    return Address(country="US", region=region, postal_code=f"{rng.choice(prefixes)}{rng.randint(0, 99):02d}",
                   city=city, residential=po_box or rng.random() < 0.72, po_box=po_box)


def _lines(rng: random.Random, skus: list[str], catalog: Catalog, bulk: bool) -> list[OrderLine]:
    n = 1 if rng.random() < 0.55 else rng.randint(2, min(4, len(skus)))
    # Out-of-stock SKUs still get ordered, but rarely (a storefront usually hides them).
    weights = [1.0 if catalog.network_stock(s) > 0 else 0.12 for s in skus]
    chosen: list[str] = []
    while len(chosen) < n:
        pick = rng.choices(skus, weights=weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    lines = []
    for sku in chosen:
        qty = rng.randint(6, 40) if bulk else (1 if rng.random() < 0.7 else rng.randint(2, 5))
        if catalog.skus[sku].weight_lb >= 20:
            qty = min(qty, 1 if rng.random() < 0.85 else 2)
        price = catalog.skus[sku].price
        lines.append(OrderLine(sku=sku, qty=qty, unit_price=round(price * rng.choice([1, 1, 1, 0.9, 0.8]), 2)))
    return lines


def generate_orders(n: int = 10_000, seed: int = 7, catalog: Catalog | None = None) -> list[Order]:
    """``n`` realistic orders over the catalog's clients, deterministic for a seed."""
    catalog = catalog or demo_catalog()
    rng = random.Random(seed)
    skus_by_client = {c: [s.code for s in catalog.skus.values() if s.client == c] for c in catalog.clients}
    clients = [c for c, skus in skus_by_client.items() if skus]
    channels = [c for c in CHANNEL_WEIGHTS if c in catalog.channels] or list(catalog.channels)
    orders = []
    for i in range(n):
        client = rng.choice(clients)
        bulk = rng.random() < 0.06
        channel = "b2b" if bulk and "b2b" in catalog.channels else rng.choices(
            channels, weights=[CHANNEL_WEIGHTS.get(c, 5) for c in channels])[0]
        created = START + timedelta(minutes=rng.randint(0, 60 * 24 * 42))
        level = cast("Literal['standard', 'expedited', 'overnight']",
                     rng.choices(["standard", "expedited", "overnight"], weights=[80, 15, 5])[0])
        tags = rng.sample(TAGS, 1) if rng.random() < 0.2 else []
        orders.append(Order(
            id=f"SO-{100000 + i}", client=client, channel=channel, created_at=created,
            service_level=level, currency="USD",
            ship_to=_address(rng, catalog.clients[client].countries),
            lines=_lines(rng, skus_by_client[client], catalog, bulk), tags=tags,
        ))
    return orders


def sample_orders(catalog: Catalog | None = None, n: int = 2_000, seed: int = 7) -> list[Order]:
    """The sample orders dry runs use by default (cached for the demo catalog)."""
    if catalog is None or catalog is demo_catalog():
        return list(_demo_samples(n, seed))
    return generate_orders(n, seed, catalog)


@functools.lru_cache(maxsize=4)
def _demo_samples(n: int, seed: int) -> tuple[Order, ...]:
    return tuple(generate_orders(n, seed, demo_catalog()))
