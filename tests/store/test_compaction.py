"""Compaction: one job at a time; a crash between writing Parquet and marking rows is harmless."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from tenure.errors import Conflict
from tenure.model.base import utcnow
from tenure.store.events import EventStore
from tenure.store.events.embedded import MERGE_FROM_FILES, RETIRED_GRACE, EmbeddedEvents
from tests.store.conftest import read_all
from tests.store.factories import event, events

# Compacts, and dies (exit 17) at the fault-injection point: Parquet written, rows not marked.
CRASHING_COMPACTION = textwrap.dedent("""
    import os, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from tenure.store.events.embedded import EmbeddedEvents
    EmbeddedEvents(Path(sys.argv[1])).compact(now=datetime.now(UTC),
                                              after_write=lambda: os._exit(17))
""")


def _parquet_ids(data_dir: Path) -> list[str]:
    files = sorted((data_dir / "events").glob("event_date=*/*.parquet"))
    ids = ds.dataset(files, format="parquet").to_table(columns=["message_id"])["message_id"]
    return sorted(ids.to_pylist())


def test_compaction_moves_the_inbox_into_partitions(data_dir: Path) -> None:
    store = EventStore(data_dir)
    store.write_parquet(events(event("imported")))
    store.append([event("a"), event("b", day=event("b")["timestamp"].date().replace(day=7))])
    result = store.compact(now=utcnow())
    assert (result.moved, result.written, result.duplicates, result.runs) == (2, 2, 0, 1)
    assert _parquet_ids(data_dir) == ["a", "b", "imported"]
    assert sorted(p.parent.name for p in (data_dir / "events").glob("*/part-c0*.parquet")) == [
        "event_date=2025-01-06",
        "event_date=2025-01-07",
    ]
    assert store.stats().pending == 0


def test_a_crash_after_writing_parquet_neither_loses_nor_duplicates(data_dir: Path) -> None:
    store = EventStore(data_dir)
    store.append([*(event(f"m{i}") for i in range(5))])
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_COMPACTION, str(data_dir)],
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert crashed.returncode == 17
    # The crashed run's files are on disk, its rows still pending: readers see each event once.
    assert _parquet_ids(data_dir) == [f"m{i}" for i in range(5)]
    assert store.stats().pending == 5
    assert [r["message_id"] for r in read_all(store)] == [f"m{i}" for i in range(5)]

    retry = store.compact(now=utcnow())
    assert (retry.moved, retry.written, retry.orphans_removed) == (5, 5, 1)
    assert _parquet_ids(data_dir) == [f"m{i}" for i in range(5)]
    assert [r["message_id"] for r in read_all(store)] == [f"m{i}" for i in range(5)]


# Compacts, and dies (exit 17) inside the write of its first file: the temporary is written
# and fsync'd, not yet renamed into place.
DYING_MID_WRITE = textwrap.dedent("""
    import os, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from tenure.store.events.embedded import EmbeddedEvents
    Path.rename = lambda self, target: os._exit(17)
    EmbeddedEvents(Path(sys.argv[1])).compact(now=datetime.now(UTC))
""")


def test_a_compaction_killed_while_writing_leaves_no_temporary_behind(data_dir: Path) -> None:
    """Issue 16, item 12: the ``.tmp`` of a killed write stayed for ever."""
    store = EventStore(data_dir)
    store.append([*(event(f"m{i}") for i in range(3))])
    died = subprocess.run(
        [sys.executable, "-c", DYING_MID_WRITE, str(data_dir)],
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert died.returncode == 17
    [temporary] = (data_dir / "events").glob("event_date=*/.*.tmp")
    retry = store.compact(now=utcnow())
    assert (retry.moved, retry.written, retry.orphans_removed) == (3, 3, 1)
    assert not temporary.exists()
    assert list((data_dir / "events").rglob("*.tmp")) == []
    assert [r["message_id"] for r in read_all(store)] == ["m0", "m1", "m2"]


def test_only_one_compaction_runs_at_a_time(data_dir: Path) -> None:
    store = EventStore(data_dir)
    store.append([event("a")])
    lock = EmbeddedEvents(data_dir).lock_path
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(Conflict, match="another compaction"):
            store.compact(now=utcnow())
    assert store.compact(now=utcnow()).moved == 1


def test_compaction_runs_in_bounded_batches(data_dir: Path) -> None:
    embedded = EmbeddedEvents(data_dir)
    embedded.append([*(event(f"m{i:02d}") for i in range(25))])
    result = embedded.compact(now=utcnow(), batch_size=10)
    assert (result.moved, result.written, result.runs) == (25, 25, 3)
    assert _parquet_ids(data_dir) == [f"m{i:02d}" for i in range(25)]


def test_many_small_files_are_merged_and_the_old_ones_deleted_after_a_grace(
    data_dir: Path,
) -> None:
    store = EventStore(data_dir)
    for i in range(MERGE_FROM_FILES):
        store.write_parquet(events(event(f"m{i:02d}", hour=i % 24)))
    store.write_parquet(
        events(event("other-day", day=event("x")["timestamp"].date().replace(day=7)))
    )
    before = store.connect()
    listed_before_merge = store.table(before)

    now = utcnow()
    result = store.compact(now=now)
    assert (result.merged_partitions, result.deleted_files) == (1, 0)
    monday = data_dir / "events" / "event_date=2025-01-06"
    assert len(list(monday.glob("*.parquet"))) == MERGE_FROM_FILES + 1  # retired, not yet gone
    # A reader that listed the small files just before the merge still reads them, once each.
    assert listed_before_merge.count().execute() == MERGE_FROM_FILES + 1
    assert [r["message_id"] for r in read_all(store)][:3] == ["m00", "m01", "m02"]
    assert len(read_all(store)) == MERGE_FROM_FILES + 1

    later = store.compact(now=now + RETIRED_GRACE + timedelta(minutes=1))
    assert later.deleted_files == MERGE_FROM_FILES
    assert [p.name[:16] for p in monday.glob("*.parquet")] == ["part-c0000000001"]
    assert len(read_all(store)) == MERGE_FROM_FILES + 1
    before.disconnect()
