"""Intraday refresh: only accounts with new events are recomputed, within seconds of the ack."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.health.refresh import load_watermark, refresh_scores, save_watermark
from tenure.jobs.intraday import refresh_forever
from tenure.model import HealthScore, MetricSnapshot
from tenure.model.base import utcnow
from tenure.portfolio import judgements
from tenure.portfolio.signals import current_days
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import open_event_store
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF, event, ts


def new_event(user: str, account: str | None = None) -> dict[str, Any]:
    row = event(ts(2025, 3, 31, 15), "report", user=user, account=account)
    row["received_at"] = utcnow()
    return row


def metric(session: Session, account_id: int, slug: str) -> Any:
    values = session.scalar(
        sa.select(MetricSnapshot.values).where(
            MetricSnapshot.as_of == AS_OF, MetricSnapshot.account_id == account_id
        )
    )
    return (values or {})[slug]


def scored_at(session: Session) -> dict[int, Any]:
    rows = session.execute(
        sa.select(HealthScore.account_id, HealthScore.computed_at).where(HealthScore.as_of == AS_OF)
    )
    return {account_id: computed_at for account_id, computed_at in rows}


@pytest.mark.slow
def test_only_accounts_with_new_events_are_recomputed(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    idle = refresh_scores(session, store, data_dir, AS_OF)
    # No new events: nothing is refreshed and the day stays for the daily run to score.
    assert (idle.full_day, idle.accounts) == (False, 0)
    assert scored_at(session) == {}

    store.append([new_event("u1", account="acme")])
    first = refresh_scores(session, store, data_dir, AS_OF)
    assert first.full_day  # new events, nothing stored for the day yet: every account
    save_watermark(data_dir, first.watermark)
    before = scored_at(session)
    assert set(before) == {1, 2, 4}  # acme, bolt, dyna (cargo is created after the day)
    dyna_events = metric(session, 4, "events_28d")

    # d1 is dyna's contact: the event has no account id and is attributed through the user.
    store.append([new_event("d1")])
    second = refresh_scores(session, store, data_dir, AS_OF)
    save_watermark(data_dir, second.watermark)
    assert (second.full_day, second.accounts) == (False, 1)
    assert metric(session, 4, "events_28d") == dyna_events + 1
    after = scored_at(session)
    assert after[1] == before[1]  # acme's stored score row was left alone
    assert after[4] != before[4]  # dyna's was replaced
    assert second.oldest_received_at is not None
    assert utcnow() - second.oldest_received_at < timedelta(minutes=5)

    third = refresh_scores(session, store, data_dir, AS_OF)
    assert third.accounts == 0 and third.watermark == second.watermark


@pytest.mark.slow
def test_refresh_loop_updates_a_score_within_seconds_of_the_ack(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    engine = create_engine(database_url)
    store = open_event_store(settings)
    with session_scope(session_factory(engine)) as session:
        insert_fixture(session, settings.data_dir, store)
    refreshed: list[str] = []
    stop = threading.Event()
    loop = threading.Thread(
        target=refresh_forever,
        args=(settings, 0.5),
        kwargs={"stop": stop, "report": refreshed.append, "as_of": AS_OF},
    )
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while not refreshed:
            assert time.monotonic() < deadline, "no refresh happened"
            time.sleep(0.1)
        store.append([new_event("u1", "acme")])
        acknowledged = utcnow()
        while True:
            with session_scope(session_factory(engine)) as session:
                newest = session.scalar(
                    sa.select(sa.func.max(HealthScore.computed_at)).where(
                        HealthScore.account_id == 1
                    )
                )
            if newest is not None and newest.replace(tzinfo=acknowledged.tzinfo) > acknowledged:
                break
            assert time.monotonic() < deadline, f"acme never rescored: {refreshed}"
            time.sleep(0.1)
        with session_scope(session_factory(engine)) as session:
            # The refresh stored the accounts' judgements with the scores (tenure.portfolio.
            # judgements): the portfolio CSV reads them, not the score tables.
            assert judgements.current(session, current_days(session))
        latency = (newest.replace(tzinfo=acknowledged.tzinfo) - acknowledged).total_seconds()
        assert latency < 300  # the goal: acknowledgement → updated health score within 5 min
    finally:
        stop.set()
        loop.join(timeout=60)
        store.close()
        engine.dispose()
    assert load_watermark(settings.data_dir) != load_watermark(tmp_path / "elsewhere")
