"""The intraday refresh job: ``tenure refresh --every N`` and the background process of ``serve``.

Never inside a web request: ``tenure serve`` starts :func:`refresh_forever` in a child process
(``TENURE_REFRESH_EVERY`` seconds, 0 = off) beside uvicorn. One refresh at a time per data folder
(``<data_dir>/refresh.lock``): a second process skips its tick instead of doing the work twice.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from tenure.as_of import simulated_day
from tenure.config import Settings
from tenure.errors import TenureError
from tenure.health.refresh import RefreshRun, refresh_scores, save_watermark
from tenure.jobs.background import exclusive, start_child
from tenure.model.base import utcnow
from tenure.portfolio.judgements import store_current
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, open_event_store

log = logging.getLogger(__name__)
REFRESH_LOCK = "refresh.lock"  # also held by the worker's daily run: both rescore today


def refresh_once(
    engine: sa.Engine, store: EventStore, settings: Settings, as_of: date | None = None
) -> RefreshRun | None:
    """One committed refresh (as of today in UTC by default); None when another one is running."""
    with exclusive(settings.data_dir / REFRESH_LOCK) as held:
        if not held:
            return None
        with session_scope(session_factory(engine)) as session:
            run = refresh_scores(session, store, settings.data_dir, as_of or utcnow().date())
            if run.accounts:
                # In the same transaction: the portfolio CSV never finds the copy behind.
                store_current(session)
        save_watermark(settings.data_dir, run.watermark)  # only once the scores committed
        return run


def describe(run: RefreshRun | None) -> str:
    if run is None:
        return "another refresh is running; skipped"
    what = (
        f"all {run.accounts} account(s) (first refresh of the day)"
        if run.full_day
        else f"{run.accounts} account(s) with new events"
    )
    waited = ""
    if run.oldest_received_at is not None:
        waited = (
            f"; oldest new event waited {(utcnow() - run.oldest_received_at).total_seconds():.1f} s"
        )
    return f"refreshed {what} as of {run.as_of} in {run.seconds:.2f} s{waited}"


def refresh_forever(
    settings: Settings,
    every: float,
    *,
    stop: threading.Event | None = None,
    report: Callable[[str], None] = log.info,
    as_of: date | None = None,
) -> None:
    """Refresh every ``every`` seconds until ``stop`` is set; a failed tick is logged, retried.

    ``as_of`` fixes the day (default: today in UTC at each tick; a simulated company's day).
    """
    stop = stop or threading.Event()
    as_of = as_of or simulated_day(settings.data_dir)
    engine = create_engine(settings.resolved_database_url)
    store = open_event_store(settings)
    try:
        while not stop.is_set():
            try:
                report(describe(refresh_once(engine, store, settings, as_of)))
            except TenureError as error:
                report(f"refresh failed: {error.message}")
            except Exception:
                log.exception("refresh failed")
            stop.wait(every)
    finally:
        store.close()
        engine.dispose()


def start_refresher(settings: Settings) -> multiprocessing.process.BaseProcess | None:
    """The background refresh process ``tenure serve`` runs (None when the interval is 0)."""
    if settings.refresh_every <= 0:
        return None
    return start_child("refresh", refresh_forever, settings, float(settings.refresh_every))
