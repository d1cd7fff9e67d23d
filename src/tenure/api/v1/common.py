"""What every /api/v1 router shares: the actor, the session, today's date, error responses."""

from __future__ import annotations

from datetime import date
from typing import Any

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


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"example": {"code": "...", "message": "..."}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Not signed in / no valid bearer token"),
    403: _error("Signed in, but the role does not allow this"),
    422: _error("Invalid parameters; the message names the field and the reason"),
}

__all__ = [
    "ERRORS",
    "Actor",
    "AsOf",
    "CurrentActor",
    "Db",
    "Session",
    "as_of_day",
    "event_store",
    "today",
]
