"""The growth side in a real Chromium: the account's farmer opens an expansion deal on Account 360
and it shows, weighed, on the Pipeline page; the CSM records a success story. Screenshots go to
test-results/web/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.model import AccountTeamMember, AccountTeamRole
from tests import factories as f
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    """Fay farms Acme (expansion) from the account team."""

    def seed(session: Session, book: Book) -> None:
        fay = f.user(session, email="fay@example.com", name="Fay Farmer")
        session.add(
            AccountTeamMember(account_id=book.acme.id, user_id=fay.id, role=AccountTeamRole.farmer)
        )

    return seed


def test_the_farmer_opens_an_expansion_deal(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "fay@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    expect(page.locator("#relationships")).to_contain_text("farmer (expansion)")
    growth = page.locator("#growth")
    expect(growth).to_contain_text("No opportunities on this account yet.")
    growth.get_by_text("Open an opportunity").click()
    form = growth.locator("form")
    form.get_by_label("What is it").fill("Add 50 seats for EMEA")
    form.get_by_label("Type of deal").select_option(label="Expansion")
    form.get_by_label("Amount").fill("24000")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Probability (%)").fill("40")
    form.get_by_label("Expected close").fill("2099-03-31")
    form.get_by_label("Stage").fill("Proposal")
    form.get_by_label("Forecast category").select_option(label="Best case")
    page.screenshot(path=str(screenshot_dir / "pipeline-open-deal.png"), full_page=True)
    form.get_by_role("button", name="Open opportunity").click()

    row = page.locator("#growth tbody tr").first
    expect(row).to_contain_text("Add 50 seats for EMEA")
    expect(row).to_contain_text("Expansion")
    expect(row).to_contain_text("24,000 EUR")
    expect(row).to_contain_text("40 %")
    expect(row).to_contain_text("Fay Farmer")  # no owner chosen: the account's farmer

    page.get_by_role("link", name="Pipeline →").click()
    deals = page.locator("#open-deals")
    expect(deals).to_contain_text("Add 50 seats for EMEA")
    # 2099 is beyond any horizon: counted apart, not in the quarters.
    expect(page.locator("#forecast")).to_contain_text(
        "Closing after the horizon: 1 expansion deal(s), 24,000 EUR"
    )
    page.screenshot(path=str(screenshot_dir / "pipeline-page.png"), full_page=True)

    deals.get_by_role("link", name="Add 50 seats for EMEA").click()
    close = page.locator("#close")
    close.get_by_label("Why it was won").fill("Rolled out to the EMEA team")
    close.get_by_role("button", name="Mark won").click()
    expect(page.locator("#growth tbody tr").first).to_contain_text("Won")


def test_the_csm_records_a_success_story(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    advocacy = page.locator("#advocacy")
    expect(advocacy).to_contain_text("No success stories, references, speaker slots or referrals")
    advocacy.get_by_text("Record advocacy").click()
    form = advocacy.locator("form")
    form.get_by_label("Type of advocacy").select_option(label="Success story")
    form.get_by_label("Title").fill("Month-end close in 3 days instead of 10")
    form.get_by_label("Who gave it").select_option(label="Jane Champion")
    form.get_by_label("Note").fill("Quoted in the CFO newsletter")
    form.get_by_role("button", name="Record").click()

    item = page.locator("#advocacy li").first
    expect(item).to_contain_text("Success story")
    expect(item).to_contain_text("Month-end close in 3 days instead of 10")
    expect(item).to_contain_text("Jane Champion")
    page.screenshot(path=str(screenshot_dir / "advocacy-success-story.png"), full_page=True)
