"""Load, compute and store metrics (I/O around the pure :mod:`tenure.metrics.compute`).

Functions take the session first; they flush, never commit (the surface owns the transaction).

    frame = metrics_frame(session, store, date(2025, 3, 31))        # compute, don't store
    run = compute_and_store(session, store, date(2025, 3, 31))       # compute + store + QA
    frame = stored_metrics(session)                                  # latest stored day
    history = metric_history(session, start=date(2025, 1, 1))        # one row per account-day

Every frame has the account columns of :data:`tenure.metrics.compute.ACCOUNT_COLUMNS` and one
column per metric slug; history frames add ``as_of`` first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.metrics.by_feature import CatalogFeature, metrics_with_catalog
from tenure.metrics.compute import ACCOUNT_COLUMNS, compute_metrics
from tenure.metrics.qa import qa_report
from tenure.metrics.registry import Metric
from tenure.metrics.schemas import MetricDay, MetricRangeRun, MetricRun
from tenure.metrics.snapshot import load_snapshot
from tenure.model import JUDGEMENTS_CHANGED, Account, Feature, MetricSnapshot
from tenure.store.events import EventStore


def metrics_frame(
    session: Session, store: EventStore, as_of: date, *, incremental: bool = False
) -> pd.DataFrame:
    """Every metric for every account as of ``as_of``, computed now from events and the database.

    ``incremental`` reads the persisted daily roll-up (``metrics/rollup.py``), not all events.
    """
    if incremental:
        from tenure.metrics.incremental import incremental_metrics_frame

        return incremental_metrics_frame(session, store, as_of)
    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        return compute_metrics(con, store.table(con), snapshot, as_of).to_pandas()
    finally:
        con.disconnect()


def _plain(metric: Metric, value: Any) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value) if metric.unit.is_numeric else str(value)


def known_metrics(session: Session) -> list[Metric]:
    """The registry and the per-feature metrics of the catalog stored now."""
    rows = session.execute(sa.select(Feature.key, Feature.name).order_by(Feature.key))
    return metrics_with_catalog(CatalogFeature(key, name or key) for key, name in rows)


def store_metrics(
    session: Session, as_of: date, frame: pd.DataFrame, *, partial: bool = False
) -> int:
    """Replace the stored metrics of ``as_of`` with ``frame``'s rows; returns the row count.

    ``partial`` replaces only the accounts in ``frame`` (the intraday refresh).
    """
    metrics = [m for m in known_metrics(session) if m.slug in frame.columns]
    replaced = sa.delete(MetricSnapshot).where(MetricSnapshot.as_of == as_of)
    if partial:
        ids = [int(a) for a in frame["account_id"]]
        replaced = replaced.where(MetricSnapshot.account_id.in_(ids))
    session.execute(replaced)
    rows = [
        {
            "as_of": as_of,
            "account_id": int(record["account_id"]),
            "values": {m.slug: _plain(m, record[m.slug]) for m in metrics},
        }
        for record in frame.to_dict("records")
    ]
    if rows:
        session.execute(sa.insert(MetricSnapshot), rows)
    session.execute(JUDGEMENTS_CHANGED)
    session.flush()
    return len(rows)


def compute_and_store(
    session: Session, store: EventStore, as_of: date, *, incremental: bool = False
) -> MetricRun:
    """Compute every metric as of ``as_of``, store them (replacing that day) and QA them."""
    started = time.perf_counter()
    frame = metrics_frame(session, store, as_of, incremental=incremental)
    store_metrics(session, as_of, frame)
    metrics = [m for m in known_metrics(session) if m.slug in frame.columns]
    rows = [
        {
            **{c: record[c] for c in ACCOUNT_COLUMNS},
            **{m.slug: _plain(m, record[m.slug]) for m in metrics},
        }
        for record in frame.to_dict("records")
    ]
    return MetricRun(
        as_of=as_of,
        accounts=len(frame),
        metrics=len(metrics),
        seconds=round(time.perf_counter() - started, 3),
        qa=qa_report(frame, metrics, as_of),
        rows=rows,
    )


def dates_every(first: date, last: date, every_days: int) -> list[date]:
    """``first``, every ``every_days`` days after it, up to ``last`` (included when it falls on
    the step).

    >>> dates_every(date(2025, 1, 1), date(2025, 1, 15), 7)
    [datetime.date(2025, 1, 1), datetime.date(2025, 1, 8), datetime.date(2025, 1, 15)]
    """
    if every_days < 1:
        raise InvalidInput(f"--every must be at least 1 day, not {every_days}")
    if last < first:
        raise InvalidInput(f"--to {last} is before --from {first}")
    return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, every_days)]


def compute_and_store_dates(
    session: Session, store: EventStore, first: date, last: date, every_days: int = 1
) -> MetricRangeRun:
    """Compute every metric for each date from ``first`` to ``last`` every ``every_days`` days
    in one pass over the activity (the daily run's path, a few dates per query), storing each
    date as it comes (replacing it); QA the last one."""
    from tenure.metrics.incremental import metric_frames

    started = time.perf_counter()
    metrics = known_metrics(session)
    days: list[MetricDay] = []
    last_frame = pd.DataFrame()
    for frame in metric_frames(session, store, dates_every(first, last, every_days), metrics):
        for day, rows in frame.groupby("as_of", sort=True):
            last_frame = rows.drop(columns="as_of")
            store_metrics(session, day, last_frame)
            days.append(MetricDay(as_of=day, accounts=len(last_frame)))
    return MetricRangeRun(
        first=first,
        last=last,
        every_days=every_days,
        metrics=len(metrics),
        seconds=round(time.perf_counter() - started, 3),
        days=days,
        qa=qa_report(last_frame, metrics, days[-1].as_of if days else last),
    )


def latest_as_of(session: Session) -> date | None:
    return session.scalar(sa.select(sa.func.max(MetricSnapshot.as_of)))


def metric_history(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    account_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Stored metrics, one row per (as_of, account) — every account's or these —, ordered by
    day then account."""
    statement = (
        sa.select(
            MetricSnapshot.as_of,
            MetricSnapshot.values,
            Account.id.label("account_id"),
            Account.external_id.label("account_external_id"),
            Account.name.label("account_name"),
            Account.segment,
            Account.experience_segment,
        )
        .join(Account, Account.id == MetricSnapshot.account_id)
        .order_by(MetricSnapshot.as_of, Account.id)
    )
    if start is not None:
        statement = statement.where(MetricSnapshot.as_of >= start)
    if end is not None:
        statement = statement.where(MetricSnapshot.as_of <= end)
    if account_ids is not None:
        statement = statement.where(MetricSnapshot.account_id.in_(list(account_ids)))
    slugs = [m.slug for m in known_metrics(session)]
    records = []
    for row in session.execute(statement):
        values = row.values or {}
        records.append(
            {
                "as_of": row.as_of,
                **{c: getattr(row, c) for c in ACCOUNT_COLUMNS},
                **{slug: values.get(slug) for slug in slugs},
            }
        )
    return pd.DataFrame.from_records(records, columns=["as_of", *ACCOUNT_COLUMNS, *slugs])


def stored_metrics(
    session: Session, as_of: date | None = None, account_ids: Iterable[int] | None = None
) -> pd.DataFrame:
    """The stored metrics of one day (default: the latest stored day), without ``as_of``; every
    account's, or these accounts'."""
    day = as_of or latest_as_of(session)
    if day is None:
        raise NotFound("no metrics stored yet; run `tenure metrics compute` first")
    frame = metric_history(session, start=day, end=day, account_ids=account_ids)
    if frame.empty and account_ids is None:
        raise NotFound(f"no metrics stored for {day}; run `tenure metrics compute --as-of {day}`")
    return frame.drop(columns="as_of")
