"""A CSM's calls to action in a real Chromium: open one from Today, tick a playbook step off,
close it with an outcome and a note; snooze another from Today to a picked day; a viewer sees the
same page with no button. Screenshots at 1440 and 390 px go to test-results/web/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.model import CtaStep
from tests import factories as f
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_more():  # type: ignore[no-untyped-def]
    def seed(session: Session, book: Book) -> None:
        """Cleo's CTAs on Acme: a renewal with a two-step playbook, a detractor, a champion
        who left."""
        renewal = f.cta(
            session, book.acme, owner=book.cleo, title="Renewal on the 30th", today=book.today
        )
        renewal.kind, renewal.rule_key, renewal.open_key = "renewal", "renewal_preparation", "r"
        renewal.facts = [
            {"fact": "days_to_renewal", "op": "<=", "threshold": 120, "value": 30, "passed": True}
        ]
        renewal.steps = [
            CtaStep(position=1, title="Confirm the decision maker", due_on=book.today),
            CtaStep(position=2, title="Send the order form", due_on=book.today + timedelta(7)),
        ]
        left = f.cta(session, book.acme, owner=book.cleo, title="Champion left", today=book.today)
        left.rule_key, left.open_key = "champion_left", "c"
        session.flush()
        f.cta(session, book.acme, owner=book.cleo, title="Detractor at Acme", today=book.today)

    return seed


def test_a_csm_closes_one_cta_with_an_outcome_and_snoozes_another(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    live, today = live_console, live_console.book.today
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live, "cleo@example.com")

    # Snooze the detractor CTA from Today to a day picked in the form.
    row = page.locator("tr[data-cta]", has_text="Detractor at Acme")
    detractor = row.get_attribute("data-cta")
    row.locator("summary", has_text="Snooze").click()
    picked = today + timedelta(days=10)
    row.locator("input[name=until]").fill(picked.isoformat())
    row.get_by_role("button", name="Snooze").click()
    expect(row).to_have_count(0)  # off Today until the day picked
    page.goto(f"{live.url}/ctas/{detractor}")
    expect(page.locator("#cta-status")).to_have_text(f"Snoozed until {picked}")
    page.goto(f"{live.url}/today")

    # Open the renewal CTA: its goal and why in words, its steps.
    page.get_by_role("link", name="Renewal on the 30th").click()
    expect(page.locator("#goal")).to_contain_text("Renew on time at full ARR")
    expect(page.locator("#cta-why")).to_have_text("Renewal in 30 days (at most 120 days)")
    page.screenshot(path=str(screenshot_dir / "cta-1440.png"), full_page=True)
    page.locator("li[data-step='1']").get_by_role("button", name="Mark done").click()
    expect(page.locator("#steps h2")).to_contain_text("1 of 2 done")
    expect(page.locator("li[data-step='1']")).to_contain_text(f"Done on {today} by Cleo CSM")

    page.get_by_label("Tried — it did not work").check()
    page.get_by_label(re.compile("^Note")).fill("Sponsor went quiet; escalating to the VP")
    page.get_by_role("button", name="Close the call to action").click()
    expect(page.locator("#cta-status")).to_have_text(f"Closed {today}")
    expect(page.locator("#cta-outcome")).to_contain_text(
        "Tried — it did not work — Sponsor went quiet; escalating to the VP"
    )
    expect(page.locator("#history li").first).to_contain_text("Closed: Tried — it did not work")
    expect(page.locator("form[action*='/ctas/']")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "cta-closed-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the CTA page is {width} px wide on a 390 px phone"
    text = page.locator("body").inner_text()
    assert "tenure " not in text.lower() and "(<=" not in text


def test_a_viewer_sees_the_cta_without_buttons(page: Page, live_console: LiveConsole) -> None:
    sign_in(page, live_console, "vic@example.com")
    page.goto(f"{live_console.url}/today?scope=all")
    page.get_by_role("link", name="Champion left").first.click()
    expect(page.locator("#act")).to_contain_text("Only its owner, the account's team")
    expect(page.get_by_role("button")).not_to_have_count(0)  # the top bar's own buttons
    expect(page.locator("main form")).to_have_count(0)
