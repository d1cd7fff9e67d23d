"""Where simulated rows go: Parquet spools per entity, then files (``--out``) or the database.

Rows stream out of the day loop into one spool per entity (bounded memory: a spool flushes every
``CHUNK_ROWS`` rows into a Parquet file). File columns are the model's field names; references
are external ids (``account_external_id``, ``contact_external_id``, ``user_email``) so
``tenure import`` can read them. Columns starting with ``_`` carry the simulator's own indexes:
the database loader turns them into primary and foreign keys, the file export drops them.

The database load is one transaction of SQLAlchemy Core bulk inserts with explicit ids (offset
past any existing rows; PostgreSQL sequences are moved past them afterwards).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from tenure.errors import Conflict
from tenure.model import (
    Account,
    AccountOwnership,
    Contact,
    Contract,
    Feature,
    Opportunity,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
    touchpoint_attendee,
)
from tenure.simulate.names import OUTCOME_MEASURES
from tenure.simulate.population import FITS
from tenure.store.events import EventStore

CHUNK_ROWS = 100_000
DATE = pa.date32()
TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
I64 = pa.int64()

# Sales' handoff answers (1–5 per fit, yes/no readiness; null = left blank) and the reason a
# churned customer gave: account custom attributes, imported as `custom.<name>` columns.
HANDOFF = pa.struct(
    [(f"{fit}_fit", I64) for fit in FITS]
    + [("ready", pa.bool_()), ("willing", pa.bool_()), ("able", pa.bool_())]
    + [("required_outcome", STR), ("captured_on", STR)]
)
# The outcome the CS team measured (one of the Required Outcomes' measures) and the day.
OUTCOME = pa.struct(
    [(measure, pa.float64()) for measure, *_ in OUTCOME_MEASURES] + [("measured_on", STR)]
)
STATED_CHURN = pa.struct(
    [("stated_reason", STR), ("contract_external_id", STR), ("stated_on", STR)]
)

SCHEMAS: dict[str, pa.Schema] = {
    "users": pa.schema(
        [
            ("email", STR),
            ("name", STR),
            ("role", STR),
            ("manager_email", STR),
            ("_index", I64),
            ("_manager", I64),
        ]
    ),
    "accounts": pa.schema(
        [
            ("external_id", STR),
            ("name", STR),
            ("segment", STR),
            ("experience_segment", STR),
            ("industry", STR),
            ("employee_count", I64),
            ("region", STR),
            ("country", STR),
            ("owner_email", STR),
            ("created_on", DATE),
            ("onboarded_on", DATE),
            ("custom.handoff", HANDOFF),
            ("custom.churn", STATED_CHURN),
            ("custom.outcome", OUTCOME),
            ("_index", I64),
            ("_owner", I64),
        ]
    ),
    "account_ownership": pa.schema(
        [
            ("account_external_id", STR),
            ("user_email", STR),
            ("started_at", TS),
            ("ended_at", TS),
            ("_account", I64),
            ("_user", I64),
        ]
    ),
    "features": pa.schema(
        [
            ("key", STR),
            ("name", STR),
            ("strategic", pa.bool_()),
            ("released_on", DATE),
            ("description", STR),
        ]
    ),
    "contacts": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("name", STR),
            ("email", STR),
            ("title", STR),
            ("level", STR),
            ("roles", pa.list_(STR)),
            ("joined_on", DATE),
            ("left_on", DATE),
            ("_index", I64),
            ("_account", I64),
        ]
    ),
    "contracts": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("plan", STR),
            ("billing_period", STR),
            ("auto_renews", pa.bool_()),
            ("starts_on", DATE),
            ("ends_on", DATE),
            ("arr", pa.float64()),
            ("currency", STR),
            ("licensed_seats", I64),
            ("discount", pa.float64()),
            ("status", STR),
            ("renewal_outcome", STR),
            ("outcome_on", DATE),
            ("notice_on", DATE),
            ("arr_delta", pa.float64()),
            ("_account", I64),
        ]
    ),
    # The CRM's renewal and expansion deals (simulate/deals.py).
    "opportunities": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("name", STR),
            ("kind", STR),
            ("status", STR),
            ("stage", STR),
            ("amount", pa.float64()),
            ("currency", STR),
            ("probability", pa.float64()),
            ("forecast_category", STR),
            ("opened_on", DATE),
            ("close_on", DATE),
            ("owner_email", STR),
            ("_account", I64),
            ("_owner", I64),
        ]
    ),
    "surveys": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("contact_external_id", STR),
            ("kind", STR),
            ("score", I64),
            ("comment", STR),
            ("responded_at", TS),
            ("_account", I64),
            ("_contact", I64),
        ]
    ),
    "tickets": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("contact_external_id", STR),
            ("subject", STR),
            ("priority", STR),
            ("category", STR),
            ("opened_at", TS),
            ("closed_at", TS),
            ("_account", I64),
            ("_contact", I64),
        ]
    ),
    "touchpoints": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("kind", STR),
            ("occurred_at", TS),
            ("subject", STR),
            ("notes", STR),
            ("user_email", STR),
            ("attendee_external_ids", pa.list_(STR)),
            ("_account", I64),
            ("_user", I64),
            ("_attendees", pa.list_(I64)),
        ]
    ),
    # What sales, services and the reference program record (crm_records): the columns of
    # the `handoffs` and `advocacy` imports.
    "handoffs": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("step", STR),
            ("handed_off_on", DATE),
            ("from_user_email", STR),
            ("to_user_email", STR),
            ("required_outcome", STR),
            ("outcome_measure", STR),
            ("outcome_op", STR),
            ("outcome_target", pa.float64()),
            ("touch_model", STR),
        ]
    ),
    "advocacy": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("kind", STR),
            ("occurred_on", DATE),
            ("title", STR),
            ("contact_external_id", STR),
        ]
    ),
    # The engagement messages the CS team sent (messages): the columns of the `messages` import.
    "messages": pa.schema(
        [
            ("external_id", STR),
            ("account_external_id", STR),
            ("contact_external_id", STR),
            ("sender_email", STR),
            ("moment", STR),
            ("goal", STR),
            ("metric", STR),
            ("comparison", STR),
            ("target", pa.float64()),
            ("check_after_days", I64),
            ("subject", STR),
            ("body", STR),
            ("sent_on", DATE),
        ]
    ),
}
# File columns that name a referenced row; the database gets the foreign key instead.
REFERENCES = (
    "account_external_id",
    "contact_external_id",
    "user_email",
    "owner_email",
    "attendee_external_ids",
)
# Load order respects foreign keys.
ENTITIES = tuple(SCHEMAS)


class Spool:
    """Append Arrow tables; every CHUNK_ROWS rows go to one Parquet row group on disk."""

    def __init__(self, path: Path, schema: pa.Schema, *, keep_hidden: bool) -> None:
        self.path = path
        self.schema = schema
        self.file_schema = (
            schema if keep_hidden else pa.schema([f for f in schema if not f.name.startswith("_")])
        )
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def append(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buffer.append(table.select(self.file_schema.names).cast(self.file_schema))
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.file_schema, compression="zstd")
        self._writer.write_table(pa.concat_tables(self._buffer))
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        if self._writer is None:  # an empty entity still gets its (empty) file
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(self.file_schema.empty_table(), self.path, compression="zstd")
        else:
            self._writer.close()


class Spools:
    def __init__(self, folder: Path, *, keep_hidden: bool) -> None:
        self.folder = folder
        self.spools = {
            name: Spool(folder / f"{name}.parquet", schema, keep_hidden=keep_hidden)
            for name, schema in SCHEMAS.items()
        }

    def append(self, entity: str, table: pa.Table) -> None:
        self.spools[entity].append(table)

    def close(self) -> dict[str, int]:
        for spool in self.spools.values():
            spool.close()
        return {name: spool.rows for name, spool in self.spools.items()}


def _table(model: type) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=20_000):
        yield batch.to_pylist()


def _max_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())


class EventFiles:
    """``--out`` events: one file per day, ``events/event_date=YYYY-MM-DD/part-0.parquet``, in the
    columns ``tenure import events`` reads (the store's own ``source``/``received_at`` left out)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, events: pa.Table) -> None:
        day = events["timestamp"][0].as_py().date()  # the engine writes one day per call
        partition = self.folder / f"event_date={day.isoformat()}"
        partition.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            events.drop_columns(["source", "received_at"]),
            partition / "part-0.parquet",
            compression="zstd",
        )


class DatabaseLoader:
    """Bulk-insert the staged spools into the operational database in one transaction."""

    def __init__(self, engine: sa.Engine, staging: Path, as_of: datetime) -> None:
        self.engine = engine
        self.staging = staging
        self.audit = {"created_at": as_of, "updated_at": as_of}

    def refuse_if_not_empty(self) -> None:
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(_table(Account)))
            existing = int(count.scalar_one())
        if existing:
            raise Conflict(
                f"the database already holds {existing} account(s): simulate into a fresh data "
                "dir (TENURE_DATA_DIR) or write files with --out DIR"
            )

    def load(self) -> None:
        with self.engine.begin() as conn:
            off = {
                name: _max_id(conn, _table(model))
                for name, model in {
                    "user": User,
                    "account": Account,
                    "contact": Contact,
                    "contract": Contract,
                    "opportunity": Opportunity,
                    "survey": SurveyResponse,
                    "ticket": Ticket,
                    "touchpoint": Touchpoint,
                    "ownership": AccountOwnership,
                }.items()
            }
            counters = {name: 0 for name in off}

            def next_id(name: str) -> int:
                counters[name] += 1
                return off[name] + counters[name]

            def ref(name: str, index: int | None) -> int | None:
                return None if index is None or index < 0 else off[name] + index + 1

            def plain(r: dict[str, Any]) -> dict[str, Any]:
                """Model columns as they are; simulator indexes turned into foreign keys."""
                row = {k: v for k, v in r.items() if not k.startswith("_") and k not in REFERENCES}
                if "_account" in r:
                    row["account_id"] = ref("account", r["_account"])
                if "_contact" in r:
                    row["contact_id"] = ref("contact", r["_contact"])
                if "_owner" in r:
                    row["owner_id"] = ref("user", r["_owner"])
                return row

            def insert(
                entity: str, table: sa.Table, row: Callable[[dict[str, Any]], dict[str, Any]]
            ) -> None:
                for batch in _batches(self.staging / f"{entity}.parquet"):
                    if entity == "users":  # managers first: CSMs reference them
                        batch.sort(key=lambda r: r["_manager"] >= 0)
                    conn.execute(table.insert(), [row(r) | self.audit for r in batch])

            insert(
                "users",
                _table(User),
                lambda r: {
                    "id": ref("user", r["_index"]),
                    "email": r["email"],
                    "name": r["name"],
                    "role": r["role"],
                    "manager_id": ref("user", r["_manager"]),
                    "is_active": True,
                },
            )
            insert(
                "accounts",
                _table(Account),
                lambda r: {
                    "id": ref("account", r["_index"]),
                    "external_id": r["external_id"],
                    "name": r["name"],
                    "segment": r["segment"],
                    "experience_segment": r["experience_segment"],
                    "industry": r["industry"],
                    "employee_count": r["employee_count"],
                    "region": r["region"],
                    "country": r["country"],
                    "owner_id": ref("user", r["_owner"]),
                    "created_on": r["created_on"],
                    "onboarded_on": r["onboarded_on"],
                    "custom": {
                        k.removeprefix("custom."): v
                        for k, v in r.items()
                        if k.startswith("custom.") and v is not None
                    },
                },
            )
            for batch in _batches(self.staging / "account_ownership.parquet"):
                conn.execute(
                    _table(AccountOwnership).insert(),
                    [
                        {
                            "id": next_id("ownership"),
                            "account_id": ref("account", r["_account"]),
                            "user_id": ref("user", r["_user"]),
                            "started_at": r["started_at"],
                            "ended_at": r["ended_at"],
                        }
                        for r in batch
                    ],
                )
            insert(
                "features",
                _table(Feature),
                lambda r: {
                    k: r[k] for k in ("key", "name", "strategic", "released_on", "description")
                },
            )
            insert(
                "contacts",
                _table(Contact),
                lambda r: {
                    "id": ref("contact", r["_index"]),
                    "external_id": r["external_id"],
                    "account_id": ref("account", r["_account"]),
                    "name": r["name"],
                    "email": r["email"],
                    "title": r["title"],
                    "level": r["level"],
                    "roles": r["roles"],
                    "joined_on": r["joined_on"],
                    "left_on": r["left_on"],
                },
            )
            for entity, table, counter in (
                ("contracts", _table(Contract), "contract"),
                ("surveys", _table(SurveyResponse), "survey"),
                ("tickets", _table(Ticket), "ticket"),
            ):

                def numbered(r: dict[str, Any], counter: str = counter) -> dict[str, Any]:
                    return {"id": next_id(counter)} | plain(r)

                insert(entity, table, numbered)
                if entity == "contracts":  # a closed deal's closed_on is its close date
                    insert(
                        "opportunities",
                        _table(Opportunity),
                        lambda r: (
                            {"id": next_id("opportunity")}
                            | plain(r)
                            | {"closed_on": None if r["status"] == "open" else r["close_on"]}
                        ),
                    )
            for batch in _batches(self.staging / "touchpoints.parquet"):
                rows: list[dict[str, Any]] = []
                attendees: list[dict[str, Any]] = []
                for r in batch:
                    touchpoint_id = next_id("touchpoint")
                    rows.append(
                        {
                            "id": touchpoint_id,
                            "external_id": r["external_id"],
                            "account_id": ref("account", r["_account"]),
                            "kind": r["kind"],
                            "occurred_at": r["occurred_at"],
                            "subject": r["subject"],
                            "notes": r["notes"],
                            "user_id": ref("user", r["_user"]),
                        }
                        | self.audit
                    )
                    attendees.extend(
                        {"touchpoint_id": touchpoint_id, "contact_id": ref("contact", c)}
                        for c in r["_attendees"]
                    )
                conn.execute(_table(Touchpoint).insert(), rows)
                if attendees:
                    conn.execute(touchpoint_attendee.insert(), attendees)
            if conn.dialect.name == "postgresql":
                for sequenced in (
                    User,
                    Account,
                    Contact,
                    Contract,
                    Opportunity,
                    SurveyResponse,
                    Ticket,
                    Touchpoint,
                    AccountOwnership,
                    Feature,
                ):
                    name = sequenced.__tablename__
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                        )
                    )


def snapshot_time(as_of: Any) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


def copy_events(staging_events: Path, store: EventStore) -> None:
    """Write staged partitions into a store that is not Parquet files (PostgreSQL), day by day."""
    for part in sorted(staging_events.glob("event_date=*/*.parquet")):
        store.write_parquet(pq.read_table(part), dedupe=False)


def move_events(staging_events: Path, events_dir: Path) -> None:
    """Move staged event partitions into the event store (same filesystem: renames)."""
    events_dir.mkdir(parents=True, exist_ok=True)
    if not staging_events.exists():
        return
    for partition in sorted(staging_events.glob("event_date=*")):
        target = events_dir / partition.name
        if target.exists():
            for part in partition.iterdir():
                part.rename(target / part.name)
        else:
            partition.rename(target)
    shutil.rmtree(staging_events)
