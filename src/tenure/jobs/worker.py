"""The background worker: the daily run once a day at a set time, the outbox and webhooks often.

Rules never run inside a web request. ``tenure serve`` starts :func:`work_forever` in a child
process (``TENURE_WORKER_EVERY`` seconds between ticks, 0 = none); ``tenure run worker`` runs the
same loop on its own. Each tick starts the daily run for today once the clock passes
``TENURE_DAILY_AT`` (UTC; ``off`` = never) and today has no succeeded run — an as-of date that
already ran is never run again, so restarts change nothing — then sends due email and webhooks.
A failed day is retried after 15 min, 30 min, 1 h … (max 6 h), not every tick.

One worker per data folder (``<data_dir>/worker.lock``): a second one stands by and takes over
when the first stops. Each tick (and each step of a daily run) writes ``<data_dir>/worker.json``,
from which the console's Daily runs page tells whether a worker is alive. A worker that was down
does not backfill missed days; run them with ``tenure run daily --as-of``. A simulated company
(``simulation.json`` in the data folder) gets no scheduled run: its data ends on its day.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.as_of import simulated_day
from tenure.config import Settings
from tenure.errors import TenureError
from tenure.jobs.background import exclusive, start_child
from tenure.jobs.daily import run_daily
from tenure.jobs.intraday import REFRESH_LOCK
from tenure.model import DailyRun
from tenure.model.base import utcnow
from tenure.playbooks import webhooks
from tenure.playbooks.config import PlaybookSettings, playbook_settings, retry_delay
from tenure.playbooks.outbox import Mailer, SmtpMailer, send_pending
from tenure.playbooks.rules import load_ruleset
from tenure.playbooks.schemas import DailySchedule
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, open_event_store
from tenure.store.migrate import is_current

logger = logging.getLogger(__name__)

# A failed day waits 15 min before its first retry, then twice as long each time (max 6 h): a
# broken step must not re-run the whole day every minute.
FAILED_RETRY_SECONDS = 900.0
HEARTBEAT_FILE = "worker.json"
# A worker silent for longer than this (or three ticks) is reported as not running.
QUIET_SECONDS = 600.0


@dataclass(frozen=True)
class DayRun:
    """The state of one as-of date's run, as the schedule needs it."""

    status: str  # running | succeeded | failed
    attempts: int
    finished_at: datetime | None


def next_daily_run(now: datetime, daily_at: time, today: DayRun | None) -> datetime:
    """When the scheduler starts a daily run next: today at ``daily_at`` — tomorrow's once
    today's has succeeded, later when today's failed recently (its retry delay).

    >>> six = time(6)
    >>> next_daily_run(datetime(2026, 3, 2, 5), six, None)
    datetime.datetime(2026, 3, 2, 6, 0)
    >>> next_daily_run(datetime(2026, 3, 2, 9), six, DayRun("succeeded", 1, None))
    datetime.datetime(2026, 3, 3, 6, 0)
    >>> next_daily_run(datetime(2026, 3, 2, 9), six, DayRun("failed", 2, datetime(2026, 3, 2, 8)))
    datetime.datetime(2026, 3, 2, 8, 30)
    """
    at = datetime.combine(now.date(), daily_at, tzinfo=now.tzinfo)
    if today is None or today.status == "running":  # running: the daily lock decides
        return at
    if today.status == "succeeded":
        return at + timedelta(days=1)
    failed_at = _like(today.finished_at, now) if today.finished_at else now
    return max(at, failed_at + timedelta(seconds=retry_delay(today.attempts, FAILED_RETRY_SECONDS)))


def daily_due(now: datetime, daily_at: time, today: DayRun | None) -> date | None:
    """The as-of date to run now, or None.

    >>> daily_due(datetime(2026, 3, 2, 6, 30), time(6), None)
    datetime.date(2026, 3, 2)
    >>> daily_due(datetime(2026, 3, 2, 5, 59), time(6), None) is None
    True
    """
    return now.date() if next_daily_run(now, daily_at, today) <= now else None


def _like(moment: datetime, reference: datetime) -> datetime:
    """``moment`` with ``reference``'s awareness (SQLite hands back naive UTC datetimes)."""
    if reference.tzinfo is None:
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_run(session: Session, as_of: date) -> DayRun | None:
    run = session.scalar(sa.select(DailyRun).where(DailyRun.as_of == as_of))
    return None if run is None else DayRun(run.status, run.attempts, run.finished_at)


def write_heartbeat(data_dir: Path, now: datetime) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    beat = {"seen_at": now.isoformat(), "pid": os.getpid()}
    (data_dir / HEARTBEAT_FILE).write_text(json.dumps(beat) + "\n")


def worker_seen_at(data_dir: Path) -> datetime | None:
    """The last tick of a worker on this data folder (None: none has run, or unreadable)."""
    try:
        seen = json.loads((data_dir / HEARTBEAT_FILE).read_text())["seen_at"]
        return _like(datetime.fromisoformat(seen), utcnow())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def schedule(
    session: Session, settings: PlaybookSettings, data_dir: Path, now: datetime
) -> DailySchedule:
    """The daily run's schedule as the console and the API show it."""
    seen = worker_seen_at(data_dir)
    simulated = simulated_day(data_dir)
    if simulated is not None:
        next_at = None
        note = (
            f"This is a simulated company whose data ends on {simulated}: its days do not move "
            "on, so no daily run is scheduled."
        )
    elif settings.daily_at is None:
        next_at = None
        note = "The schedule is off (TENURE_DAILY_AT=off): the daily run starts only by hand."
    else:
        today = day_run(session, now.date())
        next_at = next_daily_run(now, settings.daily_at, today)
        if today is not None and today.status == "running":
            note = f"The run for {now.date()} is running."
        elif next_at <= now:
            note = "The worker starts it at its next tick."
        elif today is not None and today.status == "failed":
            note = (
                f"The run for {now.date()} failed (attempt {today.attempts}); the worker retries "
                f"it at {next_at:%H:%M} UTC, or it can be started by hand now."
            )
        else:
            # next_run_at and next_as_of say it; the console shows them beside this note.
            note = ""
        quiet = max(QUIET_SECONDS, 3 * settings.worker_every)
        if seen is None:
            note += (
                " No worker has run on this data folder: the server starts one when "
                "TENURE_WORKER_EVERY is above 0, or one runs on another machine."
            )
        elif (now - seen).total_seconds() > quiet:
            note += f" No worker seen since {seen:%Y-%m-%d %H:%M} UTC: is the server running?"
    return DailySchedule(
        enabled=settings.daily_at is not None and simulated is None,
        daily_at=settings.daily_at,
        worker_every=settings.worker_every,
        next_run_at=next_at,
        due=next_at is not None and next_at <= now,
        next_as_of=None if next_at is None else next_at.date(),
        worker_seen_at=seen,
        note=note.strip(),
    )


def _simulated(data_dir: Path | None) -> bool:
    """A simulated company's day is over: the worker starts no daily run for today on it."""
    return data_dir is not None and simulated_day(data_dir) is not None


def tick(
    engine: sa.Engine,
    settings: PlaybookSettings,
    *,
    mailer: Mailer | None,
    poster: webhooks.Poster | None,
    store: EventStore | None,
    data_dir: Path | None,
    now: datetime,
    log: Callable[[str], None],
) -> None:
    """One pass: the daily run when due (rules re-read, so an edited file applies), then the
    outbox and webhooks."""
    if data_dir is not None:
        write_heartbeat(data_dir, now)
    if settings.daily_at is not None and not _simulated(data_dir):
        with session_scope(session_factory(engine)) as session:
            due = daily_due(now, settings.daily_at, day_run(session, now.date()))
        if due is not None:
            _run_day(engine, due, settings, mailer, poster, store, data_dir, log)
    if mailer is not None:
        report = send_pending(engine, mailer, settings, now=lambda: now)
        if report.sent or report.retried or report.failed:
            log(f"outbox: {report.as_counts()}")
    if poster is not None:
        with session_scope(session_factory(engine)) as session:
            delivered = webhooks.deliver_pending(session, poster, settings, now=now)
        if delivered.delivered or delivered.retried or delivered.failed:
            log(f"webhooks: {delivered.as_counts()}")
    _post_slack(engine, settings, now, log)


def _post_slack(
    engine: sa.Engine, settings: PlaybookSettings, now: datetime, log: Callable[[str], None]
) -> None:
    """Slack alerts due (new ones, retries, those Slack asked to wait for)."""
    from tenure.config import get_settings
    from tenure.playbooks.alerts_service import send_alerts, slack_client

    factory = session_factory(engine)
    with session_scope(factory) as session:
        client = slack_client(session, get_settings().signing_key)
    if client is None:
        return
    report = send_alerts(factory, client, settings, now=lambda: now)
    if report.sent or report.retried or report.failed or report.rate_limited:
        log(f"slack: {report.as_counts()}")


def _run_day(
    engine: sa.Engine,
    as_of: date,
    settings: PlaybookSettings,
    mailer: Mailer | None,
    poster: webhooks.Poster | None,
    store: EventStore | None,
    data_dir: Path | None,
    log: Callable[[str], None],
) -> None:
    def on_step(name: str) -> None:  # a long run still shows the worker alive
        if data_dir is not None:
            write_heartbeat(data_dir, utcnow())

    # The intraday refresh rescores today too: one of the two at a time, or they would write
    # the same day's metrics and health at once.
    refresh_lock = data_dir / REFRESH_LOCK if data_dir is not None else None
    with exclusive(refresh_lock) if refresh_lock else nullcontext(True) as free:
        if not free:
            log(f"daily run {as_of}: the intraday refresh is running; waiting for the next tick")
            return
        try:
            result = run_daily(
                engine,
                as_of,
                load_ruleset(settings.rules_file),
                settings,
                mailer=mailer,
                poster=poster,
                store=store,
                data_dir=data_dir,
                on_step=on_step,
            )
        except TenureError as error:  # another process has the day, a bad rules file: next tick
            log(f"daily run {as_of}: {error.message}")
            return
    skipped = "".join(f"; {s['step']} skipped: {s['reason']}" for s in result.run.skipped)
    log(f"daily run {as_of}: {result.run.status}{skipped}")


def work_forever(
    settings: Settings,
    playbook: PlaybookSettings,
    *,
    stop: threading.Event,
    log: Callable[[str], None] = logger.info,
    once: bool = False,
) -> None:
    """Tick every ``playbook.worker_every`` seconds until ``stop`` is set, as the only worker on
    the data folder (a second one stands by until the lock frees); a failed tick is logged."""
    every = playbook.worker_every or 60.0
    engine = create_engine(settings.resolved_database_url)
    store = open_event_store(settings)
    mailer = SmtpMailer(playbook) if playbook.smtp_host else None
    poster = webhooks.HttpPoster()
    standing_by = False
    try:
        while not stop.is_set():
            with exclusive(settings.data_dir / "worker.lock") as held:
                if held:
                    standing_by = False
                    _tick_while(engine, playbook, mailer, poster, store, settings, stop, log, once)
                elif not standing_by:
                    log(f"another worker runs on {settings.data_dir}; standing by")
                    standing_by = True
            if once:
                return
            stop.wait(every)
    finally:
        store.close()
        engine.dispose()


def _tick_while(
    engine: sa.Engine,
    playbook: PlaybookSettings,
    mailer: Mailer | None,
    poster: webhooks.Poster,
    store: EventStore,
    settings: Settings,
    stop: threading.Event,
    log: Callable[[str], None],
    once: bool,
) -> None:
    while not stop.is_set():
        try:
            if is_current(engine):  # `tenure serve` migrates the database as it starts
                tick(
                    engine,
                    playbook,
                    mailer=mailer,
                    poster=poster,
                    store=store,
                    data_dir=settings.data_dir,
                    now=utcnow(),
                    log=log,
                )
            else:
                log("the database is not migrated yet; waiting")
        except Exception:
            logger.exception("worker tick failed")
        if once:
            return
        stop.wait(playbook.worker_every or 60.0)


def start_worker(settings: Settings) -> multiprocessing.process.BaseProcess | None:
    """The worker process ``tenure serve`` runs beside uvicorn (None when TENURE_WORKER_EVERY=0)."""
    playbook = playbook_settings()
    if playbook.worker_every <= 0:
        return None
    return start_child("worker", work_forever, settings, playbook)
