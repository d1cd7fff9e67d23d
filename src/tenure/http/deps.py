"""Request dependencies the HTTP surfaces share: session, actor, event store, reading day."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, api_actor
from tenure.auth.permissions import Actor
from tenure.model.base import utcnow
from tenure.portfolio.freshness import reading_day
from tenure.store.events import EventStore

Db = DbSession
CurrentActor = Depends(api_actor)


def today() -> date:
    return utcnow().date()


def event_store(request: Request) -> EventStore:
    store: EventStore = request.app.state.event_store
    return store


def as_of_day(request: Request, db: Session = Db) -> date:
    """The day read models are computed as of: the last day the data covers (see reading_day)."""
    return reading_day(db, event_store(request), today())


AsOf = Depends(as_of_day)

__all__ = ["Actor", "AsOf", "CurrentActor", "Db", "Session", "as_of_day", "event_store", "today"]
