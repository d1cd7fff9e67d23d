"""The Product ids page in Chromium: the likely account is the one prominent answer, a new
account is a second choice that asks first, and the table reads as cards on a phone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tenure.store.events import events_table_from_rows
from tenure.store.events.store import EventStore
from tests.web.conftest import LiveConsole, sign_in

pytestmark = pytest.mark.browser


def _held(live: LiveConsole, group_id: str, name: str, tracks: int) -> None:
    """A product workspace called ``name`` that no account carries yet, with some usage."""
    moment = datetime.combine(live.book.today, datetime.min.time(), UTC)
    group = {"message_id": f"{group_id}-g", "type": "group", "event": ""}
    group["properties"] = json.dumps({"name": name})
    rows = [group] + [
        {"message_id": f"{group_id}-t{i}", "type": "track", "event": "search"}
        for i in range(tracks)
    ]
    common = {"source": "web", "account_id": group_id, "user_id": f"u-{group_id}"}
    common |= {"timestamp": moment, "received_at": moment}
    store = EventStore(live.data_dir)
    store.write_parquet(events_table_from_rows(common | row for row in rows))
    store.close()


def test_the_likely_account_is_the_first_answer_and_a_new_one_asks_first(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    live = live_console
    acme = live.book.acme
    _held(live, "ws_acme", acme.name, 3)  # named as Acme: Acme is its likely account
    _held(live, "ws_solo", "Vandelay Trial", 2)  # a customer only the product knows
    sign_in(page, live, "ada@example.com")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live.url}/events/held")
        row = page.locator("#held-groups tr", has_text="ws_acme")
        likely = row.get_by_role("button", name=f"It is {acme.name}")
        expect(likely).to_have_class("primary")
        # Making a new account is folded away and asks before it acts.
        new = row.get_by_role("button", name=f"Yes, make a new account called {acme.name}")
        expect(new).to_be_hidden()
        expect(row.locator("summary", has_text=f"Not {acme.name}?")).to_be_visible()
        # With no likely account, linking by name is the first answer; a new account the second.
        solo = page.locator("#held-groups tr", has_text="ws_solo")
        expect(solo.get_by_role("button", name="Link")).to_have_class("primary")
        second = solo.get_by_role("button", name="or make it a new account called Vandelay Trial")
        expect(second).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        table = page.evaluate(
            "(t => t.scrollWidth - t.clientWidth)(document.querySelector('#held-groups'))"
        )
        page.screenshot(path=str(screenshot_dir / f"product-ids-{width}.png"), full_page=True)
        assert overflow <= 1 and table <= 1, (width, overflow, table)
    row = page.locator("#held-groups tr", has_text="ws_acme")
    row.locator("summary", has_text=f"Not {acme.name}?").click()
    expect(row).to_contain_text(f"its 3 event(s) and 1 person(s) count for it, not for {acme.name}")
    row.get_by_role("button", name=f"Yes, make a new account called {acme.name}").click()
    expect(page.locator(".notice")).to_contain_text(f"ws_acme now belongs to {acme.name}")
