"""The core commands: JSON out, one-line errors on bad input, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()
ORDER = {"id": "SO-1001", "client": "ACME", "channel": "shopify", "created_at": "2026-11-02T10:00:00Z",
         "ship_to": {"country": "US", "region": "CA", "postal_code": "90210", "residential": True},
         "lines": [{"sku": "ACME-HOODIE", "qty": 2, "unit_price": 49.0}], "tags": ["vip"]}
RULES = [{"id": "heavy", "clients": ["ACME"], "when": {"field": "order.weight", "op": "gt", "value": {"value": 2, "unit": "lb"}},
          "then": [{"action": "use_service", "service": "UPS_GROUND"}]}]


def write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def test_decide_json_for_one_order_and_a_list(tmp_path):
    rules = write(tmp_path, "rules.json", {"rules": RULES})
    one = runner.invoke(app, ["decide", str(write(tmp_path, "o.json", ORDER)), "--rules", str(rules), "--json"])
    assert one.exit_code == 0, one.output
    d = json.loads(one.stdout)
    assert d["shipments"][0]["service"] == "UPS_GROUND" and d["shipments"][0]["decided_by"] == "rule:heavy"
    assert "trace" not in d
    many = runner.invoke(app, ["decide", str(write(tmp_path, "os.json", [ORDER, ORDER])), "--rules", str(rules), "--json", "--trace"])
    out = json.loads(many.stdout)
    assert len(out) == 2 and out[0]["trace"][0]["checks"][0]["actual"] == "2.8 lb"


def test_decide_without_rules_uses_the_active_set_which_starts_empty(tmp_path):
    res = runner.invoke(app, ["decide", str(write(tmp_path, "o.json", ORDER)), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["shipments"][0]["decided_by"] == "default"


@pytest.mark.parametrize("content, expected", [
    ("{not json", "o.json:1:2: malformed JSON"),
    (json.dumps({"id": "SO-9", "client": "ACME"}), "order SO-9 at /ship_to: Field required"),
    (json.dumps([ORDER, {"id": "SO-8", "client": "ACME", "ship_to": {"country": "USA"}}]), "order SO-8 at /ship_to/country"),
    (json.dumps(["x"]), "order #0 is not a JSON object"),
])
def test_bad_orders_give_one_line_naming_file_and_place(tmp_path, content, expected):
    res = runner.invoke(app, ["decide", str(write(tmp_path, "o.json", content))])
    assert res.exit_code == 1
    assert expected in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.output


def test_missing_file_and_bad_rules_are_one_line_errors(tmp_path):
    res = runner.invoke(app, ["decide", str(tmp_path / "nope.json")])
    assert res.exit_code == 1 and "nope.json: file not found" in res.stderr
    bad = write(tmp_path, "rules.json", [{"id": "x", "when": {"field": "order.wieght", "op": "gt", "value": 1},
                                          "then": [{"action": "use_service", "service": "UPS_GRND"}]}])
    res = runner.invoke(app, ["decide", str(write(tmp_path, "o.json", ORDER)), "--rules", str(bad)])
    assert res.exit_code == 1 and "rules.json" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_validate_reports_findings_and_exits_1_on_errors(tmp_path):
    bad = write(tmp_path, "rules.json", [{"id": "x", "then": [{"action": "use_service", "service": "UPS_GRND"}]}])
    res = runner.invoke(app, ["validate", str(bad), "--json"])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["errors"] >= 1
    assert any("UPS_GROUND" in (f["hint"] or "") for f in out["findings"])
    good = write(tmp_path, "good.json", RULES)
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0


def test_simulate_json_on_given_orders(tmp_path):
    res = runner.invoke(app, ["simulate", "--rules", str(write(tmp_path, "r.json", RULES)),
                              "--orders", str(write(tmp_path, "o.json", [ORDER])), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["summary"]["changed"] == 1 and out["changes"][0]["after"]["service"] == "UPS_GROUND"


def test_schema_and_catalog_commands():
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert "then" in schema.get("properties", {}) or "$defs" in schema
    cat = json.loads(runner.invoke(app, ["catalog", "services", "--json"]).stdout)
    assert "FedEx 2Day" in cat["service"]["FEDEX_2DAY"] and cat["demo"] is True
    res = runner.invoke(app, ["catalog", "planets"])
    assert res.exit_code == 1 and "unknown catalog section" in res.stderr


def test_facts_prints_the_jdm_input(tmp_path):
    res = runner.invoke(app, ["facts", str(write(tmp_path, "o.json", ORDER)), "--origin", "LAX", "--json"])
    assert res.exit_code == 0, res.output
    facts = json.loads(res.stdout)
    assert facts["client"] == "ACME" and facts["order"]["weight"] == 2.8


def test_console_script_runs_without_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "ui.cli", "decide", str(tmp_path / "missing.json")],
                         capture_output=True, text=True)
    assert res.returncode == 1 and res.stderr.startswith("rulewright: ") and "Traceback" not in res.stderr
