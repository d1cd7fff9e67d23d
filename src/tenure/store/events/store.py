"""Where events live and how every process reads them: one interface, two storages.

Embedded (default): a durable SQLite inbox plus date-partitioned Parquet, read by an in-memory
DuckDB that each process opens for itself — no process ever holds a DuckDB file
(see ``embedded.py``). PostgreSQL (when the database URL is PostgreSQL): one table partitioned by
month (see ``postgres.py``). Either way ``table(con)`` is an Ibis table in the event schema plus
``event_date``, so metrics are written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import pyarrow as pa

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.store.events.embedded import (
    DEFAULT_MEMORY_LIMIT,
    CompactionResult,
    EmbeddedEvents,
    FileVersion,
    WriteResult,
)
from tenure.store.events.erasure import EventErasureResult, PersonErasure
from tenure.store.events.inbox import READ_SCHEMA, AppendResult, Quarantined
from tenure.store.events.postgres import PostgresEvents
from tenure.store.events.schema import USAGE_TYPES, EventRow

if TYPE_CHECKING:  # ibis (and pandas) are imported by readers only: ingest starts faster
    import ibis


@dataclass(frozen=True)
class EventStats:
    events: int
    first: datetime | None
    last: datetime | None
    location: str
    # Inbox rows not yet compacted into Parquet (always 0 on PostgreSQL).
    pending: int = 0
    quarantined: int = 0


Summary = TypeVar("Summary")


@dataclass(frozen=True)
class Summarised(Generic[Summary]):
    """A summary of the stored messages, and the messages it does not cover yet."""

    stored: Summary
    # Inbox rows not yet compacted, in the event schema (always empty on PostgreSQL): the
    # caller folds them into ``stored``.
    pending: pa.Table


class EventStorage(Protocol):
    @property
    def location(self) -> str: ...

    def write(self, events: pa.Table, *, dedupe: bool = True) -> WriteResult: ...

    def append(self, events: Sequence[EventRow]) -> AppendResult: ...

    def quarantine(self, messages: list[Quarantined]) -> None: ...

    def quarantined(self, limit: int) -> list[Quarantined]: ...

    def counts(self) -> tuple[int, int]: ...

    def erase(self, person: PersonErasure) -> EventErasureResult: ...

    def connect(self) -> ibis.BaseBackend: ...

    def table(self, con: ibis.BaseBackend, days: tuple[date, date] | None = None) -> ibis.Table: ...

    def close(self) -> None: ...


class EventStore:
    """The event store every other module uses; ``open_event_store(settings)`` builds it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        postgres_url: str | None = None,
        storage: EventStorage | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self.data_dir = data_dir
        self.parquet_dir = data_dir / "events"
        self.storage: EventStorage = storage or (
            PostgresEvents(postgres_url)
            if postgres_url
            else EmbeddedEvents(data_dir, memory_limit=memory_limit)
        )
        # summarise(): per summary name, the Parquet files' version and what it gave.
        self._summaries: dict[str, tuple[tuple[FileVersion, ...], Any]] = {}

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.storage, PostgresEvents)

    @property
    def location(self) -> str:
        return self.storage.location

    def write_parquet(self, events: pa.Table, *, dedupe: bool = True) -> WriteResult:
        """Bulk-write events (imports, the simulator) into the store, durably.

        The name is historical: on PostgreSQL the events go to the partitioned table. With
        ``dedupe``, message ids already stored for the same event date are dropped; bulk
        writers that guarantee unique ids pass ``dedupe=False`` to skip reading back.
        """
        return self.storage.write(events, dedupe=dedupe)

    def append(self, events: Sequence[EventRow]) -> AppendResult:
        """Store ingested events durably before they are acknowledged (the inbox when embedded)."""
        return self.storage.append(events)

    def quarantine(self, messages: list[Quarantined]) -> None:
        self.storage.quarantine(messages)

    def quarantined(self, limit: int = 100) -> list[Quarantined]:
        return self.storage.quarantined(limit)

    def compact(self, *, now: datetime, wait: bool = False) -> CompactionResult:
        """Move the inbox into Parquet (one job at a time) and forget old quarantined messages.

        On PostgreSQL events are written in place: only the quarantine is purged.
        """
        if isinstance(self.storage, EmbeddedEvents):
            return self.storage.compact(now=now, wait=wait)
        if isinstance(self.storage, PostgresEvents):
            self.storage.purge_quarantine(now)
        return CompactionResult()

    def erase(self, person: PersonErasure) -> EventErasureResult:
        """Take a person out of every stored event (see ``events/erasure.py``)."""
        return self.storage.erase(person)

    def connect(self) -> ibis.BaseBackend:
        """A connection for this process's reads: a private in-memory DuckDB, or PostgreSQL."""
        return self.storage.connect()

    def table(self, con: ibis.BaseBackend, days: tuple[date, date] | None = None) -> ibis.Table:
        """All stored usage events (track, page, screen; including not-yet-compacted ones) as
        an Ibis table on ``con``: what every metric counts.

        ``days`` (first, last event date) promises the reader filters ``event_date`` within
        them: the embedded store then registers only those days' files (a week's events read
        7 of a year's 365), and may still return others.
        """
        messages = self.storage.table(con, days)
        return messages.filter(messages.type.isin(USAGE_TYPES))

    def messages(self, con: ibis.BaseBackend) -> ibis.Table:
        """Every stored message: usage events and the identify and group calls kept beside them."""
        return self.storage.table(con)

    def summarise(
        self,
        name: str,
        summary: Callable[[ibis.Table], Summary],
        combine: Callable[[Summary, Summary], Summary],
    ) -> Summarised[Summary]:
        """``summary`` of every stored message (``messages``' columns), and what it leaves out.

        Embedded (DuckDB or Spark): ``summary`` reads the compacted Parquet files alone, and
        what it returns is kept in this process while those files are unchanged, so a page
        asking again costs a listing of the files instead of a query. When files were only
        added (a compaction, a bulk write), ``summary`` reads the new ones and ``combine``
        (kept, new) adds them; when any kept file changed or went (a merge, an erasure), it
        reads them all again. The inbox rows not compacted yet come back beside it, read afresh
        on every call, for the caller to fold in. PostgreSQL: ``summary`` reads the events
        table on every call (no version of it is both cheap and exact), and nothing is pending.
        ``name`` keys what is kept: one name per summary function.
        """
        storage = self.storage
        if not isinstance(storage, EmbeddedEvents):
            con = self.connect()
            try:
                return Summarised(summary(self.messages(con)), READ_SCHEMA.empty_table())
            finally:
                con.disconnect()
        compacted = storage.compacted()
        kept_version, kept = self._summaries.get(name, ((), None))
        if kept is not None and kept_version == compacted.version:
            return Summarised(cast(Summary, kept), compacted.pending)
        before = set(kept_version)
        added = [
            f for f, v in zip(compacted.files, compacted.version, strict=True) if v not in before
        ]
        grown = kept is not None and before <= set(compacted.version)
        con = self.connect()
        try:
            if grown:
                new = summary(storage.compacted_table(con, added))
                stored = combine(cast(Summary, kept), new)
            else:
                stored = summary(storage.compacted_table(con, compacted.files))
        finally:
            con.disconnect()
        self._summaries[name] = (compacted.version, stored)
        return Summarised(stored, compacted.pending)

    def close(self) -> None:
        """Release pooled database connections (PostgreSQL); the store stays usable."""
        self.storage.close()

    def stats(self) -> EventStats:
        import ibis

        con = self.connect()
        try:
            t = self.table(con)
            # Nullable: min/max of no rows is null even where the column is NOT NULL.
            moment = t.timestamp.cast(ibis.dtype("timestamp('UTC', 6)"))
            row = (
                t.aggregate(n=t.count(), first=moment.min(), last=moment.max())
                .to_pyarrow()
                .to_pylist()[0]
            )
        finally:
            con.disconnect()
        pending, quarantined = self.storage.counts()
        return EventStats(
            int(row["n"]), row["first"], row["last"], self.location, pending, quarantined
        )


def open_event_store(settings: Settings) -> EventStore:
    if settings.events_engine == "spark":
        return _spark_event_store(settings)
    if settings.is_postgres:
        return EventStore(settings.data_dir, postgres_url=settings.resolved_database_url)
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise InvalidInput(f"TENURE_DATA_DIR {settings.data_dir} exists but is not a folder")
    return EventStore(settings.data_dir, memory_limit=settings.analytics_memory_limit)


def _spark_event_store(settings: Settings) -> EventStore:
    """Parquet under data_dir read by Spark (pyspark is imported only on this path)."""
    try:
        from tenure.store.events.spark import SparkEvents
    except ImportError as missing:
        raise InvalidInput(
            f"TENURE_EVENTS_ENGINE=spark needs pyspark ({missing}): pip install 'tenure[spark]'"
        ) from missing
    storage = SparkEvents(settings.data_dir, settings.spark_master)
    return EventStore(settings.data_dir, storage=storage)
