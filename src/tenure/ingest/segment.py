"""Segment-spec ingest: liberal in what it accepts, never losing a batch (ENGINEERING.md).

``read_payload`` (pure) turns a decoded request body into an ``IngestPlan``: the events to store
(track, page, screen), the identity calls to apply (identify → Contact, group → Account and
membership, alias → IdentityAlias) and the messages to quarantine with their reason.
``apply_identities`` writes the identity calls in one short batch (flush only: the caller owns
the transaction).

Event time follows Segment: an explicit ``timestamp`` wins; otherwise
``received_at - (sentAt - originalTimestamp)`` corrects the sender's clock; otherwise receipt.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.errors import TenureError
from tenure.ingest.segment_schemas import (
    MESSAGE_MODELS,
    AccountTraits,
    AliasMessage,
    GroupMessage,
    IdentifyMessage,
    PageMessage,
    SegmentMessage,
    TrackMessage,
)
from tenure.model import Account, Contact, IdentityAlias
from tenure.store.events import Quarantined, events_table_from_rows

# At least what Segment's own clients may send: 32 KB per message, 500 KB per batch (we take 8 MiB).
MAX_MESSAGE_BYTES = 32 * 1024
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


IdentityMessage = IdentifyMessage | GroupMessage | AliasMessage


@dataclass
class IngestPlan:
    source: str
    received_at: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    identities: list[IdentityMessage] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.events) + len(self.identities) + len(self.quarantined)

    def events_table(self) -> pa.Table:
        return events_table_from_rows(self.events)


@dataclass(frozen=True)
class IdentityResult:
    contacts: int = 0
    accounts: int = 0
    aliases: int = 0


def decode_body(body: bytes) -> Any:
    """Parse an inflated request body, or say exactly why it cannot be read."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UndecodableBody(
            f"body is not UTF-8: byte 0x{body[error.start]:02x} at offset {error.start}"
        ) from error
    try:
        # NaN and ±Infinity are not JSON; some senders emit them anyway: they become null.
        return json.loads(text, parse_constant=lambda _: None)
    except json.JSONDecodeError as error:
        raise UndecodableBody(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error


def read_payload(payload: Any, endpoint: str, *, source: str, received_at: datetime) -> IngestPlan:
    """Validate every message of one request; invalid ones are quarantined, never fatal."""
    plan = IngestPlan(source, received_at)
    batch = endpoint in BATCH_ENDPOINTS
    for index, (raw, reason) in enumerate(_split(payload, endpoint)):
        message = reason or _validate(raw, None if batch else endpoint)
        if isinstance(message, str):
            where = f"batch[{index}] " if batch and reason is None else ""
            plan.quarantined.append(
                Quarantined(source, where + message, _kept_raw(raw), received_at)
            )
        elif isinstance(message, TrackMessage | PageMessage):
            plan.events.append(_event_row(message, source, received_at))
        else:
            plan.identities.append(message)
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


def _validate(raw: Any, endpoint_type: str | None) -> SegmentMessage | str:
    if not isinstance(raw, dict):
        return f"message is not a JSON object but {type(raw).__name__}"
    # Key order does not change the length: skip sorting (this runs for every ingested message).
    size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_MESSAGE_BYTES:
        return f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes (32 KiB)"
    kind = endpoint_type or raw.get("type")
    model = MESSAGE_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return f"type: unknown message type {kind!r} (expected one of {', '.join(MESSAGE_MODELS)})"
    try:
        message = model.model_validate({**raw, "type": kind})
    except ValidationError as error:
        where = f"messageId {raw['messageId']!r}: " if isinstance(raw.get("messageId"), str) else ""
        return where + "; ".join(_reason(e) for e in error.errors())
    if message.message_id is None:
        # Deterministic, so a sender's retry of the same message is still recognised (a retry
        # carries a new sentAt, so that is left out).
        content = {k: v for k, v in raw.items() if k not in ("sentAt", "writeKey")}
        message.message_id = "sha256:" + hashlib.sha256(_dumps(content).encode()).hexdigest()[:40]
    return message


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {message}" if where else message


def _kept_raw(raw: Any) -> str:
    """The raw message as quarantined: enough to see what was wrong, bounded in size."""
    text = _dumps(raw)
    if len(text) <= QUARANTINE_RAW_CHARS:
        return text
    return f"{text[:QUARANTINE_RAW_CHARS]}… [truncated: {len(text):,} characters in all]"


def _dumps(raw: Any) -> str:
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def event_time(message: SegmentMessage, received_at: datetime) -> datetime:
    if message.timestamp is not None:
        return message.timestamp
    if message.original_timestamp is not None and message.sent_at is not None:
        return received_at - (message.sent_at - message.original_timestamp)
    return message.original_timestamp or received_at


def _event_row(
    message: TrackMessage | PageMessage, source: str, received_at: datetime
) -> dict[str, Any]:
    group = message.context_group_id() or _text(message.properties.get("groupId"))
    if isinstance(message, TrackMessage):
        name, properties = message.event, message.properties
    else:
        name = message.name or ""
        extra = {k: v for k, v in (("name", message.name), ("category", message.category)) if v}
        properties = {**message.properties, **extra}
    return {
        "message_id": message.message_id,
        "source": source,
        "type": message.type,
        "account_id": group,
        "user_id": message.user_id,
        "anonymous_id": message.anonymous_id,
        "event": name,
        "timestamp": event_time(message, received_at),
        "received_at": received_at,
        "properties": json.dumps(properties, separators=(",", ":"), ensure_ascii=False)
        if properties
        else None,
    }


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# --- identity calls: the operational database ------------------------------------------------


def apply_identities(
    session: Session, messages: list[IdentityMessage], *, source: str, received_at: datetime
) -> IdentityResult:
    """Upsert contacts and accounts and record aliases, in message order; flushes only."""
    groups = [m for m in messages if isinstance(m, GroupMessage)]
    accounts = _accounts_by_external_id(session, groups)
    for group in groups:
        _apply_account_traits(accounts[group.group_id], group.account_traits())
    session.flush()

    people = [m for m in messages if isinstance(m, IdentifyMessage | GroupMessage) and m.user_id]
    contacts = _contacts_by_external_id(session, {m.user_id for m in people if m.user_id})
    for message in people:
        contact = contacts[message.user_id]  # type: ignore[index]
        if isinstance(message, GroupMessage):
            contact.account_id = accounts[message.group_id].id
        else:
            traits = message.contact_traits()
            contact.email = traits.email or contact.email
            contact.name = traits.full_name() or contact.name
            contact.title = traits.title or contact.title

    aliases = _record_aliases(
        session, [m for m in messages if isinstance(m, AliasMessage)], source, received_at
    )
    session.flush()
    return IdentityResult(len(contacts), len(accounts), aliases)


def _accounts_by_external_id(session: Session, groups: list[GroupMessage]) -> dict[str, Account]:
    wanted = {g.group_id for g in groups}
    if not wanted:
        return {}
    found = {
        a.external_id: a
        for a in session.scalars(sa.select(Account).where(Account.external_id.in_(wanted)))
    }
    for group in groups:
        if group.group_id not in found:
            # Named after its id until a group call brings a name.
            account = Account(external_id=group.group_id, name=group.group_id, custom={})
            session.add(account)
            found[group.group_id] = account
    return found


def _apply_account_traits(account: Account, traits: AccountTraits) -> None:
    account.name = traits.name or account.name
    account.industry = traits.industry or account.industry
    account.segment = traits.segment or account.segment
    account.region = traits.region or account.region
    if traits.employees is not None:
        account.employee_count = traits.employees
    if traits.model_extra:
        account.custom = {**(account.custom or {}), **traits.model_extra}


def _contacts_by_external_id(session: Session, wanted: set[str]) -> dict[str, Contact]:
    if not wanted:
        return {}
    found = {
        c.external_id: c
        for c in session.scalars(sa.select(Contact).where(Contact.external_id.in_(wanted)))
    }
    for external_id in sorted(wanted - found.keys()):
        contact = Contact(external_id=external_id, roles=[])
        session.add(contact)
        found[external_id] = contact
    return found


def _record_aliases(
    session: Session, aliases: list[AliasMessage], source: str, received_at: datetime
) -> int:
    pairs = {(a.previous_id, a.user_id): a for a in aliases}
    if not pairs:
        return 0
    known = {
        (previous_id, user_id)
        for previous_id, user_id in session.execute(
            sa.select(IdentityAlias.previous_id, IdentityAlias.user_id).where(
                IdentityAlias.previous_id.in_({p for p, _ in pairs})
            )
        )
    }
    new = [(pair, message) for pair, message in pairs.items() if pair not in known]
    for (previous_id, user_id), message in new:
        session.add(
            IdentityAlias(
                previous_id=previous_id,
                user_id=user_id,
                source=source,
                aliased_at=event_time(message, received_at),
            )
        )
    return len(new)
