"""The one as-of rule: the day asked for, else the last day the data covers, never after today."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from tenure.as_of import resolve_as_of
from tenure.model import DailyRun, MetricSnapshot
from tests import factories as f

TODAY = date(2026, 3, 10)


def test_nothing_stored_means_today(session: Session) -> None:
    as_of = resolve_as_of(session, None, None, TODAY)
    assert as_of.day == TODAY
    assert as_of.statement == "as of 2026-03-10 (the last day the data covers)"


def test_the_latest_stored_day_wins_but_never_after_today(session: Session) -> None:
    acme = f.account(session, external_id="acme")
    session.add(DailyRun(as_of=date(2026, 3, 1), status="succeeded", started_at=datetime.now(UTC)))
    session.add(DailyRun(as_of=date(2026, 3, 4), status="failed", started_at=datetime.now(UTC)))
    session.add(MetricSnapshot(as_of=date(2026, 3, 2), account_id=acme.id, values={}))
    session.flush()
    # The failed run of 03-04 covers nothing; the metrics of 03-02 are the latest data.
    assert resolve_as_of(session, None, None, TODAY).day == date(2026, 3, 2)
    assert resolve_as_of(session, None, None, date(2026, 3, 1)).day == date(2026, 3, 1)


def test_a_day_asked_for_is_the_day_judged(session: Session) -> None:
    as_of = resolve_as_of(session, None, date(2025, 12, 31), TODAY)
    assert as_of.day == date(2025, 12, 31)
    assert as_of.statement == "as of 2025-12-31 (as asked)"
