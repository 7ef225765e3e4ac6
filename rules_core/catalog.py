"""The catalog: clients, channels, warehouses, carriers, services, SKUs, inventory, zones,
transit times and rates.

A catalog is a folder of plain data files, validated when loaded:

    catalog.yaml    codes, names and aliases of everything; surcharges; dimensional divisor
    inventory.csv   warehouse,sku,on_hand
    zones.csv       origin,country,prefix_from,prefix_to,zone   (postal prefix ranges -> zone 1-8)
    transit.csv     service,zone,days                           (zone 1-8, or "intl")
    rates.csv       service,zone,max_lb,rate                    (weight breaks; zone "intl")

The embedded default is the demo catalog in ``catalog_data/demo`` (demo data, not real rates).
A broken file raises CatalogError naming the file and the entry.
"""

from __future__ import annotations

import bisect
import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules_core.errors import CatalogError
from rules_core.quantities import Quantity, to_base

DEMO_CATALOG_DIR = Path(__file__).parent / "catalog_data" / "demo"
INTL = "intl"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Client(_Entry):
    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=lambda: ["US"])
    currency: str = "USD"


class Channel(_Entry):
    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)


class Warehouse(_Entry):
    code: str
    name: str
    address: str
    city: str
    region: str
    country: str
    postal_code: str
    aliases: list[str] = Field(default_factory=list)


class Carrier(_Entry):
    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)


class Service(_Entry):
    code: str
    carrier: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    max_weight: Quantity
    po_box: bool = False
    hazmat: bool = False
    origins: list[str]
    dest_countries: list[str]
    dest_regions: list[str] | None = None  # None: every region of those countries
    domestic_only: bool = False

    @functools.cached_property
    def max_weight_lb(self) -> float:
        return to_base(self.max_weight.value, self.max_weight.unit)


class Dimensions(_Entry):
    length: float
    width: float
    height: float
    unit: str = "in"


class Sku(_Entry):
    code: str
    client: str
    name: str
    weight: Quantity
    dims: Dimensions
    hazmat: bool = False
    category: str
    price: float = 0.0
    aliases: list[str] = Field(default_factory=list)

    @property
    def weight_lb(self) -> float:
        return to_base(self.weight.value, self.weight.unit)

    @property
    def volume_in3(self) -> float:
        d = self.dims
        return to_base(d.length, d.unit) * to_base(d.width, d.unit) * to_base(d.height, d.unit)


class DeliveryArea(_Entry):
    country: str = "US"
    prefixes: list[str]
    amount: dict[str, float]  # carrier -> surcharge per shipment


class Surcharges(_Entry):
    fuel_pct: dict[str, float]  # carrier -> fraction of the base rate
    residential: dict[str, float]  # carrier -> amount per shipment
    delivery_area: DeliveryArea


class CatalogFile(_Entry):
    """The schema of catalog.yaml."""

    name: str
    demo: bool = False
    description: str = ""
    currency: str = "USD"
    dim_divisor: float = 139.0
    countries: dict[str, str]
    regions: dict[str, dict[str, str]]
    categories: list[str]
    clients: list[Client]
    channels: list[Channel]
    warehouses: list[Warehouse]
    carriers: list[Carrier]
    services: list[Service]
    skus: list[Sku]
    surcharges: Surcharges


@dataclass
class Catalog:
    """A loaded, validated catalog with the look-ups the engine needs."""

    source: str
    spec: CatalogFile
    inventory: dict[str, dict[str, int]]  # warehouse -> sku -> on hand
    zone_rows: dict[tuple[str, str], list[tuple[str, str, int]]]  # (origin, country) -> ranges
    transit: dict[tuple[str, str], int]  # (service, zone) -> days
    rates: dict[tuple[str, str], tuple[list[float], list[float]]]  # (service, zone) -> breaks, rates
    clients: dict[str, Client] = field(init=False)
    channels: dict[str, Channel] = field(init=False)
    warehouses: dict[str, Warehouse] = field(init=False)
    carriers: dict[str, Carrier] = field(init=False)
    services: dict[str, Service] = field(init=False)
    skus: dict[str, Sku] = field(init=False)

    def __post_init__(self) -> None:
        s = self.spec
        self.clients = {c.code: c for c in s.clients}
        self.channels = {c.code: c for c in s.channels}
        self.warehouses = {w.code: w for w in s.warehouses}
        self.carriers = {c.code: c for c in s.carriers}
        self.services = {v.code: v for v in s.services}
        self.skus = {k.code: k for k in s.skus}
        self._zone_cache: dict[tuple[str, str, str], int | None] = {}
        self._fill_cache: dict[tuple[tuple[str, int], ...], tuple[str, ...]] = {}
        # Per-SKU numbers the engine reads for every line, converted once.
        self.sku_weight_lb = {k.code: k.weight_lb for k in s.skus}
        self.weight_limits = sorted({v.max_weight_lb for v in s.services})
        self.quote_cache: dict[tuple, list] = {}
        self.eligibility_cache: dict[tuple, list] = {}  # a few hundred keys at most
        self._zone_keys: dict[tuple[str, str | None], dict[str, int]] = {}
        self._das_cache: dict[str, bool] = {}
        self.sku_volume_in3 = {k.code: k.volume_in3 for k in s.skus}

    def warehouses_that_fill(self, need: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
        """Warehouses (catalog order) holding every (sku, quantity) of ``need``."""
        hit = self._fill_cache.get(need)
        if hit is None:
            hit = tuple(w for w, stock in self.inventory.items()
                        if all(sku in self.skus and stock.get(sku, 0) >= qty for sku, qty in need))
            if len(self._fill_cache) > 100_000:
                self._fill_cache.clear()
            self._fill_cache[need] = hit
        return hit

    # --- look-ups -----------------------------------------------------------------------

    @property
    def categories(self) -> list[str]:
        return self.spec.categories

    @property
    def countries(self) -> dict[str, str]:
        return self.spec.countries

    def regions(self, country: str | None = None) -> dict[str, str]:
        if country:
            return self.spec.regions.get(country, {})
        return {code: name for regs in self.spec.regions.values() for code, name in regs.items()}

    def network_stock(self, sku: str) -> int:
        totals = self.__dict__.get("_network")
        if totals is None:
            totals = {}
            for stock in self.inventory.values():
                for code, n in stock.items():
                    totals[code] = totals.get(code, 0) + n
            self.__dict__["_network"] = totals
        return totals.get(sku, 0)

    def on_hand(self, warehouse: str, sku: str) -> int:
        return self.inventory.get(warehouse, {}).get(sku, 0)

    def zone(self, origin: str, country: str, postal_code: str | None) -> int | None:
        """Zone 1-8 from a warehouse to a domestic destination; None for cross-border or unknown."""
        wh = self.warehouses.get(origin)
        if wh is None or wh.country != country or not postal_code:
            return None
        key = (origin, country, postal_code[:3].upper())
        if key not in self._zone_cache:
            self._zone_cache[key] = self._zone_lookup(origin, country, key[2])
        return self._zone_cache[key]

    def _zone_lookup(self, origin: str, country: str, prefix: str) -> int | None:
        for lo, hi, zone in self.zone_rows.get((origin, country), ()):
            if lo <= prefix[: len(lo)] <= hi:
                return zone
        return None

    def zone_keys(self, country: str, postal_code: str | None) -> dict[str, int]:
        """Per warehouse, how near it is to a destination: its zone, 9 for cross-border,
        10 when unreachable. Default routing prefers the nearest."""
        key = (country, postal_code[:3].upper() if postal_code else None)
        keys = self._zone_keys.get(key)
        if keys is None:
            keys = {}
            for w in self.warehouses:
                z = self.zone(w, country, postal_code)
                keys[w] = z if z is not None else (9 if self.rate_zone(w, country, postal_code) else 10)
            if len(self._zone_keys) > 50_000:
                self._zone_keys.clear()
            self._zone_keys[key] = keys
        return keys

    def rate_zone(self, origin: str, country: str, postal_code: str | None) -> str | None:
        """The key into transit and rate tables: the zone as text, or 'intl' for cross-border."""
        wh = self.warehouses.get(origin)
        if wh is None:
            return None
        if wh.country != country:
            return INTL
        zone = self.zone(origin, country, postal_code)
        return None if zone is None else str(zone)

    def transit_days(self, service: str, rate_zone: str) -> int | None:
        return self.transit.get((service, rate_zone))

    def base_rate(self, service: str, rate_zone: str, billable_lb: float) -> float | None:
        table = self.rates.get((service, rate_zone))
        if table is None:
            return None
        breaks, prices = table
        i = bisect.bisect_left(breaks, billable_lb - 1e-9)
        if i < len(breaks):
            return prices[i]
        # Beyond the last break: the last price plus the per-lb increment of the last step.
        step = (prices[-1] - prices[-2]) / (breaks[-1] - breaks[-2]) if len(breaks) > 1 else 1.0
        return prices[-1] + step * (billable_lb - breaks[-1])

    def shipment_cost(
        self, service: str, rate_zone: str, billable_lb: float, residential: bool, postal_code: str | None,
        country: str | None = None,
    ) -> float | None:
        base = self.base_rate(service, rate_zone, billable_lb)
        if base is None:
            return None
        carrier = self.services[service].carrier
        sur = self.spec.surcharges
        cost = base * (1 + sur.fuel_pct.get(carrier, 0.0))
        if residential:
            cost += sur.residential.get(carrier, 0.0)
        if self.in_delivery_area(country or sur.delivery_area.country, postal_code):
            cost += sur.delivery_area.amount.get(carrier, 0.0)
        return round(cost, 2)

    def in_delivery_area(self, country: str, postal_code: str | None) -> bool:
        """The destination pays the delivery-area surcharge (remote and rural postal prefixes)."""
        area = self.spec.surcharges.delivery_area
        if not postal_code or country != area.country:
            return False
        prefix = postal_code[:3].upper()
        hit = self._das_cache.get(prefix)
        if hit is None:
            hit = self._das_cache[prefix] = any(prefix.startswith(p) for p in area.prefixes)
        return hit

    @functools.cached_property
    def restricted_regions(self) -> frozenset[str]:
        """Regions some service is limited to: the only regions that change eligibility."""
        return frozenset(r for svc in self.services.values() for r in (svc.dest_regions or ()))

    def serves(self, service: Service, origin: str, country: str, region: str | None) -> bool:
        if origin not in service.origins or country not in service.dest_countries:
            return False
        if service.domestic_only and self.warehouses[origin].country != country:
            return False
        return service.dest_regions is None or (region is not None and region in service.dest_regions)

    # --- names for language front ends ----------------------------------------------------

    def names(self) -> dict[str, dict[str, list[str]]]:
        """Every code of every collection with its human names and aliases."""
        def named(items: dict[str, Any], extra: Any = None) -> dict[str, list[str]]:
            return {code: [it.name, *it.aliases, *(extra(it) if extra else [])] for code, it in items.items()}

        return {
            "client": named(self.clients),
            "channel": named(self.channels),
            "warehouse": named(self.warehouses, lambda w: [w.city]),
            "carrier": named(self.carriers),
            "service": named(self.services),
            "sku": named(self.skus),
            "country": {c: [n] for c, n in self.countries.items()},
            "region": {c: [n] for c, n in self.regions().items()},
            "category": {c: [c] for c in self.categories},
        }


# --- loading ------------------------------------------------------------------------------


def _pydantic_where(err: ValidationError, data: dict[str, Any]) -> str:
    first = err.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc)
    # Name the entry by its code when the error sits inside a list of coded entries.
    if len(loc) >= 2 and isinstance(loc[1], int):
        items = data.get(str(loc[0]))
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            code = items[loc[1]].get("code")
            if code:
                where = f"{loc[0]}[{code}]" + "".join(f".{p}" for p in loc[2:])
    return f"{where}: {first['msg']}"


def _read_csv(path: Path, columns: list[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise CatalogError(f"{path}: file missing from the catalog")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != columns:
            raise CatalogError(f"{path}: header must be {','.join(columns)}, got {reader.fieldnames}")
        return list(reader)


def _num(path: Path, lineno: int, row: dict[str, str], col: str, kind: type = float) -> Any:
    try:
        return kind(row[col])
    except (TypeError, ValueError):
        raise CatalogError(f"{path}:{lineno}: column {col} must be a number, got {row[col]!r}") from None


def _check_refs(spec: CatalogFile, path: Path) -> None:
    warehouses = {w.code for w in spec.warehouses}
    carriers = {c.code for c in spec.carriers}
    for svc in spec.services:
        if svc.carrier not in carriers:
            raise CatalogError(f"{path}: services[{svc.code}].carrier: unknown carrier {svc.carrier!r}")
        for origin in svc.origins:
            if origin not in warehouses:
                raise CatalogError(f"{path}: services[{svc.code}].origins: unknown warehouse {origin!r}")
    clients = {c.code for c in spec.clients}
    for sku in spec.skus:
        if sku.client not in clients:
            raise CatalogError(f"{path}: skus[{sku.code}].client: unknown client {sku.client!r}")
        if sku.category not in spec.categories:
            raise CatalogError(f"{path}: skus[{sku.code}].category: unknown category {sku.category!r}")
    for kind, items in (("clients", spec.clients), ("warehouses", spec.warehouses),
                        ("services", spec.services), ("skus", spec.skus), ("carriers", spec.carriers)):
        seen: set[str] = set()
        for it in items:
            if it.code in seen:
                raise CatalogError(f"{path}: {kind}[{it.code}]: duplicate code")
            seen.add(it.code)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load and validate a catalog folder (the demo catalog when None)."""
    root = Path(directory) if directory else DEMO_CATALOG_DIR
    main = root / "catalog.yaml"
    if not main.is_file():
        raise CatalogError(f"{main}: catalog file not found")
    try:
        data = yaml.safe_load(main.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise CatalogError(f"{main}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{main}: expected a mapping at the top level")
    try:
        spec = CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{main}: {_pydantic_where(exc, data)}") from None
    _check_refs(spec, main)
    return Catalog(
        source=str(root),
        spec=spec,
        inventory=_load_inventory(root / "inventory.csv", spec),
        zone_rows=_load_zones(root / "zones.csv", spec),
        transit=_load_transit(root / "transit.csv", spec),
        rates=_load_rates(root / "rates.csv", spec),
    )


def _load_inventory(path: Path, spec: CatalogFile) -> dict[str, dict[str, int]]:
    warehouses, skus = {w.code for w in spec.warehouses}, {s.code for s in spec.skus}
    inv: dict[str, dict[str, int]] = {w: {} for w in warehouses}
    for n, row in enumerate(_read_csv(path, ["warehouse", "sku", "on_hand"]), start=2):
        if row["warehouse"] not in warehouses:
            raise CatalogError(f"{path}:{n}: unknown warehouse {row['warehouse']!r}")
        if row["sku"] not in skus:
            raise CatalogError(f"{path}:{n}: unknown sku {row['sku']!r}")
        inv[row["warehouse"]][row["sku"]] = _num(path, n, row, "on_hand", int)
    return inv


def _load_zones(path: Path, spec: CatalogFile) -> dict[tuple[str, str], list[tuple[str, str, int]]]:
    warehouses = {w.code for w in spec.warehouses}
    rows: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for n, row in enumerate(_read_csv(path, ["origin", "country", "prefix_from", "prefix_to", "zone"]), start=2):
        if row["origin"] not in warehouses:
            raise CatalogError(f"{path}:{n}: unknown warehouse {row['origin']!r}")
        zone = _num(path, n, row, "zone", int)
        if not 1 <= zone <= 8:
            raise CatalogError(f"{path}:{n}: zone must be 1-8, got {zone}")
        lo, hi = row["prefix_from"].upper(), row["prefix_to"].upper()
        rows.setdefault((row["origin"], row["country"]), []).append((lo, hi, zone))
    return rows


def _check_service_zone(path: Path, n: int, row: dict[str, str], services: set[str]) -> None:
    if row["service"] not in services:
        raise CatalogError(f"{path}:{n}: unknown service {row['service']!r}")
    if row["zone"] != INTL and row["zone"] not in {str(z) for z in range(1, 9)}:
        raise CatalogError(f"{path}:{n}: zone must be 1-8 or {INTL}, got {row['zone']!r}")


def _load_transit(path: Path, spec: CatalogFile) -> dict[tuple[str, str], int]:
    services = {s.code for s in spec.services}
    out: dict[tuple[str, str], int] = {}
    for n, row in enumerate(_read_csv(path, ["service", "zone", "days"]), start=2):
        _check_service_zone(path, n, row, services)
        out[(row["service"], row["zone"])] = _num(path, n, row, "days", int)
    return out


def _load_rates(path: Path, spec: CatalogFile) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    services = {s.code for s in spec.services}
    pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for n, row in enumerate(_read_csv(path, ["service", "zone", "max_lb", "rate"]), start=2):
        _check_service_zone(path, n, row, services)
        pairs.setdefault((row["service"], row["zone"]), []).append(
            (_num(path, n, row, "max_lb"), _num(path, n, row, "rate")))
    return {k: ([b for b, _ in sorted(v)], [r for _, r in sorted(v)]) for k, v in pairs.items()}


@functools.lru_cache(maxsize=4)
def demo_catalog() -> Catalog:
    return load_catalog(DEMO_CATALOG_DIR)
