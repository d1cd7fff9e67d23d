"""Metrics from the persisted roll-up, for one day or many: the one path every computation takes.

    frame = incremental_metrics_frame(session, store, date(2025, 3, 31))
    for frame in metric_frames(session, store, dates):   # many days, a few at a time
        ...

The daily run (one day), ``tenure metrics compute --from --to --every`` and the churn model
(many days) all read their activity the same way: once, into one attributed per-day table on the
analytics connection (:func:`daily_activity_table`), from which every as-of day's metrics are cut
(:func:`tenure.metrics.over_dates.metrics_over_dates`). On the embedded store (SQLite inbox +
Parquet) that table comes from the persisted roll-up (``metrics/rollup.py``): the days the dates
need in detail, month summaries before them. On PostgreSQL or Spark it is rolled up from the
events in place. Dates are computed a few at a time (``DATES_PER_QUERY``) and handed back one
frame per group, so memory follows the roll-up, not the number of days × accounts.

Same values as :func:`tenure.metrics.service.metrics_frame` over every event (tested to the
last digit).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import ibis
import pandas as pd
from sqlalchemy.orm import Session

from tenure.metrics.compute import daily_activity
from tenure.metrics.inputs import DETAIL_DAYS
from tenure.metrics.over_dates import metrics_over_dates_in_groups
from tenure.metrics.registry import Metric
from tenure.metrics.rollup import ActivityRollup, attributed_rollup
from tenure.metrics.snapshot import Snapshot, load_snapshot
from tenure.store.events import EventStore
from tenure.store.events.embedded import EmbeddedEvents

# As-of days computed per query: the window joins repeat each activity row once per date of
# the group, so this bounds their size. A 150-day daily pass over 10,000 accounts (2M events, 186
# metrics) peaked at 1.90 GB with 7 dates a query, 1.40 GB with 4, 1.20 GB with 3 (DuckDB held to
# 1 GB; first groups, benchmarks/metrics_range.py); 4 costs ~10 % more CPU a date than 7.
DATES_PER_QUERY = 4


def rollup_of(store: EventStore) -> ActivityRollup | None:
    """The store's roll-up, or None when events do not live in embedded Parquet."""
    storage = store.storage
    return ActivityRollup(storage) if type(storage) is EmbeddedEvents else None


def daily_activity_table(
    con: ibis.BaseBackend, store: EventStore, snapshot: Snapshot, first: date, last: date
) -> ibis.Table:
    """Attributed activity per (account, user, day, event), all that the as-of days ``first``
    to ``last`` need, as a temporary table on ``con``."""
    rollup = rollup_of(store)
    if rollup is None:
        detail_from = first - timedelta(days=DETAIL_DAYS - 1)
        source = daily_activity(store.table(con), snapshot, last, detail_from)
    else:
        rows = con.create_table(
            "tenure_rollup", rollup.read_range(first, last).rows, temp=True, overwrite=True
        )
        source = attributed_rollup(rows, snapshot, last)
    return con.create_table("tenure_daily_activity", source, temp=True, overwrite=True)


def metric_frames(
    session: Session,
    store: EventStore,
    dates: Sequence[date],
    metrics: Sequence[Metric] | None = None,
    *,
    dates_per_query: int = DATES_PER_QUERY,
) -> Iterator[pd.DataFrame]:
    """Every metric (or the given ones) as of each of ``dates``, a few dates per frame in date
    order, each as :func:`tenure.metrics.over_dates.metrics_over_dates` returns it."""
    days = sorted(set(dates))
    if not days:
        return
    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        daily = daily_activity_table(con, store, snapshot, days[0], days[-1])
        yield from metrics_over_dates_in_groups(
            con, daily, snapshot, days, metrics, dates_per_query=dates_per_query
        )
    finally:
        con.disconnect()


def incremental_metrics_frame(
    session: Session,
    store: EventStore,
    as_of: date,
    metrics: Sequence[Metric] | None = None,
    account_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every metric (or the given ones) as of ``as_of``, one row per account known that day.

    ``account_ids`` limits the rows to those accounts (the intraday refresh).
    """
    (frame,) = metric_frames(session, store, [as_of], metrics)
    frame = frame.drop(columns="as_of")
    if account_ids is not None:
        frame = frame[frame["account_id"].isin(list(account_ids))]
    return frame.reset_index(drop=True)
