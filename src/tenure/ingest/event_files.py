"""Event files read without a mapping, in batches: Segment-spec JSON lines and Parquet.

Two shapes need no mapping because their meaning is fixed by a specification:

- **Segment-spec JSON lines** — one message per line as a Segment client sends it to
  ``/v1/batch`` (``type``, ``messageId``, ``userId``/``anonymousId``, ``event``, ``timestamp``,
  ``context.groupId`` …). Each line is read exactly as the HTTP endpoint reads a message
  (:mod:`tenure.ingest.segment_calls`): the same ids, event time, account and properties;
  identify and group lines are kept as messages and their identity calls returned, alias lines
  give identity calls only. A line the endpoint would quarantine is a bad line here, named by
  its number and reason.
- **Parquet in the event columns** (``message_id``, ``event``, ``timestamp``; optionally
  ``type``, ``account_id``, ``user_id``, ``anonymous_id``, ``properties`` as JSON text) with a
  timestamp-typed ``timestamp`` (without a zone it is UTC): checked column by column with Arrow
  compute, never row by row. Other Parquet goes through the row-by-row importer.

Memory follows the batch, not the file: each yields :class:`EventBatch` of at most
``batch_rows`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tenure.errors import RowError, TenureError
from tenure.ingest.segment import AcceptedTimes, decode_body
from tenure.ingest.segment_calls import (
    EventCall,
    IdentityMessage,
    event_row,
    event_time,
    identity_row,
    validate_message,
)
from tenure.ingest.segment_schemas import MESSAGE_MODELS, AliasMessage
from tenure.store.events import EVENT_SCHEMA, events_table_from_rows

BATCH_ROWS = 50_000
# Bad lines kept with their reason; past that they are counted (a file of garbage must not
# fill memory with reasons).
MAX_ERRORS = 1_000
# Keys only Segment's camelCase messages have: Tenure's own event files say message_id.
_SEGMENT_KEYS = frozenset({"messageId", "userId", "anonymousId", "originalTimestamp", "sentAt"})
_BOM = b"\xef\xbb\xbf"
EVENT_TYPES = ("track", "page", "screen")
# The event schema before its required columns are checked.
_CHECKED = pa.schema([f.with_nullable(True) for f in EVENT_SCHEMA])
MAX_TEXT = 200


@dataclass
class EventBatch:
    """Rows for the event store, identity calls to apply, and the bad rows met on the way."""

    events: pa.Table
    identities: list[IdentityMessage] = field(default_factory=list)
    rows: int = 0


@dataclass
class BadRows:
    """Every bad row's reason up to ``MAX_ERRORS``, then only how many more there were."""

    errors: list[RowError] = field(default_factory=list)
    more: int = 0

    def add(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.errors)

    def listed(self) -> list[RowError]:
        if not self.more:
            return self.errors
        last = self.errors[-1]
        return [*self.errors, RowError(last.line, None, None, f"… and {self.more} more bad rows")]


def is_segment_lines(path: Path) -> bool:
    """The file's first non-blank line is a Segment-spec message (a known ``type`` and the
    spec's camelCase ids), not a row of Tenure's own event columns."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                try:
                    first = orjson.loads(line.removeprefix(_BOM))
                except orjson.JSONDecodeError:
                    return False
                return (
                    isinstance(first, dict)
                    and first.get("type") in MESSAGE_MODELS
                    and bool(_SEGMENT_KEYS & first.keys())
                    and "message_id" not in first
                )
    return False


def segment_line_batches(
    path: Path,
    bad: BadRows,
    *,
    source: str,
    received_at: datetime,
    accepted: AcceptedTimes = AcceptedTimes(),
    batch_rows: int = BATCH_ROWS,
) -> Iterator[EventBatch]:
    """The file's messages as the HTTP endpoint reads them; bad lines go to ``bad`` with their
    number (what the endpoint would quarantine: the file is refused, never half-read)."""
    rows: list[dict[str, Any]] = []
    identities: list[IdentityMessage] = []
    count = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            count += 1
            message = _line_message(line, number == 1)
            if not isinstance(message, str):
                moment = event_time(message, received_at)
                message = accepted.refusal(moment, received_at) or message
            if isinstance(message, str):
                bad.add(RowError(number, None, None, message))
            elif bad:
                continue  # the file will be refused: keep checking, stop keeping rows
            elif isinstance(message, EventCall):
                rows.append(event_row(message, source, received_at))
            else:
                identities.append(message)
                if not isinstance(message, AliasMessage):
                    rows.append(identity_row(message, source, received_at))
            if count == batch_rows:
                yield EventBatch(events_table_from_rows(rows), identities, count)
                rows, identities, count = [], [], 0
    if count:
        yield EventBatch(events_table_from_rows(rows), identities, count)


def _line_message(line: bytes, first: bool) -> EventCall | IdentityMessage | str:
    try:
        raw = decode_body(line.removeprefix(_BOM) if first else line)
    except TenureError as error:
        return error.message.replace("body is", "the line is")
    return validate_message(raw, None)


def parquet_events_readable(path: Path) -> bool:
    """The Parquet file has the event columns with a timestamp-typed ``timestamp``: the
    column-wise path reads it (anything else is read row by row)."""
    schema = pq.read_schema(path)
    names = set(schema.names)
    if not {"message_id", "event", "timestamp"} <= names:
        return False
    properties_ok = (
        "properties" not in names
        or pa.types.is_string(schema.field("properties").type)
        or pa.types.is_large_string(schema.field("properties").type)
    )
    return pa.types.is_timestamp(schema.field("timestamp").type) and properties_ok


def parquet_event_batches(
    path: Path,
    bad: BadRows,
    *,
    source: str,
    received_at: datetime,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[EventBatch]:
    """The file's rows in the event schema, checked column by column; bad rows go to ``bad``
    with their row number (1 = the first row)."""
    parquet = pq.ParquetFile(path)
    offset = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        table = pa.Table.from_batches([batch])
        events = _event_table(table, source, received_at)
        for problem in _problems(table, events):
            for index in problem.rows:
                bad.add(
                    RowError(
                        offset + index + 1, problem.column, problem.value(index), problem.reason
                    )
                )
        offset += table.num_rows
        if not bad:
            yield EventBatch(events.cast(EVENT_SCHEMA), rows=table.num_rows)
        else:
            yield EventBatch(EVENT_SCHEMA.empty_table(), rows=table.num_rows)


@dataclass(frozen=True)
class _Problem:
    column: str
    reason: str
    mask: pa.ChunkedArray
    values: pa.ChunkedArray

    @property
    def rows(self) -> list[int]:
        return list(pc.indices_nonzero(self.mask.combine_chunks()).to_pylist())

    def value(self, index: int) -> str | None:
        value = self.values[index].as_py()
        return None if value is None else str(value)[:80]


def _text(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    return pc.cast(table[name], pa.string())


def _event_table(table: pa.Table, source: str, received_at: datetime) -> pa.Table:
    rows = table.num_rows
    kind = pc.fill_null(_text(table, "type"), "track")
    stamp = table["timestamp"]
    if stamp.type.tz is None:
        stamp = pc.assume_timezone(stamp, "UTC")
    columns = {
        "message_id": _text(table, "message_id"),
        "source": pa.chunked_array([pa.array([source] * rows, pa.string())]),
        "type": kind,
        "account_id": _blank_as_null(_text(table, "account_id")),
        "user_id": _blank_as_null(_text(table, "user_id")),
        "anonymous_id": _blank_as_null(_text(table, "anonymous_id")),
        "event": _text(table, "event"),
        "timestamp": pc.cast(stamp, EVENT_SCHEMA.field("timestamp").type),
        "received_at": pa.chunked_array(
            [pa.array([received_at] * rows, EVENT_SCHEMA.field("received_at").type)]
        ),
        "properties": _text(table, "properties"),
    }
    # Nulls where none may be are found by _problems: only a batch without any is cast to the
    # store's schema (see parquet_event_batches).
    return pa.table({name: columns[name] for name in EVENT_SCHEMA.names}).cast(_CHECKED)


def _blank_as_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _problems(table: pa.Table, events: pa.Table) -> list[_Problem]:
    message_id, event = table["message_id"], table["event"]
    checks = [
        _Problem(
            "message_id", "message_id is required", _missing(events["message_id"]), message_id
        ),
        _Problem(
            "message_id",
            f"message_id is longer than {MAX_TEXT} characters",
            pc.greater(pc.utf8_length(events["message_id"]), MAX_TEXT),
            message_id,
        ),
        _Problem("event", "event is required", _missing(events["event"]), event),
        _Problem(
            "event",
            f"event is longer than {MAX_TEXT} characters",
            pc.greater(pc.utf8_length(events["event"]), MAX_TEXT),
            event,
        ),
        _Problem(
            "type",
            f"type must be one of {', '.join(EVENT_TYPES)}",
            pc.invert(pc.is_in(events["type"], pa.array(EVENT_TYPES))),
            events["type"],
        ),
        _Problem(
            "timestamp", "timestamp is required", pc.is_null(table["timestamp"]), table["timestamp"]
        ),
    ]
    found = [c for c in checks if pc.any(c.mask).as_py()]
    properties = events["properties"]
    if properties.null_count < len(properties):
        found += _property_problems(properties)
    return found


def _missing(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.or_kleene(pc.is_null(values), pc.equal(values, ""))


def _property_problems(properties: pa.ChunkedArray) -> list[_Problem]:
    """Properties must be JSON objects: each non-null text is parsed (orjson: about a
    microsecond each)."""
    bad = []
    for index, text in enumerate(properties.to_pylist()):
        if text is None:
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            bad.append(index)
    if not bad:
        return []
    mask = pa.chunked_array([pc.is_in(pa.array(range(len(properties))), pa.array(bad))])
    return [_Problem("properties", "properties must be a JSON object", mask, properties)]
