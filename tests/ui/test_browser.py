"""End to end in a real browser: Debian's Chromium driven by Playwright for Python.

One user logs in, drafts a rule in the chat and submits it; another logs in, opens it in the
review queue, sees the diff and the impact, and approves it; the rules view shows it and the
export downloads. A proposal's author cannot approve it through the page either.
Screenshots of every step go to test-artifacts/ui/ (git-ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

# Gradio's own DataFrame handling warns under pandas 3; it is not ours to fix.
GRADIO_PANDAS_WARNINGS = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
                          pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
pytestmark = [pytest.mark.browser, *GRADIO_PANDAS_WARNINGS]
# Playwright's own browser download cannot work offline; Debian's Chromium does, with these flags.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT = 20_000  # ms: drafting and approving run a dry run on 2,000 sample orders


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():  # only reached with RULEWRIGHT_REQUIRE_BROWSER=1
        pytest.fail("RULEWRIGHT_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing: apt-get install chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Session:
    """One signed-in user's page, with screenshots numbered in the order they were taken."""

    steps: dict[str, int] = {}

    def __init__(self, browser: Any, app: Any, user: str, artifacts: Path, prefix: str) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.app, self.user, self.artifacts, self.prefix = app, user, artifacts, prefix
        self.login()

    def shot(self, name: str) -> Path:
        step = self.steps[self.prefix] = self.steps.get(self.prefix, 0) + 1
        path = self.artifacts / f"{self.prefix}-{step:02d}-{self.user}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self) -> None:
        page = self.page
        page.goto(self.app.url)
        page.get_by_label("username").fill(self.user)
        page.get_by_label("password").fill(self.app.passwords[self.user])
        self.shot("login")
        page.get_by_role("button", name="Login").click()
        page.locator("#rw-signed-in").get_by_text(f"Signed in as {self.user}").wait_for()

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name, exact=True).first.click()

    def text_of(self, selector: str, pattern: str) -> str:
        """Wait until the element's text matches ``pattern``; return the text."""
        locator = self.page.locator(selector)
        locator.filter(has_text=re.compile(pattern)).wait_for()
        return locator.inner_text()

    def draft_and_submit(self, request: str, note: str) -> int:
        page = self.page
        page.locator("#rw-request textarea").fill(request)
        page.locator("#rw-send").click()
        self.text_of("#rw-english", "use service UPS_GROUND")
        self.text_of("#rw-impact", "sample orders")
        page.locator("#rw-chat").get_by_text("Here is what I understood").wait_for()
        page.locator(".rw-chart svg .mark-rect path").first.wait_for()  # the bars are drawn
        self.shot("drafted")
        page.locator("#rw-note textarea").fill(note)
        page.locator("#rw-submit").click()
        status = self.text_of("#rw-assistant-status", r"Submitted as proposal #\d+")
        self.shot("submitted")
        return int(re.search(r"#(\d+)", status).group(1))  # type: ignore[union-attr]

    def open_proposal(self, number: int, note: str) -> None:
        self.tab("Review")
        self.text_of("#rw-queue", re.escape(note))
        self.shot("queue")
        self.page.locator("#rw-proposal-id input").fill(str(number))
        self.page.locator("#rw-open").click()
        self.text_of("#rw-proposal-header", f"Proposal #{number}")

    def close(self) -> None:
        self.context.close()


def test_draft_submit_review_approve_rules_export(browser: Any, auth_app: Any, artifacts: Path) -> None:
    alice = Session(browser, auth_app, "alice", artifacts, "flow")
    alice.text_of("#rw-model-banner", "No model configured")
    number = alice.draft_and_submit("For ACME, ship orders heavier than 40 lb with UPS Ground.", "heavy ACME parcels")
    alice.close()

    bob = Session(browser, auth_app, "bob", artifacts, "flow")
    bob.open_proposal(number, "heavy ACME parcels")
    page = bob.page
    assert "acme-ups-ground-weight-over-40" in bob.text_of("#rw-diff", "added")
    assert page.locator("#rw-diff td.rw-ins").count() > 5, "the added rule's lines are highlighted"
    bob.shot("review-diff")
    bob.tab("Impact")
    bob.text_of("#rw-review-impact", "sample orders")
    page.locator("#rw-review-impact").scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the charts draw
    bob.shot("review-impact")
    bob.tab("Provenance")
    assert "heavier than 40 lb" in bob.text_of("#rw-provenance", "offline parser")
    page.locator("#rw-comment textarea").fill("checked the dry run")
    page.locator("#rw-approve").click()
    assert "is now active" in bob.text_of("#rw-review-outcome", "Approved")
    bob.shot("approved")

    bob.tab("Rules")
    page.locator("#rw-rule-search input, #rw-rule-search textarea").first.fill("over-40")
    page.locator("#rw-rule-search input, #rw-rule-search textarea").first.press("Enter")
    bob.text_of("#rw-rules-table", "acme-ups-ground-weight-over-40")
    bob.text_of("#rw-active-version", "Active version v1")
    page.locator("#rw-rule-id input, #rw-rule-id textarea").first.fill("acme-ups-ground-weight-over-40")
    page.get_by_role("button", name="Show rule").click()
    bob.text_of("#rw-rule-history", "added")
    bob.shot("rules")

    bob.tab("Decisions")
    heavy = {"id": "E2E-1", "client": "ACME", "ship_to": {"country": "US", "region": "NY", "postal_code": "10001"},
             "lines": [{"sku": "ACME-HOODIE", "qty": 1, "unit_price": 49.0}], "weight": {"value": 45, "unit": "lb"}}
    page.locator("#rw-order-json .cm-content").fill(json.dumps(heavy, indent=2))
    page.locator("#rw-decide").click()
    assert "UPS_GROUND" in bob.text_of("#rw-decision", "Order E2E-1")
    from playwright.sync_api import expect

    expect(page.locator("#rw-why textarea")).to_have_value(re.compile("acme-ups-ground-weight-over-40 matched"))
    bob.shot("decision")

    bob.tab("Export")
    page.get_by_role("button", name="Refresh versions").click()
    bob.text_of("#rw-versions", "checked|heavy ACME parcels")
    page.locator("#rw-export-bundle").click()
    link = page.locator("#rw-bundle-file a[download='rulewright-bundle-v1.json']")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    saved = artifacts / "flow-bundle-v1.json"
    download.value.save_as(saved)
    bundle = json.loads(saved.read_text())
    assert bundle["version"] == 1 and bundle["approved_by"] == "bob" and bundle["author"] == "alice"
    assert [r["id"] for r in bundle["rules"]] == ["acme-ups-ground-weight-over-40"]
    bob.shot("export")
    bob.close()


def test_author_cannot_approve_own_proposal_in_the_page(browser: Any, auth_app: Any, artifacts: Path) -> None:
    carol = Session(browser, auth_app, "carol", artifacts, "foureyes")
    number = carol.draft_and_submit("For GLOBEX, ship orders heavier than 45 lb with UPS Ground.", "mine")
    carol.open_proposal(number, "mine")
    carol.page.locator("#rw-approve").click()
    outcome = carol.text_of("#rw-review-outcome", "four eyes")
    assert outcome.startswith("✖") and f"carol wrote proposal {number}" in outcome
    carol.shot("refused")
    assert auth_app.store.get_proposal(number).status == "submitted"
    carol.close()
