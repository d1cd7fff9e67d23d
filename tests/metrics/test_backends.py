"""The same metric values on DuckDB and on a real PostgreSQL server, and no look-ahead."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pytest

from tests.metrics.conftest import compute_on
from tests.metrics.fixtures import AS_OF, EVENTS, SNAPSHOT_ROWS, event, ts


@pytest.fixture
def postgres_con(postgres_server: tuple[str, int]) -> Iterator[ibis.BaseBackend]:
    sock, port = postgres_server
    con = ibis.postgres.connect(host=sock, port=port, user="postgres", database="postgres")
    try:
        yield con
    finally:
        con.drop_table("fixture_events", force=True)
        con.disconnect()


def assert_frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Integers and text exactly, floats with relative tolerance 1e-9, no data as no data."""
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right)
    for column in left.columns:
        for i, (a, b) in enumerate(zip(left[column], right[column], strict=True)):
            where = f"{column} row {i}: {a!r} vs {b!r}"
            if pd.isna(a) or pd.isna(b):
                assert pd.isna(a) and pd.isna(b), where
            elif isinstance(a, str) or isinstance(b, str):
                assert a == b, where
            else:
                assert math.isclose(float(a), float(b), rel_tol=1e-9), where


@pytest.mark.postgres
def test_postgres_computes_the_same_values_as_duckdb(
    duckdb_con: ibis.BaseBackend, postgres_con: ibis.BaseBackend
) -> None:
    on_duckdb = compute_on(duckdb_con)
    on_postgres = compute_on(postgres_con)
    assert_frames_equal(on_duckdb, on_postgres)


def _after_cutoff(day: date) -> list[dict[str, Any]]:
    """Events on every later day, for every account, that must not change the as-of metrics."""
    first = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return [
        event(first + timedelta(hours=h), name, user=user, account=account)
        for h, (name, user, account) in enumerate(
            [
                ("report", "u1", "acme"),
                ("alerts", "new-user", "bolt"),
                ("export", "d1", None),
                ("ai_summary", "u2", "acme"),
            ]
            * 3
        )
    ]


def _future_rows() -> dict[str, list[dict[str, Any]]]:
    """Operational rows dated after the as-of day: known later, so invisible on it."""
    later = ts(2025, 4, 2)
    rows = {name: list(values) for name, values in SNAPSHOT_ROWS.items()}
    rows["contacts"] += [
        {
            "id": 90,
            "external_id": "late",
            "account_id": 2,
            "level": "director_vp",
            "is_champion": True,
            "is_sponsor": True,
            "joined_on": date(2025, 4, 2),
        },
    ]
    rows["contracts"] += [
        {
            "id": 90,
            "account_id": 2,
            "starts_on": date(2025, 4, 2),
            "ends_on": date(2026, 4, 1),
            "arr": 100.0,
            "currency": "USD",
            "licensed_seats": 3,
            "status": "active",
        },
    ]
    rows["surveys"] += [
        {"id": 90, "account_id": 2, "kind": "nps", "score": 10, "responded_at": later},
        {"id": 91, "account_id": 4, "kind": "nps", "score": 0, "responded_at": later},
    ]
    rows["tickets"] += [
        {
            "id": 90,
            "account_id": 2,
            "priority": "urgent",
            "asks_to_leave": True,
            "opened_at": later,
        },
    ]
    rows["touchpoints"] += [{"id": 90, "account_id": 2, "occurred_at": later}]
    rows["attendees"] += [{"touchpoint_id": 90, "contact_id": 90}]
    rows["features"] += [
        {"key": "late_feature", "strategic": True, "released_on": date(2025, 4, 2)}
    ]
    rows["milestones"] = [
        *rows["milestones"],
        {
            "account_id": 2,
            "due_on": date(2025, 1, 1),
            "reached_on": date(2025, 4, 2),
            "plan_started_on": date(2025, 4, 2),
        },
    ]
    return rows


@pytest.mark.slow
def test_nothing_after_the_as_of_day_changes_any_metric(duckdb_con: ibis.BaseBackend) -> None:
    known = compute_on(duckdb_con)
    with_future = compute_on(
        duckdb_con, events=[*EVENTS, *_after_cutoff(AS_OF)], rows=_future_rows()
    )
    assert_frames_equal(known, with_future[known.columns])
    # The feature released later adds its usage-by-feature columns, with nothing in them yet.
    added = with_future.drop(columns=known.columns)
    assert sorted(added.columns) == sorted(
        f"feature__late_feature__{s}"
        for s in (
            "events_28d",
            "days_28d",
            "user_share_28d",
            "change_4w",
            "change_12w",
            "lifetime",
            "per_month",
        )
    )
    assert set(added.stack(future_stack=True).dropna().unique()) <= {0}


@pytest.mark.slow
def test_the_future_rows_do_change_a_later_day(duckdb_con: ibis.BaseBackend) -> None:
    """Guards the test above: the same rows are visible once their day has come."""
    later = AS_OF + timedelta(days=2)
    before = compute_on(duckdb_con, as_of=later).set_index("account_external_id")
    after = compute_on(
        duckdb_con, events=[*EVENTS, *_after_cutoff(AS_OF)], rows=_future_rows(), as_of=later
    ).set_index("account_external_id")
    changed = [c for c in before.columns if not before[c].equals(after[c])]
    assert {
        "nps_latest",
        "open_high_priority_tickets",
        "sponsor_engaged",
        "arr",
        "active_users_7d",
        "contacts_director_vp",
        "champion_present",
        "milestone_progress",
    } <= set(changed)
