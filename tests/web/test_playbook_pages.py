"""The playbook pages of the console: rules in force, daily runs, outbox — real rows, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.model import DailyRun, WebhookDelivery
from tenure.model.base import utcnow
from tenure.playbooks import outbox, service, webhooks
from tenure.playbooks.rules import default_rules_path, load_ruleset
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_rules_page_lists_the_rules_in_force(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")  # a CSM may read the rules
    response = console.client.get("/rules")
    assert response.status_code == 200
    rules = load_ruleset().rules
    assert rules, "the shipped default rules file has rules"
    for rule in rules:
        assert rule.name in response.text and rule.key in response.text
    assert 'href="/api/v1/rules?as_of=' in response.text  # the JSON twin
    twin = console.client.get("/api/v1/rules").json()
    assert [r["key"] for r in twin] == [r.key for r in rules]
    # whose accounts each rule watches, in words: the shipped rules concern customers
    assert {r["applies_to"] for r in twin} == {"customers"}
    assert "Watches customers (a contract in force)" in response.text
    # The control share as every percent on the console; the kind of CTA in words.
    assert '<td class="num">10 %</td>' in response.text and "0%<" not in response.text
    assert "<td>Risk</td>" in response.text and "<td>risk</td>" not in response.text


def test_rules_file_path_is_shown_whole_to_admins_only(console: Console) -> None:
    path = str(default_rules_path())
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/rules").text
    assert path not in page and default_rules_path().name not in page
    sign_in(console.client, "ada@example.com")
    assert f"<code>{path}</code>" in console.client.get("/rules").text


def test_daily_runs_page_shows_recorded_runs(console: Console) -> None:
    started = utcnow() - timedelta(minutes=5)
    with console.session() as session:
        session.add(
            DailyRun(
                as_of=console.book.today,
                status="failed",
                started_at=started,
                finished_at=started + timedelta(seconds=42),
                steps=[{"name": "scores", "error": None}, {"name": "ctas", "error": "boom"}],
                counts={"scores": {"accounts": 7}, "ctas": {"created": 3}},
                errors=[{"step": "ctas", "error": "rule churn-risk: fact missing"}],
            )
        )
        session.commit()
    sign_in(console.client, "cleo@example.com")
    response = console.client.get("/daily-runs")
    assert response.status_code == 200
    text = response.text
    assert console.book.today.isoformat() in text
    assert 'class="pill red">failed' in text
    assert "Scores</strong>: 7 accounts" in text and "Ctas</strong>: 3 opened" in text
    assert "rule churn-risk: fact missing" in text
    assert 'href="/api/v1/daily-runs"' in text


def test_outbox_page_shows_messages_and_deliveries_to_managers_only(console: Console) -> None:
    with console.session() as session:
        message = outbox.enqueue(
            session,
            kind="cta_step",
            goal="Book the renewal call",
            recipient="buyer@acme.example",
            subject="Renewal at Acme",
            body="Hello",
            sender="cs@tenure.example",
        )
        message.attempts = 2
        message.last_error = "SMTP 451: try again later"
        endpoint = webhooks.create_endpoint(
            session, url="https://hooks.example/tenure", events=["*"]
        )
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id="evt-123",
                event_type="cta.created",
                payload={},
                next_attempt_at=utcnow(),
                last_status_code=500,
                last_error="HTTP 500",
            )
        )
        session.commit()

    sign_in(console.client, "cleo@example.com")
    assert console.client.get("/outbox").status_code == 403  # a CSM does not see the outbox
    assert ">Outbox<" not in console.client.get("/rules").text  # nor its navigation link

    sign_in(console.client, "max@example.com")
    response = console.client.get("/outbox")
    assert response.status_code == 200
    text = response.text
    assert "Renewal at Acme" in text and "buyer@acme.example" in text
    assert "Book the renewal call" in text and "SMTP 451: try again later" in text
    assert 'class="pill amber">pending' in text
    assert ">Outbox<" in text and 'href="/api/v1/outbox"' in text  # navigation, JSON twin
    assert "evt-123" in text and "HTTP 500" in text
    assert console.client.get("/outbox?status=sent").text.count("Renewal at Acme") == 0
    refused = console.client.get("/outbox?status=nonsense")
    assert (
        refused.status_code == 422
        and "choose one of pending, sending, sent, failed" in refused.text
    )


def test_rule_yaml_and_preview_pages(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(console.client, "cleo@example.com")
    rules = console.client.get("/rules").text
    # A CSM reads the trigger in words; the YAML is an admin's details toggle.
    assert "Renewal in at most 120 days and Renewal in at least 0 days" in rules
    assert "- key: renewal_preparation" not in rules
    sign_in(console.client, "ada@example.com")
    rules = console.client.get("/rules").text
    assert "- key: renewal_preparation" in rules and "cooldown_days: 180" in rules
    past = console.book.today - timedelta(days=60)
    page = console.client.get(f"/rules/preview?rule=renewal_preparation&as_of={past}")
    assert page.status_code == 200
    # Acme is 90 days from its renewal then; Hooli's contract (ended since) had 50 days left.
    assert (
        f"on <strong>{past}</strong>:" in page.text
        and "fires on <strong>2</strong> of" in page.text
    )
    assert "Renewal in 90 days (between 0 and 120 days)" in page.text
    assert "days_to_renewal = 90 (&lt;= 120)" in page.text  # the admin's details
    twin = f"/api/v1/rules/renewal_preparation/preview?as_of={past}&amp;offset=0&amp;limit=50"
    assert f'href="{twin}"' in page.text
    # A page of the firings at a time (here one per page), every firing counted.
    monkeypatch.setattr(service, "PREVIEW_PAGE", 1)
    first = console.client.get(f"/rules/preview?rule=renewal_preparation&as_of={past}").text
    second = console.client.get(f"/rules/preview?rule=renewal_preparation&as_of={past}&page=2")
    for shown in (first, second.text):
        assert "fires on <strong>2</strong> of" in shown and shown.count("<tr data-row>") == 1
    assert "Accounts 1–1 of 2" in first and "Accounts 2–2 of 2" in second.text
    assert f"as_of={past}&amp;page=2" in first and "Next →" in first
    assert "← Previous" in second.text and "Next →" not in second.text
    past_last = console.client.get(f"/rules/preview?rule=renewal_preparation&as_of={past}&page=9")
    assert "This page is past the last" in past_last.text
    unknown = console.client.get("/rules/preview?rule=nope")
    assert unknown.status_code == 422 and "no rule &#39;nope&#39;; known rules:" in unknown.text
