"""What is stored where: row counts per table, the events' extent, inbox and quarantine.

One report for ``tenure status`` (table or ``--json``) and any page that wants it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.model import Base
from tenure.store.events import EventStore

RECENT_QUARANTINE = 5


class QuarantinedRead(BaseModel):
    source: str | None
    reason: str
    received_at: datetime
    raw: str


class StatusReport(BaseModel):
    database: str
    data_dir: str
    event_store: str
    tables: dict[str, int]
    events: int
    first_event: datetime | None
    last_event: datetime | None
    # Ingested events not yet compacted into Parquet (`tenure events compact`); 0 on PostgreSQL.
    inbox_pending: int
    quarantined: int
    recent_quarantine: list[QuarantinedRead]


def collect_status(session: Session, events: EventStore, settings: Settings) -> StatusReport:
    tables = {
        table.name: int(session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name)
    }
    stats = events.stats()
    recent = events.quarantined(RECENT_QUARANTINE) if stats.quarantined else []
    return StatusReport(
        database=sa.make_url(settings.resolved_database_url).render_as_string(hide_password=True),
        data_dir=str(settings.data_dir.resolve()),
        event_store=stats.location,
        tables=tables,
        events=stats.events,
        first_event=stats.first,
        last_event=stats.last,
        inbox_pending=stats.pending,
        quarantined=stats.quarantined,
        recent_quarantine=[QuarantinedRead(**q.__dict__) for q in recent],
    )
