"""The worker: the daily run once a day after its time, outbox and webhooks every tick."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.outbox import FakeMailer
from tenure.playbooks.rules import load_ruleset
from tenure.playbooks.webhooks import FakePoster
from tenure.playbooks.worker import daily_due, last_succeeded, tick
from tenure.store.database import create_engine, session_factory, session_scope
from tests.playbooks import factories as f


def test_daily_due() -> None:
    six = time(6)
    assert daily_due(datetime(2026, 3, 2, 5, 59), six, None) is None  # too early
    assert daily_due(datetime(2026, 3, 2, 6, 0), six, None) == date(2026, 3, 2)
    assert daily_due(datetime(2026, 3, 2, 23, 0), six, date(2026, 3, 1)) == date(2026, 3, 2)
    assert daily_due(datetime(2026, 3, 2, 23, 0), six, date(2026, 3, 2)) is None  # done today


def test_ticks_run_the_day_once_and_send(database_url: str) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        csm = f.user(session, email="csm@example.com")
        acme = f.account(session, external_id="acme", owner=csm)
        f.contract(session, acme, ends_on=date(2026, 5, 1))
    mailer, poster, lines = FakeMailer(), FakePoster(), []
    for hour in (5, 7, 9):
        tick(
            engine,
            load_ruleset(),
            PlaybookSettings(),
            daily_at=time(6),
            mailer=mailer,
            poster=poster,
            store=None,
            data_dir=None,
            now=datetime(2026, 3, 2, hour, tzinfo=UTC),
            log=lines.append,
        )
    # 05:00 is too early; 07:00 runs the day (its outbox step sends the digest); 09:00 has
    # nothing left to do.
    assert lines == ["daily run 2026-03-02: succeeded"]
    assert last_succeeded(engine) == date(2026, 3, 2)
    assert [m["Subject"] for m in mailer.sent] == ["Your book today: 1 new, 0 due, 0 renewals"]
    engine.dispose()
