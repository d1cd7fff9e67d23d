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
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import NotFound
from tenure.metrics.compute import ACCOUNT_COLUMNS, compute_metrics
from tenure.metrics.qa import qa_report
from tenure.metrics.registry import Metric, all_metrics
from tenure.metrics.schemas import MetricRun
from tenure.metrics.snapshot import load_snapshot
from tenure.model import Account, MetricSnapshot
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


def store_metrics(
    session: Session, as_of: date, frame: pd.DataFrame, *, partial: bool = False
) -> int:
    """Replace the stored metrics of ``as_of`` with ``frame``'s rows; returns the row count.

    ``partial`` replaces only the accounts in ``frame`` (the intraday refresh).
    """
    metrics = [m for m in all_metrics() if m.slug in frame.columns]
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
    session.flush()
    return len(rows)


def compute_and_store(
    session: Session, store: EventStore, as_of: date, *, incremental: bool = False
) -> MetricRun:
    """Compute every metric as of ``as_of``, store them (replacing that day) and QA them."""
    started = time.perf_counter()
    frame = metrics_frame(session, store, as_of, incremental=incremental)
    store_metrics(session, as_of, frame)
    metrics = all_metrics()
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


def latest_as_of(session: Session) -> date | None:
    return session.scalar(sa.select(sa.func.max(MetricSnapshot.as_of)))


def metric_history(
    session: Session, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Stored metrics, one row per (as_of, account), ordered by day then account."""
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
    slugs = [m.slug for m in all_metrics()]
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


def stored_metrics(session: Session, as_of: date | None = None) -> pd.DataFrame:
    """The stored metrics of one day (default: the latest stored day), without ``as_of``."""
    day = as_of or latest_as_of(session)
    if day is None:
        raise NotFound("no metrics stored yet; run `tenure metrics compute` first")
    frame = metric_history(session, start=day, end=day)
    if frame.empty:
        raise NotFound(f"no metrics stored for {day}; run `tenure metrics compute --as-of {day}`")
    return frame.drop(columns="as_of")
