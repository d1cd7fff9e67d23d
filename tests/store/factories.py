"""Typed event factories for the store tests: explicit values, nothing random."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pyarrow as pa

from tenure.store.events import events_table_from_rows

MONDAY = date(2025, 1, 6)


def event(
    message_id: str,
    *,
    day: date = MONDAY,
    hour: int = 9,
    account_id: str | None = "acme",
    user_id: str | None = "u1",
    name: str = "report_exported",
    source: str = "web",
    properties: str | None = None,
    kind: str = "track",
) -> dict[str, Any]:
    moment = datetime.combine(day, time(hour), tzinfo=UTC)
    return {
        "message_id": message_id,
        "source": source,
        "type": kind,
        "account_id": account_id,
        "user_id": user_id,
        "anonymous_id": None,
        "event": name,
        "timestamp": moment,
        "received_at": moment,
        "properties": properties,
    }


def events(*rows: dict[str, Any]) -> pa.Table:
    return events_table_from_rows(rows)
