"""Alignment and cohorts in a real Chromium: sales records a handoff, support opens a rescue CTA
that lands on the owner's Today, and the KPIs page draws the cohort retention curves.
Screenshots go to test-results/web/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.model import Account, AccountTeamMember, AccountTeamRole
from tests import factories as f
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    """Acme's account executive (Sally) and support lead (Sue), csm-role people who own no
    accounts, and Ivan from services, who has no seat yet."""

    def seed(session: Session, book: Book) -> None:
        sally = f.user(session, email="sally@example.com", name="Sally Sales")
        sue = f.user(session, email="sue@example.com", name="Sue Support")
        f.user(session, email="ivan@example.com", name="Ivan Implementation")
        session.get_one(Account, book.acme.id).employee_count = 120
        session.add_all(
            [
                AccountTeamMember(
                    account_id=book.acme.id,
                    user_id=sally.id,
                    role=AccountTeamRole.account_executive,
                ),
                AccountTeamMember(
                    account_id=book.acme.id, user_id=sue.id, role=AccountTeamRole.support_lead
                ),
            ]
        )

    return seed


def test_sales_records_the_handoff_to_services(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "sally@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    page.get_by_role("link", name="Alignment →").click()
    expect(page.locator("#holder")).to_have_text("Sally Sales")
    expect(page.locator("#handoff-history")).to_contain_text("No handoff recorded yet")
    form = page.locator("form.handoff-form")
    form.get_by_label("Step").select_option("sales_to_services")
    form.get_by_label("Hand to").select_option(label="Ivan Implementation")
    form.get_by_label("Required outcome").fill("Halve onboarding time for new reps")
    form.get_by_label("Measured by").fill("outcome.onboarding_days")
    form.get_by_label("Target").fill("14")
    form.get_by_label("Appropriate experience").select_option("high_touch")
    form.get_by_label("Technical fit: their stack and integrations are supported").select_option(
        "4"
    )
    form.get_by_label("Functional fit: the features they need exist today").select_option("3")
    form.get_by_label("Ready").select_option("yes")
    form.get_by_label("Note").fill("Signed for the Q3 hiring wave")
    page.screenshot(path=str(screenshot_dir / "alignment-handoff-form.png"), full_page=True)
    form.get_by_role("button", name="Record handoff").click()

    expect(page.locator("#holder")).to_have_text("Ivan Implementation")
    row = page.locator("#handoff-history tbody tr").first
    expect(row).to_contain_text("sales to services")
    expect(row).to_contain_text("Sally Sales → Ivan Implementation")
    expect(row).to_contain_text("Halve onboarding time for new reps")
    expect(row).to_contain_text("stretch")  # Success Potential, outside the ICP's segments
    expect(page.locator("#team")).to_contain_text("Ivan Implementation")
    page.screenshot(path=str(screenshot_dir / "alignment-after-handoff.png"), full_page=True)


def test_support_opens_a_rescue_cta_the_owner_sees_today(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "sue@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}/alignment")
    expect(page.locator(".header-strip")).to_contain_text("70 %")  # the same risk the CSM sees
    page.get_by_label("What did you see?").fill("Three escalated tickets this week")
    page.get_by_role("button", name="Open rescue CTA").click()
    expect(page.locator("#rescue")).to_contain_text(
        "Rescue requested by Sue Support (support lead): Three escalated tickets this week"
    )
    page.screenshot(path=str(screenshot_dir / "alignment-rescue.png"), full_page=True)

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, live_console, "cleo@example.com")
    cta = page.locator("#ctas tbody tr", has_text="Rescue requested by the account team")
    expect(cta).to_have_count(1)
    expect(cta).to_contain_text("Acme")
    expect(cta).to_contain_text("Sue Support (support lead)")
    expect(cta).to_contain_text("42,000")  # ranked by Acme's ARR at risk
    page.screenshot(path=str(screenshot_dir / "today-rescue-cta.png"), full_page=True)


def test_kpis_page_draws_the_cohort_curves(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "max@example.com")
    page.goto(f"{live_console.url}/kpis")
    # A line per start year: logos across currencies, ARR per currency.
    for chart, legend in (("#cohort-logo-chart", "Started in"), ("#cohort-arr-chart", "USD")):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)  # uPlot drew it
        expect(page.locator(f"{chart} .u-legend")).to_contain_text(legend)
    # The legend opens on the oldest line's last month; the younger cohort says where its line
    # ends instead of "—".
    logo = page.locator("#cohort-logo-chart .u-legend")
    expect(logo).to_contain_text("accounts)")
    expect(logo).to_contain_text(" at month ")
    expect(logo).not_to_contain_text("—")
    expect(page.locator("#cohort-table tbody tr").first).to_contain_text("100 %")
    page.locator("#cohorts").screenshot(path=str(screenshot_dir / "kpis-cohorts.png"))
