"""Request dependencies the HTTP surfaces share: session, actor, event store, reading day."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from tenure.as_of import resolve_as_of
from tenure.auth.http import DbSession, api_actor
from tenure.auth.permissions import Actor
from tenure.model.base import utcnow
from tenure.store.events import EventStore

Db = DbSession
CurrentActor = Depends(api_actor)


def today() -> date:
    return utcnow().date()


def event_store(request: Request) -> EventStore:
    store: EventStore = request.app.state.event_store
    return store


def as_of_day(
    request: Request,
    response: Response,
    db: Session = Db,
    as_of: date | None = Query(
        None,
        description="Day to judge, YYYY-MM-DD (default: the last day the data covers, never "
        "after today). The Tenure-As-Of response header says which day and why.",
    ),
) -> date:
    """The one as-of rule of every route and page (tenure.as_of), stated in a response header."""
    resolved = resolve_as_of(db, event_store(request), as_of, today())
    response.headers["Tenure-As-Of"] = resolved.statement
    return resolved.day


AsOf = Depends(as_of_day)

__all__ = ["Actor", "AsOf", "CurrentActor", "Db", "Session", "as_of_day", "event_store", "today"]
