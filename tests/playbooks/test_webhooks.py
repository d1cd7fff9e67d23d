"""Webhooks to a real HTTP receiver on loopback: signed, retried, logged, redelivered."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.model import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookFormat
from tenure.model.base import utcnow
from tenure.playbooks import webhooks
from tenure.playbooks.config import PlaybookSettings
from tests.playbooks.conftest import Receiver

SETTINGS = PlaybookSettings(delivery_backoff_seconds=30, delivery_max_attempts=3)


def test_signed_delivery_retry_and_redelivery_keep_the_event_id(
    session: Session, receiver: Receiver
) -> None:
    endpoint = webhooks.create_endpoint(session, receiver.url, ["cta.created"])
    webhooks.emit(session, "cta.closed", {"summary": "not subscribed"})
    event_id = webhooks.emit(session, "cta.created", {"cta_id": 7, "summary": "CTA created"})
    receiver.statuses = [500]
    poster = webhooks.HttpPoster()
    now = utcnow()
    first = webhooks.deliver_pending(session, poster, SETTINGS, now=now)
    assert (first.delivered, first.retried) == (0, 1)
    # Not due before the 30 s backoff; delivered after it.
    assert webhooks.deliver_pending(session, poster, SETTINGS, now=now).retried == 0
    second = webhooks.deliver_pending(session, poster, SETTINGS, now=now + timedelta(seconds=31))
    assert second.delivered == 1
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        assert headers["X-Tenure-Event-Id"] == event_id
        assert webhooks.verify_signature(
            endpoint.secret,
            body,
            headers["X-Tenure-Timestamp"],
            headers["X-Tenure-Signature"],
            now=time.time(),
        )
        assert not webhooks.verify_signature(
            "wrong-secret",
            body,
            headers["X-Tenure-Timestamp"],
            headers["X-Tenure-Signature"],
            now=time.time(),
        )
    payload = json.loads(receiver.received[-1][1])
    assert payload["type"] == "cta.created" and payload["data"]["cta_id"] == 7
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    log = session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.status_code, a.error) for a in log] == [(500, "HTTP 500"), (200, None)]
    webhooks.redeliver(session, delivery.id, now=now + timedelta(seconds=40))
    webhooks.deliver_pending(session, poster, SETTINGS, now=now + timedelta(seconds=41))
    assert receiver.received[-1][0]["X-Tenure-Event-Id"] == event_id
    assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 3


def test_unreachable_endpoint_fails_after_max_attempts(session: Session) -> None:
    webhooks.create_endpoint(session, "http://127.0.0.1:9/nothing-listens", ["*"])
    webhooks.emit(session, "risk.raised", {"summary": "x"})
    now = utcnow()
    reports = [
        webhooks.deliver_pending(
            session, webhooks.HttpPoster(timeout=2), SETTINGS, now=now + timedelta(hours=i)
        )
        for i in range(3)
    ]
    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.status == DeliveryStatus.failed and "ConnectError" in (
        delivery.last_error or ""
    )


def test_slack_payload_and_fake_poster(session: Session) -> None:
    webhooks.create_endpoint(
        session, "https://hooks.example.com/x", ["survey.responded"], format=WebhookFormat.slack
    )
    webhooks.emit(session, "survey.responded", {"summary": "NPS 3 from Acme"})
    fake = webhooks.FakePoster()
    webhooks.deliver_pending(session, fake, SETTINGS)
    assert json.loads(fake.requests[0][1]) == {"text": "[Tenure] NPS 3 from Acme"}


def test_bad_endpoint_input_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="must start with http"):
        webhooks.create_endpoint(session, "ftp://x", ["*"])
    with pytest.raises(InvalidInput, match="choose from"):
        webhooks.create_endpoint(session, "https://x", ["cta.exploded"])
