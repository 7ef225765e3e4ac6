"""The catalog: the demo data holds the contract's codes, and a broken catalog file is a clear
one-line error naming the file and the entry."""

from __future__ import annotations

import shutil

import pytest
import yaml

from rules_core.catalog import DEMO_CATALOG_DIR, load_catalog
from rules_core.errors import CatalogError


def test_demo_catalog_has_the_contract_codes(catalog):
    assert set(catalog.clients) >= {"ACME", "GLOBEX", "INITECH"}
    assert set(catalog.channels) >= {"shopify", "amazon", "walmart", "edi", "b2b"}
    assert set(catalog.warehouses) >= {"EWR", "LAX", "DFW", "TOR"}
    assert set(catalog.carriers) >= {"UPS", "FEDEX", "USPS", "DHL", "ONTRAC", "CANADA_POST", "PUROLATOR"}
    assert set(catalog.services) >= {
        "UPS_GROUND", "UPS_2DAY", "UPS_NEXT_DAY", "FEDEX_GROUND", "FEDEX_HOME", "FEDEX_2DAY", "FEDEX_OVERNIGHT",
        "USPS_GROUND_ADVANTAGE", "USPS_PRIORITY", "USPS_PRIORITY_EXPRESS", "DHL_EXPRESS_WORLDWIDE",
        "ONTRAC_GROUND", "CANADA_POST_EXPEDITED", "PUROLATOR_GROUND", "PUROLATOR_EXPRESS"}
    assert catalog.spec.demo and "DEMO DATA" in catalog.spec.description


def test_demo_catalog_capabilities_follow_the_contract(catalog):
    for code, svc in catalog.services.items():
        assert svc.po_box == (svc.carrier == "USPS"), code
        if svc.carrier == "USPS":
            assert svc.max_weight_lb == 70
    assert catalog.services["ONTRAC_GROUND"].dest_regions and "NY" not in catalog.services["ONTRAC_GROUND"].dest_regions
    assert catalog.network_stock("ACME-MUG-BLUE") == 0
    for sku in ("ACME-TSHIRT", "ACME-HOODIE", "ACME-MUG-RED", "GLOBEX-CABLE", "INITECH-STAPLER"):
        assert all(catalog.on_hand(w, sku) > 0 for w in catalog.warehouses), sku
    assert {w for w in catalog.warehouses if catalog.on_hand(w, "GLOBEX-TV-55") > 0} == {"DFW", "TOR"}
    assert catalog.skus["GLOBEX-BATTERY"].hazmat and catalog.skus["INITECH-PAPER-CASE"].weight_lb == 50


def test_zones_transit_and_rates_have_realistic_shape(catalog):
    assert catalog.zone("LAX", "US", "90210") < catalog.zone("LAX", "US", "10001")
    assert catalog.zone("EWR", "US", "10001") <= 2 and catalog.zone("EWR", "US", "90210") == 8
    assert catalog.zone("TOR", "CA", "M5V 2T6") == 1 and catalog.zone("TOR", "CA", "V6B 1A1") == 8
    assert catalog.zone("EWR", "CA", "M5V 2T6") is None and catalog.rate_zone("EWR", "CA", "M5V") == "intl"
    near = catalog.shipment_cost("UPS_GROUND", "2", 5, False, "10001")
    far = catalog.shipment_cost("UPS_GROUND", "8", 5, False, "10001")
    heavy = catalog.shipment_cost("UPS_GROUND", "2", 40, False, "10001")
    assert near < far and near < heavy
    assert catalog.shipment_cost("UPS_GROUND", "2", 5, True, "10001") > near  # residential surcharge
    assert catalog.shipment_cost("UPS_GROUND", "2", 5, False, "59101") > near  # delivery-area surcharge
    assert catalog.transit_days("UPS_GROUND", "8") > catalog.transit_days("UPS_GROUND", "2")


def _broken_copy(tmp_path, edit):
    root = tmp_path / "cat"
    shutil.copytree(DEMO_CATALOG_DIR, root)
    edit(root)
    return root


def _edit_yaml(change):
    def edit(root):
        data = yaml.safe_load((root / "catalog.yaml").read_text())
        change(data)
        (root / "catalog.yaml").write_text(yaml.safe_dump(data))
    return edit


@pytest.mark.parametrize("edit, message", [
    (_edit_yaml(lambda d: d["services"][3].pop("origins")), "catalog.yaml: services[FEDEX_GROUND].origins: Field required"),
    (_edit_yaml(lambda d: d["services"][0].update(carrier="UPZ")), "services[UPS_GROUND].carrier: unknown carrier 'UPZ'"),
    (_edit_yaml(lambda d: d["skus"][0].update(category="shoes")), "skus[ACME-TSHIRT].category: unknown category 'shoes'"),
    (_edit_yaml(lambda d: d["skus"][0]["weight"].update(value="heavy")), "skus[ACME-TSHIRT].weight.value"),
    (lambda root: (root / "zones.csv").write_text("origin,country,prefix_from,prefix_to,zone\nEWR,US,000,099,12\n"), "zones.csv:2: zone must be 1-8, got 12"),
    (lambda root: (root / "rates.csv").write_text("service,zone,max_lb,rate\nUPS_GRND,1,1,5.00\n"), "rates.csv:2: unknown service 'UPS_GRND'"),
    (lambda root: (root / "inventory.csv").unlink(), "inventory.csv: file missing from the catalog"),
    (lambda root: (root / "catalog.yaml").write_text("clients: [\n"), "catalog.yaml:2: not valid YAML"),
])
def test_broken_catalog_is_a_one_line_error_naming_file_and_entry(tmp_path, edit, message):
    root = _broken_copy(tmp_path, edit)
    with pytest.raises(CatalogError) as err:
        load_catalog(root)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_a_copied_catalog_loads_like_the_demo(tmp_path, catalog):
    other = load_catalog(_broken_copy(tmp_path, lambda root: None))
    assert set(other.services) == set(catalog.services)
