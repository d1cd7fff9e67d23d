"""The one shape every event has, whatever sent it (Segment, a file import, the simulator).

Timestamps are microseconds in UTC: Spark rejects pandas' default nanoseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        # Which sender: a Segment source name, "import:<file>", or "simulator".
        pa.field("source", pa.string(), nullable=False),
        # track | page | screen (usage), or identify | group (kept for traits history and replay)
        pa.field("type", pa.string(), nullable=False),
        # External account id (Segment groupId). Null when unknown: attributed at metric time.
        pa.field("account_id", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("anonymous_id", pa.string()),
        # Event name; for feature usage it equals the feature key in the catalog ("" for
        # identify and group).
        pa.field("event", pa.string(), nullable=False),
        pa.field("timestamp", TIMESTAMP, nullable=False),
        pa.field("received_at", TIMESTAMP, nullable=False),
        # JSON text: backend-neutral (DuckDB, PostgreSQL and Spark all read it). The traits of
        # identify and group messages.
        pa.field("properties", pa.string()),
    ]
)

EVENT_COLUMNS = tuple(EVENT_SCHEMA.names)
# What metrics count as product usage; identify and group messages are stored beside them.
USAGE_TYPES = ("track", "page", "screen")
IDENTITY_TYPES = ("identify", "group")


# An event as the ingest builds it: a dict with the schema's names (optional ones may be left
# out), timestamps as datetimes. The inbox stores these as they are, without Arrow.
EventRow = Mapping[str, Any]


def events_table_from_rows(rows: Iterable[EventRow]) -> pa.Table:
    """Build an Arrow table in the event schema from dicts (missing optional keys become null)."""
    rows = rows if isinstance(rows, list) else list(rows)
    # One comprehension per column: the ingest API builds a table per request, this is its cost.
    columns = {name: [row.get(name) for row in rows] for name in EVENT_COLUMNS}
    return pa.Table.from_pydict(columns, schema=EVENT_SCHEMA)
