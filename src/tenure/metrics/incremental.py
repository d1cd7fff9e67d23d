"""Metrics from the persisted roll-up: the daily run's cost follows the new day, not the history.

    frame = incremental_metrics_frame(session, store, date(2025, 3, 31))

Same frame as :func:`tenure.metrics.service.metrics_frame` (tested to the last digit). Only the
embedded store (SQLite inbox + Parquet) keeps a roll-up; on PostgreSQL or Spark the full
computation runs, as those engines scan partitions in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from tenure.metrics.compute import compute_metrics, metrics_from_activity
from tenure.metrics.registry import Metric
from tenure.metrics.rollup import ActivityRollup, attribute_rollup
from tenure.metrics.snapshot import load_snapshot
from tenure.store.events import EventStore
from tenure.store.events.embedded import EmbeddedEvents


def rollup_of(store: EventStore) -> ActivityRollup | None:
    """The store's roll-up, or None when events do not live in embedded Parquet."""
    storage = store.storage
    return ActivityRollup(storage) if type(storage) is EmbeddedEvents else None


def incremental_metrics_frame(
    session: Session,
    store: EventStore,
    as_of: date,
    metrics: Sequence[Metric] | None = None,
    account_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every metric (or the given ones) as of ``as_of``, read from the roll-up.

    ``account_ids`` limits the rows to those accounts (the intraday refresh).
    """
    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        rollup = rollup_of(store)
        if rollup is None:
            table = compute_metrics(con, store.table(con), snapshot, as_of, metrics)
        else:
            rows = con.create_table("tenure_rollup", rollup.read(as_of).rows, temp=True)
            activity = attribute_rollup(rows, snapshot, as_of)
            table = metrics_from_activity(con, activity, snapshot, as_of, metrics)
        if account_ids is not None:
            table = table.filter(table.account_id.isin(list(account_ids)))
        return table.to_pandas()
    finally:
        con.disconnect()
