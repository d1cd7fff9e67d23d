"""Segment-spec ingest: liberal in what it accepts, never losing a batch (ENGINEERING.md).

``read_payload`` (pure) turns a decoded request body into an ``IngestPlan``: the messages to store
(track, page, screen, and identify and group for their traits' history), the identity calls to
apply (identify → Contact, group → Account and membership, alias → IdentityAlias) and the
messages to quarantine with their reason: invalid by the spec, text that cannot be stored (a lone
UTF-16 surrogate, NUL), or an event time outside the accepted window. One message at a time is
:mod:`tenure.ingest.segment_calls`; :mod:`tenure.ingest.segment_identities` writes the identity
calls (flush only: the caller owns the transaction).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from tenure.errors import TenureError
from tenure.ingest.segment_calls import (
    EventCall,
    IdentityMessage,
    dumps,
    event_row,
    event_time,
    identity_row,
    unstorable_text,
    validate_message,
)
from tenure.ingest.segment_schemas import AliasMessage
from tenure.store.events import Quarantined

# 500 KB per batch is what Segment's own clients may send; we take 8 MiB.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
# A misbehaving sender must not fill the disk with quarantined copies of 8 MiB bodies.
QUARANTINE_RAW_CHARS = 64 * 1024
BATCH_ENDPOINTS = frozenset({"batch", "import"})
ENDPOINTS = ("track", "identify", "group", "page", "screen", "alias", "batch", "import")


class UndecodableBody(TenureError):
    """The one case answered 400: nothing in the body can be read."""

    status_code = 400
    code = "invalid_body"


class BodyTooLarge(TenureError):
    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class AcceptedTimes:
    """The event times a sender may give; others are quarantined (Settings.ingest_earliest,
    ingest_max_ahead_hours): a clock at year 1 or 3000 would otherwise make a partition of its
    own and stretch every report's range."""

    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    ahead: timedelta = timedelta(days=1)

    def refusal(self, moment: datetime, received_at: datetime) -> str | None:
        # A difference, not received_at + ahead: that sum may pass year 9999.
        if self.earliest <= moment and moment - received_at <= self.ahead:
            return None
        return (
            f"event time {moment.isoformat()} is outside the accepted window: from "
            f"{self.earliest.isoformat()} to {_hours(self.ahead)} after its receipt at "
            f"{received_at.isoformat()} (a device clock gone wrong?)"
        )


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} hour(s)"


@dataclass
class IngestPlan:
    source: str
    received_at: datetime
    # Rows for the event store: usage events, and identify and group calls as messages.
    events: list[dict[str, Any]] = field(default_factory=list)
    identities: list[IdentityMessage] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    received: int = 0


# orjson reads integers beyond 64 bits as floats (a changed id, a rounded value): a body with a
# run of 20 digits anywhere is read by the standard library, which keeps them exact. (Found by
# mapping every digit to "0" and the rest to "x": ten times faster than a regular expression.)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256))
_LONG_DIGITS = b"0" * 20


def decode_body(body: bytes) -> Any:
    """Parse an inflated request body, or say exactly why it cannot be read.

    orjson reads the usual body several times faster than ``json``; what it refuses (NaN, a
    lone surrogate) or might round (huge integers) goes to ``json``, which also words the error.
    """
    if _LONG_DIGITS not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:  # NaN, 1e400, a lone surrogate, deep nesting
            pass
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UndecodableBody(
            f"body is not UTF-8: byte 0x{body[error.start]:02x} at offset {error.start}"
        ) from error
    try:
        # NaN and ±Infinity are not JSON; some senders emit them anyway, or numbers beyond a
        # double (1e400): they become null, so what is stored stays valid JSON.
        return json.loads(text, parse_constant=lambda _: None, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise UndecodableBody(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise UndecodableBody("body is nested too deeply to be read as JSON") from error


def _finite_float(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def read_payload(
    payload: Any,
    endpoint: str,
    *,
    source: str,
    received_at: datetime,
    accepted: AcceptedTimes = AcceptedTimes(),
) -> IngestPlan:
    """Validate every message of one request; invalid ones are quarantined, never fatal."""
    plan = IngestPlan(source, received_at)
    batch = endpoint in BATCH_ENDPOINTS
    messages = _split(payload, endpoint)
    plan.received = len(messages)
    for index, (raw, reason) in enumerate(messages):
        message = reason or validate_message(raw, None if batch else endpoint)
        if not isinstance(message, str):
            message = accepted.refusal(event_time(message, received_at), received_at) or message
        if isinstance(message, str):
            where = f"batch[{index}] " if batch and reason is None else ""
            plan.quarantined.append(
                Quarantined(source, where + message, _kept_raw(raw), received_at)
            )
        elif isinstance(message, EventCall):
            plan.events.append(event_row(message, source, received_at))
        else:
            plan.identities.append(message)
            if not isinstance(message, AliasMessage):
                plan.events.append(identity_row(message, source, received_at))
    return plan


def _split(payload: Any, endpoint: str) -> list[tuple[Any, str | None]]:
    """(message, reason it is unusable or None); batch-level sentAt/context reach each message."""
    if endpoint not in BATCH_ENDPOINTS:
        return [(payload, None)]
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        return [(payload, "batch: expected a JSON object with a list named 'batch'")]
    shared_context = payload.get("context")
    messages: list[tuple[Any, str | None]] = []
    for raw in payload["batch"]:
        if isinstance(raw, dict):
            if "sentAt" in payload and "sentAt" not in raw:
                raw = {**raw, "sentAt": payload["sentAt"]}
            if isinstance(shared_context, dict):
                own = raw.get("context")
                raw = {
                    **raw,
                    "context": {**shared_context, **(own if isinstance(own, dict) else {})},
                }
        messages.append((raw, None))
    return messages


def _kept_raw(raw: Any) -> str:
    """The raw message as quarantined: enough to see what was wrong, bounded in size, and
    storable (lone surrogates stay escaped as they were sent)."""
    text = dumps(raw)
    if unstorable_text(text) is not None:
        text = json.dumps(raw, separators=(",", ":"), sort_keys=True)
    if len(text) <= QUARANTINE_RAW_CHARS:
        return text
    return f"{text[:QUARANTINE_RAW_CHARS]}… [truncated: {len(text):,} characters in all]"
