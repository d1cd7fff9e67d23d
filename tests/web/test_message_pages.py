"""Engagement messages in the console (in-process): a CSM drafts a message with its goal and
check, approves it, and sees it queued, logged and counted per template."""

from __future__ import annotations

import sqlalchemy as sa

from tenure.model import Contact, OutboxMessage, Touchpoint
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

# A risk outreach to Acme as the Messages page's form sends it.
DRAFT = {
    "account": "Acme",
    "moment": "risk_outreach",
    "goal": "Seats back in use",
    "metric": "license_utilization",
    "comparison": "at_least",
    "target": "60",
    "milestone": "",
    "after_days": "30",
}


def test_a_csm_drafts_and_approves_a_message(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/messages").text
    assert "No draft waiting." in page and "Risk outreach" in page
    form = {"csrf_token": csrf_of(page), **DRAFT}
    # Jane, the one current contact, has no address yet: refused in words, nothing stored.
    refused = console.client.post("/messages", data=form)
    assert refused.status_code == 422
    assert "&#39;Acme&#39;: the contact to write to has no e-mail address" in refused.text
    with console.session() as session:
        jane = session.scalar(sa.select(Contact).where(Contact.external_id == "acme-jane"))
        assert jane is not None
        jane.email = "jane@acme.example"
        session.commit()
    drafted = console.client.post("/messages", data=form)
    assert drafted.status_code == 200
    assert "License utilization at least 60 % within 30 days" in drafted.text
    message_id = int(drafted.text.split('data-message="')[1].split('"')[0])
    approved = console.client.post(
        f"/messages/{message_id}/approve", data={"csrf_token": csrf_of(drafted.text)}
    )
    assert approved.status_code == 200 and "queued" in approved.text
    assert "No draft waiting." in approved.text
    with console.session() as session:
        queued = session.scalars(sa.select(OutboxMessage)).one()
        assert (queued.recipient, queued.goal, queued.kind) == (
            "jane@acme.example",
            "Seats back in use",
            "engagement",
        )
        logged = session.scalars(
            sa.select(Touchpoint).where(Touchpoint.external_id == f"engagement-{message_id}")
        ).one()
        assert logged.subject == queued.subject and logged.user_id == console.book.cleo.id
    report = {r["moment"]: r for r in console.client.get("/api/v1/messages/report").json()}
    assert (report["risk_outreach"]["sent"], report["risk_outreach"]["awaiting_check"]) == (1, 1)
