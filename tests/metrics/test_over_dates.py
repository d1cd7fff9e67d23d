"""Metrics over many as-of dates equal ``compute_metrics`` run date by date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from tenure.metrics.compute import compute_metrics, daily_activity
from tenure.metrics.inputs import DETAIL_DAYS, MetricInputs
from tenure.metrics.over_dates import compute_metrics_over_dates, metrics_over_dates_in_groups
from tenure.metrics.registry import all_metrics, get_metric
from tenure.metrics.snapshot import snapshot_from_rows
from tenure.store.events import events_table_from_rows
from tests.metrics.fixtures import AS_OF, EVENTS, SNAPSHOT_ROWS
from tests.metrics.test_incremental import HISTORY, assert_same_metrics

# Weekly back from the fixture's as-of day, like fightchurn's observation dates, plus dates that
# cut the fixture's edge cases: before bolt existed (2024-12-15), the look-ahead event's day
# (2025-04-01) and after cargo's creation (2025-04-15), when its windows are empty.
DATES = [AS_OF - timedelta(days=7 * n) for n in range(10)] + [
    date(2024, 8, 20),
    date(2024, 12, 15),
    date(2025, 4, 1),
    date(2025, 4, 15),
]


def per_date(
    con: ibis.BaseBackend, events: ibis.Table, metrics: list | None, dates: list[date] = DATES
) -> pd.DataFrame:
    snapshot = snapshot_from_rows(con, **SNAPSHOT_ROWS)
    tables = [
        compute_metrics(con, events, snapshot, day, metrics)
        .mutate(as_of=ibis.literal(day, type="date"))
        .to_pyarrow()
        for day in sorted(dates)
    ]
    frame = pa.concat_tables(tables).to_pandas(date_as_object=True)
    return frame[["as_of", *frame.columns[:-1]]]


@pytest.fixture
def fixture_events(duckdb_con: ibis.BaseBackend) -> ibis.Table:
    rows = events_table_from_rows(EVENTS + HISTORY)
    return duckdb_con.create_table("fixture_events", rows, overwrite=True)


@pytest.mark.slow
def test_every_metric_over_dates_equals_per_date_computation(
    duckdb_con: ibis.BaseBackend, fixture_events: ibis.Table
) -> None:
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    together = compute_metrics_over_dates(duckdb_con, fixture_events, snapshot, DATES)
    expected = per_date(duckdb_con, fixture_events, None)
    assert_same_metrics(together, expected)
    # The fixture has something to compare: several dates with events in the window.
    assert (together.groupby("as_of")["events_28d"].sum() > 0).sum() >= 8
    assert set(together.as_of) == set(DATES)


@pytest.mark.slow
def test_groups_of_dates_reuse_their_compiled_queries_and_equal_per_date_computation(
    duckdb_con: ibis.BaseBackend, fixture_events: ibis.Table
) -> None:
    # Groups of three: the second and later groups run the queries the first one compiled,
    # with other dates in the dates table and other values in the as-of variables.
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    daily = duckdb_con.create_table(
        "tenure_daily_activity",
        daily_activity(fixture_events, snapshot, max(DATES)),
        temp=True,
        overwrite=True,
    )
    groups = list(
        metrics_over_dates_in_groups(duckdb_con, daily, snapshot, DATES, dates_per_query=3)
    )
    assert [len(set(g.as_of)) for g in groups] == [3, 3, 3, 3, 2]
    together = pd.concat(groups, ignore_index=True)
    assert_same_metrics(together, per_date(duckdb_con, fixture_events, None))


@pytest.mark.slow
def test_usage_windows_run_for_all_dates_in_one_query(
    duckdb_con: ibis.BaseBackend, fixture_events: ibis.Table
) -> None:
    chosen = [m for m in all_metrics() if m.over_dates]
    assert {m.slug for m in chosen} >= {"active_users_28d", "events_28d", "usage_trend"}
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    together = compute_metrics_over_dates(duckdb_con, fixture_events, snapshot, DATES, chosen)
    assert_same_metrics(together, per_date(duckdb_con, fixture_events, chosen))
    # acme on the fixture's as-of day: u1, u2, u3 active, 8 events (fixtures.py's hand count).
    acme = together[(together.as_of == AS_OF) & (together.account_external_id == "acme")]
    assert acme[["active_users_28d", "events_28d"]].values.tolist() == [[3, 8]]


@pytest.mark.slow
def test_windows_alone_leave_older_events_unread(
    duckdb_con: ibis.BaseBackend, fixture_events: ibis.Table
) -> None:
    chosen = [m for m in all_metrics() if m.over_dates]
    dates = [AS_OF - timedelta(days=7 * n) for n in range(3)]
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    together = compute_metrics_over_dates(duckdb_con, fixture_events, snapshot, dates, chosen)
    assert_same_metrics(together, per_date(duckdb_con, fixture_events, chosen, dates))
    first_read = duckdb_con.table("tenure_daily_activity").day.min().execute().date()
    assert first_read >= min(dates) - timedelta(days=DETAIL_DAYS - 1)
    # The fixture has events before that, which a metric of the whole history would read.
    assert fixture_events.timestamp.min().execute().date() < first_read


def test_a_date_bound_metric_refuses_many_dates(duckdb_con: ibis.BaseBackend) -> None:
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    dates = ibis.memtable({"as_of": [AS_OF]})
    activity = ibis.memtable({"account_id": [1], "day": [AS_OF]})
    inputs = MetricInputs(as_of=AS_OF, snapshot=snapshot, activity=activity, dates=dates)
    with pytest.raises(ValueError, match="over_dates"):
        get_metric("days_since_last_activity").expression(inputs)


def test_no_dates_is_an_error(duckdb_con: ibis.BaseBackend, fixture_events: ibis.Table) -> None:
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    with pytest.raises(ValueError, match="at least one"):
        compute_metrics_over_dates(duckdb_con, fixture_events, snapshot, [])


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_gives_the_same_frame_as_duckdb(
    duckdb_con: ibis.BaseBackend, postgres_server: tuple[str, int]
) -> None:
    sock, port = postgres_server
    postgres = ibis.postgres.connect(host=sock, port=port, user="postgres", database="postgres")
    dates = [AS_OF, AS_OF - timedelta(days=7), date(2024, 12, 15)]
    try:
        frames = []
        for con in (duckdb_con, postgres):
            events = con.create_table(
                "fixture_events", events_table_from_rows(EVENTS + HISTORY), overwrite=True
            )
            snapshot = snapshot_from_rows(con, **SNAPSHOT_ROWS)
            frames.append(compute_metrics_over_dates(con, events, snapshot, dates))
    finally:
        postgres.drop_table("fixture_events", force=True)
        postgres.disconnect()
    assert_same_metrics(frames[1], frames[0])


@pytest.mark.spark
def test_spark_gives_the_same_usage_windows_as_duckdb(
    duckdb_con: ibis.BaseBackend, spark: Any
) -> None:
    from tenure.store.events.spark import connect_spark

    chosen = [m for m in all_metrics() if m.over_dates]
    dates = [AS_OF, AS_OF - timedelta(days=7), date(2024, 12, 15)]
    frames = []
    for con in (duckdb_con, connect_spark()):
        events = con.create_table(
            "fixture_events", events_table_from_rows(EVENTS + HISTORY), temp=True, overwrite=True
        )
        snapshot = snapshot_from_rows(con, **SNAPSHOT_ROWS)
        frames.append(compute_metrics_over_dates(con, events, snapshot, dates, chosen))
        con.disconnect()
    assert_same_metrics(frames[1], frames[0])
