"""How fresh the data is (the day a page reads the book as of: tenure.as_of)."""

from __future__ import annotations

from pathlib import PurePath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.as_of import events_through
from tenure.model import DailyRun, ImportRun, Touchpoint
from tenure.portfolio.schemas import Freshness
from tenure.store.events import EventStore

# --- freshness ------------------------------------------------------------------------------


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
        # the file's name, not where it sat on the server: every role reads this
        last_import_file=PurePath(last_import.file_name).name if last_import else None,
        events_through=events_through(events),
        # The most recently recorded touchpoint (primary key order: no scan of the table).
        last_touchpoint_at=session.scalar(
            sa.select(Touchpoint.created_at).order_by(Touchpoint.id.desc()).limit(1)
        ),
    )
