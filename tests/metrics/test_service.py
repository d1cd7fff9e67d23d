"""Metrics from the real database and event store: computed, stored with history, QA'd."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.errors import NotFound
from tenure.metrics.registry import all_metrics
from tenure.metrics.service import compute_and_store, metric_history, stored_metrics
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF, EXPECTED
from tests.metrics.test_compute import assert_same


def test_computed_from_the_database_and_stored(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    run = compute_and_store(session, store, AS_OF)
    assert run.accounts == 3 and run.metrics == len(all_metrics())
    stored = stored_metrics(session).set_index("account_external_id")
    for account, expected in EXPECTED.items():
        for slug, value in expected.items():
            assert_same(stored.loc[account, slug], value, f"stored {account}.{slug}")


def test_recomputing_a_day_replaces_it_and_history_keeps_days(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    compute_and_store(session, store, AS_OF - timedelta(days=1))
    compute_and_store(session, store, AS_OF)
    compute_and_store(session, store, AS_OF)
    history = metric_history(session)
    assert list(history.as_of.value_counts().sort_index()) == [3, 3]
    acme = history[history.account_external_id == "acme"].set_index("as_of")
    assert acme.loc[AS_OF, "days_since_last_activity"] == 0
    assert acme.loc[AS_OF, "nps_latest"] == 9


def test_compute_reports_qa_of_the_day(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    run = compute_and_store(session, store, AS_OF)
    flags = {m.slug: m.flags for m in run.qa.metrics}
    # champion_present is 1, 0, 0 over acme, bolt, dyna: varied, not flagged
    assert flags["champion_present"] == []
    # open_high_priority_tickets is 2, 0, 0; arr has one value (acme): neither is flagged
    assert flags["open_high_priority_tickets"] == [] and flags["arr"] == []
    # champion_left_90d 1, 0, 0 vs new_feature_adoption 1, 0, 0: both vary
    assert run.qa.accounts == 3


def test_no_stored_metrics_is_a_clear_error(session: Session) -> None:
    with pytest.raises(NotFound, match="tenure metrics compute"):
        stored_metrics(session)
