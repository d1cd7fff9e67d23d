"""The registered metrics as of many dates at once: what churn datasets and backtests need.

    frame = compute_metrics_over_dates(con, store.table(con), snapshot, weekly_dates)

Computing each date on its own (``compute_metrics`` per date) reads the whole event history once
per date. Here the events are read once, into the attributed per-(account, user, day, event)
roll-up of every day up to the last date (``daily_activity``, a temporary table on ``con``).
From it:

- metrics registered ``over_dates=True`` (the usage windows) run once for all dates: their
  activity windows are range-joined to the dates (:class:`tenure.metrics.inputs.MetricInputs`
  with ``dates``), so each metric is one grouped query over (account, as-of date);
- every other metric runs per date as ``compute_metrics`` would, but on that date's activity cut
  from the roll-up (``activity_as_of``) instead of the raw events.

The result equals ``compute_metrics`` date by date (tested: integers exactly, floats within
relative 1e-9): one row per account known on each date, columns ``as_of``, the account columns,
then one per metric.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import ibis
import pandas as pd
import pyarrow as pa

from tenure.metrics.compute import (
    ACCOUNT_COLUMNS,
    activity_as_of,
    activity_table_name,
    daily_activity,
    default_metrics,
    metrics_from_activity,
    spine_columns,
    with_metrics,
)
from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Metric
from tenure.metrics.snapshot import Snapshot


def compute_metrics_over_dates(
    con: ibis.BaseBackend,
    events: ibis.Table,
    snapshot: Snapshot,
    dates: Sequence[date],
    metrics: Sequence[Metric] | None = None,
) -> pd.DataFrame:
    """Every metric (or the given ones) for every account known on each of ``dates``.

    Rows are ordered by ``as_of`` then ``account_id``; metrics as of ``d`` see only events before
    the end of ``d`` and operational rows effective by ``d``, as :func:`compute_metrics` does.
    """
    days = sorted(set(dates))
    if not days:
        raise ValueError("compute_metrics_over_dates needs at least one as-of date")
    daily = con.create_table(
        "tenure_daily_activity",
        daily_activity(events, snapshot, days[-1]),
        temp=True,
        overwrite=True,
    )
    return metrics_over_dates(con, daily, snapshot, days, metrics)


def metrics_over_dates(
    con: ibis.BaseBackend,
    daily: ibis.Table,
    snapshot: Snapshot,
    days: Sequence[date],
    metrics: Sequence[Metric] | None = None,
) -> pd.DataFrame:
    """:func:`compute_metrics_over_dates` on a daily roll-up already built (``daily_activity``)."""
    chosen = list(metrics) if metrics is not None else default_metrics(snapshot)
    days = sorted(set(days))
    dates = con.create_table(
        "tenure_metric_dates",
        pa.table({"as_of": pa.array(days, pa.date32())}),
        temp=True,
        overwrite=True,
    )
    together = [m for m in chosen if m.over_dates]
    frame = _together(daily, snapshot, dates, together, as_of=max(days)).to_pandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    apart = [m for m in chosen if not m.over_dates]
    if apart:
        # Through Arrow: every date has the same column types there, even a date on which a
        # metric is missing for everyone (pandas would guess a different dtype for that day).
        per_date = pa.concat_tables(
            [_one_date(con, daily, snapshot, day, apart) for day in days]
        ).to_pandas(date_as_object=True)
        frame = frame.merge(per_date, on=["as_of", "account_id"], how="left", validate="1:1")
    ordered = frame[["as_of", *ACCOUNT_COLUMNS, *(m.slug for m in chosen)]]
    return ordered.sort_values(["as_of", "account_id"], ignore_index=True)


def metrics_over_dates_in_groups(
    con: ibis.BaseBackend,
    daily: ibis.Table,
    snapshot: Snapshot,
    dates: Sequence[date],
    metrics: Sequence[Metric] | None = None,
    *,
    dates_per_query: int,
) -> Iterator[pd.DataFrame]:
    """:func:`metrics_over_dates`, ``dates_per_query`` dates at a time in date order.

    The window joins repeat each activity row once per date of a query, so the group size, not
    the number of dates, bounds the memory a pass over many dates needs.
    """
    days = sorted(set(dates))
    for start in range(0, len(days), dates_per_query):
        yield metrics_over_dates(
            con, daily, snapshot, days[start : start + dates_per_query], metrics
        )


def _one_date(
    con: ibis.BaseBackend,
    daily: ibis.Table,
    snapshot: Snapshot,
    day: date,
    metrics: Sequence[Metric],
) -> pa.Table:
    """The metrics that read one date, on that date's activity; its copy of the activity is
    dropped at once, so a pass over many dates holds one such copy at a time."""
    try:
        return (
            metrics_from_activity(con, activity_as_of(daily, day), snapshot, day, metrics)
            .select("account_id", *(m.slug for m in metrics))
            .mutate(as_of=ibis.literal(day, type="date"))
            .to_pyarrow()
        )
    finally:
        con.drop_table(activity_table_name(day), force=True)


def _together(
    daily: ibis.Table,
    snapshot: Snapshot,
    dates: ibis.Table,
    metrics: Sequence[Metric],
    *,
    as_of: date,
) -> ibis.Table:
    """The accounts known on each date with the ``over_dates`` metrics, all in one query."""
    accounts = snapshot.accounts
    known = accounts.join(
        dates, accounts.created_on.isnull() | (accounts.created_on <= dates.as_of)
    )
    # A relation of its own (a join would be extended by the metric joins, not joined to).
    spine = known.select(known.as_of, *spine_columns(known)).view()
    inputs = MetricInputs(as_of=as_of, snapshot=snapshot, activity=daily, dates=dates)
    return with_metrics(spine, metrics, inputs)
