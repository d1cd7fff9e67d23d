"""One Segment-spec message, validated (pure): what the HTTP endpoints and file imports share.

``validate_message`` turns one decoded message into an :class:`EventCall` (track, page, screen),
an identity message (identify, group, alias) or the reason it cannot be stored; ``event_row`` and
``identity_row`` give the event store's row. Nearly every real message is a well-formed track
with string ids and ISO-8601 times: the plain path reads those without building a model, giving
exactly what the model path would.

Event time follows Segment: an explicit ``timestamp`` wins; otherwise
``received_at - (sentAt - originalTimestamp)`` corrects the sender's clock; otherwise receipt.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from tenure.dates import utc
from tenure.ingest.segment_schemas import (
    MESSAGE_MODELS,
    AliasMessage,
    GroupMessage,
    IdentifyMessage,
    PageMessage,
    SegmentMessage,
    TrackMessage,
    id_text,
)

# At least what Segment's own clients may send: 32 KB per message.
MAX_MESSAGE_BYTES = 32 * 1024
# orjson's own limit when writing: deeper messages cannot be stored the usual way.
MAX_NESTING = 254

IdentityMessage = IdentifyMessage | GroupMessage | AliasMessage


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


def validate_message(raw: Any, endpoint_type: str | None) -> EventCall | IdentityMessage | str:
    """The message as an event call or identity message, or why it cannot be stored."""
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
    return len(encoded if encoded is not None else dumps(raw).encode())


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
    return "sha256:" + hashlib.sha256(dumps(content).encode()).hexdigest()[:40]


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


def dumps(raw: Any) -> str:
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


def event_row(call: EventCall, source: str, received_at: datetime) -> dict[str, Any]:
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


def identity_row(
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
