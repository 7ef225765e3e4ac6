"""Every action of the review app through ``gradio_client``, as the page calls it.

The app runs without login here (the acting user is the "Acting as" field) and, in the last
tests, with login (the acting user is the login name, whatever the field says). Each test
makes the proposals it needs, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from rules_core.models import Rule

ANY = "(any client)"
# Gradio's own DataFrame handling warns under pandas 3; it is not ours to fix.
GRADIO_PANDAS_WARNINGS = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
                          pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
pytestmark = GRADIO_PANDAS_WARNINGS


def client(app: Any, auth: tuple[str, str] | None = None) -> Client:
    return Client(app.url, auth=auth, verbose=False, download_files=True)


def chat_text(message: dict[str, Any]) -> str:
    content = message["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def draft(c: Client, text: str, history: list | None = None, who_client: str = ANY) -> dict[str, Any]:
    out = c.predict(text, history or [], who_client, api_name="/draft")
    names = ["chat", "request", "english", "rules", "findings", "impact", "changes", "carriers", "warehouses"]
    return dict(zip(names, out))


def submit(c: Client, who: str, note: str = "") -> str:
    return c.predict(note, who, api_name="/submit")


def chart_rows(update: dict[str, Any]) -> list[list[Any]]:
    """A bar chart's rows (the app sends the data with the bars' order)."""
    return update.get("value", update)["data"]


def proposal_id(status: str) -> int:
    match = re.search(r"proposal #(\d+)", status)
    assert match, status
    return int(match.group(1))


def drafted_proposal(c: Client, text: str, who: str = "alice") -> int:
    out = draft(c, text)
    assert out["english"], chat_text(out["chat"][-1])
    return proposal_id(submit(c, who, note=text))


def open_proposal(c: Client, number: int) -> dict[str, Any]:
    names = ["header", "diff", "english", "findings", "impact", "changes", "carriers", "warehouses", "provenance",
             "outcome"]
    return dict(zip(names, c.predict(number, api_name="/proposal")))


# --- assistant -----------------------------------------------------------------------------------


def test_draft_shows_english_rule_json_findings_and_impact(open_app: Any) -> None:
    c = client(open_app)
    out = draft(c, "For ACME, ship orders heavier than 20 lb with UPS Ground.")
    reply = chat_text(out["chat"][-1])
    assert "offline parser" in reply
    assert "use service UPS_GROUND when the order weight is over 20 lb" in out["english"]
    rules = json.loads(out["rules"])
    assert rules[0]["then"] == [{"action": "use_service", "service": "UPS_GROUND"}]
    assert rules[0]["clients"] == ["ACME"]
    assert {"severity", "code", "hint"} <= set(out["findings"]["headers"])
    assert "sample orders" in out["impact"] and "Cost:" in out["impact"] and "Transit:" in out["impact"]
    assert out["changes"]["data"], "the changed-orders table has rows"
    carriers = chart_rows(out["carriers"])
    assert {row[1] for row in carriers} == {"before", "proposed"}
    ups = {row[1]: row[2] for row in carriers if row[0].startswith("UPS ")}
    assert ups["proposed"] > ups["before"], "more orders go by UPS under the rule"
    assert [row[0] for row in carriers] == sorted(row[0] for row in carriers), "bars pair up in label order"
    assert any(row[0].startswith("DFW") for row in chart_rows(out["warehouses"]))
    assert out["request"] == "", "the request box is cleared"


def test_clarifying_question_is_a_chat_turn_and_drafts_nothing(open_app: Any) -> None:
    c = client(open_app)
    out = draft(c, "blah blah")
    assert [m["role"] for m in out["chat"]] == ["user", "assistant", "assistant"]
    assert chat_text(out["chat"][1]).startswith("**Question:**")
    assert "no model configured" in chat_text(out["chat"][2])
    assert "Nothing to submit" in submit(c, "alice")


def test_the_answer_to_a_question_completes_the_request(open_app: Any) -> None:
    c = client(open_app)
    asked = draft(c, "For ACME, hold orders over 45 for review")
    assert "'45' has no unit" in chat_text(asked["chat"][1])
    answered = draft(c, "lb", history=asked["chat"])
    reply = chat_text(answered["chat"][-1])
    assert "the request reads: “For ACME, hold orders over 45 lb for review”" in reply, reply
    assert "when the order weight is over 45 lb" in answered["english"]
    number = proposal_id(submit(c, "alice"))
    p = open_app.store.get_proposal(number)
    assert p.provenance.request == "For ACME, hold orders over 45 lb for review"
    assert p.rules[0].clients == ["ACME"]
    open_app.store.reject(number, "bob", "test clean-up")


def test_an_answer_that_does_not_fit_asks_again(open_app: Any) -> None:
    c = client(open_app)
    asked = draft(c, "For ACME, hold orders over 45 for review")
    again = draft(c, "bananas", history=asked["chat"])
    assert any("could not fit “bananas”" in chat_text(m) for m in again["chat"][len(asked["chat"]):])
    assert "Nothing to submit" in submit(c, "alice")
    done = draft(c, "kg", history=again["chat"])
    assert "when the order weight is over 45 kg" in done["english"]


def test_follow_up_edits_the_open_draft_keeping_its_id(open_app: Any) -> None:
    c = client(open_app)
    first = draft(c, "For GLOBEX, ship orders heavier than 20 lb with FedEx Ground.")
    second = draft(c, "make it 25 lb", history=first["chat"])
    assert "25 lb" in second["english"], chat_text(second["chat"][-1])
    number = proposal_id(submit(c, "alice"))
    rules = open_app.store.get_proposal(number).rules
    assert len(rules) == 1 and rules[0].when.value.value == 25  # type: ignore[union-attr]
    assert rules[0].id == json.loads(first["rules"])[0]["id"]
    open_app.store.reject(number, "bob", "test clean-up")


def test_follow_up_that_is_not_clear_leaves_the_draft_as_it_was(open_app: Any) -> None:
    c = client(open_app)
    first = draft(c, "For GLOBEX, ship orders heavier than 20 lb with FedEx Ground.")
    second = draft(c, "make it heavier", history=first["chat"])
    assert len(second["chat"]) >= len(first["chat"]) + 2
    number = proposal_id(submit(c, "alice"))
    assert open_app.store.get_proposal(number).rules[0].when.value.value == 20  # type: ignore[union-attr]
    open_app.store.reject(number, "bob", "test clean-up")


def test_new_draft_clears_the_chat_and_the_draft(open_app: Any) -> None:
    c = client(open_app)
    draft(c, "For INITECH, ship orders heavier than 30 lb with UPS Ground.")
    chat, *_ = c.predict(api_name="/new_draft")
    assert chat == []
    assert "Nothing to submit" in submit(c, "alice")


def test_submit_makes_a_proposal_with_provenance(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 21 lb with UPS Ground.", who="alice")
    p = open_app.store.get_proposal(number)
    assert (p.author, p.status, p.provenance.source) == ("alice", "submitted", "parser")
    assert p.provenance.request == "For ACME, ship orders heavier than 21 lb with UPS Ground."
    queue = c.predict("open", api_name="/queue")
    assert number in [row[0] for row in queue["data"]]


def test_submit_needs_a_name_when_there_is_no_login(open_app: Any) -> None:
    c = client(open_app)
    draft(c, "For ACME, ship orders heavier than 22 lb with UPS Ground.")
    assert "Acting as" in submit(c, "  ")


# --- review --------------------------------------------------------------------------------------


def test_proposal_shows_side_by_side_diff_english_findings_impact_provenance(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 23 lb with UPS Ground.")
    shown = open_proposal(c, number)
    assert f"Proposal #{number}" in shown["header"] and "submitted" in shown["header"]
    assert "acme-ups-ground-weight-over-23" in shown["diff"] and "rw-ins" in shown["diff"]
    assert "over 23 lb" in shown["english"]
    assert shown["findings"]["headers"][0] == "severity"
    assert "sample orders" in shown["impact"]
    assert {row[1] for row in chart_rows(shown["carriers"])} == {"before", "proposed"}
    assert "offline parser" in shown["provenance"] and "23 lb" in shown["provenance"]
    assert "no model call" in shown["provenance"]


def test_unknown_proposal_is_a_one_line_error(open_app: Any) -> None:
    with pytest.raises(Exception, match="no proposal 9999"):
        client(open_app).predict(9999, api_name="/proposal")


def test_author_cannot_approve_their_own_proposal(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 24 lb with UPS Ground.", who="carol")
    outcome = c.predict(number, "looks good to me", "carol", api_name="/approve")
    assert outcome.startswith("✖") and "four eyes" in outcome
    assert open_app.store.get_proposal(number).status == "submitted"


def test_author_role_cannot_approve(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 26 lb with UPS Ground.", who="carol")
    outcome = c.predict(number, "", "alice", api_name="/approve")
    assert outcome.startswith("✖") and "reviewer role" in outcome


def test_reviewer_approves_and_the_rule_becomes_active(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 27 lb with UPS Ground.")
    outcome = c.predict(number, "ok", "bob", api_name="/approve")
    assert outcome.startswith("✔ Approved: version v"), outcome
    assert "acme-ups-ground-weight-over-27" in {r.id for r in open_app.store.active_rules()}
    p = open_app.store.get_proposal(number)
    assert (p.status, p.reviews[-1].reviewer, p.reviews[-1].comment) == ("approved", "bob", "ok")


def test_reject_needs_a_reason_then_closes_the_proposal(open_app: Any) -> None:
    c = client(open_app)
    number = drafted_proposal(c, "For ACME, ship orders heavier than 28 lb with UPS Ground.")
    assert "needs a reason" in c.predict(number, "", "bob", api_name="/reject")
    assert c.predict(number, "too broad", "bob", api_name="/reject") == f"✔ Rejected proposal #{number}."
    assert open_app.store.get_proposal(number).status == "rejected"
    assert "already rejected" in c.predict(number, "", "bob", api_name="/approve")


def test_stale_base_is_refused_until_rebased(open_app: Any) -> None:
    c = client(open_app)
    first = drafted_proposal(c, "For ACME, ship orders heavier than 29 lb with UPS Ground.")
    second = drafted_proposal(c, "For GLOBEX, ship orders heavier than 29 lb with UPS Ground.")
    assert open_app.store.get_proposal(second).rules[0].clients == ["GLOBEX"], "a submitted draft is closed"
    assert c.predict(first, "", "bob", api_name="/approve").startswith("✔")
    assert "Stale" in open_proposal(c, second)["header"]
    stale = c.predict(second, "", "bob", api_name="/approve")
    assert stale.startswith("✖") and "rebase" in stale
    assert c.predict(second, "bob", api_name="/rebase").startswith("✖"), "only the author or an admin rebases"
    assert c.predict(second, "alice", api_name="/rebase").startswith("✔ Rebased")
    assert c.predict(second, "", "bob", api_name="/approve").startswith("✔")


def test_proposal_with_error_findings_cannot_be_approved(open_app: Any) -> None:
    bad = Rule.model_validate({"id": "ui-bad-service", "then": [{"action": "use_service", "service": "UPS_GRND"}],
                               "when": {"field": "order.weight", "op": "gt", "value": {"value": 90, "unit": "lb"}}})
    p = open_app.store.propose([bad], "alice", "typo")
    c = client(open_app)
    shown = open_proposal(c, p.id)
    assert "unknown_service" in json.dumps(shown["findings"])
    outcome = c.predict(p.id, "", "bob", api_name="/approve")
    assert outcome.startswith("✖") and "error findings" in outcome
    open_app.store.reject(p.id, "alice", "test clean-up")


# --- rules, rollback -------------------------------------------------------------------------------


def approved_rule(c: Client, app: Any, text: str) -> str:
    number = drafted_proposal(c, text)
    assert c.predict(number, "", "bob", api_name="/approve").startswith("✔")
    return app.store.get_proposal(number).rules[0].id


def test_rules_view_filters_and_explains_with_history(open_app: Any) -> None:
    c = client(open_app)
    rid = approved_rule(c, open_app, "Hold INITECH orders over $3,100 for credit review.")
    table, head = c.predict("(all)", "(all)", "", api_name="/rules")
    assert "Active version v" in head
    assert rid in [row[0] for row in table["data"]]
    only_hold, _ = c.predict("INITECH", "hold", "credit", api_name="/rules")
    assert [row[0] for row in only_hold["data"]] == [rid]
    none, _ = c.predict("(all)", "carrier", "credit review", api_name="/rules")
    assert none["data"] == [] or rid not in [row[0] for row in none["data"]]
    english, rule_json, history = c.predict(rid, api_name="/rule")
    assert "credit review" in english
    assert json.loads(rule_json)["id"] == rid
    assert "added" in history and "← active" in history
    missing, _, _ = c.predict("no-such-rule", api_name="/rule")
    assert "not in the active rule set" in missing


def test_rollback_proposes_an_earlier_version(open_app: Any) -> None:
    c = client(open_app)
    approved_rule(c, open_app, "Hold ACME orders over $4,200 for fraud review.")
    active = open_app.store.active_version()
    assert active is not None and active.number >= 1
    status = c.predict(str(active.number - 1) if active.number > 1 else "1", "undo", "alice", api_name="/rollback")
    if active.number == 1:
        assert "already the active version" in status
        return
    number = proposal_id(status.replace("as #", "proposal #"))
    p = open_app.store.get_proposal(number)
    assert p.provenance.source == "rollback" and p.author == "alice"
    assert c.predict(number, "", "bob", api_name="/approve").startswith("✔")
    open_app.store.rollback(active.number, "alice")  # leave the newest rules proposed again
    assert "no version 999" in c.predict("999", "", "alice", api_name="/rollback")


# --- decisions -----------------------------------------------------------------------------------


def test_sample_order_decision_and_why(open_app: Any) -> None:
    c = client(open_app)
    from rules_core.samples import sample_orders

    order_id = sample_orders(open_app.catalog)[3].id
    order = c.predict(order_id, api_name="/sample_order")
    assert json.loads(order)["id"] == order_id
    summary, why, raw = c.predict(order, api_name="/decide")
    assert f"Order {order_id}" in summary
    assert why.startswith(f"Order {order_id}:")
    assert json.loads(raw)["order_id"] == order_id


def test_pasted_order_is_decided_by_the_active_rule(open_app: Any) -> None:
    c = client(open_app)
    rid = approved_rule(c, open_app, "Hold GLOBEX orders over $5,300 for fraud review.")
    order = {"id": "UI-1", "client": "GLOBEX", "ship_to": {"country": "US", "region": "TX", "postal_code": "75001"},
             "lines": [{"sku": "GLOBEX-CABLE", "qty": 1, "unit_price": 6000.0}]}
    summary, why, _ = c.predict(json.dumps(order), api_name="/decide")
    assert "HELD" in summary and rid in summary
    assert f"{rid} matched" in why


def test_bad_order_json_is_a_one_line_error(open_app: Any) -> None:
    with pytest.raises(Exception, match="not JSON"):
        client(open_app).predict("{not json", api_name="/decide")


# --- export --------------------------------------------------------------------------------------


def test_versions_bundle_and_jdm_downloads(open_app: Any) -> None:
    c = client(open_app)
    approved_rule(c, open_app, "Hold INITECH orders over $6,400 for credit review.")
    active = open_app.store.active_version()
    versions = c.predict(api_name="/versions")
    assert versions["data"][0][0] == active.number and versions["data"][0][1] == "●"
    bundle = json.loads(Path(c.predict(api_name="/export_bundle")).read_text())
    assert (bundle["format"], bundle["version"], bundle["ruleset"]) == ("rulewright.bundle", active.number, active.ruleset)
    assert bundle["approvals"][0]["reviewer"] == "bob"
    jdm_path = Path(c.predict(api_name="/export_jdm"))
    assert jdm_path.name == f"rulewright-jdm-v{active.number}.json"
    assert json.loads(jdm_path.read_text())["nodes"]


def test_export_before_any_approval_says_so(fresh_app: Any) -> None:
    c = client(fresh_app)
    with pytest.raises(Exception, match="nothing to export"):
        c.predict(api_name="/export_bundle")
    with pytest.raises(Exception, match="nothing to export"):
        c.predict(api_name="/export_jdm")
    _, head = c.predict("(all)", "(all)", "", api_name="/rules")
    assert "No approved version yet" in head


# --- with login ----------------------------------------------------------------------------------


def login(app: Any, user: str) -> Client:
    return client(app, auth=(user, app.passwords[user]))


def test_login_name_is_the_acting_user_whatever_the_field_says(auth_app: Any) -> None:
    alice = login(auth_app, "alice")
    number = drafted_proposal(alice, "For ACME, ship orders heavier than 31 lb with UPS Ground.", who="bob")
    assert auth_app.store.get_proposal(number).author == "alice"
    refused = alice.predict(number, "", "bob", api_name="/approve")
    assert refused.startswith("✖") and "alice may not approve" in refused
    approved = login(auth_app, "bob").predict(number, "fine", "alice", api_name="/approve")
    assert approved.startswith("✔")
    assert auth_app.store.get_proposal(number).reviews[-1].reviewer == "bob"


def test_wrong_password_is_refused(auth_app: Any) -> None:
    with pytest.raises(Exception):
        Client(auth_app.url, auth=("bob", "wrong"), verbose=False)


# --- the pure rendering of a changed rule ---------------------------------------------------------


def test_changed_rule_diff_highlights_the_changed_lines_side_by_side() -> None:
    from rules_core.store.diff import rule_diff
    from html import unescape

    from ui.render import english_markdown, rule_diff_html

    def rule(lb: int) -> Rule:
        return Rule.model_validate({"id": "heavy", "then": [{"action": "use_service", "service": "UPS_GROUND"}],
                                    "when": {"field": "order.weight", "op": "gt", "value": {"value": lb, "unit": "lb"}}})

    diff = rule_diff([rule(20)], [rule(25)])
    html = unescape(rule_diff_html(diff))
    assert "changed fields: <code>/when/value/value</code>" in html
    assert "class='rw-del'" in html and '"value": 20,' in html
    assert "class='rw-ins'" in html and '"value": 25,' in html
    assert html.count("class='rw-ins'") == 1, "only the changed line is highlighted"
    english = english_markdown(diff)
    assert english.index("over 20 lb") < english.index("over 25 lb")


# --- with a model ------------------------------------------------------------------------------


def test_model_draft_records_model_and_tokens_in_the_provenance(model_app: Any) -> None:
    c = client(model_app)
    out = draft(c, "Big GLOBEX televisions should travel with FedEx Ground, please.")
    assert "(the model)" in chat_text(out["chat"][1])
    assert json.loads(out["rules"])[0]["id"] == "globex-tv-fedex-ground"
    number = proposal_id(submit(c, "alice", note="TVs"))
    provenance = open_proposal(c, number)["provenance"]
    assert "Drafted by:** model (`fake-model`)" in provenance
    assert "1234 prompt + 56 completion" in provenance
