"""PostgreSQL event storage: one table partitioned by month, written directly.

Lives in its own schema (``tenure_events``), outside Alembic: the partitions are created on
demand as events for a new month arrive, which a migration cannot know in advance. A repeated
(source, message id) on the same event date is dropped by ``ON CONFLICT DO NOTHING`` — the
inbox's rule, and the embedded store's per-partition dedupe. Writes are COPY'd into a temporary
table first, so a bulk load is one round trip per chunk.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tenure.store.database import create_engine
from tenure.store.events.embedded import WriteResult
from tenure.store.events.erasure import EventErasureResult, PersonErasure
from tenure.store.events.inbox import QUARANTINE_KEEP, AppendResult, Quarantined
from tenure.store.events.schema import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    EventRow,
    events_table_from_rows,
)

if TYPE_CHECKING:  # imported where used: ingest needs no ibis
    import ibis

SCHEMA = "tenure_events"
TABLE = "event"
COPY_CHUNK = 100_000

_COLUMNS_DDL = """
    message_id text NOT NULL,
    source text NOT NULL,
    type text NOT NULL,
    account_id text,
    user_id text,
    anonymous_id text,
    event text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    properties text,
    event_date date NOT NULL
"""

_KEY = "(event_date, source, message_id)"
_SETUP = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.{TABLE} ({_COLUMNS_DDL},
        PRIMARY KEY {_KEY}) PARTITION BY RANGE (event_date)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine (
        id bigserial PRIMARY KEY,
        source text,
        reason text NOT NULL,
        raw text NOT NULL,
        received_at timestamptz NOT NULL)""",
]
_COLUMN_LIST = ", ".join(f'"{c}"' for c in (*EVENT_COLUMNS, "event_date"))
# Serialises DDL between processes (two servers seeing the first event of a month at once).
_DDL_LOCK = zlib.crc32(b"tenure_events.ddl")


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _key_with_source(conn: sa.Connection) -> None:
    """Tables made before (source, message id) was the rule were keyed on the id alone."""
    name, definition = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid = '{SCHEMA}.{TABLE}'::regclass AND contype = 'p'"
        )
    ).one()
    if definition != f"PRIMARY KEY {_KEY}":
        conn.execute(
            sa.text(f"ALTER TABLE {SCHEMA}.{TABLE} DROP CONSTRAINT {name}, ADD PRIMARY KEY {_KEY}")
        )


class PostgresEvents:
    def __init__(self, url: str) -> None:
        self.url = url
        self._months: set[date] = set()

    @cached_property
    def engine(self) -> sa.Engine:
        engine = create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
            for statement in _SETUP:
                conn.execute(sa.text(statement))
            _key_with_source(conn)
            rows = conn.execute(
                sa.text(
                    "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid "
                    f"WHERE i.inhparent = '{SCHEMA}.{TABLE}'::regclass"
                )
            ).scalars()
            # FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')
            self._months.update(date.fromisoformat(bound.split("'")[1]) for bound in rows)
        return engine

    @property
    def location(self) -> str:
        return f"{make_url(self.url).render_as_string(hide_password=True)} ({SCHEMA}.{TABLE})"

    def _ensure_partitions(self, months: set[date]) -> None:
        missing = months - self._months
        if not missing:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
            for month in sorted(missing):
                name = f"{TABLE}_y{month.year}m{month.month:02d}"
                conn.execute(
                    sa.text(
                        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} "
                        f"PARTITION OF {SCHEMA}.{TABLE} FOR VALUES FROM ('{month.isoformat()}') "
                        f"TO ('{_next_month(month).isoformat()}')"
                    )
                )
        self._months |= missing

    def write(self, events: pa.Table, *, dedupe: bool = True) -> WriteResult:
        """Insert events; a repeated (event date, source, message id) is always dropped, so
        ``dedupe`` changes nothing here."""
        events = events.cast(EVENT_SCHEMA)
        if events.num_rows == 0:
            return WriteResult(0, 0)
        days = pc.cast(events["timestamp"], pa.date32())
        self._ensure_partitions({_month(d) for d in pc.unique(days).to_pylist()})
        events = events.append_column("event_date", days)
        written = 0
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TEMP TABLE incoming ({_COLUMNS_DDL}) ON COMMIT DROP"))
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for start in range(0, events.num_rows, COPY_CHUNK):
                chunk = io.BytesIO()
                pcsv.write_csv(
                    events.slice(start, COPY_CHUNK), chunk, pcsv.WriteOptions(include_header=False)
                )
                with cursor.copy(f"COPY incoming ({_COLUMN_LIST}) FROM STDIN (FORMAT csv)") as cp:
                    cp.write(chunk.getvalue())
            written = conn.execute(
                sa.text(
                    f"INSERT INTO {SCHEMA}.{TABLE} ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} "
                    "FROM incoming ON CONFLICT DO NOTHING"
                )
            ).rowcount
        return WriteResult(written, events.num_rows - written)

    def append(self, events: Sequence[EventRow]) -> AppendResult:
        result = self.write(events_table_from_rows(events))
        return AppendResult(result.written, result.duplicates)

    def quarantine(self, messages: list[Quarantined]) -> None:
        if not messages:
            return
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"INSERT INTO {SCHEMA}.quarantine (source, reason, raw, received_at) "
                    "VALUES (:source, :reason, :raw, :received_at)"
                ),
                [m.__dict__ for m in messages],
            )

    def purge_quarantine(self, now: datetime) -> int:
        """Forget quarantined messages older than ``QUARANTINE_KEEP``; returns how many."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    sa.text(f"DELETE FROM {SCHEMA}.quarantine WHERE received_at < :cutoff"),
                    {"cutoff": now - QUARANTINE_KEEP},
                ).rowcount
            )

    def erase(self, person: PersonErasure) -> EventErasureResult:
        """Pseudonymise the person's events and drop their quarantined messages, in one
        transaction (the freed row versions go at the next VACUUM)."""
        table = f"{SCHEMA}.{TABLE}"
        ids = sorted(person.ids)
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT event_date, source, message_id, type, user_id, anonymous_id, "
                    f"properties FROM {table} WHERE user_id = ANY(:ids) "
                    "OR anonymous_id = ANY(:ids) "
                    "OR EXISTS (SELECT 1 FROM unnest(CAST(:emails AS text[])) AS e "
                    "WHERE strpos(lower(properties), e) > 0)"
                ),
                {"ids": ids, "emails": sorted(person.emails)},
            ).all()
            updates = [
                {
                    "day": day,
                    "source": source,
                    "message_id": message_id,
                    "user_id": person.token if user_id in person.ids else user_id,
                    "anonymous_id": person.token if anonymous_id in person.ids else anonymous_id,
                    "properties": person.scrub_properties(
                        properties,
                        theirs=user_id in person.ids or anonymous_id in person.ids,
                        kind=kind,
                    ),
                }
                for day, source, message_id, kind, user_id, anonymous_id, properties in rows
            ]
            if updates:
                conn.execute(
                    sa.text(
                        f"UPDATE {table} SET user_id = :user_id, anonymous_id = :anonymous_id, "
                        "properties = :properties WHERE event_date = :day AND source = :source "
                        "AND message_id = :message_id"
                    ),
                    updates,
                )
            raw = conn.execute(sa.text(f"SELECT id, raw FROM {SCHEMA}.quarantine")).all()
            dropped = [{"id": id_} for id_, text in raw if person.in_raw(text)]
            if dropped:
                conn.execute(sa.text(f"DELETE FROM {SCHEMA}.quarantine WHERE id = :id"), dropped)
        return EventErasureResult(len(rows), len(dropped))

    def connect(self) -> ibis.BaseBackend:
        import ibis

        url = make_url(self.url)
        query = dict(url.query)
        return ibis.postgres.connect(
            host=url.host or query.get("host"),
            port=int(url.port or query.get("port") or 5432),  # type: ignore[arg-type]
            user=url.username,
            password=url.password,
            database=url.database,
        )

    def table(self, con: ibis.BaseBackend, days: tuple[date, date] | None = None) -> ibis.Table:
        """Every message; PostgreSQL skips the months outside a query's ``event_date`` filter
        itself, so ``days`` changes nothing."""
        _ = self.engine  # creates the schema on first use
        return con.table(TABLE, database=SCHEMA)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    def counts(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            quarantined = conn.execute(
                sa.text(f"SELECT count(*) FROM {SCHEMA}.quarantine")
            ).scalar_one()
        return 0, int(quarantined)

    def quarantined(self, limit: int) -> list[Quarantined]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT source, reason, raw, received_at FROM {SCHEMA}.quarantine "
                    "ORDER BY id DESC LIMIT :limit"
                ),
                {"limit": limit},
            ).all()
        return [Quarantined(*row) for row in rows]
