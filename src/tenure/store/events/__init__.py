"""The product-usage event store: a durable inbox, date-partitioned Parquet, read through Ibis."""

from tenure.store.events.embedded import CompactionResult, WriteResult
from tenure.store.events.inbox import AppendResult, Quarantined
from tenure.store.events.schema import EVENT_COLUMNS, EVENT_SCHEMA, events_table_from_rows
from tenure.store.events.store import EventStats, EventStore, Summarised, open_event_store

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "AppendResult",
    "CompactionResult",
    "EventStats",
    "EventStore",
    "Quarantined",
    "Summarised",
    "WriteResult",
    "events_table_from_rows",
    "open_event_store",
]
