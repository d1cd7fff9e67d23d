"""Event files: validated whole, streamed into the event store in batches, deduplicated by
message id so a re-import writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from tenure.config import Settings
from tenure.errors import RejectedFile
from tenure.ingest import importer
from tenure.ingest.importer import import_events
from tenure.ingest.mappings import load_mapping
from tenure.ingest.request import ImportRequest
from tenure.store.events import EventStore, WriteResult, open_event_store
from tests.ingest.helpers import FORMATS, write_rows

EVENTS = [
    {
        "message_id": "m-1",
        "account_id": "acme",
        "user_id": "u-maria",
        "event": "report_exported",
        "timestamp": "2024-03-01T09:30:00Z",
        "properties": {"format": "pdf", "pages": 3},
    },
    {
        "message_id": "m-2",
        "account_id": "acme",
        "user_id": "u-tom",
        "event": "dashboard_viewed",
        # No zone: UTC.
        "timestamp": "2024-03-01T23:59:59",
        "properties": None,
    },
    {
        "message_id": "m-3",
        "account_id": "not-yet-imported",
        "user_id": "u-zoe",
        "event": "report_exported",
        "timestamp": "2024-03-02T00:00:01+01:00",
        "properties": {"format": "csv"},
    },
]
RECEIVED = datetime(2024, 3, 5, 12, tzinfo=UTC)


@pytest.fixture
def store(data_dir: Path, database_url: str) -> EventStore:
    """The event store the CLI would open: Parquet files, or PostgreSQL's table."""
    return open_event_store(Settings(data_dir=data_dir, database_url=database_url))


def _csv_ready(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """A flat file carries properties as JSON text."""
    return [
        {**r, "properties": None if r["properties"] is None else json.dumps(r["properties"])}
        for r in rows
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_and_reimport(tmp_path: Path, store: EventStore, fmt: str) -> None:
    # JSON lines nest properties; CSV and Parquet carry them as JSON text (the store's shape).
    rows = EVENTS if fmt == "jsonl" else _csv_ready(EVENTS)
    path = write_rows(tmp_path, "events", fmt, rows)
    report = import_events(store, ImportRequest("events", path), received_at=RECEIVED)
    assert (report.rows, report.inserted, report.unchanged) == (3, 3, 0)

    stored = store.table(store.connect()).order_by("message_id").to_pyarrow().to_pylist()
    assert [e["message_id"] for e in stored] == ["m-1", "m-2", "m-3"]
    assert {e["source"] for e in stored} == {f"import:events.{fmt}"}
    assert [e["timestamp"] for e in stored] == [
        datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC),
        # +01:00 → the previous UTC day: partitioned on 2024-03-01.
        datetime(2024, 3, 1, 23, 0, 1, tzinfo=UTC),
    ]
    assert json.loads(stored[0]["properties"]) == {"format": "pdf", "pages": 3}
    assert stored[1]["properties"] is None
    assert stored[0]["type"] == "track"
    assert stored[0]["received_at"] == RECEIVED

    again = import_events(store, ImportRequest("events", path), received_at=RECEIVED)
    assert (again.inserted, again.unchanged) == (0, 3)
    assert store.stats().events == 3


def test_large_files_are_written_in_batches(
    tmp_path: Path, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "EVENT_BATCH", 4)
    batches: list[int] = []
    write = store.write_parquet

    def spy(events: pa.Table, *, dedupe: bool = True) -> WriteResult:
        batches.append(events.num_rows)
        return write(events, dedupe=dedupe)

    monkeypatch.setattr(store, "write_parquet", spy)
    rows = [
        {
            "message_id": f"m-{i}",
            "event": "login",
            "timestamp": f"2024-01-{1 + i % 3:02d}T10:00:00Z",
        }
        for i in range(10)
    ]
    path = write_rows(tmp_path, "events", "csv", rows)
    report = import_events(store, ImportRequest("events", path))
    assert (report.inserted, report.unchanged) == (10, 0)
    assert batches == [4, 4, 2]
    assert store.stats().events == 10
    assert import_events(store, ImportRequest("events", path)).inserted == 0


def test_a_bad_event_file_writes_nothing(tmp_path: Path, store: EventStore) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "message_id,event,timestamp,properties\n"
        "m-1,login,2024-01-01T10:00:00Z,\n"
        "m-2,,2024-01-01T10:00:00Z,\n"
        "m-3,login,1704103200,\n"
        "m-1,login,2024-01-01T10:00:00Z,\n"
        'm-4,login,2024-01-01T10:00:00Z,"{""a"": 1"\n'
    )
    with pytest.raises(RejectedFile) as rejected:
        import_events(store, ImportRequest("events", path))
    assert [(e.line, e.column) for e in rejected.value.errors] == [
        (3, "event"),
        (4, "timestamp"),
        (5, "message_id"),
        (6, "properties"),
    ]
    assert store.stats().events == 0


def test_an_event_export_through_a_mapping(tmp_path: Path, store: EventStore) -> None:
    """An analytics export in its own shape: ids and time nested in properties, Unix seconds."""
    mapping = tmp_path / "analytics.yaml"
    mapping.write_text(
        "name: analytics-export\n"
        "entity: events\n"
        "columns:\n"
        "  message_id: properties.$insert_id\n"
        "  user_id: properties.distinct_id\n"
        "  account_id: properties.company_id\n"
        "  event: event\n"
        "  timestamp: {column: properties.time, transform: unix_datetime}\n"
        "  properties: properties\n"
    )
    export = tmp_path / "export.jsonl"
    export.write_text(
        json.dumps(
            {
                "event": "report_exported",
                "properties": {
                    "time": 1709285400,
                    "distinct_id": "u-maria",
                    "$insert_id": "a1b2",
                    "company_id": "acme",
                },
            }
        )
        + "\n"
    )
    request = ImportRequest("events", export, load_mapping(str(mapping)))
    assert import_events(store, request).inserted == 1
    [event] = store.table(store.connect()).to_pyarrow().to_pylist()
    assert (event["message_id"], event["user_id"], event["account_id"]) == (
        "a1b2",
        "u-maria",
        "acme",
    )
    assert event["timestamp"] == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert json.loads(event["properties"])["company_id"] == "acme"
