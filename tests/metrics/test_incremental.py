"""Incremental metrics (persisted daily roll-up) equal a full recomputation over every event."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from tenure.metrics.by_feature import feature_slug
from tenure.metrics.compute import compute_metrics, metrics_from_activity
from tenure.metrics.incremental import incremental_metrics_frame
from tenure.metrics.rollup import ROLLUP_FORMAT, ActivityRollup, RollupRead, attribute_rollup
from tenure.metrics.service import compute_and_store_dates, metrics_frame, stored_metrics
from tenure.metrics.snapshot import Snapshot, snapshot_from_rows
from tenure.store.events import EventStore, events_table_from_rows
from tenure.store.events.embedded import EmbeddedEvents
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF, EVENTS, SNAPSHOT_ROWS, event, ts

NOW = datetime(2025, 4, 2, tzinfo=UTC)

# Months of older usage, so the roll-up has monthly summaries to read: acme's u1 every 9th day
# from June to December 2024, and d1 (attributed to dyna through its contact) in August.
HISTORY = [
    event(ts(2024, 6, 1, 9) + timedelta(days=9 * n), "report", user="u1", account="acme")
    for n in range(20)
] + [event(ts(2024, 8, 14, 9), "export", user="d1")]


def assert_same_metrics(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Floats within relative 1e-9 (nulls in the same places), everything else exactly."""
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right)
    for column in left.columns:
        a, b = left[column], right[column]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            assert (np.isnan(x) == np.isnan(y)).all(), column
            ok = ~np.isnan(x)
            assert np.allclose(x[ok], y[ok], rtol=1e-9, atol=0), column
        else:
            assert (
                a.astype(object).where(a.notna(), None).tolist()
                == b.astype(object).where(b.notna(), None).tolist()
            ), column


def both_ways(store: EventStore, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame, RollupRead]:
    con = store.connect()
    try:
        snapshot: Snapshot = snapshot_from_rows(con, **SNAPSHOT_ROWS)
        full = compute_metrics(con, store.table(con), snapshot, as_of).to_pandas()
        assert isinstance(store.storage, EmbeddedEvents)
        read = ActivityRollup(store.storage).read(as_of)
        rows = con.create_table("rollup_rows", read.rows, temp=True, overwrite=True)
        activity = attribute_rollup(rows, snapshot, as_of)
        incremental = metrics_from_activity(con, activity, snapshot, as_of).to_pandas()
    finally:
        con.disconnect()
    return full, incremental, read


@pytest.mark.slow
def test_incremental_equals_full_with_late_event_and_duplicate(data_dir: Path) -> None:
    store = EventStore(data_dir)
    before = AS_OF - timedelta(days=1)
    # History and everything up to the day before as bulk Parquet; the last day arrives later.
    old = [e for e in EVENTS + HISTORY if e["timestamp"] < ts(2025, 3, 31)]
    new_day = [e for e in EVENTS if e["timestamp"] >= ts(2025, 3, 31)]
    store.write_parquet(events_table_from_rows(old))

    full, incremental, read = both_ways(store, before)
    assert_same_metrics(full, incremental)
    assert read.refresh.days_rolled > 0 and read.refresh.months_rebuilt > 0

    # The new day comes through the inbox, with a late event 10 days back (into an old,
    # already rolled-up partition) and a repeat of a message stored in Parquet.
    late = event(ts(2025, 3, 21, 9), "alerts", user="u4", account="acme")
    repeat = dict(old[0])
    store.append([*new_day, late, repeat])
    # Pending in the inbox: the repeat is in both the Parquet and the inbox, for both ways.
    full, incremental, read = both_ways(store, AS_OF)
    assert_same_metrics(full, incremental)
    assert read.refresh.days_rolled == 0 and read.refresh.pending_rows == len(new_day) + 2

    compaction = store.compact(now=NOW)
    assert compaction.duplicates == 1  # the repeat, dropped by the store's dedupe
    full, incremental, read = both_ways(store, AS_OF)
    assert_same_metrics(full, incremental)
    # Rolled up again: the new day, the fixture's one event after it (04-01) and the late
    # event's day — not the repeat's, which was dropped before reaching its partition.
    assert read.refresh.days_rolled == 3
    assert read.refresh.months_rebuilt == 2  # March and April
    acme = incremental.set_index("account_external_id").loc["acme"]
    assert acme["active_users_28d"] == 4  # u4, from the late event, counts
    # The window reads days, not history: ≤ 90 + 31 day files plus one file per older month.
    assert read.files_read <= 90 + 31 + 12


def test_identify_and_group_calls_count_as_no_activity_either_way(data_dir: Path) -> None:
    """The roll-up read identify and group calls as usage (a group call naming a workspace added
    an event to its account's month on the demo); the full computation never did."""
    store = EventStore(data_dir)
    calls = [
        event(ts(2025, 3, 20, 9), "", user="u9", account="acme") | {"type": kind}
        for kind in ("identify", "group")
    ]
    store.write_parquet(events_table_from_rows(EVENTS + calls))
    full, incremental, _ = both_ways(store, AS_OF)
    assert_same_metrics(full, incremental)
    acme = incremental.set_index("account_external_id").loc["acme"]
    assert acme["active_users_28d"] == 3  # u9 only sent identify and group: not active


@pytest.mark.slow
def test_incremental_as_of_a_past_day_ignores_later_events(data_dir: Path) -> None:
    store = EventStore(data_dir)
    store.write_parquet(events_table_from_rows(EVENTS + HISTORY))
    full, incremental, _ = both_ways(store, date(2025, 1, 20))
    assert_same_metrics(full, incremental)
    # A roll-up file lost from disk (the manifest still lists it) is rebuilt, not an error.
    (data_dir / "rollups" / "day=2025-01-15.parquet").unlink()
    (data_dir / "rollups" / "month=2024-08.parquet").unlink()
    assert isinstance(store.storage, EmbeddedEvents)
    refresh = ActivityRollup(store.storage).refresh()
    assert (refresh.days_rolled, refresh.months_rebuilt) == (1, 1)


def test_month_summaries_of_the_older_format_are_rebuilt_once(data_dir: Path) -> None:
    """A data dir rolled up before month summaries kept the event name (format 1: no "format"
    in the manifest, one row per account and user) has its months rebuilt on the next read,
    and its per-feature lifetime totals then count the months before the detail window."""
    store = EventStore(data_dir)
    store.write_parquet(events_table_from_rows(EVENTS + HISTORY))
    assert isinstance(store.storage, EmbeddedEvents)
    months = ActivityRollup(store.storage).refresh().months_rebuilt
    folder = data_dir / "rollups"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest.pop("format") == ROLLUP_FORMAT
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for path in folder.glob("month=*.parquet"):
        old = pq.read_table(path)
        pq.write_table(old.set_column(3, "event", pa.nulls(len(old), pa.string())), path)

    full, incremental, read = both_ways(store, AS_OF)
    assert (read.refresh.days_rolled, read.refresh.months_rebuilt) == (0, months)
    assert_same_metrics(full, incremental)
    acme = incremental.set_index("account_external_id").loc["acme"]
    # u1's 20 reports from June to November 2024 and the fixture's 8
    assert acme[feature_slug("report", "lifetime")] == 28
    assert ActivityRollup(store.storage).refresh().months_rebuilt == 0


@pytest.mark.slow
def test_service_frames_agree(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    store.write_parquet(events_table_from_rows(HISTORY))
    full = metrics_frame(session, store, AS_OF)
    incremental = metrics_frame(session, store, AS_OF, incremental=True)
    assert_same_metrics(full, incremental)
    acme_id = int(full.loc[full.account_external_id == "acme", "account_id"].iloc[0])
    only = incremental_metrics_frame(session, store, AS_OF, account_ids=[acme_id])
    assert only.account_id.tolist() == [acme_id]


@pytest.mark.slow
def test_a_range_in_one_pass_equals_each_day_computed_alone(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    store.write_parquet(events_table_from_rows(HISTORY))
    # 01-30's detail window starts 2024-11-01: the pass reads days from then, months before.
    first = AS_OF - timedelta(days=60)
    run = compute_and_store_dates(session, store, first, AS_OF, every_days=20)
    days = [first + timedelta(days=n) for n in (0, 20, 40, 60)]
    assert [d.as_of for d in run.days] == days
    # acme and dyna (no creation date) every day; bolt from its creation on 2025-01-01
    assert [d.accounts for d in run.days] == [3, 3, 3, 3]
    for day in days:
        full = metrics_frame(session, store, day)
        assert_same_metrics(full, stored_metrics(session, day)[full.columns])
    assert run.qa.as_of == AS_OF and run.qa.accounts == 3
