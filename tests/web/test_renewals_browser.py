"""The Renewals page in a real Chromium (issue 19.7): the forecast by quarter and month with
commit / upside / at risk, and each month's renewals collapsed until opened, every row with its
health, churn risk and last touch. Screenshots at 1440 and 390 px go to test-results/web/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.model import ContractStatus, RenewalOutcome
from tests import factories as f
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    """Initech's renewal signed ahead (commit) and Umbrella's notice (at risk, nothing
    expected); Acme is scored 70% (at risk) by the live console's fixture."""

    def seed(session: Session, book: Book) -> None:
        today = book.today
        f.contract(
            session,
            book.initech,
            arr=90_000,
            starts_on=today + timedelta(days=91),
            ends_on=today + timedelta(days=455),
            status=ContractStatus.pending,
        )
        f.contract(
            session,
            book.umbrella,
            arr=5_000,
            currency="EUR",
            starts_on=today - timedelta(days=200),
            ends_on=today + timedelta(days=100),
            renewal_outcome=RenewalOutcome.churned,
            notice_on=today - timedelta(days=3),
        )

    return seed


def test_renewals_forecast_and_months_collapsed(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    page.goto(f"{live_console.url}/renewals")
    forecast = page.locator("#forecast")
    expect(forecast).to_contain_text("Expected to renew")
    expect(forecast.locator("tbody")).to_contain_text("USD")
    month = page.locator("details.month").first
    row = month.locator("tbody tr").first
    expect(row).to_be_hidden()  # collapsed by month
    expect(month.locator("summary")).to_contain_text("At risk 1")
    month.locator("summary").click()
    expect(row).to_be_visible()
    # Acme: 70% chance of churn, at risk; its health, churn risk and last touch (a QBR).
    expect(row).to_contain_text("Acme")
    expect(row).to_contain_text("At risk")
    expect(row).to_contain_text("70 %")
    expect(row.locator(".band")).to_have_text("55")
    expect(row).to_contain_text(str((live_console.book.today - timedelta(days=20)).isoformat()))
    # The other months' rows are fetched when each is opened (htmx), Initech's signed renewal too.
    for other in page.locator("details.month").all()[1:]:
        other.locator("summary").click()
        expect(other.locator("tbody tr").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("renewal signed (")
    expect(page.locator("body")).not_to_contain_text("at_risk")
    # Nothing wider than the window at 1440 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    page.screenshot(path=str(screenshot_dir / "renewals-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#forecast")).to_be_visible()
    # The forecast and month cards fit the phone's width; their tables scroll inside them.
    for card in ("#forecast", "#months", "details.month >> nth=0"):
        box = page.locator(card).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, card
    page.screenshot(path=str(screenshot_dir / "renewals-390.png"), full_page=True)
