"""Connecting from /api/v1/connections and the console's Connected systems page, against
Salesforce's and Slack's APIs faked on loopback, on SQLite and PostgreSQL: the credentials tried
then stored, never echoed (not even after a refusal); a sync started in the background and its
run listed; disconnect; only admins."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tenure.auth.service import create_api_token
from tests.connectors.fake_salesforce import FakeSalesforce
from tests.connectors.fake_slack import TOKEN, FakeSlack, Workspace
from tests.connectors.salesforce_org import ACCOUNTS, CONTACTS, USERS
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def bearer(console: Console, email: str) -> dict[str, str]:
    with console.session() as session:
        user = next(u for u in (console.book.ada, console.book.cleo) if u.email == email)
        token = create_api_token(session, user.id, "test", None).token
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def salesforce_body(fake: FakeSalesforce, **changes: Any) -> dict[str, Any]:
    credentials = {
        "client_id": fake.org.client_id,
        "client_secret": fake.org.client_secret,
        "refresh_token": fake.org.refresh_token,
    }
    return {"credentials": {**credentials, **changes}, "base_url": fake.url}


def wait_for_run(console: Console, headers: dict[str, str]) -> dict[str, Any]:
    """The background sync's run once it has finished (the child process commits it)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = console.client.get("/api/v1/connections/runs", headers=headers).json()
        if runs and runs[0]["status"] != "running":
            return dict(runs[0])
        time.sleep(0.5)
    raise AssertionError("the sync did not finish in 120 s")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(Workspace(channels={"#cs-alerts": "C0ALERTS"}))
    yield fake
    fake.stop()


@pytest.mark.slow
def test_api_connects_syncs_in_the_background_and_disconnects(
    console: Console, fake_salesforce: FakeSalesforce
) -> None:
    admin = bearer(console, "ada@example.com")
    client = console.client
    secret = fake_salesforce.org.client_secret
    refused = client.put(
        "/api/v1/connections/salesforce",
        json=salesforce_body(fake_salesforce, refresh_token="5Aep861stolen"),
        headers=admin,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "connection_check_failed"
    assert refused.json()["message"].startswith("nothing was stored: Salesforce refused")
    assert client.get("/api/v1/connections", headers=admin).json() == []

    answer = client.put(
        "/api/v1/connections/salesforce", json=salesforce_body(fake_salesforce), headers=admin
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["connection"]["objects"] == ["User", "Account", "Contact"]
    assert body["answer"] == {"daily_api_requests_limit": 15000, "remaining": 14999}
    assert secret not in answer.text and fake_salesforce.org.refresh_token not in answer.text

    started = client.post("/api/v1/connections/salesforce/sync", headers=admin)
    assert started.status_code == 202, started.text
    run = wait_for_run(console, admin)
    assert run["status"] == "succeeded", run
    read = {name: outcome["read"] for name, outcome in run["objects"].items()}
    assert read == {"User": len(USERS), "Account": len(ACCOUNTS), "Contact": len(CONTACTS)}
    listed = client.get("/api/v1/connections", headers=admin)
    assert listed.json()[0]["last_run"]["id"] == run["id"]
    assert secret not in listed.text

    options = {"health_score_field": "Tenure_Health__c", "closed_ctas_as_tasks": True}
    turned = client.put("/api/v1/connections/salesforce/write-back", json=options, headers=admin)
    assert turned.status_code == 200, turned.text
    shown = client.get("/api/v1/connections/salesforce/write-back", headers=admin).json()
    assert shown["health_score_field"] == "Tenure_Health__c" and shown["closed_ctas_as_tasks"]
    bad = client.put(
        "/api/v1/connections/salesforce/write-back",
        json={"health_score_field": "Health score"},
        headers=admin,
    )
    assert bad.status_code == 422

    csm = bearer(console, "cleo@example.com")
    assert client.get("/api/v1/connections", headers=csm).status_code == 403
    assert (
        client.put("/api/v1/connections/salesforce/write-back", json=options, headers=csm)
    ).status_code == 403
    assert client.post("/api/v1/connections/salesforce/sync", headers=csm).status_code == 403
    assert client.delete("/api/v1/connections/salesforce", headers=csm).status_code == 403
    assert client.delete("/api/v1/connections/salesforce", headers=admin).status_code == 204
    assert client.get("/api/v1/connections", headers=admin).json() == []
    unknown = client.put("/api/v1/connections/sugarcrm", json={"credentials": {}}, headers=admin)
    assert unknown.status_code == 404 and "there are: salesforce" in unknown.json()["message"]


def test_api_sets_up_slack_alerts_without_echoing_the_token(
    console: Console, slack: FakeSlack
) -> None:
    admin = bearer(console, "ada@example.com")
    client = console.client
    options = {"channel": "#cs-alerts", "to_owner": False, "alerts": ["health_red"]}
    wrong = client.put(
        "/api/v1/alerts/slack",
        json={"bot_token": "xoxb-wrong", "options": options, "base_url": slack.url},
        headers=admin,
    )
    assert wrong.status_code == 422
    assert wrong.json()["message"] == (
        "nothing was stored: checking the token: Slack did not accept the bot token"
    )
    answer = client.put(
        "/api/v1/alerts/slack",
        json={"bot_token": TOKEN, "options": options, "base_url": slack.url},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["alert_names"] == ["Health turned red"] and TOKEN not in answer.text
    shown = client.get("/api/v1/alerts/slack", headers=admin)
    assert shown.json()["options"]["channel"] == "#cs-alerts" and TOKEN not in shown.text
    assert client.get("/api/v1/alerts/slack/messages", headers=admin).json() == []
    csm = bearer(console, "cleo@example.com")
    assert client.get("/api/v1/alerts/slack", headers=csm).status_code == 403
    assert client.delete("/api/v1/alerts/slack", headers=admin).status_code == 204
    assert client.get("/api/v1/alerts/slack", headers=admin).json() is None


def form(page: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_of(page), **fields}


def test_console_connects_refuses_in_words_and_disconnects(
    console: Console, fake_salesforce: FakeSalesforce
) -> None:
    client = console.client
    sign_in(client, "ada@example.com")
    page = client.get("/admin/connections")
    assert page.status_code == 200 and "Not connected." in page.text
    secrets = {
        "secret_client_id": fake_salesforce.org.client_id,
        "secret_client_secret": "typed-a-wrong-secret",
        "secret_refresh_token": fake_salesforce.org.refresh_token,
    }
    fields = {"base_url": fake_salesforce.url, "objects": ["Account", "Contact"], "check": "on"}
    refused = client.post(
        "/admin/connections/salesforce", data=form(page.text, **fields, **secrets)
    )
    assert refused.status_code == 422
    assert "nothing was stored: Salesforce refused the refresh token" in refused.text
    assert "typed-a-wrong-secret" not in refused.text
    secrets["secret_client_secret"] = fake_salesforce.org.client_secret
    done = client.post(
        "/admin/connections/salesforce",
        data=form(page.text, **fields, **secrets),
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "Connected. It syncs in the daily run" in done.text
    assert f"at <code>{fake_salesforce.url}</code>; reads account, contact." in done.text
    assert fake_salesforce.org.client_secret not in done.text
    assert fake_salesforce.org.refresh_token not in done.text
    bad_field = client.post(
        "/admin/connections/salesforce/write-back",
        data=form(done.text, health_score_field="Health score"),
    )
    assert bad_field.status_code == 422
    assert (
        "Health score field: &#39;Health score&#39; is not a field&#39;s API name" in bad_field.text
    )
    saved = client.post(
        "/admin/connections/salesforce/write-back",
        data=form(done.text, health_score_field="Tenure_Health__c", closed_ctas_as_tasks="on"),
        follow_redirects=True,
    )
    assert "Saved: Salesforce gets what you chose after each daily run." in saved.text
    assert 'value="Tenure_Health__c"' in saved.text
    removed = client.post(
        "/admin/connections/salesforce/remove", data=form(done.text), follow_redirects=True
    )
    assert "Disconnected: its credentials are deleted" in removed.text
    assert "Not connected." in removed.text
    sign_in(client, "cleo@example.com")
    assert client.get("/admin/connections").status_code == 403


def test_no_object_chosen_is_refused_by_name(console: Console, session: Session) -> None:
    client = console.client
    sign_in(client, "ada@example.com")
    page = client.get("/admin/connections").text
    refused = client.post(
        "/admin/connections/salesforce",
        data=form(page, base_url="https://login.salesforce.com", secret_client_id="x"),
    )
    assert refused.status_code == 422
    assert "choose at least one Salesforce object to sync" in refused.text
