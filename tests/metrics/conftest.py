"""Metric test helpers: the hand-built fixture on any Ibis connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from tenure.metrics.compute import compute_metrics
from tenure.metrics.snapshot import snapshot_from_rows
from tenure.store.events import EventStore, events_table_from_rows
from tests.metrics.fixtures import (
    ACCOUNTS,
    AS_OF,
    ATTENDEES,
    CONTACTS,
    CONTRACTS,
    EVENTS,
    FEATURES,
    MILESTONES,
    PLANS,
    SNAPSHOT_ROWS,
    SURVEYS,
    TICKETS,
    TOUCHPOINTS,
    WON_RENEWALS,
)


def compute_on(
    con: ibis.BaseBackend,
    *,
    events: Iterable[Mapping[str, Any]] = EVENTS,
    rows: Mapping[str, list[dict[str, Any]]] = SNAPSHOT_ROWS,
    as_of: date = AS_OF,
) -> pd.DataFrame:
    """Load the fixture into ``con`` (events as a real table) and compute every metric."""
    table = con.create_table("fixture_events", events_table_from_rows(events), overwrite=True)
    snapshot = snapshot_from_rows(con, **rows)
    return compute_metrics(con, table, snapshot, as_of).to_pandas()


@pytest.fixture
def duckdb_con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def insert_fixture(session: Session, data_dir: Path, store: EventStore | None = None) -> EventStore:
    """The hand-built fixture as database rows, and its events in ``store`` (default: Parquet
    under ``data_dir``)."""
    from tenure import model

    for row in ACCOUNTS:
        session.add(model.Account(**row))
    session.flush()
    for row in CONTACTS:
        roles = [
            r for r, flag in (("champion", "is_champion"), ("sponsor", "is_sponsor")) if row[flag]
        ]
        fields = {k: v for k, v in row.items() if k not in {"is_champion", "is_sponsor"}}
        session.add(model.Contact(**fields, roles=roles))
    for row in FEATURES:
        session.add(model.Feature(**row, name=row["key"].title()))
    for row in CONTRACTS:
        session.add(model.Contract(**row, external_id=f"contract-{row['id']}"))
    for row in SURVEYS:
        session.add(model.SurveyResponse(**row, external_id=f"survey-{row['id']}"))
    for row in TICKETS:  # asks_to_leave is what load_snapshot reads from the subject
        fields = {k: v for k, v in row.items() if k != "asks_to_leave"}
        session.add(model.Ticket(**fields, external_id=f"ticket-{row['id']}"))
    session.flush()
    attendees: dict[int, list[int]] = {}
    for link in ATTENDEES:
        attendees.setdefault(link["touchpoint_id"], []).append(link["contact_id"])
    for row in TOUCHPOINTS:
        touchpoint = model.Touchpoint(**row, external_id=f"touchpoint-{row['id']}")
        touchpoint.attendees = [
            session.get_one(model.Contact, c) for c in attendees.get(row["id"], [])
        ]
        session.add(touchpoint)
    for plan in PLANS:
        session.add(model.SuccessPlan(**plan, segment="fixture"))
    session.flush()
    for m in MILESTONES:
        account_id = next(p["account_id"] for p in PLANS if p["id"] == m["plan_id"])
        session.add(
            model.Milestone(
                **m, account_id=account_id, name=m["key"], type="success", owner="customer"
            )
        )
    for row in WON_RENEWALS:
        session.add(
            model.Opportunity(
                **row,
                kind=model.OpportunityKind.renewal,
                status=model.OpportunityStatus.won,
                opened_on=row["closed_on"] - timedelta(days=30),
            )
        )
    session.flush()
    store = store or EventStore(data_dir)
    store.write_parquet(events_table_from_rows(EVENTS))
    return store
