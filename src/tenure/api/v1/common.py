"""What every /api/v1 router shares: the request dependencies (from ``tenure.http``), error docs."""

from __future__ import annotations

from typing import Any

from tenure.http.deps import Actor, AsOf, CurrentActor, Db, Session, event_store, today


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
    "event_store",
    "today",
]
