"""The audit log: every write records who, through which surface, and the record before/after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.auth.schemas import AuditEntry
from tenure.model import AuditLog, User
from tenure.model.base import Base


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def snapshot(
    row: Base, *, exclude: tuple[str, ...] = ("password_hash", "token_hash")
) -> dict[str, Any]:
    """A JSON-ready copy of a row's columns (secrets left out) for before/after."""
    return {
        column.key: _jsonable(getattr(row, column.key))
        for column in sa.inspect(row).mapper.column_attrs
        if column.key not in exclude
    }


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    via: str | None = None,
) -> AuditLog:
    """``via`` names the surface when there is no actor yet (a failed sign-in on the web)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        via=via or (actor.via if actor else "system"),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session, *, limit: int = 100, before_id: int | None = None, entity: str | None = None
) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages backwards."""
    query = (
        sa.select(AuditLog, User.email)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    return [
        AuditEntry.model_validate(row).model_copy(update={"actor_email": email})
        for row, email in session.execute(query).all()
    ]
