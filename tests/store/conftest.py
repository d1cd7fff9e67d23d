from __future__ import annotations

from pathlib import Path

import pytest

from tenure.config import Settings
from tenure.store.events import EventStore, open_event_store


@pytest.fixture
def store(data_dir: Path, database_url: str) -> EventStore:
    """The event store the settings choose: inbox + Parquet with SQLite, a table on PostgreSQL."""
    return open_event_store(Settings(data_dir=data_dir, database_url=database_url))


def read_all(store: EventStore) -> list[dict[str, object]]:
    con = store.connect()
    try:
        table = store.table(con)
        return table.order_by(table.message_id).to_pyarrow().to_pylist()
    finally:
        con.disconnect()
