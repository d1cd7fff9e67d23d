"""Outgoing webhooks: signed JSON events, retried with backoff, logged, redeliverable.

``emit`` writes one delivery per subscribed endpoint in the caller's transaction;
``deliver_pending`` POSTs them. Each request carries:

- ``X-Tenure-Event-Id``: the same on retries and redeliveries, so the receiver drops repeats;
- ``X-Tenure-Event``: the event type;
- ``X-Tenure-Timestamp``: seconds since the epoch;
- ``X-Tenure-Signature``: ``sha256=`` + HMAC-SHA256 of ``"{timestamp}." + body`` with the
  endpoint's secret (``verify_signature`` is the receiver's check).

A 2xx answer delivers; anything else retries with exponential backoff until the attempt limit.
Endpoints with ``format: slack`` receive ``{"text": …}``, which Slack incoming webhooks accept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFormat,
)
from tenure.model.base import utcnow
from tenure.playbooks.config import PlaybookSettings, retry_delay

EVENT_TYPES = ("cta.created", "cta.closed", "health.changed", "risk.raised", "survey.responded")


class Poster(Protocol):
    """POSTs a body and returns the HTTP status; raises OSError/httpx errors on no answer."""

    def post(self, url: str, content: bytes, headers: dict[str, str]) -> int: ...


class HttpPoster:
    def __init__(self, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def post(self, url: str, content: bytes, headers: dict[str, str]) -> int:
        return self.client.post(url, content=content, headers=headers).status_code


@dataclass
class FakePoster:
    """Records requests; answers with the queued status codes, then 200."""

    requests: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def post(self, url: str, content: bytes, headers: dict[str, str]) -> int:
        self.requests.append((url, content, headers))
        return self.statuses.pop(0) if self.statuses else 200


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float, tolerance: int = 300
) -> bool:
    """The receiver's check: a valid signature on a timestamp no older than ``tolerance`` s."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def create_endpoint(
    session: Session,
    url: str,
    events: list[str],
    *,
    format: WebhookFormat = WebhookFormat.json,
    description: str | None = None,
) -> WebhookEndpoint:
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook url {url!r}: must start with http:// or https://")
    unknown = sorted(set(events) - set(EVENT_TYPES) - {"*"})
    if unknown or not events:
        raise InvalidInput(
            f"webhook events {unknown or events}: choose from {', '.join(EVENT_TYPES)} or *"
        )
    endpoint = WebhookEndpoint(
        url=url,
        secret=secrets.token_hex(32),
        events=sorted(set(events)),
        format=format,
        description=description,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def emit(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    event_id: str | None = None,
) -> str:
    """Record the event for every subscribed endpoint; returns its event id.

    A caller that may repeat itself (a re-run day) passes a deterministic ``event_id``: an event
    already recorded under that id is not recorded again.
    """
    if event_type not in EVENT_TYPES:
        raise InvalidInput(f"unknown webhook event {event_type!r}")
    now = now or utcnow()
    if event_id is not None:
        seen = sa.select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)
        if session.scalar(seen.limit(1)) is not None:
            return event_id
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": event_type,
        "created_at": now.isoformat(),
        "data": data,
    }
    endpoints = session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.is_active))
    for endpoint in endpoints:
        if event_type in endpoint.events or "*" in endpoint.events:
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=event_id,
                    event_type=event_type,
                    payload=payload,
                    next_attempt_at=now,
                )
            )
    session.flush()
    return event_id


def render(endpoint: WebhookEndpoint, payload: dict[str, Any]) -> bytes:
    if endpoint.format == WebhookFormat.slack:
        summary = payload["data"].get("summary") or payload["type"]
        body: dict[str, Any] = {"text": f"[Tenure] {summary}"}
    else:
        body = payload
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def as_counts(self) -> dict[str, int]:
        return dict(self.__dict__)


def deliver_pending(
    session: Session,
    poster: Poster,
    settings: PlaybookSettings,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """POST every due delivery once, logging each attempt."""
    now = now or utcnow()
    report = DeliveryReport()
    due = session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.pending)
        .where(WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
    ).all()
    for delivery in due:
        endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id)
        _attempt(session, endpoint, delivery, poster, settings, now, report)
    session.flush()
    return report


def _attempt(
    session: Session,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    poster: Poster,
    settings: PlaybookSettings,
    now: datetime,
    report: DeliveryReport,
) -> None:
    body = render(endpoint, delivery.payload)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tenure-Webhooks/1",
        "X-Tenure-Event-Id": delivery.event_id,
        "X-Tenure-Event": delivery.event_type,
        "X-Tenure-Timestamp": str(timestamp),
        "X-Tenure-Signature": sign(endpoint.secret, timestamp, body),
    }
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        status = poster.post(endpoint.url, body, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.perf_counter() - started) * 1000)
    delivery.attempts += 1
    delivery.last_status_code = status
    delivery.last_error = error
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id, at=now, status_code=status, error=error, duration_ms=duration
        )
    )
    if error is None:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        report.delivered += 1
    elif delivery.attempts >= settings.delivery_max_attempts:
        delivery.status = DeliveryStatus.failed
        report.failed += 1
    else:
        delay = retry_delay(delivery.attempts, settings.delivery_backoff_seconds)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        report.retried += 1


def redeliver(
    session: Session, delivery_id: int, *, now: datetime | None = None
) -> WebhookDelivery:
    """Queue a delivery again (same event id), whatever its status."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    delivery.status = DeliveryStatus.pending
    delivery.next_attempt_at = now or utcnow()
    session.flush()
    return delivery
