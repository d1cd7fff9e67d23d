"""Stored messages out again, shaped as the Segment spec sends them (``tenure events export``).

Track, page, screen, identify and group calls come back as the messages a Segment library would
post — ``event``/``name`` and ``properties`` for usage, ``traits`` for identify and group, the
account in ``groupId`` (group) or ``context.groupId`` — so they can be replayed into another
Segment-spec receiver or read by tools that know the spec. ``source`` says which Tenure source
received each one (a field receivers ignore). JSON lines keep ``properties``/``traits`` as
objects; Parquet has one column per field with them as JSON text, since their shape varies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from tenure.store.events import EventStore

PARQUET_SCHEMA = pa.schema(
    [
        ("type", pa.string()),
        ("messageId", pa.string()),
        ("userId", pa.string()),
        ("anonymousId", pa.string()),
        ("event", pa.string()),
        ("name", pa.string()),
        ("groupId", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("receivedAt", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("properties", pa.string()),
        ("traits", pa.string()),
    ]
)
_IDENTITY = ("identify", "group")
EXPORT_WINDOW = timedelta(days=7)


def stored_rows(store: EventStore, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    """Every stored message with ``since <= timestamp < until``, oldest first.

    Read a week at a time, so a year's export never holds more than a week in memory (Ibis's
    streaming ``to_pyarrow_batches`` fails on the DuckDB version installed here).
    """
    con = store.connect()
    try:
        t = store.messages(con)
        start = since
        while start < until:
            end = min(until, start + EXPORT_WINDOW)
            week = t.filter((t.timestamp >= start) & (t.timestamp < end))
            yield from week.order_by(t.timestamp, t.source, t.message_id).to_pyarrow().to_pylist()
            start = end
    finally:
        con.disconnect()


def segment_message(row: dict[str, Any]) -> dict[str, Any]:
    """One stored row as the Segment message it was (fields that were empty are left out)."""
    kind = row["type"]
    data = json.loads(row["properties"]) if row["properties"] else {}
    message: dict[str, Any] = {
        "type": kind,
        "messageId": row["message_id"],
        "userId": row["user_id"],
        "anonymousId": row["anonymous_id"],
        "timestamp": _iso(row["timestamp"]),
        "receivedAt": _iso(row["received_at"]),
        "source": row["source"],
    }
    if kind == "track":
        message["event"] = row["event"]
    elif kind not in _IDENTITY:
        message["name"] = row["event"] or None
    message["traits" if kind in _IDENTITY else "properties"] = data
    if kind == "group":
        message["groupId"] = row["account_id"]
    elif row["account_id"] is not None:
        message["context"] = {"groupId": row["account_id"]}
    return {k: v for k, v in message.items() if v is not None}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(segment_message(row), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count


def write_parquet(rows: Iterator[dict[str, Any]], path: Path, chunk: int = 50_000) -> int:
    count = 0
    with pq.ParquetWriter(path, PARQUET_SCHEMA, compression="zstd") as writer:
        pending: list[dict[str, Any]] = []
        for row in rows:
            pending.append(_parquet_row(segment_message(row), row))
            if len(pending) == chunk:
                writer.write_table(pa.Table.from_pylist(pending, schema=PARQUET_SCHEMA))
                count += len(pending)
                pending = []
        writer.write_table(pa.Table.from_pylist(pending, schema=PARQUET_SCHEMA))
        count += len(pending)
    return count


def _parquet_row(message: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    group = message.get("groupId") or message.get("context", {}).get("groupId")
    return {
        **{k: message.get(k) for k in ("type", "messageId", "userId", "anonymousId", "event")},
        "name": message.get("name"),
        "groupId": group,
        "timestamp": row["timestamp"],
        "receivedAt": row["received_at"],
        "source": row["source"],
        "properties": row["properties"] if "properties" in message else None,
        "traits": row["properties"] if "traits" in message else None,
    }
