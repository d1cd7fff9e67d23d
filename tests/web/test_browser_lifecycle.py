"""The lifecycle model in a real Chromium: an admin switches to ESG on the Admin page, lands on
the Lifecycle page showing ESG's steps, and opens a stage's accounts in the portfolio.
Screenshots go to test-results/web/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveConsole, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_switches_to_esg_and_opens_a_stage(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    page.goto(f"{live_console.url}/admin#lifecycle")
    section = page.locator("#lifecycle")
    model = section.get_by_label("Stages shown on every page, report and export")
    expect(model).to_have_value("laer")
    model.select_option(label="ESG (ends in Realization)")
    section.get_by_role("button", name="Use this model").click()

    expect(page).to_have_url(f"{live_console.url}/lifecycle")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ESG (ends in Realization)")
    stages = page.locator("#stage-table")
    expect(stages.locator("tbody tr")).to_have_count(5)  # four steps and "no active contract"
    realization = stages.locator('tr[data-stage="realization"]')
    expect(realization).to_contain_text("The published model")
    expect(stages.locator('tr[data-stage="land"]')).to_contain_text("Tenure")
    page.screenshot(path=str(screenshot_dir / "lifecycle-esg.png"), full_page=True)

    stages.locator('tr[data-stage="adopt"]').get_by_role("link", name="Adopt").click()
    expect(page).to_have_url(f"{live_console.url}/portfolio?stage=adopt")
    expect(page.locator('select[name="stage"]')).to_have_value("adopt")
