"""Which day a figure is "as of": the day asked for, else the last day the data covers.

**The rule.** A command, route or page judges the day it is given (``--as-of YYYY-MM-DD`` on the
command line, ``?as_of=YYYY-MM-DD`` on /api/v1 and the console). Without one it judges the last
day the data covers: the latest of the last successful daily run, the latest stored health
scores, metric snapshots and compacted events — never after today (UTC), and today when none of
them exists. So ``tenure fit show ACME``, its /api/v1 twin and the Account 360 page judge the
same day, and a page never mixes one day's scores with another day's calendar ("renews in 30
days" is counted from the day the scores describe).

The day and how it was chosen are stated in the output (:attr:`AsOf.statement`): on the CLI's
stderr, in the API's ``Tenure-As-Of`` response header.

**A simulated company** (``tenure simulate``, ``tenure demo``: ``simulation.json`` in the data
folder) does not live on after its simulation's day: the background refresh and the worker keep to
that day (:func:`simulated_day`) instead of judging today's calendar against data that stopped
then, which read every account as silent for weeks and the whole book red.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import DailyRun, HealthScore, MetricSnapshot
from tenure.model.base import utcnow
from tenure.store.events import EventStore

COVERED = "the last day the data covers"
SIMULATION_FILE = "simulation.json"  # tenure.simulate.service.META_FILE
GIVEN = "as asked"


@dataclass(frozen=True)
class AsOf:
    day: date
    reason: str  # COVERED or GIVEN

    @property
    def statement(self) -> str:
        """``as of 2026-03-01 (the last day the data covers)``"""
        return f"as of {self.day.isoformat()} ({self.reason})"


def events_through(events: EventStore | None) -> date | None:
    """The last day with stored (compacted) events; partition folder names carry the dates, so
    no event file is opened."""
    if events is None or not events.parquet_dir.exists():
        return None
    days = [p.name.split("=", 1)[1] for p in events.parquet_dir.glob("event_date=*")]
    return date.fromisoformat(max(days)) if days else None


def reading_day(session: Session, events: EventStore | None, today: date) -> date:
    """The last day the data covers, never after ``today``; ``today`` when nothing is stored."""
    stored = session.execute(
        sa.select(  # one round trip of three index probes
            sa.select(sa.func.max(DailyRun.as_of))
            .where(DailyRun.status == "succeeded")
            .scalar_subquery(),
            sa.select(sa.func.max(HealthScore.as_of)).scalar_subquery(),
            sa.select(sa.func.max(MetricSnapshot.as_of)).scalar_subquery(),
        )
    ).one()
    known = [_day(d) for d in stored if d is not None]
    through = events_through(events)
    known += [through] if through else []
    return min(max(known), today) if known else today


def _day(value: date | str) -> date:
    # SQLite returns a scalar subquery's DATE as text.
    return value if isinstance(value, date) else date.fromisoformat(value)


def resolve_as_of(
    session: Session, events: EventStore | None, given: date | None, today: date | None = None
) -> AsOf:
    """The day to judge: ``given`` when there is one, else :func:`reading_day`."""
    if given is not None:
        return AsOf(given, GIVEN)
    return AsOf(reading_day(session, events, today or utcnow().date()), COVERED)


def simulated_day(data_dir: Path) -> date | None:
    """The day a simulated company's data is as of, or None for a real company's data."""
    try:
        return date.fromisoformat(json.loads((data_dir / SIMULATION_FILE).read_text())["as_of"])
    except FileNotFoundError:
        return None
