"""Embedded event storage: the SQLite inbox plus Parquet partitioned by event date.

Ingest appends to the inbox (any process, durable before the acknowledgement). Compaction — one
job at a time, under ``<data_dir>/events/.write.lock`` — moves inbox rows into
``events/event_date=YYYY-MM-DD/part-c<compaction id>-<uuid>.parquet`` and then marks them.
Bulk writers (imports, the simulator) write ``part-<uuid>.parquet`` under the same lock.

Readers take one inbox snapshot (pending rows + last finished compaction + retired files) and
then list the files; compaction files whose id is above the last finished one belong to a run in
flight (or one that crashed before marking) and are skipped, so every event is read exactly once.

Frequent compactions leave many small files; once a partition has ``MERGE_FROM_FILES`` of them,
compaction merges them into one (a compaction of its own) and records the old ones as retired in
the same commit. Retired files are deleted after ``RETIRED_GRACE``, so a reader that listed them
just before the merge can finish: an Ibis table from ``table(con)`` is good for that long.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tenure.errors import Conflict
from tenure.store.events.erasure import EventErasureResult, PersonErasure
from tenure.store.events.inbox import (
    READ_SCHEMA,
    AppendResult,
    Inbox,
    PendingBatch,
    Quarantined,
)
from tenure.store.events.schema import EVENT_COLUMNS, EVENT_SCHEMA, EventRow

if TYPE_CHECKING:  # imported where used: ingest (append, quarantine) needs neither
    import duckdb
    import ibis

PARTITION_KEY = "event_date"
COMPACTION_BATCH = 200_000
MERGE_FROM_FILES = 24
RETIRED_GRACE = timedelta(hours=1)
# DuckDB's own default is 80 % of the machine's memory: on a shared machine one metrics pass
# over many dates then grew to 2.3 GB (issue 21). Bounded, DuckDB spills joins, sorts and
# aggregates to disk instead (Settings.analytics_memory_limit).
DEFAULT_MEMORY_LIMIT = "1GB"
_COMPACTION_FILE = re.compile(r"^part-c(\d+)-[0-9a-f]+\.parquet$")


@dataclass(frozen=True)
class WriteResult:
    written: int
    duplicates: int


@dataclass(frozen=True)
class CompactionResult:
    """One compaction: inbox rows moved, events written, repeats dropped, Parquet runs made."""

    moved: int = 0
    written: int = 0
    duplicates: int = 0
    runs: int = 0
    orphans_removed: int = 0
    # Partitions whose small files were merged into one, and retired files deleted.
    merged_partitions: int = 0
    deleted_files: int = 0


def duckdb_connection(memory_limit: str = DEFAULT_MEMORY_LIMIT) -> ibis.BaseBackend:
    """A private connection to this process's in-memory DuckDB, which keeps to ``memory_limit``
    and spills beyond it.

    Starting a DuckDB costs ~25 ms of CPU (its buffer manager, its threads), which every page
    reading events paid: it is started once per process and limit, and each connection is a
    cursor on it (~2 ms) whose temporary tables, views, variables and settings are its own, as
    they were in a database of its own. The limit holds for the process's connections together.
    The spill folder is the process's own (two processes' spill files never meet), removed when
    the process ends.
    """
    import duckdb
    import ibis

    key = (os.getpid(), memory_limit)  # a forked process starts its own
    with _DATABASES_LOCK:
        database = _DATABASES.get(key)
        if database is None:
            spill = tempfile.mkdtemp(prefix="tenure-duckdb-")
            database = duckdb.connect(
                ":memory:", config={"memory_limit": memory_limit, "temp_directory": spill}
            )
            weakref.finalize(database, _remove_spill, spill, os.getpid())
            _DATABASES[key] = database
        cursor = database.cursor()
    return ibis.duckdb.from_connection(cursor)


_DATABASES: dict[tuple[int, str], duckdb.DuckDBPyConnection] = {}
_DATABASES_LOCK = threading.Lock()


def _remove_spill(folder: str, owner: int) -> None:
    if os.getpid() == owner:  # a forked child leaving must not take its parent's folder
        shutil.rmtree(folder, ignore_errors=True)


class EmbeddedEvents:
    def __init__(self, data_dir: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> None:
        self.data_dir = data_dir
        self.memory_limit = memory_limit
        self.parquet_dir = data_dir / "events"
        self.lock_path = self.parquet_dir / ".write.lock"

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.data_dir / "inbox.db")

    @property
    def location(self) -> str:
        return f"{self.parquet_dir} (Parquet) + {self.inbox.path} (inbox)"

    # --- writing -------------------------------------------------------------------------------

    def append(self, events: Sequence[EventRow]) -> AppendResult:
        return self.inbox.append(events)

    def quarantine(self, messages: list[Quarantined]) -> None:
        self.inbox.quarantine(messages)

    def write(self, events: pa.Table, *, dedupe: bool = True) -> WriteResult:
        with self._writer_lock(wait=True):
            return self._write_partitions(events, dedupe=dedupe, prefix="part-")

    @contextmanager
    def _writer_lock(self, *, wait: bool) -> Iterator[None]:
        """One Parquet writer at a time, across processes and threads (flock per open file)."""
        self.parquet_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as busy:
                raise Conflict(
                    f"another compaction or Parquet write holds {self.lock_path}; "
                    "run again when it has finished"
                ) from busy
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def writer_lock(self) -> AbstractContextManager[None]:
        """Wait for and hold off compaction and bulk writes (a backup copies under it)."""
        return self._writer_lock(wait=True)

    def _write_partitions(self, events: pa.Table, *, dedupe: bool, prefix: str) -> WriteResult:
        events = events.cast(EVENT_SCHEMA)
        if events.num_rows == 0:
            return WriteResult(0, 0)
        days = pc.cast(events["timestamp"], pa.date32())
        written = duplicates = 0
        for day in pc.unique(days).to_pylist():
            part = events.filter(pc.equal(days, pa.scalar(day, pa.date32())))
            unique = _drop_repeated_ids(part)
            if dedupe:
                unique = _drop_ids_in(unique, self._stored_ids(day))
            duplicates += part.num_rows - unique.num_rows
            if unique.num_rows:
                _write_file(self.partition_dir(day), unique, prefix)
                written += unique.num_rows
        return WriteResult(written, duplicates)

    def partition_dir(self, day: date) -> Path:
        return self.parquet_dir / f"{PARTITION_KEY}={day.isoformat()}"

    def _stored_ids(self, day: date) -> pa.Array:
        """The (source, message id) keys already stored for ``day``."""
        folder = self.partition_dir(day)
        files = sorted(folder.glob("*.parquet")) if folder.exists() else []
        if not files:
            return pa.array([], pa.string())
        stored = _read(files, columns=["source", "message_id"])
        return _message_keys(stored)

    # --- compaction ----------------------------------------------------------------------------

    def compact(
        self,
        *,
        now: datetime,
        batch_size: int = COMPACTION_BATCH,
        wait: bool = False,
        after_write: Callable[[], None] | None = None,
    ) -> CompactionResult:
        """Move every pending inbox row into Parquet, in runs of at most ``batch_size`` rows.

        ``after_write`` runs between writing a run's Parquet files and marking its rows: the
        crash window. Tests kill the process there; the next compaction removes the unmarked
        files and writes the rows again.
        """
        moved = written = duplicates = runs = 0
        with self._writer_lock(wait=wait):
            batch = self.inbox.pending(limit=batch_size)
            orphans = self._remove_orphans(batch.last_compaction)
            while batch.events.num_rows:
                compaction = batch.last_compaction + 1
                result = self._write_partitions(
                    batch.events, dedupe=True, prefix=f"part-c{compaction:010d}-"
                )
                if after_write is not None:
                    after_write()
                moved += self.inbox.mark_compacted(
                    compaction=compaction,
                    last_seq=batch.last_seq,
                    written=result.written,
                    now=now,
                )
                written += result.written
                duplicates += result.duplicates
                runs += 1
                batch = self.inbox.pending(limit=batch_size)
            if not runs:
                self.inbox.purge_compacted(now)
            merged = self._merge_small_files(now)
            deleted = self._delete_retired(now)
        return CompactionResult(moved, written, duplicates, runs, orphans, merged, deleted)

    def _merge_small_files(self, now: datetime) -> int:
        """Rewrite each partition that has many files as one file (only ever under the lock)."""
        snapshot = self.inbox.pending(limit=0)
        by_partition: dict[Path, list[Path]] = {}
        for path in self._visible_files(snapshot):
            by_partition.setdefault(path.parent, []).append(path)
        compaction = snapshot.last_compaction
        merged = 0
        for folder, files in sorted(by_partition.items()):
            if len(files) < MERGE_FROM_FILES:
                continue
            compaction += 1
            table = _read(files).cast(EVENT_SCHEMA)
            table = table.take(pc.sort_indices(table, [("timestamp", "ascending")]))
            _write_file(folder, table, f"part-c{compaction:010d}-")
            self.inbox.record_merge(
                compaction=compaction,
                retired=[_relative(f) for f in files],
                written=table.num_rows,
                now=now,
            )
            merged += 1
        return merged

    def _delete_retired(self, now: datetime) -> int:
        names = self.inbox.retired_before(now - RETIRED_GRACE)
        for name in names:
            (self.parquet_dir / name).unlink(missing_ok=True)
        if names:
            self.inbox.forget_retired(names)
        return len(names)

    def _remove_orphans(self, last_compaction: int) -> int:
        """Delete files of compactions that never finished, and temporaries a writer killed
        mid-write left behind (only ever called under the lock, so no writer is running)."""
        orphans = [f for f in self._files() if _compaction_id(f) > last_compaction]
        if self.parquet_dir.exists():
            orphans += self.parquet_dir.glob(f"{PARTITION_KEY}=*/.*.parquet.tmp")
        for orphan in orphans:
            orphan.unlink()
        return len(orphans)

    # --- erasure -------------------------------------------------------------------------------

    def erase(self, person: PersonErasure) -> EventErasureResult:
        """Remove a person from the inbox and every Parquet file (retired ones too), rewriting
        each file that holds them in place under the writer lock: same name, so a file's
        compaction and visibility do not change."""
        inbox = self.inbox.erase(person)
        rewritten = 0
        with self._writer_lock(wait=True):
            for path in self._files():
                table = pq.read_table(path)
                if not person.matches(table):
                    continue
                _write_durably(path, person.scrub_table(table.cast(EVENT_SCHEMA)))
                rewritten += person.count(table)
        return EventErasureResult(inbox.events + rewritten, inbox.quarantined)

    # --- reading -------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        if not self.parquet_dir.exists():
            return []
        return sorted(self.parquet_dir.glob(f"{PARTITION_KEY}=*/*.parquet"))

    def _visible_files(self, snapshot: PendingBatch) -> list[Path]:
        return [
            f
            for f in self._files()
            if _compaction_id(f) <= snapshot.last_compaction
            and _relative(f) not in snapshot.retired
        ]

    def snapshot(self) -> tuple[PendingBatch, list[Path]]:
        """One consistent read: the pending inbox rows and the Parquet files visible with them."""
        batch = self.inbox.pending()
        return batch, self._visible_files(batch)

    def connect(self) -> ibis.BaseBackend:
        return duckdb_connection(self.memory_limit)

    def table(self, con: ibis.BaseBackend, days: Days | None = None) -> ibis.Table:
        """Every message, or with ``days`` (first, last) the Parquet files of those days only
        and every pending inbox row: what a reader filtering on ``event_date`` within them
        needs (registering each file costs every reader)."""
        # Snapshot the inbox first, then list files: see the module docstring.
        batch = self.inbox.pending()
        files = self._visible_files(batch)
        if days is not None:
            files = [f for f in files if days[0] <= _partition_day(f) <= days[1]]
        if files and not batch.events.num_rows:
            return self.compacted_table(con, files)  # the same columns, one table less
        inbox = _with_event_date(con, "events_inbox", batch.events)
        if not files:
            return inbox
        return self.compacted_table(con, files).union(inbox)

    def compacted(self) -> Compacted:
        """The pending inbox rows and the Parquet files visible with them (one snapshot), with a
        version of those files that changes whenever any of them does."""
        batch, files = self.snapshot()
        return Compacted(batch.events, tuple(files), _files_version(files))

    def compacted_table(self, con: ibis.BaseBackend, files: Sequence[Path]) -> ibis.Table:
        """The events of ``files`` (Parquet only, no inbox) as an Ibis table on ``con``."""
        if not files:
            return _with_event_date(con, "events_parquet", READ_SCHEMA.empty_table())
        parquet = con.read_parquet([str(f) for f in files], table_name="events_parquet")
        return parquet.select(
            *EVENT_COLUMNS, **{PARTITION_KEY: parquet[PARTITION_KEY].cast("date")}
        )

    def close(self) -> None:
        if "inbox" in self.__dict__:
            self.inbox.close()

    def counts(self) -> tuple[int, int]:
        return self.inbox.counts()

    def quarantined(self, limit: int) -> list[Quarantined]:
        return self.inbox.quarantined(limit)


FileVersion = tuple[str, int, int, int]  # name, size, mtime_ns, inode


@dataclass(frozen=True)
class Compacted:
    """One read of the embedded store split in two: the rows still in the inbox, and the
    Parquet files holding every other event, with their version: each file's name, size,
    modification time and inode, so a compaction, a merge, a bulk write or an erasure (which
    rewrites a file under the same name) all change it."""

    pending: pa.Table
    files: tuple[Path, ...]
    version: tuple[FileVersion, ...]  # one per file


def _files_version(files: Sequence[Path]) -> tuple[FileVersion, ...]:
    version = []
    for path in files:
        stat = path.stat()
        version.append((_relative(path), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(version)


def _with_event_date(con: ibis.BaseBackend, name: str, events: pa.Table) -> ibis.Table:
    days = pc.cast(events["timestamp"], pa.date32())
    return con.create_table(
        name, events.append_column(PARTITION_KEY, days), temp=True, overwrite=True
    )


def _read(files: list[Path], columns: list[str] | None = None) -> pa.Table:
    import pyarrow.dataset as ds  # a second of imports that ingest never needs

    return ds.dataset(files, format="parquet").to_table(columns=columns)


Days = tuple[date, date]  # first and last event date, both included


def _partition_day(path: Path) -> date:
    """The event date of a Parquet file's partition folder (``event_date=YYYY-MM-DD``)."""
    return date.fromisoformat(path.parent.name.removeprefix(f"{PARTITION_KEY}="))


def _relative(path: Path) -> str:
    """A file's name as the inbox records it: ``event_date=YYYY-MM-DD/part-….parquet``."""
    return f"{path.parent.name}/{path.name}"


def _compaction_id(path: Path) -> int:
    """The compaction that wrote a file, 0 for files written directly (always visible)."""
    match = _COMPACTION_FILE.match(path.name)
    return int(match.group(1)) if match else 0


def _write_file(folder: Path, table: pa.Table, prefix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return _write_durably(folder / f"{prefix}{uuid.uuid4().hex}.parquet", table)


def _write_durably(final: Path, table: pa.Table) -> Path:
    """Write to a hidden temporary, fsync'd, renamed into place (replacing a file of that name),
    folder fsync'd."""
    folder = final.parent
    temporary = folder / f".{final.name}.tmp"
    pq.write_table(table, temporary, compression="zstd")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    temporary.rename(final)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def _message_keys(table: pa.Table) -> pa.Array:
    """One text per (source, message_id): the inbox's rule, so the same id from two sources is
    two messages. The source's length leads, so no pair of texts can run into another."""
    source = table["source"]
    length = pc.cast(pc.utf8_length(source), pa.string())
    return pc.binary_join_element_wise(length, source, table["message_id"], ":")


def _drop_repeated_ids(table: pa.Table) -> pa.Table:
    """Keep the first row of each (source, message id) within one batch (at-least-once senders
    repeat)."""
    keys = _message_keys(table)
    if pc.count_distinct(keys).as_py() == table.num_rows:
        return table
    first = pa.table({"key": keys, "_row": pa.array(range(table.num_rows), pa.int64())})
    keep = first.group_by("key").aggregate([("_row", "min")])["_row_min"]
    return table.take(pc.take(keep, pc.sort_indices(keep)))


def _drop_ids_in(table: pa.Table, stored: pa.Array) -> pa.Table:
    if len(stored) == 0:
        return table
    return table.filter(pc.invert(pc.is_in(_message_keys(table), value_set=stored)))
