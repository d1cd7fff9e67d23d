"""The persisted daily activity roll-up: what lets a daily run read days, not years, of events.

Metrics never read raw events directly: :func:`tenure.metrics.compute.attributed_activity` first
rolls them up per (account, user, day, event). This module keeps that roll-up on disk, *before*
attribution (attribution follows the operational tables, which change), so computing metrics for
a new as-of day reads:

- ``<data_dir>/rollups/day=YYYY-MM-DD.parquet`` — one row per raw (account_id, user_id, event)
  with its event count, for the ``DETAIL_DAYS`` window plus the rest of its first month;
- ``<data_dir>/rollups/month=YYYY-MM.parquet`` — one row per (account_id, user_id, event) with
  its last active day of that month and its event count, for the months before: what "days since
  last activity" and the lifetime totals (per account and per feature) need;
- the inbox rows not yet compacted, rolled up on the fly.

**Watermark.** ``manifest.json`` records, per event partition, the fingerprint of the Parquet
files the roll-up of that day was built from. Files are immutable (compaction and bulk writes
add new ones, merges replace them under new names), so a late event landing in an old partition,
a merge, or a bulk import changes the fingerprint and only that day (and its month) is rolled up
again. Duplicates are removed by the event store before they reach a partition; the roll-up and
the pending inbox rows come from one store snapshot, so every event counts exactly once.

**Format.** ``manifest.json`` also records the roll-up's ``format`` (``ROLLUP_FORMAT``): month
summaries written by another format (before format 2 they had no event name) are rebuilt once
from the day files on the next refresh.

Incremental and full computation agree on every metric (tested). The activity table they feed
differs only before the detail window: one row per account, event and month (on the last day a
user had that event) instead of one per account, day and event — no metric reads those rows for
anything but their latest day, their month and their event counts.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tenure.metrics.compute import activity_as_of, attributed_to_accounts
from tenure.metrics.inputs import DETAIL_DAYS
from tenure.metrics.snapshot import Snapshot
from tenure.store.events.embedded import PARTITION_KEY, EmbeddedEvents
from tenure.store.events.schema import USAGE_TYPES

ROLLUP_FOLDER = "rollups"
MANIFEST = "manifest.json"
# What the files hold; a manifest of another format has its month summaries rebuilt.
# 1 (no "format" key): month summaries per (account, user); 2: per (account, user, event).
ROLLUP_FORMAT = 2
# Changed days rolled up per DuckDB query: bounds memory on a first build over years of events.
DAYS_PER_QUERY = 31

ROLLUP_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("account_id", pa.string()),
        ("user_id", pa.string()),
        ("event", pa.string()),
        ("events", pa.int64()),
    ]
)

# Usage only (track, page, screen): identify and group calls are stored beside the events but
# count as no activity, as EventStore.table() leaves them out of the full computation.
_ROLL_UP_SQL = f"""
SELECT CAST({{day}} AS DATE) AS day, account_id, user_id, event, count(*)::BIGINT AS events
FROM {{source}} WHERE type IN ({", ".join(f"'{t}'" for t in USAGE_TYPES)}) GROUP BY ALL
"""
# The month's last active day and count per raw (account, user, event): attribution still
# happens at read time, and the event name is what per-feature lifetime totals read.
_MONTH_SQL = """
SELECT max(day) AS day, account_id, user_id, event, sum(events)::BIGINT AS events
FROM month_days GROUP BY account_id, user_id, event
"""


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did: partitions rolled up again, roll-ups dropped, months rebuilt."""

    days_rolled: int
    days_removed: int
    months_rebuilt: int
    pending_rows: int


@dataclass(frozen=True)
class RollupRead:
    """The roll-up rows an as-of day needs (raw keys, before attribution) from one snapshot."""

    rows: pa.Table
    refresh: RefreshResult
    files_read: int


class ActivityRollup:
    """The roll-up of one embedded event store under ``<data_dir>/rollups``."""

    def __init__(self, storage: EmbeddedEvents) -> None:
        self.storage = storage
        self.folder = storage.data_dir / ROLLUP_FOLDER

    def read(self, as_of: date) -> RollupRead:
        """Bring the roll-up up to date with the store, then read what ``as_of`` needs."""
        return self.read_range(as_of, as_of)

    def read_range(self, first: date, last: date) -> RollupRead:
        """Bring the roll-up up to date with the store, then read what every as-of day from
        ``first`` to ``last`` needs: the days from the month the first day's detail window
        begins in up to ``last``, the month summaries before.

        Refresh and read happen under one lock and one store snapshot, so the pending inbox rows
        returned are exactly the events no roll-up file holds yet.
        """
        with self._lock():
            batch, files = self.storage.snapshot()
            refresh, manifest = self._refresh(files, pending=batch.events.num_rows)
            detail_start = first - timedelta(days=DETAIL_DAYS - 1)
            month_start = detail_start.replace(day=1)
            paths = [
                self.folder / f"day={day}.parquet"
                for day in sorted(manifest["days"])
                if month_start.isoformat() <= day <= last.isoformat()
            ] + [
                self.folder / f"month={month}.parquet"
                for month in sorted(manifest["months"])
                if month < f"{month_start:%Y-%m}"
            ]
            tables = [pq.read_table(path).cast(ROLLUP_SCHEMA) for path in paths]
        pending = _roll_up_pending(batch.events)
        tables.append(pending.filter(pc.less_equal(pending["day"], pa.scalar(last))))
        return RollupRead(pa.concat_tables(tables), refresh, len(paths))

    def refresh(self) -> RefreshResult:
        """Roll up every event partition whose files changed since the last refresh."""
        with self._lock():
            batch, files = self.storage.snapshot()
            return self._refresh(files, pending=batch.events.num_rows)[0]

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _manifest(self) -> dict[str, dict[str, str]]:
        path = self.folder / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            # Missing or torn (the roll-up is derived data, written without fsync): rebuild.
            return {"days": {}, "months": {}}
        if manifest.get("format", 1) != ROLLUP_FORMAT:
            # Day files are the same in every format; month summaries are rebuilt from them.
            return {"days": manifest["days"], "months": {}}
        return {"days": manifest["days"], "months": manifest["months"]}

    def _refresh(
        self, files: list[Path], *, pending: int
    ) -> tuple[RefreshResult, dict[str, dict[str, str]]]:
        by_day: dict[str, list[Path]] = {}
        for path in files:
            by_day.setdefault(path.parent.name.removeprefix(f"{PARTITION_KEY}="), []).append(path)
        fingerprints = {day: _fingerprint(paths) for day, paths in by_day.items()}
        manifest = self._manifest()
        days = manifest["days"]
        changed = sorted(
            d
            for d, f in fingerprints.items()
            if days.get(d) != f or not (self.folder / f"day={d}.parquet").exists()
        )
        removed = sorted(set(days) - set(fingerprints))
        for start in range(0, len(changed), DAYS_PER_QUERY):
            chunk = changed[start : start + DAYS_PER_QUERY]
            self._roll_up_days({day: by_day[day] for day in chunk})
        for day in removed:
            (self.folder / f"day={day}.parquet").unlink(missing_ok=True)
        days = {day: fingerprints[day] for day in sorted(fingerprints)}
        months, rebuilt = self._rebuild_months(days, manifest["months"])
        manifest = {"days": days, "months": months}
        written = {"format": ROLLUP_FORMAT, **manifest}
        _write_atomically(self.folder / MANIFEST, json.dumps(written, indent=0).encode())
        return RefreshResult(len(changed), len(removed), rebuilt, pending), manifest

    def _roll_up_days(self, day_files: dict[str, list[Path]]) -> None:
        paths = [str(p) for files in day_files.values() for p in files]
        db = duckdb.connect()
        try:
            source = f"read_parquet({paths!r}, hive_partitioning = true)"
            rolled = db.sql(_ROLL_UP_SQL.format(day=PARTITION_KEY, source=source)).arrow()
        finally:
            db.close()
        if isinstance(rolled, pa.RecordBatchReader):
            rolled = rolled.read_all()
        rolled = rolled.cast(ROLLUP_SCHEMA)
        for day in day_files:
            part = rolled.filter(pc.equal(rolled["day"], pa.scalar(date.fromisoformat(day))))
            _write_table(self.folder / f"day={day}.parquet", part)

    def _rebuild_months(
        self, days: dict[str, str], before: dict[str, str]
    ) -> tuple[dict[str, str], int]:
        """Month summaries whose days changed (or whose file is missing) again; how many."""
        by_month: dict[str, list[str]] = {}
        for day, fingerprint in days.items():
            by_month.setdefault(day[:7], []).append(fingerprint)
        months = {m: _digest("".join(f)) for m, f in by_month.items()}
        rebuilt = 0
        for month, fingerprint in months.items():
            if (
                before.get(month) == fingerprint
                and (self.folder / f"month={month}.parquet").exists()
            ):
                continue
            month_days = pa.concat_tables(
                [
                    pq.read_table(self.folder / f"day={day}.parquet").cast(ROLLUP_SCHEMA)
                    for day in days
                    if day.startswith(month)
                ]
            )
            db = duckdb.connect()
            try:
                db.register("month_days", month_days)
                summary = db.sql(_MONTH_SQL).arrow()
            finally:
                db.close()
            if isinstance(summary, pa.RecordBatchReader):
                summary = summary.read_all()
            _write_table(self.folder / f"month={month}.parquet", summary.cast(ROLLUP_SCHEMA))
            rebuilt += 1
        for month in set(before) - set(months):
            (self.folder / f"month={month}.parquet").unlink(missing_ok=True)
        return months, rebuilt


def attribute_rollup(rolled: ibis.Table, snapshot: Snapshot, as_of: date) -> ibis.Table:
    """Roll-up rows attributed to internal accounts: the same table as ``attributed_activity``.

    Rows are (day, account_id external, user_id, event, events); the attribution rules and the
    detail window are those of :func:`tenure.metrics.compute.attributed_activity`.
    """
    return activity_as_of(attributed_rollup(rolled, snapshot, as_of), as_of)


def attributed_rollup(rolled: ibis.Table, snapshot: Snapshot, until: date) -> ibis.Table:
    """Roll-up rows up to ``until`` attributed to internal accounts, per day as read (month
    summaries before the detail): what :func:`tenure.metrics.compute.activity_as_of` cuts the
    activity of any as-of day of the range read from."""
    known = rolled.filter(rolled.day <= ibis.literal(until, type="date"))
    joined = attributed_to_accounts(known, snapshot)
    return joined.select(
        account_id=joined.owner,
        user_id=joined.user_id,
        event=joined.event,
        day=joined.day,
        events=joined.events,
    ).filter(lambda t: t.account_id.notnull())


def _roll_up_pending(events: pa.Table) -> pa.Table:
    if events.num_rows == 0:
        return ROLLUP_SCHEMA.empty_table()
    db = duckdb.connect()
    try:
        db.register(
            "pending",
            events.append_column(PARTITION_KEY, pc.cast(events["timestamp"], pa.date32())),
        )
        rolled = db.sql(_ROLL_UP_SQL.format(day=PARTITION_KEY, source="pending")).arrow()
    finally:
        db.close()
    if isinstance(rolled, pa.RecordBatchReader):
        rolled = rolled.read_all()
    return rolled.cast(ROLLUP_SCHEMA)


def _fingerprint(paths: list[Path]) -> str:
    """A day's files — and the query that rolls them up, so a day rolled up by an older query
    (one that counted identify and group calls) is rolled up again."""
    return _digest("\n".join([_ROLL_UP_SQL, *sorted(p.name for p in paths)]))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _write_table(path: Path, table: pa.Table) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
