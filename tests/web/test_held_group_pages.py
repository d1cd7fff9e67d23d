"""The Product ids page: an id the product sends that no account carries, shown in words with
the account it most likely is; one button links it and its events follow."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tenure.store.events import events_table_from_rows, open_event_store
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def _workspace_usage(console: Console, name: str) -> None:
    moment = datetime.combine(console.book.today, datetime.min.time(), UTC)
    group = {"message_id": "g1", "type": "group", "event": ""}
    group["properties"] = json.dumps({"name": name, "website": "https://acme.example"})
    tracks = [{"message_id": f"t{i}", "type": "track", "event": "search"} for i in range(3)]
    common = {"source": "web", "account_id": "ws_1f2e", "user_id": "u-ws"}
    common |= {"timestamp": moment, "received_at": moment}
    store = open_event_store(console.settings)
    store.write_parquet(events_table_from_rows(common | row for row in [group, *tracks]))


def test_an_admin_links_a_held_product_id_to_the_account_it_likely_is(console: Console) -> None:
    acme = console.book.acme
    _workspace_usage(console, acme.name)
    assert sign_in(console.client, "ada@example.com").status_code == 303
    page = console.client.get("/events/held")
    assert page.status_code == 200
    text = page.text
    assert "ws_1f2e" in text and f"It is {acme.name}" in text and "it is named" in text
    assert "3 usage event(s) wait under 1 id(s)" in text
    assert 'href="/api/v1/events/held"' in text  # the page links its JSON twin
    done = console.client.post(
        "/events/held/link",
        data={"group_id": "ws_1f2e", "account": acme.external_id, "csrf_token": csrf_of(text)},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert f"ws_1f2e now belongs to {acme.name}: 3 stored event(s)" in done.text
    assert "Every id the product sends names an account." in done.text


def test_the_page_is_for_admins(console: Console) -> None:
    assert sign_in(console.client, "cleo@example.com").status_code == 303
    assert console.client.get("/events/held").status_code == 403


def test_an_admin_makes_a_held_product_id_a_new_account(console: Console) -> None:
    _workspace_usage(console, "Initech")
    assert sign_in(console.client, "ada@example.com").status_code == 303
    text = console.client.get("/events/held").text
    assert "Yes, make a new account called Initech" in text
    done = console.client.post(
        "/events/held/new-account",
        data={"group_id": "ws_1f2e", "csrf_token": csrf_of(text)},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "ws_1f2e now belongs to Initech: 3 stored event(s)" in done.text
    assert "Every id the product sends names an account." in done.text
