"""How fresh the data is, and the day the pages read the book as of."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import DailyRun, ImportRun, Touchpoint
from tenure.portfolio import signals
from tenure.portfolio.schemas import Freshness
from tenure.store.events import EventStore

# --- freshness ------------------------------------------------------------------------------


def events_through(events: EventStore | None) -> date | None:
    """The last day with stored (compacted) events; partition folder names carry the dates, so
    no event file is opened."""
    if events is None or not events.parquet_dir.exists():
        return None
    days = [p.name.split("=", 1)[1] for p in events.parquet_dir.glob("event_date=*")]
    return date.fromisoformat(max(days)) if days else None


def freshness(session: Session, events: EventStore | None) -> Freshness:
    last_import = session.execute(
        sa.select(ImportRun.finished_at, ImportRun.file_name)
        .where(ImportRun.finished_at.is_not(None))
        .order_by(ImportRun.finished_at.desc())
        .limit(1)
    ).first()
    daily = session.execute(
        sa.select(DailyRun.as_of, DailyRun.status, DailyRun.finished_at)
        .order_by(DailyRun.as_of.desc())
        .limit(1)
    ).first()
    return Freshness(
        last_daily_run_on=daily.as_of if daily else None,
        last_daily_run_status=daily.status if daily else None,
        last_daily_run_at=daily.finished_at if daily else None,
        last_import_at=last_import.finished_at if last_import else None,
        last_import_file=last_import.file_name if last_import else None,
        events_through=events_through(events),
        # The most recently recorded touchpoint (primary key order: no scan of the table).
        last_touchpoint_at=session.scalar(
            sa.select(Touchpoint.created_at).order_by(Touchpoint.id.desc()).limit(1)
        ),
    )


def reading_day(session: Session, events: EventStore | None, today: date) -> date:
    """The day the pages read the book as of: the last day the data covers, never after today.

    The latest of the last successful daily run, the latest health scores, metric snapshots and
    stored events; today when there is none. A page then never mixes one day's scores with another
    day's calendar — "renews in 30 days" is counted from the day the scores describe.
    """
    days = signals.current_days(session)
    last_run = session.scalar(
        sa.select(sa.func.max(DailyRun.as_of)).where(DailyRun.status == "succeeded")
    )
    known = [d for d in (last_run, days.health_day, days.metrics_day, events_through(events)) if d]
    return min(max(known), today) if known else today
