"""Cursor-paginated lists of operational records and of one account's events, for /api/v1.

Records page by id (keyset: ``id > cursor``), so a page costs the same wherever it is. Events are
read with the window's date bounds pushed down to the store — a page never scans every event.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

import ibis
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.dates import utc
from tenure.errors import InvalidInput
from tenure.model.base import Base
from tenure.store.events import EventStore

ItemT = TypeVar("ItemT")

# The widest window one events request may read: 31 days of partitions at most.
MAX_EVENT_WINDOW_DAYS = 31


class CursorPage(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None
    limit: int


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned") from error


def record_page(
    session: Session,
    model: type[Base],
    convert: Callable[[Any], BaseModel],
    *,
    limit: int,
    cursor: str | None = None,
    where: list[Any] | None = None,
    options: list[Any] | None = None,
) -> CursorPage[Any]:
    """One page of ``model`` rows ordered by id, each turned into its read schema by ``convert``."""
    id_column = model.id  # type: ignore[attr-defined]
    query = sa.select(model).order_by(id_column).limit(limit + 1)
    for condition in where or []:
        query = query.where(condition)
    if options:
        query = query.options(*options)
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after, int):
            raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned")
        query = query.where(id_column > after)
    rows = list(session.scalars(query))
    shown = rows[:limit]
    return CursorPage[Any](
        items=[convert(r) for r in shown],
        next_cursor=encode_cursor(shown[-1].id) if len(rows) > limit else None,  # type: ignore[attr-defined]
        limit=limit,
    )


class EventRead(BaseModel):
    message_id: str
    source: str | None
    type: str
    account_id: str | None
    user_id: str | None
    anonymous_id: str | None
    event: str | None
    timestamp: datetime
    properties: dict[str, Any] | None


def account_events(
    store: EventStore,
    group_ids: list[str],
    since: date,
    until: date,
    *,
    limit: int,
    cursor: str | None = None,
    event: str | None = None,
) -> CursorPage[EventRead]:
    """One account's events in [since, until], newest first, read from those days' partitions:
    those naming it by any of ``group_ids`` (its external id, its product workspace id…)."""
    if until < since:
        raise InvalidInput(f"until ({until}) is before since ({since})")
    if (until - since).days + 1 > MAX_EVENT_WINDOW_DAYS:
        raise InvalidInput(
            f"since..until spans {(until - since).days + 1} days; ask for at most "
            f"{MAX_EVENT_WINDOW_DAYS} days per request and page through time"
        )
    con = store.connect()
    try:
        t = store.table(con)
        start = datetime.combine(since, time.min, tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        # Both the date partition key and the timestamp: Parquet folders and PostgreSQL's
        # monthly partitions are pruned, so only the window's events are read.
        selected = t.filter(
            t.account_id.isin(group_ids),
            t.event_date >= since,
            t.event_date <= until,
            t.timestamp >= start,
            t.timestamp < end,
        )
        if event:
            selected = selected.filter(selected.event == event)
        if cursor:
            value = decode_cursor(cursor)
            if not (isinstance(value, list) and len(value) == 2):
                raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned")
            at = datetime.fromisoformat(str(value[0]))
            selected = selected.filter(
                (selected.timestamp < at)
                | ((selected.timestamp == at) & (selected.message_id < str(value[1])))
            )
        rows = (
            selected.order_by([ibis.desc("timestamp"), ibis.desc("message_id")])
            .limit(limit + 1)
            .to_pyarrow()
            .to_pylist()
        )
    finally:
        con.disconnect()
    shown = rows[:limit]
    items = [
        EventRead.model_validate(
            {
                **r,
                "timestamp": utc(r["timestamp"]),
                "properties": json.loads(r["properties"]) if r.get("properties") else None,
            }
        )
        for r in shown
    ]
    next_cursor = (
        encode_cursor([items[-1].timestamp.isoformat(), items[-1].message_id])
        if len(rows) > limit
        else None
    )
    return CursorPage[EventRead](items=items, next_cursor=next_cursor, limit=limit)
