"""The event store's contract, on both storages: what is written is read back, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from tenure.config import Settings
from tenure.model.base import utcnow
from tenure.store.events import EventStore, Quarantined, open_event_store
from tests.store.conftest import read_all
from tests.store.factories import MONDAY, event, events


def test_written_events_read_back_with_their_date(store: EventStore) -> None:
    store.write_parquet(
        events(
            event("a", hour=23, properties='{"format":"csv"}'),
            event("b", day=date(2025, 1, 7), hour=0),
            event("c", day=date(2025, 2, 1), account_id=None),
        )
    )
    rows = read_all(store)
    assert [r["message_id"] for r in rows] == ["a", "b", "c"]
    assert [r["event_date"] for r in rows] == [MONDAY, date(2025, 1, 7), date(2025, 2, 1)]
    assert rows[0]["timestamp"] == datetime(2025, 1, 6, 23, tzinfo=UTC)
    assert rows[0]["properties"] == '{"format":"csv"}'
    assert rows[2]["account_id"] is None


def test_a_repeated_message_id_is_stored_once(store: EventStore) -> None:
    first = store.write_parquet(
        events(
            event("a", properties="first"),
            event("a", properties="second"),
            event("b"),
        )
    )
    again = store.write_parquet(events(event("a", properties="third"), event("c")))
    assert (first.written, first.duplicates) == (2, 1)
    assert (again.written, again.duplicates) == (1, 1)
    rows = read_all(store)
    assert [(r["message_id"], r["properties"]) for r in rows] == [
        ("a", "first"),
        ("b", None),
        ("c", None),
    ]


def test_ingested_events_are_read_before_and_after_compaction(store: EventStore) -> None:
    assert store.append([event("x"), event("y")]).stored == 2
    assert store.append([event("y")]).duplicates == 1
    assert [r["message_id"] for r in read_all(store)] == ["x", "y"]
    store.compact(now=utcnow())
    assert [r["message_id"] for r in read_all(store)] == ["x", "y"]
    assert store.stats().pending == 0


def test_stats_count_events_and_span(store: EventStore) -> None:
    empty = store.stats()
    assert (empty.events, empty.first, empty.last) == (0, None, None)
    store.write_parquet(events(event("a", hour=8), event("b", day=date(2025, 3, 2), hour=17)))
    store.append([event("c", day=date(2024, 12, 31))])
    stats = store.stats()
    assert stats.events == 3
    assert stats.first == datetime(2024, 12, 31, 9, tzinfo=UTC)
    assert stats.last == datetime(2025, 3, 2, 17, tzinfo=UTC)


def test_quarantined_messages_are_kept_with_their_reason(store: EventStore) -> None:
    received = datetime(2025, 1, 6, 12, tzinfo=UTC)
    store.quarantine(
        [
            Quarantined("web", "event: Field required", '{"type":"track"}', received),
            Quarantined("web", "type: unknown message type 'x'", '{"type":"x"}', received),
        ]
    )
    assert store.stats().quarantined == 2
    newest = store.quarantined(limit=1)
    assert [(q.reason, q.raw) for q in newest] == [
        ("type: unknown message type 'x'", '{"type":"x"}')
    ]
    assert newest[0].received_at == received


def test_quarantine_is_kept_thirty_days(store: EventStore) -> None:
    received = datetime(2025, 1, 6, 12, tzinfo=UTC)
    store.quarantine([Quarantined("web", "event: Field required", "{}", received)])
    store.compact(now=received + timedelta(days=29))
    assert store.stats().quarantined == 1
    store.compact(now=received + timedelta(days=30, minutes=1))
    assert store.stats().quarantined == 0


@pytest.mark.postgres
def test_postgres_partitions_by_month_on_demand(migrated_template, data_dir) -> None:
    url = migrated_template("postgres")
    store = open_event_store(Settings(data_dir=data_dir, database_url=url))
    store.write_parquet(events(event("a"), event("b", day=date(2025, 2, 28)), event("c")))
    store.append([event("d", day=date(2025, 2, 1)), event("e", day=date(2026, 7, 4))])
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        partitions = (
            conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'tenure_events.event'::regclass ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
        per_partition = conn.execute(
            sa.text(
                "SELECT tableoid::regclass::text, count(*) FROM tenure_events.event GROUP BY 1 "
                "ORDER BY 1"
            )
        ).all()
    engine.dispose()
    assert partitions == ["event_y2025m01", "event_y2025m02", "event_y2026m07"]
    assert [tuple(r) for r in per_partition] == [
        ("tenure_events.event_y2025m01", 2),
        ("tenure_events.event_y2025m02", 2),
        ("tenure_events.event_y2026m07", 1),
    ]
    # A second process (fresh store object) finds the partitions instead of recreating them.
    again = open_event_store(Settings(data_dir=data_dir, database_url=url))
    assert again.write_parquet(events(event("a"), event("f", day=date(2025, 2, 3)))).written == 1


def test_text_survives_exactly_empty_is_not_null(store: EventStore) -> None:
    tricky = 'a "quoted", multi-line\nvalue; é ✓ \\N NULL'
    store.write_parquet(
        events(
            event("a", properties=tricky, user_id=""),
            event("b", properties="", user_id=None),
            event("c", properties=None, name="x,y"),
        )
    )
    rows = read_all(store)
    assert [(r["properties"], r["user_id"], r["event"]) for r in rows] == [
        (tricky, "", "report_exported"),
        ("", None, "report_exported"),
        (None, "u1", "x,y"),
    ]


def test_large_writes_go_in_chunks(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenure.store.events import postgres

    monkeypatch.setattr(postgres, "COPY_CHUNK", 2)
    result = store.write_parquet(events(*(event(f"m{i}") for i in range(5)), event("m0")))
    assert (result.written, result.duplicates) == (5, 1)
    assert [r["message_id"] for r in read_all(store)] == [f"m{i}" for i in range(5)]


def _sources_and_ids(store: EventStore) -> list[tuple[str, str]]:
    return sorted((r["source"], r["message_id"]) for r in read_all(store))


def test_one_id_from_two_sources_is_two_messages_before_and_after_compaction(
    store: EventStore,
) -> None:
    """The inbox keys on (source, messageId); compaction and PostgreSQL used the id alone, so
    two rows before compaction became one after it (issue 16, item 11)."""
    store.append([event("m1", source="web"), event("m1", source="ios")])
    store.append([event("m1", source="web")])  # a retry: still one
    assert _sources_and_ids(store) == [("ios", "m1"), ("web", "m1")]
    store.compact(now=utcnow())
    assert _sources_and_ids(store) == [("ios", "m1"), ("web", "m1")]
    # Bulk writes follow the same rule, against what is already stored.
    written = store.write_parquet(
        events(event("m1", source="web"), event("m1", source="import:a.csv"))
    )
    assert (written.written, written.duplicates) == (1, 1)
    assert _sources_and_ids(store) == [("import:a.csv", "m1"), ("ios", "m1"), ("web", "m1")]


def test_identify_and_group_messages_are_kept_beside_the_usage_events(store: EventStore) -> None:
    """Metrics read usage events only; every message (traits history, replay) is there too."""
    store.append(
        [
            event("t1"),
            event("i1", kind="identify", name="", properties='{"email":"ann@acme.test"}'),
            event("g1", kind="group", name="", properties='{"name":"Acme"}'),
        ]
    )
    store.append([event("i1", kind="identify", name="")])  # deduplicated like tracks
    assert [r["message_id"] for r in read_all(store)] == ["t1"]
    assert store.stats().events == 1
    con = store.connect()
    try:
        messages = store.messages(con).order_by("message_id").to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert [(m["message_id"], m["type"]) for m in messages] == [
        ("g1", "group"),
        ("i1", "identify"),
        ("t1", "track"),
    ]


@pytest.mark.postgres
def test_a_postgres_table_keyed_on_the_id_alone_is_rekeyed(migrated_template) -> None:
    """Installations from before item 11 have PRIMARY KEY (event_date, message_id)."""
    from tenure.store.events.postgres import PostgresEvents

    database_url = migrated_template("postgres")
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS tenure_events CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA tenure_events"))
        conn.execute(
            sa.text(
                "CREATE TABLE tenure_events.event (message_id text NOT NULL, source text NOT "
                "NULL, type text NOT NULL, account_id text, user_id text, anonymous_id text, "
                'event text NOT NULL, "timestamp" timestamptz NOT NULL, received_at timestamptz '
                "NOT NULL, properties text, event_date date NOT NULL, "
                "PRIMARY KEY (event_date, message_id)) PARTITION BY RANGE (event_date)"
            )
        )
    storage = PostgresEvents(database_url)
    store = EventStore(Path("unused"), storage=storage)
    try:
        store.append([event("m1", source="web"), event("m1", source="ios")])
        assert _sources_and_ids(store) == [("ios", "m1"), ("web", "m1")]
    finally:
        store.close()
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA tenure_events CASCADE"))
        engine.dispose()


def test_the_metrics_connection_keeps_to_its_memory_limit(tmp_path: Path) -> None:
    store = open_event_store(Settings(data_dir=tmp_path, analytics_memory_limit="256MB"))
    con = store.connect()
    limit, spill = con.raw_sql(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit == "244.1 MiB"  # DuckDB states 256 MB in MiB
    # Beyond the limit DuckDB spills into a folder of this process's own.
    assert Path(spill).is_dir() and Path(spill).name.startswith("tenure-duckdb-")
    con.disconnect()


def test_connections_share_a_database_but_nothing_they_make(tmp_path: Path) -> None:
    """Each connection is a cursor on the process's DuckDB (started once): the temporary
    tables, variables and settings one makes are not the other's, as when each was a database
    of its own."""
    store = open_event_store(Settings(data_dir=tmp_path))
    one, two = store.connect(), store.connect()
    try:
        one.raw_sql("CREATE TEMP TABLE mine AS SELECT 1 AS n").fetchall()
        one.raw_sql("SET VARIABLE day = 7").fetchall()
        one.raw_sql("SET TimeZone = 'Europe/Berlin'").fetchall()
        mine = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mine'"
        assert two.raw_sql(mine).fetchone() == (0,)
        assert two.raw_sql("SELECT getvariable('day'), current_setting('TimeZone')").fetchone() == (
            None,
            "UTC",
        )
        two.create_table("mine", pa.table({"n": [2]}), temp=True)
        assert one.table("mine").to_pyarrow()["n"].to_pylist() == [1]
    finally:
        one.disconnect()
        two.disconnect()


def test_a_reader_of_some_days_gets_their_events_from_their_files_alone(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering every day's files cost each page reading one week of a year; the inbox is
    read whole (its rows are not sorted by day)."""
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    store.append([event("m1"), event("t1", day=tuesday), event("w1", day=wednesday)])
    store.compact(now=datetime.combine(wednesday, datetime.min.time(), tzinfo=UTC))
    store.append([event("t2", day=tuesday, hour=11), event("w2", day=wednesday)])
    registered: list[str] = []
    if not store.is_postgres:
        compacted_table = store.storage.compacted_table  # type: ignore[attr-defined]

        def only(con: object, files: list[Path]) -> object:
            registered.extend(f.parent.name for f in files)
            return compacted_table(con, files)

        monkeypatch.setattr(store.storage, "compacted_table", only)
    con = store.connect()
    try:
        table = store.table(con, (tuesday, tuesday))
        tuesdays = table.filter(table.event_date == tuesday).order_by("message_id")
        assert tuesdays.to_pyarrow()["message_id"].to_pylist() == ["t1", "t2"]
    finally:
        con.disconnect()
    assert registered == ([] if store.is_postgres else ["event_date=2025-01-07"])
