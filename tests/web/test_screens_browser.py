"""Core work in a real Chromium without a terminal (issue 19.1): an admin imports an export with a
bad row and skips it. Screenshots go to test-results/web/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book
from tests.web.test_screens import champion_with_email, salesforce_accounts_with_a_bad_row

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    def seed(session: Session, book: Book) -> None:
        # Cleo as the CRM's User export named her: the accounts' owner in the export.
        book.cleo.external_id = "0055e000001OwnAAAS"
        champion_with_email(session, book)

    return seed


def test_admin_imports_a_file_with_a_bad_row_and_skips_it(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    page.locator(".topbar summary", has_text="Data").click()  # the top bar's Data menu
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()
    page.get_by_label("What the file holds").select_option("contacts")
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "Account_extract.csv",
            "mimeType": "text/csv",
            "buffer": salesforce_accounts_with_a_bad_row(),
        }
    )
    page.get_by_role("button", name="Check the file").click()
    # Picked as contacts: the page names the kind the columns fit.
    page.get_by_role("link", name="check it as accounts").click()
    expect(page.locator("#import-check .pill")).to_have_text("found from the file's columns")
    expect(page.locator("#import-verdict")).to_contain_text("3 row(s) can be imported; 1 row(s)")
    problem = page.locator("#row-problems tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("6")
    expect(problem).to_contain_text("NumberOfEmployees")
    expect(problem).to_contain_text("lots")
    expect(page.locator("#preview-rows")).to_contain_text("Müller Präzision GmbH")
    page.screenshot(path=str(screenshot_dir / "import-preview.png"), full_page=True)
    expect(page.get_by_label("Skip the 1 row(s) that cannot be read")).to_be_checked()
    page.get_by_role("button", name="Import the 3 good row(s)").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("3 added")
    expect(report).to_contain_text("1 left out")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rows left out").click()
    left_out = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert left_out[0] == "line,column,value,reason"
    assert left_out[1].startswith("6,NumberOfEmployees,lots,"), left_out
    page.screenshot(path=str(screenshot_dir / "import-report.png"), full_page=True)
    page.goto(f"{live_console.url}/imports")
    expect(page.locator("#import-history tbody tr").first).to_contain_text("imported")
    page.goto(f"{live_console.url}/portfolio?q=M%C3%BCller")
    expect(page.locator("#portfolio-table")).to_contain_text("Müller Präzision GmbH")


def test_manager_creates_and_sends_a_survey_campaign(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "max@example.com")
    page.locator(".topbar summary", has_text="Playbooks").click()  # the top bar's Playbooks menu
    page.get_by_role("link", name="Surveys", exact=True).click()
    form = page.locator("#new-campaign")
    form.get_by_label("Name").fill("Champions NPS")
    form.get_by_label("Champions").check()
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name="Champions NPS")).to_be_visible()
    expect(page.locator("#campaign")).to_contain_text("Asks champions at every account")
    page.get_by_role("button", name="Send the campaign").click()
    result = page.locator("#send-result")
    expect(result).to_contain_text("1 invitation(s) queued in the outbox")
    expect(result).to_contain_text("1 contact(s) not asked: surveyed in the last 90 days")
    page.screenshot(path=str(screenshot_dir / "survey-campaign-sent.png"), full_page=True)
    page.get_by_role("link", name="See the outbox").click()
    expect(page.locator("main")).to_contain_text("gus@globex.example")


def test_csm_sets_a_desired_outcome_and_marks_a_milestone(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    page.get_by_role("link", name="Set the Desired Outcome and success plan").click()
    form = page.locator("#outcome-form")
    form.get_by_label("Required Outcome").fill("Every rep works in the new tool")
    form.locator("select[name=measure]").select_option(label="License utilization (%)")
    # By name: the Appropriate Experience requirement rows below have the same labels.
    form.locator("select[name=op]").select_option(label="at least")
    form.locator("input[name=target]").fill("80")
    form.locator("select[name=touch_model]").select_option("high_touch")
    form.get_by_role("button", name="Save the Desired Outcome").click()
    outcome = page.locator("#desired-outcome")
    expect(outcome).to_contain_text("Every rep works in the new tool")
    expect(outcome).to_contain_text("measured as License utilization at least 80 %")
    # The form offers the version in force for the next one: its target too, in percent.
    expect(form.locator("input[name=target]")).to_have_value("80")
    page.get_by_role("button", name="Create the plan from the segment's milestones").click()
    milestones = page.locator("#milestones tbody tr")
    expect(milestones.first).to_be_visible()
    first = milestones.first
    first.get_by_role("button", name="Mark reached").click()
    expect(page.locator("#milestones tbody tr").first.locator("td").nth(4)).not_to_have_text("—")
    page.screenshot(path=str(screenshot_dir / "success-plan.png"), full_page=True)
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    expect(page.locator("#success-plan")).to_contain_text("Every rep works in the new tool")


def test_csm_downloads_the_ebr_as_a_pdf(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    page.get_by_role("link", name="EBR pack").first.click()
    expect(page.get_by_role("heading", name="Executive Business Review — Acme")).to_be_visible()
    expect(page.locator("#for-the-team")).to_contain_text("not in the PDF")
    page.screenshot(path=str(screenshot_dir / "ebr.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename == "ebr-acme.pdf"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert "Executive Business Review — Acme" in text and "Jane Champion" in text
    assert "Value stage" not in text


def test_manager_builds_previews_and_saves_a_rule(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_console, "max@example.com")
    page.goto(f"{live_console.url}/rules")
    page.get_by_role("link", name="New rule…").click()
    form = page.locator("#rule-form")
    form.get_by_label("Name").fill("Renewal within 60 days")
    form.get_by_label("Kind of call to action").select_option("renewal")
    form.get_by_label("Fact 1").select_option(label="Days to renewal (days)")
    form.get_by_label("Comparison 1").select_option("at most")
    form.get_by_label("Value 1").fill("60")
    form.get_by_role("button", name="Preview").click()
    firings = page.locator("#preview-firings tbody tr")
    expect(firings).to_have_count(1)
    expect(firings.first).to_contain_text("Acme")
    expect(firings.first).to_contain_text("Renewal in 30 days (at most 60 days)")
    expect(page.locator("#rule-preview")).not_to_contain_text("days_to_renewal")
    page.screenshot(path=str(screenshot_dir / "rule-builder-preview.png"), full_page=True)
    page.get_by_role("button", name="Save this rule").click()
    expect(page.get_by_role("heading", name="Preview: Renewal within 60 days")).to_be_visible()
    page.goto(f"{live_console.url}/rules")
    expect(page.locator("main")).to_contain_text("Renewal within 60 days")


@pytest.mark.parametrize("width", [1440, 390])
def test_the_new_screens_fit_the_window(
    page: Page, live_console: LiveConsole, screenshot_dir: Path, width: int
) -> None:
    """Each new screen at a desk and on a phone: nothing wider than the window (wide tables
    scroll inside their card); screenshots of each."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_console, "ada@example.com")
    acme = live_console.book.acme.id
    for name, path in [
        ("imports", "/imports"),
        ("surveys", "/surveys"),
        ("success-plan", f"/accounts/{acme}/success-plan"),
        ("rule-builder", "/rules/new?name=Soon&fact=days_to_renewal&comparison=at+most&value=60"),
        ("churn-review", "/churn-review?status=all"),
    ]:
        response = page.goto(f"{live_console.url}{path}")
        assert response is not None and response.status == 200, path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(screenshot_dir / f"{name}-{width}.png"), full_page=True)
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert overflow <= 1, (path, overflow, wide)
