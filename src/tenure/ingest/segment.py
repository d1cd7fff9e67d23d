"""Segment-spec ingest: liberal in what it accepts, never losing a batch (ENGINEERING.md).

``read_payload`` (pure) turns a decoded request body into an ``IngestPlan``: the messages to store
(track, page, screen, and identify and group for their traits' history), the identity calls to
apply (identify → Contact, group → Account and membership, alias → IdentityAlias) and the
messages to quarantine with their reason: invalid by the spec, text that cannot be stored (a lone
UTF-16 surrogate, NUL), or an event time outside the accepted window.
``apply_identities`` writes the identity calls in one short batch (flush only: the caller owns
the transaction).

Event time follows Segment: an explicit ``timestamp`` wins; otherwise
``received_at - (sentAt - originalTimestamp)`` corrects the sender's clock; otherwise receipt.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
import pyarrow as pa
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.dates import utc
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
    id_text,
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
# orjson's own limit when writing: deeper messages cannot be stored the usual way.
MAX_NESTING = 254


class UndecodableBody(TenureError):
    """The one case answered 400: nothing in the body can be read."""

    status_code = 400
    code = "invalid_body"


class BodyTooLarge(TenureError):
    status_code = 413
    code = "too_large"


IdentityMessage = IdentifyMessage | GroupMessage | AliasMessage


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

    def events_table(self) -> pa.Table:
        return events_table_from_rows(self.events)


@dataclass(frozen=True)
class IdentityResult:
    contacts: int = 0
    accounts: int = 0
    aliases: int = 0


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
        message = reason or _validate(raw, None if batch else endpoint)
        if not isinstance(message, str):
            message = accepted.refusal(event_time(message, received_at), received_at) or message
        if isinstance(message, str):
            where = f"batch[{index}] " if batch and reason is None else ""
            plan.quarantined.append(
                Quarantined(source, where + message, _kept_raw(raw), received_at)
            )
        elif isinstance(message, EventCall):
            plan.events.append(_event_row(message, source, received_at))
        else:
            plan.identities.append(message)
            if not isinstance(message, AliasMessage):
                plan.events.append(_identity_row(message, source, received_at))
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


class EventCall(NamedTuple):
    """A valid track, page or screen call: what the event row needs, whichever path read it."""

    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime | None
    original_timestamp: datetime | None
    sent_at: datetime | None
    group_id: str | None
    event: str
    properties: dict[str, Any]


def _validate(raw: Any, endpoint_type: str | None) -> EventCall | IdentityMessage | str:
    if not isinstance(raw, dict):
        return f"message is not a JSON object but {type(raw).__name__}"
    encoded = _encoded(raw)
    if encoded is None or b"\\u0000" in encoded:
        problem = unstorable_text(raw)
        if problem is not None:
            return problem
    size = _encoded_size(raw, encoded)
    if size > MAX_MESSAGE_BYTES:
        return f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes (32 KiB)"
    kind = endpoint_type or raw.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_MODELS:
        return f"type: unknown message type {kind!r} (expected one of {', '.join(MESSAGE_MODELS)})"
    call = _plain_event_call(raw, kind) if kind in _EVENT_TYPES else None
    return call or _validate_with_model(raw, kind, MESSAGE_MODELS[kind])


def _validate_with_model(
    raw: dict[str, Any], kind: str, model: type[SegmentMessage]
) -> EventCall | IdentityMessage | str:
    """Every message the plain path is not sure of; the reason for quarantine comes from here."""
    try:
        message = model.model_validate({**raw, "type": kind})
    except ValidationError as error:
        where = f"messageId {raw['messageId']!r}: " if isinstance(raw.get("messageId"), str) else ""
        return where + "; ".join(_reason(e) for e in error.errors())
    if message.message_id is None:
        message.message_id = _derived_message_id(raw)
    if isinstance(message, TrackMessage | PageMessage):
        return _model_event_call(message)
    return message


def _encoded(raw: dict[str, Any]) -> bytes | None:
    """The message as compact UTF-8 JSON (what the 32 KiB limit counts), or None when orjson
    cannot write it: a lone surrogate, an integer beyond 64 bits, deep nesting."""
    try:
        return orjson.dumps(raw)
    except orjson.JSONEncodeError:
        return None


def _encoded_size(raw: dict[str, Any], encoded: bytes | None) -> int:
    """Bytes of ``_encoded(raw)``; for what orjson could not write (with no lone surrogate
    left, checked first), the standard library's compact UTF-8 JSON."""
    return len(encoded if encoded is not None else _dumps(raw).encode())


def unstorable_text(message: Any) -> str | None:
    """Why a decoded message cannot be stored as it is, or None.

    UTF-8 (SQLite, PostgreSQL, Parquet) has no lone UTF-16 surrogate — what an emoji cut in
    half by JavaScript's ``.slice()`` becomes — and PostgreSQL text has no NUL; a message
    nested deeper than ``MAX_NESTING`` cannot be written back. Walked without recursion.
    """
    pending: list[tuple[str, Any, int]] = [("", message, 0)]
    while pending:
        path, value, depth = pending.pop()
        if depth > MAX_NESTING:
            return f"{path or 'message'}: nested more than {MAX_NESTING} levels deep"
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem is not None:
                return f"{path or 'message'}: {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem is not None:
                    return f"{path or 'message'}: a key has {problem}"
                pending.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return f"NUL (\\u0000) at character {text.index(chr(0))}, which text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"a lone UTF-16 surrogate \\u{ord(text[error.start]):04x} at character "
            f"{error.start} (half of an emoji cut in two?), which UTF-8 cannot store"
        )
    return None


def _derived_message_id(raw: dict[str, Any]) -> str:
    """Deterministic, so a sender's retry of the same message is still recognised (a retry
    carries a new sentAt, so that is left out)."""
    content = {k: v for k, v in raw.items() if k not in ("sentAt", "writeKey")}
    return "sha256:" + hashlib.sha256(_dumps(content).encode()).hexdigest()[:40]


def _model_event_call(message: TrackMessage | PageMessage) -> EventCall:
    if isinstance(message, TrackMessage):
        name, properties = message.event, message.properties
    else:
        name = message.name or ""
        extra = {k: v for k, v in (("name", message.name), ("category", message.category)) if v}
        properties = {**message.properties, **extra}
    return EventCall(
        message.type,
        message.message_id or "",  # set above when the sender gave none
        message.user_id,
        message.anonymous_id,
        message.timestamp,
        message.original_timestamp,
        message.sent_at,
        message.context_group_id() or _text(message.properties.get("groupId")),
        name,
        properties,
    )


# --- the plain path: the calls real clients send, read without building a model -----------------
# Ingest spends most of its CPU per message, and nearly every message is a well-formed track with
# string ids and ISO-8601 times. ``_plain_event_call`` accepts only such messages, giving exactly
# what the model path would; anything else (a numeric id, an odd time format, a wrong type)
# returns None and goes through the models, which also word the reason for quarantine.
_EVENT_TYPES = frozenset({"track", "page", "screen"})
_ID_MAX = 1024
_ISO_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_ABSENT: Any = object()
_UNSURE: Any = object()


def _plain_event_call(raw: dict[str, Any], kind: str) -> EventCall | None:
    user_id = _plain_id(raw.get("userId"))
    anonymous_id = _plain_id(raw.get("anonymousId"))
    message_id = _plain_id(raw.get("messageId"))
    context = raw.get("context", _ABSENT)
    properties = raw.get("properties", _ABSENT)
    if (
        user_id is _UNSURE
        or anonymous_id is _UNSURE
        or message_id is _UNSURE
        or (user_id is None and anonymous_id is None)
        or not (context is _ABSENT or type(context) is dict)
        or not (properties is _ABSENT or type(properties) is dict)
    ):
        return None
    timestamp = _plain_moment(raw.get("timestamp"))
    original_timestamp = _plain_moment(raw.get("originalTimestamp"))
    sent_at = _plain_moment(raw.get("sentAt"))
    if timestamp is _UNSURE or original_timestamp is _UNSURE or sent_at is _UNSURE:
        return None
    given = properties = {} if properties is _ABSENT else properties
    if kind == "track":
        name = raw.get("event")
        if type(name) is not str or not 0 < len(name) <= _ID_MAX:
            return None
    else:
        page_name, category = raw.get("name"), raw.get("category")
        if not (_plain_text(page_name) and _plain_text(category)):
            return None
        name = page_name or ""
        extra = {k: v for k, v in (("name", page_name), ("category", category)) if v}
        properties = {**properties, **extra} if extra else properties
    group = context.get("groupId") if context is not _ABSENT else None
    group_id = id_text(group) if group is not None else None
    return EventCall(
        kind,
        message_id if message_id is not None else _derived_message_id(raw),
        user_id,
        anonymous_id,
        timestamp,
        original_timestamp,
        sent_at,
        group_id if isinstance(group_id, str) else _text(given.get("groupId")),
        name,
        properties,
    )


def _plain_id(value: Any) -> str | None:
    """An id as the model reads it, when that is plain: absent, empty or a short string."""
    if value is None or value == "":
        return None
    if type(value) is str and len(value) <= _ID_MAX:
        return value
    return _UNSURE


def _plain_text(value: Any) -> bool:
    return value is None or (type(value) is str and len(value) <= _ID_MAX)


def _plain_moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        return _UNSURE
    return _plain_iso_moment(value)


@functools.lru_cache(maxsize=1024)  # a batch's sentAt repeats in every one of its messages
def _plain_iso_moment(value: str) -> datetime | None:
    if not _ISO_MOMENT.fullmatch(value):
        return _UNSURE
    try:
        return utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # 2026-02-30, or past year 9999 in UTC: the model says so
        return _UNSURE


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {message}" if where else message


def _kept_raw(raw: Any) -> str:
    """The raw message as quarantined: enough to see what was wrong, bounded in size, and
    storable (lone surrogates stay escaped as they were sent)."""
    text = _dumps(raw)
    if unstorable_text(text) is not None:
        text = json.dumps(raw, separators=(",", ":"), sort_keys=True)
    if len(text) <= QUARANTINE_RAW_CHARS:
        return text
    return f"{text[:QUARANTINE_RAW_CHARS]}… [truncated: {len(text):,} characters in all]"


def _dumps(raw: Any) -> str:
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def event_time(message: SegmentMessage | EventCall, received_at: datetime) -> datetime:
    if message.timestamp is not None:
        return message.timestamp
    if message.original_timestamp is not None and message.sent_at is not None:
        try:
            return received_at - (message.sent_at - message.original_timestamp)
        except OverflowError:  # a sender clock off by millennia: its own time is all there is
            return message.original_timestamp
    return message.original_timestamp or received_at


def _event_row(call: EventCall, source: str, received_at: datetime) -> dict[str, Any]:
    return {
        "message_id": call.message_id,
        "source": source,
        "type": call.type,
        "account_id": call.group_id,
        "user_id": call.user_id,
        "anonymous_id": call.anonymous_id,
        "event": call.event,
        "timestamp": event_time(call, received_at),
        "received_at": received_at,
        "properties": _properties_text(call.properties) if call.properties else None,
    }


def _identity_row(
    message: IdentifyMessage | GroupMessage, source: str, received_at: datetime
) -> dict[str, Any]:
    """An identify or group call as a stored message: its traits are the properties."""
    account_id = message.group_id if isinstance(message, GroupMessage) else None
    return {
        "message_id": message.message_id,
        "source": source,
        "type": message.type,
        "account_id": account_id or message.context_group_id(),
        "user_id": message.user_id,
        "anonymous_id": message.anonymous_id,
        "event": "",
        "timestamp": event_time(message, received_at),
        "received_at": received_at,
        "properties": _properties_text(message.traits) if message.traits else None,
    }


def _properties_text(properties: dict[str, Any]) -> str:
    try:
        return orjson.dumps(properties).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a lone surrogate
        return json.dumps(properties, separators=(",", ":"), ensure_ascii=False)


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
