"""Operational tables as a snapshot on the analytics connection.

Metrics join events (Parquet on DuckDB, or a PostgreSQL table) with accounts, contacts, contracts…
from the operational database. They reach the analytics engine as Arrow tables written into the
*same* Ibis connection as temporary tables — never by ``ATTACH`` (see ENGINEERING.md) — so one
backend runs the whole computation, whichever it is.

Only the columns metrics need are copied; ``contact.roles`` (a JSON list) becomes the two flags
metrics read, ``is_champion`` and ``is_sponsor``, and a ticket's subject the flag
``asks_to_leave`` (:func:`asks_to_leave`). Timestamps are microseconds in UTC (SQLite
returns naive datetimes, which are UTC by convention).

    con = ibis.duckdb.connect()
    snapshot = load_snapshot(session, con)          # from the database
    snapshot = snapshot_from_rows(con, accounts=[{"id": 1, "external_id": "acme", ...}])  # tests
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import ibis
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import identity_keys
from tenure.model import (
    Account,
    Contact,
    Contract,
    Feature,
    Milestone,
    Opportunity,
    SuccessPlan,
    SurveyResponse,
    Ticket,
    Touchpoint,
    touchpoint_attendee,
)
from tenure.model.opportunity import OpportunityKind, OpportunityStatus

TIMESTAMP = pa.timestamp("us", tz="UTC")

# What a customer writes before a renewal it may not make, matched in a ticket's subject (any
# case). An invoice, a seat count or an export of one report is not such a request.
LEAVING_PHRASES = (
    "cancel",
    "terminat",
    "notice period",
    "give notice",
    "not renew",
    "non-renew",
    "contract end",
    "end date",
    "end of contract",
    "reduce seats",
    "reduce our seats",
    "fewer seats",
    "seat reduction",
    "remove seats",
    "downgrade",
    "bulk export",
    "export of all",
    "export all",
    "all our data",
)
_LEAVING = re.compile("|".join(re.escape(phrase) for phrase in LEAVING_PHRASES), re.IGNORECASE)


def asks_to_leave(subject: str | None) -> bool:
    """Whether a ticket's subject asks to cancel or give notice, to cut seats or downgrade, when
    the contract ends, or for all the data.

    >>> [asks_to_leave(s) for s in ("Reduce seats at renewal", "Seat count on invoice",
    ...     "Contract end date and notice period", "Bulk export of all our data",
    ...     "Where is the export?", None)]
    [True, False, True, True, False, False]
    """
    return bool(subject) and _LEAVING.search(subject or "") is not None


SCHEMAS: dict[str, pa.Schema] = {
    "accounts": pa.schema(
        [
            ("id", pa.int64()),
            ("external_id", pa.string()),
            ("name", pa.string()),
            ("segment", pa.string()),
            ("experience_segment", pa.string()),
            ("created_on", pa.date32()),
        ]
    ),
    # The ids a product's events may name an account by besides its external id (its workspace
    # id…): see tenure.accounts.group_ids.
    "account_keys": pa.schema([("key", pa.string()), ("account_id", pa.int64())]),
    "contacts": pa.schema(
        [
            ("id", pa.int64()),
            ("external_id", pa.string()),
            ("account_id", pa.int64()),
            ("level", pa.string()),
            ("is_champion", pa.bool_()),
            ("is_sponsor", pa.bool_()),
            ("joined_on", pa.date32()),
            ("left_on", pa.date32()),
        ]
    ),
    "features": pa.schema(
        [
            ("key", pa.string()),
            ("name", pa.string()),
            ("strategic", pa.bool_()),
            ("released_on", pa.date32()),
        ]
    ),
    "contracts": pa.schema(
        [
            ("id", pa.int64()),
            ("account_id", pa.int64()),
            ("starts_on", pa.date32()),
            ("ends_on", pa.date32()),
            ("arr", pa.float64()),
            ("currency", pa.string()),
            ("licensed_seats", pa.int64()),
            ("discount", pa.float64()),
            ("status", pa.string()),
            ("outcome_on", pa.date32()),
            ("auto_renews", pa.bool_()),
            ("renewal_outcome", pa.string()),
            ("billing_period", pa.string()),
        ]
    ),
    "surveys": pa.schema(
        [
            ("id", pa.int64()),
            ("account_id", pa.int64()),
            ("kind", pa.string()),
            ("score", pa.int64()),
            ("responded_at", TIMESTAMP),
        ]
    ),
    "tickets": pa.schema(
        [
            ("id", pa.int64()),
            ("account_id", pa.int64()),
            ("priority", pa.string()),
            ("category", pa.string()),
            ("asks_to_leave", pa.bool_()),
            ("opened_at", TIMESTAMP),
            ("closed_at", TIMESTAMP),
        ]
    ),
    "touchpoints": pa.schema(
        [("id", pa.int64()), ("account_id", pa.int64()), ("occurred_at", TIMESTAMP)]
    ),
    "attendees": pa.schema([("touchpoint_id", pa.int64()), ("contact_id", pa.int64())]),
    "milestones": pa.schema(
        [
            ("account_id", pa.int64()),
            ("due_on", pa.date32()),
            ("reached_on", pa.date32()),
            ("plan_started_on", pa.date32()),
        ]
    ),
    # The close days of the won renewal opportunities (the renewal list's "booked", rule 3).
    "won_renewals": pa.schema([("account_id", pa.int64()), ("closed_on", pa.date32())]),
}


@dataclass(frozen=True)
class Snapshot:
    """The operational tables metrics read, as Ibis tables on the analytics connection."""

    accounts: ibis.Table
    account_keys: ibis.Table
    contacts: ibis.Table
    features: ibis.Table
    contracts: ibis.Table
    surveys: ibis.Table
    tickets: ibis.Table
    touchpoints: ibis.Table
    attendees: ibis.Table
    milestones: ibis.Table
    won_renewals: ibis.Table


def snapshot_from_arrow(con: ibis.BaseBackend, tables: Mapping[str, pa.Table]) -> Snapshot:
    """Write Arrow tables (missing ones empty) into ``con`` as temporary tables."""
    unknown = set(tables) - set(SCHEMAS)
    if unknown:
        raise ValueError(f"unknown snapshot tables {sorted(unknown)}; expected {sorted(SCHEMAS)}")
    loaded: dict[str, ibis.Table] = {}
    for field in fields(Snapshot):
        schema = SCHEMAS[field.name]
        arrow = tables.get(field.name, schema.empty_table()).select(schema.names).cast(schema)
        loaded[field.name] = con.create_table(
            f"tenure_snapshot_{field.name}", arrow, temp=True, overwrite=True
        )
    return Snapshot(**loaded)


def snapshot_from_rows(con: ibis.BaseBackend, **tables: Iterable[Mapping[str, Any]]) -> Snapshot:
    """Build a snapshot from dicts (missing keys are null): the factory tests use."""
    arrow = {
        name: pa.Table.from_pylist(
            [{column: row.get(column) for column in SCHEMAS[name].names} for row in rows],
            schema=SCHEMAS[name],
        )
        for name, rows in tables.items()
    }
    return snapshot_from_arrow(con, arrow)


def _rows(session: Session, statement: sa.Executable) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(statement)]


def _contact_rows(session: Session) -> list[dict[str, Any]]:
    rows = _rows(
        session,
        sa.select(
            Contact.id,
            Contact.external_id,
            Contact.account_id,
            Contact.level,
            Contact.roles,
            Contact.joined_on,
            Contact.left_on,
        ),
    )
    for row in rows:
        roles = row.pop("roles") or []
        row["is_champion"] = "champion" in roles
        row["is_sponsor"] = "sponsor" in roles
    return rows


def _ticket_rows(session: Session) -> list[dict[str, Any]]:
    rows = _rows(
        session,
        sa.select(
            Ticket.id,
            Ticket.account_id,
            Ticket.priority,
            Ticket.category,
            Ticket.subject,
            Ticket.opened_at,
            Ticket.closed_at,
        ),
    )
    for row in rows:
        row["asks_to_leave"] = asks_to_leave(row.pop("subject"))
    return rows


def load_snapshot(session: Session, con: ibis.BaseBackend) -> Snapshot:
    """Copy the operational tables metrics need from the database into ``con``."""
    return snapshot_from_rows(
        con,
        accounts=_rows(
            session,
            sa.select(
                Account.id,
                Account.external_id,
                Account.name,
                Account.segment,
                Account.experience_segment,
                Account.created_on,
            ),
        ),
        account_keys=[
            {"key": key, "account_id": account_id}
            for key, account_id in identity_keys(session).items()
        ],
        contacts=_contact_rows(session),
        features=_rows(
            session, sa.select(Feature.key, Feature.name, Feature.strategic, Feature.released_on)
        ),
        contracts=_rows(
            session,
            sa.select(
                Contract.id,
                Contract.account_id,
                Contract.starts_on,
                Contract.ends_on,
                Contract.arr,
                Contract.currency,
                Contract.licensed_seats,
                Contract.discount,
                Contract.status,
                Contract.outcome_on,
                Contract.auto_renews,
                Contract.renewal_outcome,
                Contract.billing_period,
            ),
        ),
        surveys=_rows(
            session,
            sa.select(
                SurveyResponse.id,
                SurveyResponse.account_id,
                SurveyResponse.kind,
                SurveyResponse.score,
                SurveyResponse.responded_at,
            ),
        ),
        tickets=_ticket_rows(session),
        touchpoints=_rows(
            session, sa.select(Touchpoint.id, Touchpoint.account_id, Touchpoint.occurred_at)
        ),
        attendees=_rows(
            session,
            sa.select(touchpoint_attendee.c.touchpoint_id, touchpoint_attendee.c.contact_id),
        ),
        milestones=_rows(
            session,
            sa.select(
                Milestone.account_id,
                Milestone.due_on,
                Milestone.reached_on,
                SuccessPlan.started_on.label("plan_started_on"),
            ).join(SuccessPlan, SuccessPlan.id == Milestone.plan_id),
        ),
        won_renewals=_rows(
            session,
            sa.select(Opportunity.account_id, Opportunity.closed_on).where(
                Opportunity.kind == OpportunityKind.renewal,
                Opportunity.status == OpportunityStatus.won,
                Opportunity.closed_on.is_not(None),
            ),
        ),
    )
