"""The inbox: durable before the acknowledgement, shared by processes, deduplicated for 7 days."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tenure.store.events import EventStore
from tenure.store.events.inbox import SCHEMA_VERSION, Inbox
from tests.store.conftest import read_all
from tests.store.factories import event

# Appends ids [first, last) in batches of 20 from a separate process, then dies without cleanup.
APPENDER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from tenure.store.events import EventStore
    from tests.store.factories import event, events
    store = EventStore(Path(sys.argv[1]))
    first, last = int(sys.argv[2]), int(sys.argv[3])
    for start in range(first, last, 20):
        store.append([*(event(f"m{i:04d}") for i in range(start, min(start + 20, last)))])
    os._exit(0)
""")


def _appender(data_dir: Path, first: int, last: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(data_dir), str(first), str(last)],
        cwd=Path(__file__).parents[2],
    )


def test_inbox_is_wal_with_full_sync(data_dir: Path) -> None:
    inbox = Inbox(data_dir / "inbox.db")
    with inbox._connect() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert sqlite3.connect(inbox.path).execute("PRAGMA user_version").fetchone()[0] == (
        SCHEMA_VERSION
    )


def test_processes_append_at_once_and_each_event_is_kept_once(data_dir: Path) -> None:
    # Two writers overlap on m0100..m0199; each process exits abruptly right after its last
    # append returned, so everything read here was durable when append() returned.
    writers = [_appender(data_dir, 0, 200), _appender(data_dir, 100, 300)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    rows = read_all(EventStore(data_dir))
    assert [r["message_id"] for r in rows] == [f"m{i:04d}" for i in range(300)]


def test_the_same_message_id_from_two_sources_is_two_events_in_the_inbox(data_dir: Path) -> None:
    store = EventStore(data_dir)
    result = store.append([event("m1", source="web"), event("m1", source="mobile")])
    assert (result.stored, result.duplicates) == (2, 0)


def test_compacted_ids_are_remembered_for_seven_days(data_dir: Path) -> None:
    store = EventStore(data_dir)
    inbox = Inbox(data_dir / "inbox.db")
    start = datetime(2025, 1, 6, 12, tzinfo=UTC)
    store.append([event("m1")])
    store.compact(now=start)
    store.compact(now=start + timedelta(days=6, hours=23))
    assert store.append([event("m1")]).duplicates == 1
    store.compact(now=start + timedelta(days=7, minutes=1))  # forgets m1
    with inbox._connect() as db:
        assert db.execute("SELECT count(*) FROM message").fetchone()[0] == 0
    # After the window the inbox takes the repeat, and compaction drops it against Parquet.
    assert store.append([event("m1")]).stored == 1
    result = store.compact(now=start + timedelta(days=8))
    assert (result.moved, result.written, result.duplicates) == (1, 0, 1)
    assert [r["message_id"] for r in read_all(store)] == ["m1"]


def test_threads_appending_at_once_share_commits_and_count_exactly(data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = EventStore(data_dir)
    # 16 appends of 25 ids; thread k sends m{k*10}..m{k*10+24}: neighbours overlap by 15.
    batches = [[event(f"m{k * 10 + i:04d}") for i in range(25)] for k in range(16)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(store.append, batches))
    assert sum(r.stored for r in results) == 16 * 10 + 15
    assert sum(r.stored + r.duplicates for r in results) == 16 * 25
    assert len(read_all(store)) == 175


def test_close_releases_the_inbox_and_the_next_append_reopens_it(data_dir: Path) -> None:
    store = EventStore(data_dir)
    store.append([event("a")])
    store.close()
    assert store.append([event("a"), event("b")]).stored == 1
    assert [r["message_id"] for r in read_all(store)] == ["a", "b"]
