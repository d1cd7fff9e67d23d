"""The worker: the daily run once a day after its time (a failed day retried with backoff, a
dead run resumed), outbox and webhooks every tick; the schedule the console shows."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tenure.as_of import simulated_day
from tenure.config import Settings
from tenure.errors import Conflict
from tenure.jobs import intraday
from tenure.jobs.background import exclusive
from tenure.jobs.daily import run_daily
from tenure.jobs.intraday import REFRESH_LOCK
from tenure.jobs.worker import DayRun, daily_due, schedule, tick, write_heartbeat
from tenure.model import DailyRun
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.outbox import FakeMailer
from tenure.playbooks.rules import load_ruleset
from tenure.playbooks.webhooks import FakePoster
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

SIX = time(6)


def test_daily_due() -> None:
    assert daily_due(datetime(2026, 3, 2, 5, 59), SIX, None) is None  # too early
    assert daily_due(datetime(2026, 3, 2, 6, 0), SIX, None) == date(2026, 3, 2)
    assert daily_due(datetime(2026, 3, 2, 23, 0), SIX, None) == date(2026, 3, 2)
    done = DayRun("succeeded", 1, datetime(2026, 3, 2, 6, 5))
    assert daily_due(datetime(2026, 3, 2, 23, 0), SIX, done) is None  # done today


def test_a_failed_day_is_retried_after_15_30_60_minutes_not_every_tick() -> None:
    failed_at = datetime(2026, 3, 2, 6, 10)
    for attempts, wait in ((1, 15), (2, 30), (3, 60)):
        failed = DayRun("failed", attempts, failed_at)
        almost = failed_at + timedelta(minutes=wait) - timedelta(seconds=1)
        assert daily_due(almost, SIX, failed) is None
        assert daily_due(almost + timedelta(seconds=1), SIX, failed) == date(2026, 3, 2)
    # SQLite hands back naive UTC; the clock is aware: still comparable.
    aware = datetime(2026, 3, 2, 6, 26, tzinfo=UTC)
    assert daily_due(aware, SIX, DayRun("failed", 1, failed_at)) == date(2026, 3, 2)


def seed(engine: sa.Engine) -> None:
    with session_scope(session_factory(engine)) as session:
        csm = f.user(session, email="csm@example.com")
        acme = f.account(session, external_id="acme", owner=csm)
        f.contract(session, acme, ends_on=date(2026, 5, 1))


def test_ticks_run_the_day_once_and_send(database_url: str, data_dir: Path) -> None:
    engine = create_engine(database_url)
    seed(engine)
    mailer, poster, lines = FakeMailer(), FakePoster(), []
    for hour in (5, 7, 9):
        tick(
            engine,
            PlaybookSettings(daily_at=SIX),
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
    assert [m["Subject"] for m in mailer.sent] == ["Your book today: 1 new, 0 due, 0 renewals"]
    off = PlaybookSettings(daily_at="off")
    tick(
        engine,
        off,
        mailer=None,
        poster=None,
        store=None,
        data_dir=None,
        now=datetime(2026, 3, 3, 7, tzinfo=UTC),
        log=lines.append,
    )
    assert len(lines) == 1  # the schedule is off: 3 March is not run
    with session_scope(session_factory(engine)) as session:
        assert session.scalars(sa.select(DailyRun.as_of)).all() == [date(2026, 3, 2)]
        now = datetime(2026, 3, 2, 9, tzinfo=UTC)
        write_heartbeat(data_dir, now - timedelta(seconds=30))
        plan = schedule(session, PlaybookSettings(daily_at=SIX), data_dir, now)
        assert plan.next_run_at == datetime(2026, 3, 3, 6, tzinfo=UTC)
        # The next run is in next_run_at / next_as_of (the console shows them): not said twice.
        assert (plan.next_as_of, plan.note) == (date(2026, 3, 3), "")
        assert plan.worker_seen_at == now - timedelta(seconds=30)
        stale = schedule(
            session, PlaybookSettings(daily_at=SIX), data_dir, now + timedelta(hours=1)
        )
        assert stale.note.endswith(
            "No worker seen since 2026-03-02 08:59 UTC: is the server running?"
        )
        failed = session.scalars(sa.select(DailyRun)).one()
        failed.status, failed.finished_at = "failed", datetime(2026, 3, 2, 8, 55, tzinfo=UTC)
        session.flush()
        retry = schedule(session, PlaybookSettings(daily_at=SIX), data_dir, now)
        assert (retry.due, retry.next_run_at) == (False, datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
        assert retry.note.startswith(
            "The run for 2026-03-02 failed (attempt 1); the worker retries it at 09:10 UTC"
        )
        unplanned = schedule(session, off, data_dir, now)
        assert (unplanned.enabled, unplanned.next_run_at) == (False, None)
        assert "TENURE_DAILY_AT=off" in unplanned.note
    engine.dispose()


def test_a_run_whose_process_died_is_resumed_by_the_next_sole_runner(
    database_url: str, data_dir: Path
) -> None:
    """A worker killed mid-run leaves its day marked running; the lock it held is gone with it,
    so the next run on the data folder takes the day over — while a live run still refuses."""
    engine = create_engine(database_url)
    seed(engine)
    with session_scope(session_factory(engine)) as session:
        started = datetime(2026, 3, 2, 6, tzinfo=UTC)
        session.add(DailyRun(as_of=date(2026, 3, 2), status="running", started_at=started))
    with exclusive(data_dir / "daily.lock"), pytest.raises(Conflict, match="in progress"):
        run_daily(engine, date(2026, 3, 2), load_ruleset(), PlaybookSettings(), data_dir=data_dir)
    resumed = run_daily(
        engine, date(2026, 3, 2), load_ruleset(), PlaybookSettings(), data_dir=data_dir
    )
    assert (resumed.run.status, resumed.run.attempts) == ("succeeded", 2)
    engine.dispose()


def test_the_daily_run_waits_while_the_intraday_refresh_runs(
    database_url: str, data_dir: Path
) -> None:
    engine = create_engine(database_url)
    seed(engine)
    lines: list[str] = []

    def tick_at_seven() -> None:
        tick(
            engine,
            PlaybookSettings(daily_at=SIX),
            mailer=None,
            poster=None,
            store=None,
            data_dir=data_dir,
            now=datetime(2026, 3, 2, 7, tzinfo=UTC),
            log=lines.append,
        )

    with exclusive(data_dir / REFRESH_LOCK):  # a refresh is rescoring today
        tick_at_seven()
    tick_at_seven()
    assert lines == [
        "daily run 2026-03-02: the intraday refresh is running; waiting for the next tick",
        "daily run 2026-03-02: succeeded",
    ]
    engine.dispose()


def test_a_simulated_company_keeps_to_its_day(
    database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's data ends on its simulation's day: a server started weeks later must not run
    (or refresh) today against it, which read every account as silent and the book red."""
    engine = create_engine(database_url)
    seed(engine)
    (data_dir / "simulation.json").write_text(json.dumps({"as_of": "2026-03-01", "seed": 7}))
    assert simulated_day(data_dir) == date(2026, 3, 1)
    lines: list[str] = []
    tick(
        engine,
        PlaybookSettings(daily_at=SIX),
        mailer=None,
        poster=None,
        store=None,
        data_dir=data_dir,
        now=datetime(2026, 4, 7, 9, tzinfo=UTC),
        log=lines.append,
    )
    with session_scope(session_factory(engine)) as session:
        assert lines == [] and session.scalars(sa.select(DailyRun)).all() == []
        plan = schedule(
            session, PlaybookSettings(daily_at=SIX), data_dir, datetime(2026, 4, 7, 9, tzinfo=UTC)
        )
    assert (plan.enabled, plan.next_run_at, plan.due) == (False, None, False)
    assert plan.note.startswith("This is a simulated company whose data ends on 2026-03-01")
    engine.dispose()

    refreshed: list[date | None] = []
    stop = threading.Event()

    def refresh_once(*args: object) -> None:
        refreshed.append(args[-1])  # type: ignore[arg-type]
        stop.set()

    monkeypatch.setattr(intraday, "refresh_once", refresh_once)
    intraday.refresh_forever(
        Settings(data_dir=data_dir, database_url=database_url),
        0.01,
        stop=stop,
        report=lambda line: None,
    )
    assert refreshed == [date(2026, 3, 1)]
    (data_dir / "simulation.json").unlink()  # a real company's data: today, at each tick
    assert simulated_day(data_dir) is None
