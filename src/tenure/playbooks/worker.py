"""The background worker: the daily run once a day at a set time, the outbox and webhooks often.

Rules never run inside a web request: ``tenure run worker`` (beside ``tenure serve``) runs the
daily job for today once the clock passes ``daily_at`` (UTC) and no run for today has succeeded —
a failed run is retried on the next tick — and sends due email and webhooks every tick. A worker
that was down does not backfill missed days; run them with ``tenure run daily --as-of``.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import sqlalchemy as sa

from tenure.errors import TenureError
from tenure.model import DailyRun
from tenure.model.base import utcnow
from tenure.playbooks import webhooks
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.daily import run_daily
from tenure.playbooks.outbox import Mailer, send_pending
from tenure.playbooks.rules import Ruleset
from tenure.store.database import session_factory, session_scope
from tenure.store.events import EventStore


def daily_due(now: datetime, daily_at: time, last_succeeded: date | None) -> date | None:
    """The as-of date to run now, or None.

    >>> daily_due(datetime(2026, 3, 2, 6, 30), time(6), date(2026, 3, 1))
    datetime.date(2026, 3, 2)
    >>> daily_due(datetime(2026, 3, 2, 5, 59), time(6), date(2026, 3, 1)) is None
    True
    """
    today = now.date()
    if now.time() < daily_at or (last_succeeded is not None and last_succeeded >= today):
        return None
    return today


def last_succeeded(engine: sa.Engine) -> date | None:
    with session_scope(session_factory(engine)) as session:
        return session.scalar(
            sa.select(sa.func.max(DailyRun.as_of)).where(DailyRun.status == "succeeded")
        )


def tick(
    engine: sa.Engine,
    ruleset: Ruleset,
    settings: PlaybookSettings,
    *,
    daily_at: time,
    mailer: Mailer | None,
    poster: webhooks.Poster | None,
    store: EventStore | None,
    data_dir: Path | None,
    now: datetime,
    log: Callable[[str], None],
) -> None:
    due = daily_due(now, daily_at, last_succeeded(engine))
    if due is not None:
        try:
            result = run_daily(
                engine,
                due,
                ruleset,
                settings,
                mailer=mailer,
                poster=poster,
                store=store,
                data_dir=data_dir,
            )
            log(f"daily run {due}: {result.run.status}")
        except TenureError as error:  # e.g. another worker has the day: try again next tick
            log(f"daily run {due}: {error.message}")
    if mailer is not None:
        report = send_pending(engine, mailer, settings, now=lambda: now)
        if report.sent or report.retried or report.failed:
            log(f"outbox: {report.as_counts()}")
    if poster is not None:
        with session_scope(session_factory(engine)) as session:
            delivered = webhooks.deliver_pending(session, poster, settings, now=now)
        if delivered.delivered or delivered.retried or delivered.failed:
            log(f"webhooks: {delivered.as_counts()}")


def run_worker(
    engine: sa.Engine,
    ruleset: Ruleset,
    settings: PlaybookSettings,
    *,
    daily_at: time,
    interval_seconds: float,
    mailer: Mailer | None,
    poster: webhooks.Poster | None,
    store: EventStore | None,
    data_dir: Path | None,
    once: bool,
    log: Callable[[str], None],
) -> None:
    while True:
        tick(
            engine,
            ruleset,
            settings,
            daily_at=daily_at,
            mailer=mailer,
            poster=poster,
            store=store,
            data_dir=data_dir,
            now=utcnow(),
            log=log,
        )
        if once:
            return
        clock.sleep(interval_seconds)
