"""HubSpot and Stripe connected from the console's Connected systems page and /api/v1/connections
against their fakes on loopback, on SQLite and PostgreSQL: the form names each credential in the
vendor's words and never shows it back, a wrong key stores nothing, a sync started in the
background is listed with its counts and the API requests it made."""

from __future__ import annotations

import pytest

from tests.connectors.fake_hubspot import FakeHubSpot
from tests.connectors.fake_stripe import FakeStripe
from tests.connectors.test_connect_surfaces import bearer, form, wait_for_run
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_console_connects_stripe_with_a_restricted_key(
    console: Console, fake_stripe: FakeStripe
) -> None:
    client = console.client
    sign_in(client, "ada@example.com")
    page = client.get("/admin/connections")
    assert "API key (a restricted key)" in page.text
    assert "Access token (of a private app)" in page.text  # HubSpot's
    fields = {"base_url": fake_stripe.url, "objects": ["customers", "subscriptions"], "check": "on"}
    refused = client.post(
        "/admin/connections/stripe",
        data=form(page.text, **fields, secret_api_key="rk_test_typo"),
    )
    assert refused.status_code == 422
    assert "nothing was stored" in refused.text and "Invalid API Key provided" in refused.text
    assert "rk_test_typo" not in refused.text
    key = fake_stripe.account.api_key
    done = client.post(
        "/admin/connections/stripe",
        data=form(page.text, **fields, secret_api_key=key),
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text
    assert f"at <code>{fake_stripe.url}</code>; reads customers, subscriptions." in done.text
    assert key not in done.text


@pytest.mark.slow
def test_api_connects_hubspot_and_syncs_it_in_the_background(
    console: Console, fake_hubspot: FakeHubSpot
) -> None:
    admin = bearer(console, "ada@example.com")
    client = console.client
    token = fake_hubspot.portal.access_token
    body = {"credentials": {"access_token": token}, "base_url": fake_hubspot.url}
    answer = client.put("/api/v1/connections/hubspot", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["connection"]["objects"] == ["owners", "companies", "contacts", "deals"]
    assert token not in answer.text
    started = client.post("/api/v1/connections/hubspot/sync", headers=admin)
    assert started.status_code == 202, started.text
    run = wait_for_run(console, admin)
    assert run["status"] == "partial", run  # the deal without a company is refused
    read = {name: outcome["read"] for name, outcome in run["objects"].items()}
    assert read == {"owners": 2, "companies": 4, "contacts": 4, "deals": 3}
    requests = run["api_usage"]["api_requests"]
    sign_in(client, "ada@example.com")
    page = client.get("/admin/connections")
    assert f"{requests} in this sync" in page.text and token not in page.text
    # the refusal in plain words: the deal by name and id, its company — no mapping path
    assert "Not stored: Deal &#34;Unassigned inbound&#34; (18273645117): no company" in page.text
    assert "associations.companies" not in page.text
    # write-back to HubSpot: through the API, then shown and changed on the page
    options = {"health_score_field": "tenure_health_score", "closed_ctas_as_tasks": True}
    turned = client.put("/api/v1/connections/hubspot/write-back", json=options, headers=admin)
    assert turned.status_code == 200, turned.text
    shown = client.get("/api/v1/connections/hubspot/write-back", headers=admin).json()
    assert shown["health_score_field"] == "tenure_health_score" and shown["closed_ctas_as_tasks"]
    assert client.get("/api/v1/connections/zendesk/write-back", headers=admin).status_code == 422
    page = client.get("/admin/connections")
    assert "Write back to HubSpot" in page.text and 'value="tenure_health_score"' in page.text
    saved = client.post(
        "/admin/connections/hubspot/write-back",
        data=form(page.text, churn_risk_field="tenure_churn_risk"),
        follow_redirects=True,
    )
    assert "Saved: HubSpot gets what you chose after each daily run." in saved.text
    shown = client.get("/api/v1/connections/hubspot/write-back", headers=admin).json()
    assert shown["churn_risk_field"] == "tenure_churn_risk" and not shown["closed_ctas_as_tasks"]
