"""The console in a real Chromium: sign in, filter, open an account, log a touchpoint, keyboard,
command palette, and a page the role may not see. Screenshots go to test-results/web/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveConsole, page_ready, sign_in

pytestmark = pytest.mark.browser


def test_csm_lands_on_today_with_their_renewal(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    expect(page.get_by_role("heading", name="Renewals in the next 120 days")).to_be_visible()
    renewals = page.locator("section", has_text="Renewals in the next").locator("tbody tr")
    expect(renewals).to_have_count(1)
    expect(renewals.first).to_contain_text("Acme")
    expect(renewals.first).to_contain_text("120,000 USD")
    expect(page.locator("footer")).to_contain_text("Data as of")
    page.screenshot(path=str(screenshot_dir / "today.png"), full_page=True)


def test_filter_portfolio_open_account_and_log_a_touchpoint(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}/portfolio")
    rows = page.locator("#portfolio-table tbody tr")
    expect(rows).to_have_count(4)  # Hooli churned: left out by default
    page.get_by_label("include churned").check()
    expect(rows).to_have_count(5)
    page.get_by_label("Segment").select_option("Enterprise")  # htmx swaps the table in place
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/portfolio\?.*segment=Enterprise"))  # shareable URL
    page.get_by_label("Search accounts", exact=True).fill("acm")
    expect(rows).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "portfolio-filtered.png"), full_page=True)

    page.get_by_role("link", name="Acme").click()
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    page_ready(page)  # the touchpoint form below is sent by htmx
    breakdown = page.locator("#health-breakdown")
    expect(breakdown.locator("table")).to_be_hidden()
    breakdown.get_by_text("Why 55?").click()  # one click from the score to its reasons
    expect(breakdown.locator("tbody tr").first).to_contain_text("License utilization")
    expect(breakdown.locator("tbody tr").first).to_contain_text("+20 points")
    expect(page.locator("#risk")).to_contain_text("70 %")
    expect(page.locator("#relationships")).to_contain_text("Jane Champion")
    timeline = page.locator("#timeline-items > li")
    expect(timeline).to_have_count(3)
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Renewal kick-off")
    page.get_by_label("Notes").fill("Budget approved; legal review next week.")
    page.get_by_role("button", name="Log touchpoint").click()
    expect(timeline).to_have_count(4)
    expect(timeline.first).to_contain_text("call: Renewal kick-off")
    expect(timeline.first).to_contain_text("Cleo CSM")
    expect(page.get_by_label("Subject")).to_have_value("")  # the form reset for the next one
    page.screenshot(path=str(screenshot_dir / "account-360.png"), full_page=True)
    page.reload()  # stored, not just drawn
    expect(page.locator("#timeline-items > li").first).to_contain_text("Renewal kick-off")


def test_keyboard_and_command_palette(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    sign_in(page, live_console, "max@example.com")
    page.goto(f"{live_console.url}/portfolio")
    page.keyboard.press("/")
    expect(page.get_by_label("Search accounts", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.selected")).to_contain_text("Globex")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Globex")).to_be_visible()
    page_ready(page)

    page.keyboard.press("Control+k")
    palette = page.get_by_label("Search accounts, owners, pages and actions")
    expect(palette).to_be_focused()
    palette.fill("init")
    expect(page.locator("#palette-results li").first).to_contain_text("Initech")
    page.screenshot(path=str(screenshot_dir / "command-palette.png"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Initech")).to_be_visible()
    page_ready(page)
    page.keyboard.press("g")
    page.keyboard.press("r")
    expect(page).to_have_url(f"{live_console.url}/renewals")
    page_ready(page)
    # A typo still finds the account; an owner opens the portfolio filtered to them.
    page.keyboard.press("Control+k")
    palette.fill("globx")
    expect(page.locator("#palette-results li").first).to_contain_text("Globex")
    palette.fill("sam csm")
    expect(page.locator("#palette-results li").first).to_contain_text("owner")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portfolio\?owner=\d+$"))
    expect(page.locator("#portfolio-table")).to_contain_text("Initech")
    page_ready(page)
    page.keyboard.press("g")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{live_console.url}/kpis")


def test_csm_is_refused_the_admin_page(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    sign_in(page, live_console, "sam@example.com")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto(f"{live_console.url}/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading")).to_contain_text("403")
    expect(page.locator("main")).to_contain_text("this needs the role admin")
    page.screenshot(path=str(screenshot_dir / "forbidden.png"))


def test_admin_and_renewals_pages(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    page.goto(f"{live_console.url}/admin")
    expect(page.locator("#users tbody tr")).to_have_count(5)
    expect(page.locator("#audit")).to_contain_text("Signed in")
    page.screenshot(path=str(screenshot_dir / "admin.png"), full_page=True)
    page.goto(f"{live_console.url}/renewals")
    expect(page.locator("#forecast")).to_contain_text("Expected to renew")
    page.screenshot(path=str(screenshot_dir / "renewals.png"), full_page=True)
    page.goto(f"{live_console.url}/risk?owner=all")
    expect(page.locator("tbody tr").first).to_contain_text("Acme")
    expect(page.locator("tbody tr").first).to_contain_text("Latest NPS answer")
    page.screenshot(path=str(screenshot_dir / "risk.png"), full_page=True)
    for name in ("kpis", "maturity"):
        response = page.goto(f"{live_console.url}/{name}")
        assert response is not None and response.status == 200
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)


def test_manager_confirms_a_churn_class(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    page.goto(f"{live_console.url}/churn-review")
    card = page.locator("section.churn", has_text="Hooli")
    expect(card).to_contain_text("Suggested: Unforeseen loss of a good-fit customer")
    expect(card).to_contain_text("cause: Our product or service (too few people used the product)")
    expect(card).to_contain_text("license utilization 12 %")
    # The manager changes the class: a change at the customer, which the team saw coming.
    card.get_by_text("Correct it before confirming…").click()
    card.get_by_label("Cause of losing Hooli").select_option(label="A change at the customer")
    card.get_by_label("Reason for losing Hooli").select_option(label="Their budget was cut")
    card.get_by_label("Foreseen (Hooli)").select_option(label="yes: we raised a risk in time")
    card.get_by_label("Root-cause review of Hooli").fill("Budget cut after the merger")
    page.screenshot(path=str(screenshot_dir / "churn-review.png"), full_page=True)
    card.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("section.churn", has_text="Hooli")).to_have_count(0)  # left the queue
    page.goto(f"{live_console.url}/churn-review?status=confirmed")
    expect(
        page.locator("section.churn", has_text="Hooli").locator(".confirmed-class")
    ).to_have_text(
        "Confirmed: Foreseen loss of a good-fit customer, cause a change at the customer, "
        "not avoidable. Review: Budget cut after the merger"
    )
