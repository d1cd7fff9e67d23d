"""The product-usage event store: a durable inbox, date-partitioned Parquet, read through Ibis."""

from tenure.store.events.schema import EVENT_COLUMNS, EVENT_SCHEMA, events_table_from_rows
from tenure.store.events.store import EventStore, open_event_store

__all__ = ["EVENT_COLUMNS", "EVENT_SCHEMA", "EventStore", "events_table_from_rows", "open_event_store"]
