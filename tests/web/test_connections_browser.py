"""Connected systems in a real Chromium: an admin connects Salesforce (faked on HTTPS loopback)
from the form, syncs it now and sees the run complete, then sets up Slack alerts (Slack faked on
loopback). The secrets typed never come back in the page. Screenshots go to test-results/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.http.live import served_app
from tenure.model.base import utcnow
from tenure.store.database import create_engine
from tests.connectors.fake_salesforce import FakeSalesforce
from tests.connectors.fake_slack import TOKEN, FakeSlack, Workspace
from tests.connectors.salesforce_org import ACCOUNTS, acme_org
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import make_book

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Live(LiveConsole):
    salesforce: FakeSalesforce
    slack: FakeSlack


@pytest.fixture(scope="module")
def live(migrated_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    salesforce = FakeSalesforce(acme_org(), tmp_path_factory.mktemp("salesforce"), page_size=2)
    slack = FakeSlack(Workspace(channels={"#cs-alerts": "C0ALERTS"}))
    database_url = migrated_template("sqlite")
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        book = make_book(session, utcnow().date())
        session.commit()
    engine.dispose()
    data_dir = tmp_path_factory.mktemp("connections-data")
    env = {
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "browser-test-secret-of-32-characters-or-more",
        # The server (and the sync it starts) trusts the fake's certificate like a company CA.
        "REQUESTS_CA_BUNDLE": str(salesforce.cert),
    }
    log = tmp_path_factory.mktemp("connections-log") / "uvicorn.log"
    try:
        with served_app(env, log) as url:
            found = Live(url, book, data_dir)
            found.salesforce, found.slack = salesforce, slack
            yield found
    finally:
        salesforce.stop()
        slack.stop()


def test_an_admin_connects_salesforce_syncs_it_and_sets_up_slack(
    page: Page, live: Live, screenshot_dir: Path
) -> None:
    org = live.salesforce.org
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live, "ada@example.com")
    page.goto(f"{live.url}/admin")
    page.get_by_role("link", name="Connect, sync or disconnect a system").click()
    expect(page).to_have_url(f"{live.url}/admin/connections")
    card = page.locator("#salesforce")
    expect(card).to_contain_text("Not connected.")
    card.get_by_label("Address").fill(live.salesforce.url)
    card.get_by_label("Client id").fill(org.client_id)
    card.get_by_label("Client secret").fill("not-the-secret")
    card.get_by_label("Refresh token").fill(org.refresh_token)
    card.get_by_role("button", name="Connect Salesforce").click()
    expect(page.locator("#form-error")).to_contain_text(
        "nothing was stored: Salesforce refused the refresh token"
    )
    card = page.locator("#salesforce")
    card.get_by_label("Client id").fill(org.client_id)
    card.get_by_label("Client secret").fill(org.client_secret)
    card.get_by_label("Refresh token").fill(org.refresh_token)
    card.get_by_role("button", name="Connect Salesforce").click()
    expect(page.get_by_role("status")).to_contain_text("Connected. It syncs in the daily run")
    expect(page.locator("#salesforce")).to_contain_text("reads user, account, contact")

    page.get_by_role("button", name="Sync Salesforce now").click()
    expect(page.get_by_role("status")).to_contain_text("The sync started")
    runs = page.locator("#runs tbody tr").first
    for _ in range(60):  # the sync runs in a background process; reload as a person would
        if "complete" in runs.inner_text():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(runs).to_contain_text("complete")
    expect(runs).to_contain_text(f"Account: {len(ACCOUNTS)} read, {len(ACCOUNTS)} new")
    content = page.content()
    assert org.client_secret not in content and org.refresh_token not in content
    page.screenshot(path=str(screenshot_dir / "connections.png"), full_page=True)

    slack = page.locator("#slack")
    slack.get_by_label("Bot token").fill(TOKEN)
    slack.get_by_label("Channel").fill("#cs-alerts")
    slack.get_by_label("Champion left").uncheck()
    page.evaluate(
        "url => document.querySelector('#slack input[name=base_url]').value = url",
        live.slack.url,
    )
    slack.get_by_role("button", name="Connect Slack").click()
    expect(page.get_by_role("status")).to_contain_text("Slack alerts are set up")
    expect(page.locator("#slack")).to_contain_text(
        "Connected: Health turned red, Churn risk rose, A CTA assigned go to "
        "the channel #cs-alerts and each CSM by direct message"
    )
    assert TOKEN not in page.content()
