"""The durable inbox: where ingested events wait, any process may append, until compaction.

A SQLite file in WAL mode with ``synchronous=FULL``: a committed append has been fsync'd, so the
HTTP 200 that follows it never acknowledges an event a power cut could lose. ``UNIQUE(source,
message_id)`` drops the repeats at-least-once senders make; compacted rows stay for
``DEDUPE_WINDOW`` so a late retry is still recognised. Invalid messages go to ``quarantine`` with
the reason, for people to look at (``tenure status``, the console).

The inbox is not the operational database and is not managed by Alembic: its small schema is
created when it is opened and versioned with ``PRAGMA user_version``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from tenure.store.events.erasure import EventErasureResult, PersonErasure
from tenure.store.events.schema import EVENT_COLUMNS, EVENT_SCHEMA, USAGE_TYPES, EventRow

SCHEMA_VERSION = 2
DEDUPE_WINDOW = timedelta(days=7)
# Quarantined messages are for people to look at, then fix the sender; a month is plenty.
QUARANTINE_KEEP = timedelta(days=30)
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    account_id TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    event TEXT NOT NULL,
    timestamp_us INTEGER NOT NULL,
    received_at_us INTEGER NOT NULL,
    properties TEXT,
    compacted_at_us INTEGER,
    UNIQUE (source, message_id)
);
CREATE INDEX IF NOT EXISTS message_pending ON message (seq) WHERE compacted_at_us IS NULL;
CREATE INDEX IF NOT EXISTS message_compacted ON message (compacted_at_us)
    WHERE compacted_at_us IS NOT NULL;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at_us INTEGER NOT NULL
);
-- One row per finished compaction: Parquet files named after an id not listed here are the
-- leftovers of a run that crashed before marking its rows, and readers skip them.
CREATE TABLE IF NOT EXISTS compaction (
    id INTEGER PRIMARY KEY,
    finished_at_us INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    written INTEGER NOT NULL
);
-- Parquet files replaced by a merged one (path relative to the events folder). Readers skip
-- them from the moment the merge is recorded; compaction deletes them after a grace period.
CREATE TABLE IF NOT EXISTS retired_file (
    name TEXT PRIMARY KEY,
    compaction INTEGER NOT NULL,
    retired_at_us INTEGER NOT NULL
);
"""

_STORED = [c for c in EVENT_COLUMNS if c not in ("timestamp", "received_at")]
_INSERT = (
    f"INSERT OR IGNORE INTO message ({', '.join(_STORED)}, timestamp_us, received_at_us) "
    f"VALUES ({', '.join('?' for _ in range(len(_STORED) + 2))})"
)
_SELECT = f"SELECT seq, {', '.join(_STORED)}, timestamp_us, received_at_us FROM message"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(moment: datetime) -> int:
    """Microseconds since the epoch; a time without a zone is UTC, as in the event schema."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


# What readers get: every column nullable, so it unions with DuckDB's view of the Parquet files.
READ_SCHEMA = pa.schema([field.with_nullable(True) for field in EVENT_SCHEMA])


@dataclass(frozen=True)
class AppendResult:
    stored: int
    duplicates: int


@dataclass
class _Append:
    """One caller's rows waiting for a group commit, and what became of them."""

    values: list[tuple[object, ...]]
    stored: int = 0
    done: bool = False
    error: Exception | None = None


@dataclass(frozen=True)
class Quarantined:
    """A message refused by validation, kept verbatim with the reason."""

    source: str | None
    reason: str
    raw: str
    received_at: datetime


@dataclass(frozen=True)
class PendingBatch:
    """Inbox rows not yet compacted, read in one snapshot with the last finished compaction."""

    events: pa.Table
    last_seq: int
    last_compaction: int
    retired: frozenset[str]


def to_micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


class Inbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Append] = []
        # Kept open for group commits; only ever used by the holder of ``_writer``.
        self._appender: sqlite3.Connection | None = None
        self._appender_pid = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new file to WAL is refused ("database is locked"), not waited for, while
        # another process creates the schema: processes opening the inbox at once take turns.
        with open(path.with_name(path.name + ".setup.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with self._connect() as db:
                if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(
                        f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
                    )

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return db

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = self._open()
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction: committed (and fsync'd) when the block ends."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def append(self, events: Sequence[EventRow]) -> AppendResult:
        """Store events durably; (source, message_id) pairs already in the inbox are ignored.

        Rows go in as the ingest built them: through Arrow they cost a conversion each way,
        and the first one imported pandas (pyarrow looks for it) — 0.3 s of CPU before a
        restarted server's first answer."""
        append = _Append(
            [
                (
                    *(row.get(name) for name in _STORED),
                    _microseconds(row["timestamp"]),
                    _microseconds(row["received_at"]),
                )
                for row in events
            ]
        )
        with self._queue_lock:
            self._queue.append(append)
        with self._writer:
            if not append.done:
                self._commit_queued()
        if append.error is not None:
            raise append.error
        return AppendResult(append.stored, len(append.values) - append.stored)

    def _commit_queued(self) -> None:
        """Group commit: every append queued by this process's threads, in one transaction.

        Threads arriving while a commit is being fsync'd queue up; the next one to get the
        writer lock commits them all, so concurrent requests share an fsync instead of each
        waiting for its own (and for SQLite's coarse busy-wait sleeps).
        """
        with self._queue_lock:
            batch, self._queue = self._queue, []
        try:
            db = self._appending_connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                for append in batch:
                    before = db.total_changes
                    db.executemany(_INSERT, append.values)
                    append.stored = db.total_changes - before
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except Exception as error:
            for append in batch:
                append.error = error
            self._drop_appender()  # start the next commit from a fresh connection
        for append in batch:
            append.done = True

    def _appending_connection(self) -> sqlite3.Connection:
        # A process forked from this one must not share the parent's SQLite connection.
        if self._appender is None or self._appender_pid != os.getpid():
            self._appender = self._open()
            self._appender_pid = os.getpid()
        return self._appender

    def close(self) -> None:
        """Close the connection kept for group commits (reopened on the next append)."""
        with self._writer:
            self._drop_appender()

    def _drop_appender(self) -> None:
        if self._appender is not None and self._appender_pid == os.getpid():
            self._appender.close()
        self._appender = None

    def quarantine(self, messages: Sequence[Quarantined]) -> None:
        if not messages:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO quarantine (source, reason, raw, received_at_us) VALUES (?, ?, ?, ?)",
                [(m.source, m.reason, m.raw, to_micros(m.received_at)) for m in messages],
            )

    def pending(self, limit: int | None = None) -> PendingBatch:
        """Rows awaiting compaction (oldest first) and the last finished compaction, in one read."""
        with self._connect() as db:
            db.execute("BEGIN")
            try:
                query = f"{_SELECT} WHERE compacted_at_us IS NULL ORDER BY seq"
                rows = db.execute(
                    query + (f" LIMIT {int(limit)}" if limit is not None else "")
                ).fetchall()
                last_compaction = db.execute(
                    "SELECT coalesce(max(id), 0) FROM compaction"
                ).fetchone()[0]
                retired = frozenset(r[0] for r in db.execute("SELECT name FROM retired_file"))
            finally:
                db.execute("COMMIT")
        return PendingBatch(
            _rows_to_table(rows), rows[-1][0] if rows else 0, last_compaction, retired
        )

    def mark_compacted(self, *, compaction: int, last_seq: int, written: int, now: datetime) -> int:
        """Record a finished compaction and purge compacted rows older than the dedupe window.

        Returns how many rows were marked.
        """
        now_us = to_micros(now)
        with self._write() as db:
            marked = db.execute(
                "UPDATE message SET compacted_at_us = ? WHERE seq <= ? AND compacted_at_us IS NULL",
                (now_us, last_seq),
            ).rowcount
            db.execute(
                "INSERT INTO compaction (id, finished_at_us, messages, written) "
                "VALUES (?, ?, ?, ?)",
                (compaction, now_us, marked, written),
            )
            _purge(db, now)
        return int(marked)

    def record_merge(
        self, *, compaction: int, retired: Sequence[str], written: int, now: datetime
    ) -> None:
        """Make a merged file visible and the files it replaces invisible, in one commit."""
        now_us = to_micros(now)
        with self._write() as db:
            db.execute(
                "INSERT INTO compaction (id, finished_at_us, messages, written) "
                "VALUES (?, ?, 0, ?)",
                (compaction, now_us, written),
            )
            db.executemany(
                "INSERT INTO retired_file (name, compaction, retired_at_us) VALUES (?, ?, ?)",
                [(name, compaction, now_us) for name in retired],
            )

    def retired_before(self, cutoff: datetime) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT name FROM retired_file WHERE retired_at_us < ? ORDER BY name",
                (to_micros(cutoff),),
            ).fetchall()
        return [name for (name,) in rows]

    def forget_retired(self, names: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany("DELETE FROM retired_file WHERE name = ?", [(n,) for n in names])

    def purge_compacted(self, now: datetime) -> None:
        """Forget compacted rows older than the dedupe window, and old quarantined messages."""
        with self._write() as db:
            _purge(db, now)

    def appended_since(self, seq: int) -> tuple[list[tuple[str | None, str | None, int]], int]:
        """Who used the product after row ``seq``: (account_id, user_id, oldest received_at in
        µs) per pair of usage events, and the newest seq (the intraday refresh's watermark)."""
        with self._connect() as db:
            db.execute("BEGIN")
            try:
                newest = db.execute("SELECT coalesce(max(seq), 0) FROM message").fetchone()[0]
                rows = db.execute(
                    "SELECT account_id, user_id, min(received_at_us) FROM message "
                    f"WHERE seq > ? AND seq <= ? AND type IN {USAGE_TYPES!r} "
                    "GROUP BY account_id, user_id",
                    (seq, newest),
                ).fetchall()
            finally:
                db.execute("COMMIT")
        return [(a, u, int(at)) for a, u, at in rows], int(newest)

    def erase(self, person: PersonErasure) -> EventErasureResult:
        """Pseudonymise the person's messages and drop their quarantined ones, overwriting the
        freed bytes (``secure_delete``) and emptying the WAL, so no copy stays in the files."""
        ids = sorted(person.ids)
        marks = ", ".join("?" for _ in ids)
        with self._connect() as db:
            db.execute("PRAGMA secure_delete=ON")
            db.execute("BEGIN IMMEDIATE")
            try:
                mentions = "".join(" OR instr(lower(properties), ?) > 0" for _ in person.emails)
                rows = db.execute(
                    "SELECT seq, type, user_id, anonymous_id, properties FROM message "
                    f"WHERE user_id IN ({marks}) OR anonymous_id IN ({marks}){mentions}",
                    (*ids, *ids, *sorted(person.emails)),
                ).fetchall()
                for seq, kind, user_id, anonymous_id, properties in rows:
                    theirs = user_id in person.ids or anonymous_id in person.ids
                    db.execute(
                        "UPDATE message SET user_id = ?, anonymous_id = ?, properties = ? "
                        "WHERE seq = ?",
                        (
                            person.token if user_id in person.ids else user_id,
                            person.token if anonymous_id in person.ids else anonymous_id,
                            person.scrub_properties(properties, theirs=theirs, kind=kind),
                            seq,
                        ),
                    )
                raw = db.execute("SELECT id, raw FROM quarantine").fetchall()
                dropped = [(id_,) for id_, text in raw if person.in_raw(text)]
                db.executemany("DELETE FROM quarantine WHERE id = ?", dropped)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return EventErasureResult(len(rows), len(dropped))

    def counts(self) -> tuple[int, int]:
        """(pending, quarantined)."""
        with self._connect() as db:
            pending = db.execute(
                "SELECT count(*) FROM message WHERE compacted_at_us IS NULL"
            ).fetchone()[0]
            quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        return int(pending), int(quarantined)

    def quarantined(self, limit: int = 100) -> list[Quarantined]:
        """The most recent quarantined messages, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT source, reason, raw, received_at_us FROM quarantine ORDER BY id DESC "
                "LIMIT ?",
                (limit,),
            ).fetchall()
        return [Quarantined(s, reason, raw, from_micros(at)) for s, reason, raw, at in rows]


def _purge(db: sqlite3.Connection, now: datetime) -> None:
    db.execute("DELETE FROM message WHERE compacted_at_us < ?", (to_micros(now - DEDUPE_WINDOW),))
    db.execute(
        "DELETE FROM quarantine WHERE received_at_us < ?", (to_micros(now - QUARANTINE_KEEP),)
    )


def _rows_to_table(rows: list[tuple[object, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(_STORED) + 3)]
    data: dict[str, pa.Array] = {}
    for index, name in enumerate(_STORED, start=1):
        data[name] = pa.array(columns[index], pa.string())
    for offset, name in enumerate(("timestamp", "received_at"), start=len(_STORED) + 1):
        data[name] = pa.array(columns[offset], pa.int64()).cast(EVENT_SCHEMA.field(name).type)
    return pa.table(data).select(list(EVENT_COLUMNS)).cast(READ_SCHEMA)
