"""Where events live and how every process reads them.

Embedded layout (see shared/ENGINEERING.md): date-partitioned Parquet under
``<data_dir>/events/event_date=YYYY-MM-DD/``, read by an in-memory DuckDB that each process opens
for itself — no process ever holds a DuckDB file.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tenure.config import Settings
from tenure.store.events.schema import EVENT_SCHEMA

PARTITION_KEY = "event_date"


@dataclass(frozen=True)
class WriteResult:
    written: int
    duplicates: int


@dataclass(frozen=True)
class EventStats:
    events: int
    first: datetime | None
    last: datetime | None
    location: str


class EventStore:
    """Parquet partitions by event date; one writer per partition at a time (the compactor)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.parquet_dir = data_dir / "events"

    def partition_dir(self, day: date) -> Path:
        return self.parquet_dir / f"{PARTITION_KEY}={day.isoformat()}"

    def partition_files(self) -> list[Path]:
        if not self.parquet_dir.exists():
            return []
        return sorted(self.parquet_dir.glob(f"{PARTITION_KEY}=*/*.parquet"))

    def write_parquet(self, events: pa.Table, *, dedupe: bool = True) -> WriteResult:
        """Write events into their date partitions, durably (fsync'd, renamed into place).

        With ``dedupe``, message ids already stored in a partition are dropped; bulk writers that
        guarantee unique ids (the simulator) pass ``dedupe=False`` to skip reading back.
        """
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
                self._write_file(self.partition_dir(day), unique)
                written += unique.num_rows
        return WriteResult(written, duplicates)

    def _stored_ids(self, day: date) -> pa.Array:
        folder = self.partition_dir(day)
        files = sorted(folder.glob("*.parquet")) if folder.exists() else []
        if not files:
            return pa.array([], pa.string())
        return ds.dataset(files, format="parquet").to_table(columns=["message_id"])["message_id"]

    @staticmethod
    def _write_file(folder: Path, table: pa.Table) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"part-{uuid.uuid4().hex}.parquet"
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

    def connect(self) -> ibis.BaseBackend:
        """A private in-memory DuckDB for this process's reads."""
        return ibis.duckdb.connect()

    def table(self, con: ibis.BaseBackend) -> ibis.Table:
        """All stored events as an Ibis table on ``con``, in the event schema."""
        files = self.partition_files()
        if not files:
            return con.create_table(
                "events", pa.Table.from_pylist([], schema=EVENT_SCHEMA), temp=True, overwrite=True
            )
        return con.read_parquet([str(f) for f in files], table_name="events")

    def stats(self) -> EventStats:
        files = self.partition_files()
        if not files:
            return EventStats(0, None, None, str(self.parquet_dir))
        con = self.connect()
        t = self.table(con)
        row = t.aggregate(n=t.count(), first=t.timestamp.min(), last=t.timestamp.max()).execute()
        return EventStats(
            int(row["n"][0]),
            row["first"][0].to_pydatetime(),
            row["last"][0].to_pydatetime(),
            str(self.parquet_dir),
        )


def _drop_repeated_ids(table: pa.Table) -> pa.Table:
    """Keep the first row of each message id within one batch (at-least-once senders repeat)."""
    ids = table["message_id"]
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    first = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    keep = first.group_by("message_id").aggregate([("_row", "min")])["_row_min"]
    return table.take(pc.sort_indices(keep))


def _drop_ids_in(table: pa.Table, stored: pa.Array) -> pa.Table:
    if len(stored) == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table["message_id"], value_set=stored)))


def open_event_store(settings: Settings) -> EventStore:
    return EventStore(settings.data_dir)
