"""Metrics from the real database and event store: computed, stored with history, QA'd."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.errors import NotFound
from tenure.metrics.registry import all_metrics
from tenure.metrics.service import (
    compute_and_store,
    metric_history,
    metrics_frame,
    store_metrics,
    stored_metrics,
)
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF, EXPECTED, FEATURES
from tests.metrics.test_compute import assert_same


def test_computed_from_the_database_stored_and_qad(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    run = compute_and_store(session, store, AS_OF)
    # The registry, then five usage-by-feature metrics for each catalog feature.
    assert run.accounts == 3 and run.metrics == len(all_metrics()) + 7 * len(FEATURES)
    stored = stored_metrics(session).set_index("account_external_id")
    for account, expected in EXPECTED.items():
        for slug, value in expected.items():
            assert_same(stored.loc[account, slug], value, f"stored {account}.{slug}")
    flags = {m.slug: m.flags for m in run.qa.metrics}
    # champion_present is 1, 0, 0 over acme, bolt, dyna: varied, not flagged; arr has a value
    # for one account of three (≥ 10 %): not "mostly empty"
    assert flags["champion_present"] == [] and flags["arr"] == []


@pytest.mark.slow
def test_history_keeps_days_and_storing_a_day_again_replaces_it(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    compute_and_store(session, store, AS_OF - timedelta(days=1))
    frame = metrics_frame(session, store, AS_OF)
    store_metrics(session, AS_OF, frame)
    store_metrics(session, AS_OF, frame)
    history = metric_history(session)
    assert list(history.as_of.value_counts().sort_index()) == [3, 3]
    acme = history[history.account_external_id == "acme"].set_index("as_of")
    # u1's last event before 03-31 was on 03-30; on 03-31 it was that day
    assert acme.loc[AS_OF - timedelta(days=1), "days_since_last_activity"] == 0
    assert acme.loc[AS_OF, "days_since_last_activity"] == 0
    assert acme.loc[AS_OF, "nps_latest"] == 9


def test_no_stored_metrics_is_a_clear_error(session: Session) -> None:
    with pytest.raises(NotFound, match="tenure metrics compute"):
        stored_metrics(session)
