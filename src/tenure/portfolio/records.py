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
from tenure.model.base import MAX_ID, Base
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
        raise cursor_error(cursor) from error


RowT = TypeVar("RowT")


def cursor_error(cursor: str) -> InvalidInput:
    return InvalidInput(f"cursor {cursor!r} is not a cursor this API returned")


class Keyset:
    """A keyset pager over one ordering: a page is the ``limit`` rows after the last one shown,
    and its ``next_cursor`` is that row's sort key (the row id last, so keys are unique) as JSON
    in base64. A page costs the same wherever it is, and rows added meanwhile are not skipped.

    ``parts`` read each value of a key back from the cursor (:data:`DAY`, :data:`TEXT` …) and
    raise ``TypeError`` or ``ValueError`` on anything this API did not write.

    >>> pager = Keyset(DAY, ROW_ID)
    >>> rows = [(date(2026, 1, d), d) for d in range(1, 6)]
    >>> def after(key, n):
    ...     return [r for r in rows if key is None or r > key][:n]
    >>> shown, cursor = pager.page(after, lambda r: r, limit=2)
    >>> [d for _, d in shown], pager.decode(cursor)
    ([1, 2], (datetime.date(2026, 1, 2), 2))
    >>> pager.page(after, lambda r: r, limit=2, cursor=pager.encode((date(2026, 1, 4), 4)))
    ([(datetime.date(2026, 1, 5), 5)], None)
    """

    def __init__(self, *parts: Callable[[Any], Any]) -> None:
        self.parts = parts

    def encode(self, key: tuple[Any, ...]) -> str:
        return encode_cursor([v.isoformat() if isinstance(v, date) else v for v in key])

    def decode(self, cursor: str) -> tuple[Any, ...]:
        values = decode_cursor(cursor)
        if not isinstance(values, list) or len(values) != len(self.parts):
            raise cursor_error(cursor)
        try:
            return tuple(read(value) for read, value in zip(self.parts, values, strict=True))
        except (TypeError, ValueError) as error:
            raise cursor_error(cursor) from error

    def page(
        self,
        fetch: Callable[[tuple[Any, ...] | None, int], list[RowT]],
        key: Callable[[RowT], tuple[Any, ...]],
        *,
        limit: int,
        cursor: str | None = None,
    ) -> tuple[list[RowT], str | None]:
        """``fetch(after, n)`` returns at most ``n`` rows in the ordering, after the key ``after``
        (None: from the first); the rows shown and the cursor of the next page (None: the last)."""
        rows = fetch(self.decode(cursor) if cursor else None, limit + 1)
        shown = rows[:limit]
        return shown, self.encode(key(shown[-1])) if len(rows) > limit else None


def _checked(check: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if not check(value):
            raise ValueError(value)
        return value

    return read


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else read(value)


# The parts a key is made of, as a cursor holds them.
DAY: Callable[[Any], Any] = date.fromisoformat
OPTIONAL_DAY = _optional(date.fromisoformat)
MOMENT: Callable[[Any], Any] = datetime.fromisoformat
TEXT = _checked(lambda v: isinstance(v, str) and "\x00" not in v)
ROW_ID = _checked(lambda v: type(v) is int and 0 <= v <= MAX_ID)


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
        t = store.table(con, (since, until))
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
