"""The playbook pages in a real Chromium: the rules with their YAML and a preview on a past date,
a daily run with its per-step counts and the schedule, the outbox with each message's status —
and a viewer refused the outbox. Screenshots go to test-results/web/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.http.live import served_app
from tenure.jobs.daily import run_daily
from tenure.jobs.worker import write_heartbeat
from tenure.model import OutboxStatus
from tenure.model.base import utcnow
from tenure.playbooks import outbox
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.outbox import FakeMailer
from tenure.playbooks.rules import load_ruleset
from tenure.store.database import create_engine
from tenure.store.events import open_event_store
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import make_book

pytestmark = pytest.mark.browser


def seed_outbox(session: Session) -> None:
    """Beside the digests the daily run sent: one message that failed, one still waiting."""
    failed = outbox.enqueue(
        session,
        kind="cta_step",
        goal="Book the renewal call",
        recipient="buyer@initech.example",
        subject="Renewal at Initech",
        body="Hello",
        sender="cs@tenure.example",
    )
    failed.status, failed.attempts = OutboxStatus.failed, 8
    failed.last_error = "SMTP 550: mailbox unavailable"
    outbox.enqueue(
        session,
        kind="cta_step",
        goal="Agree the success plan",
        recipient="jane@acme.example",
        subject="Success plan for Acme",
        body="Hello",
        sender="cs@tenure.example",
    )
    session.commit()


@pytest.fixture(scope="module")
def live_playbooks(
    migrated_template: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """The console over the named book after a real daily run of yesterday (metrics, health,
    risk without a fitted model, rules, digests sent to a fake mail server)."""
    database_url = migrated_template("sqlite")
    data_dir = tmp_path_factory.mktemp("playbook-data")
    engine = create_engine(database_url)
    today = utcnow().date()
    with Session(engine, expire_on_commit=False) as session:
        book = make_book(session, today)
        session.commit()
    store = open_event_store(Settings(database_url=database_url, data_dir=data_dir))
    result = run_daily(
        engine,
        today - timedelta(days=1),
        load_ruleset(),
        PlaybookSettings(mail_from="cs@tenure.example"),
        mailer=FakeMailer(),
        store=store,
        data_dir=data_dir,
    )
    assert result.run.status == "succeeded", result.run.errors
    store.close()
    with Session(engine, expire_on_commit=False) as session:
        seed_outbox(session)
    engine.dispose()
    write_heartbeat(data_dir, utcnow())  # as a worker's tick would
    env = {
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "browser-test-secret-of-32-characters-or-more",
        "TENURE_DAILY_AT": "00:00",  # today (no run yet) is always due
    }
    log = tmp_path_factory.mktemp("playbook-log") / "uvicorn.log"
    with served_app(env, log) as url:
        yield LiveConsole(url, book, data_dir)


def test_rules_with_their_yaml_and_a_preview_on_a_past_date(
    page: Page, live_playbooks: LiveConsole, screenshot_dir: Path
) -> None:
    live = live_playbooks
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live, "ada@example.com")  # the rule's YAML: an admin's details toggle
    page.goto(f"{live.url}/rules")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(len(load_ruleset().rules))
    renewal = rows.filter(has_text="Renewal within 120 days")
    expect(renewal).to_contain_text("Renewal in at most 120 days and Renewal in at least 0 days")
    yaml_text = renewal.locator("details.rule-yaml pre")
    expect(yaml_text).to_be_hidden()
    renewal.locator("details.rule-yaml summary").click()
    expect(yaml_text).to_contain_text("key: renewal_preparation")
    expect(yaml_text).to_contain_text("fact: days_to_renewal")
    page.screenshot(path=str(screenshot_dir / "rules.png"), full_page=True)

    # 60 days ago Acme (renewing in 30 days) was 90 days from renewal and Hooli's contract,
    # ended 10 days ago, had 50 days left; Initech (90) and Umbrella (100) were 150 and 160
    # days away. Hooli shows a past date is read as it was, not as today.
    past = live.book.today - timedelta(days=60)
    form = page.locator("#preview-form")
    form.get_by_label("Rule").select_option("renewal_preparation")
    form.get_by_label("As of").fill(past.isoformat())
    form.get_by_role("button", name="Preview").click()
    expect(page).to_have_url(f"{live.url}/rules/preview?rule=renewal_preparation&as_of={past}")
    firings = page.locator("#preview-firings tbody tr")
    expect(firings).to_have_count(2)
    expect(firings.nth(0)).to_contain_text("Acme")
    expect(firings.nth(0)).to_contain_text("Renewal in 90 days (between 0 and 120 days)")
    expect(firings.nth(1)).to_contain_text("Hooli")
    expect(firings.nth(1)).to_contain_text("Renewal in 50 days (between 0 and 120 days)")
    expect(page.locator("#preview-summary")).to_contain_text(f"on {past}: fires on 2 of")
    expect(page.locator("#preview-load tbody td")).to_have_text(
        ["cleo@example.com", "1", "sam@example.com", "1"]
    )
    page.screenshot(path=str(screenshot_dir / "rule-preview-past.png"), full_page=True)

    page.get_by_label("As of").fill(live.book.today.isoformat())  # today: Hooli has left
    page.get_by_role("button", name="Preview").click()
    expect(firings.locator("td:first-child")).to_have_text(["Acme", "Initech", "Umbrella"])
    expect(page.locator("#preview-load tbody td")).to_have_text(
        ["cleo@example.com", "1", "sam@example.com", "1", "unassigned", "1"]
    )


def test_daily_runs_show_the_schedule_and_each_step(
    page: Page, live_playbooks: LiveConsole, screenshot_dir: Path
) -> None:
    live = live_playbooks
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live, "cleo@example.com")
    page.goto(f"{live.url}/daily-runs")
    schedule = page.locator("#schedule")
    expect(schedule).to_contain_text("Every day at 00:00 UTC")
    expect(schedule).to_contain_text(f"the run as of {live.book.today} is due now")
    expect(schedule).to_contain_text("Worker last seen")
    row = page.locator("table.list tbody tr").first
    expect(row).to_contain_text((live.book.today - timedelta(days=1)).isoformat())
    expect(row.locator(".pill.green")).to_have_text("succeeded")
    for step in (
        "Usage figures",
        "Health scores",
        "Calls to action",
        "Follow-ups",
        "E-mail outbox",
    ):
        expect(row).to_contain_text(step)
    expect(row).to_contain_text("2 digests")  # Cleo's and Sam's books
    expect(row).to_contain_text("2 sent")
    expect(row.locator(".skipped")).to_contain_text(
        "Churn risk skipped no churn model fitted yet; until then churn risk is not scored"
    )
    page.screenshot(path=str(screenshot_dir / "daily-runs.png"), full_page=True)


def test_outbox_statuses_for_a_manager_and_refused_to_a_viewer(
    page: Page, live_playbooks: LiveConsole, screenshot_dir: Path
) -> None:
    live = live_playbooks
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live, "max@example.com")
    page.goto(f"{live.url}/outbox")
    messages = page.locator("#messages tbody tr")
    expect(messages).to_have_count(4)  # two digests sent, one failed, one waiting
    expect(messages.filter(has_text="Renewal at Initech").locator(".pill")).to_have_text("failed")
    expect(messages.filter(has_text="Renewal at Initech")).to_contain_text(
        "SMTP 550: mailbox unavailable"
    )
    expect(messages.filter(has_text="Success plan for Acme").locator(".pill")).to_have_text(
        "pending"
    )
    expect(messages.filter(has_text="Your book today").locator(".pill")).to_have_text(
        ["sent", "sent"]
    )
    page.screenshot(path=str(screenshot_dir / "outbox.png"), full_page=True)
    page.get_by_label("Status").select_option("failed")  # submits on change
    expect(page).to_have_url(f"{live.url}/outbox?status=failed")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("Renewal at Initech")

    page.context.clear_cookies()
    sign_in(page, live, "vic@example.com")
    expect(page.get_by_role("link", name="Outbox")).to_have_count(0)  # not in the navigation
    response = page.goto(f"{live.url}/outbox")
    assert response is not None and response.status == 403
    expect(page.locator("main")).not_to_contain_text("Renewal at Initech")
    page.screenshot(path=str(screenshot_dir / "outbox-viewer-refused.png"), full_page=True)
