"""Logging a touchpoint (meeting, call, email, note) on an account, audited."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.schemas import TouchpointRead
from tenure.accounts.service import get_account, touchpoint_read
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor
from tenure.errors import InvalidInput
from tenure.model import Contact, Touchpoint
from tenure.model.base import utcnow
from tenure.portfolio.schemas import TouchpointLog


def log_touchpoint(
    session: Session, account_id: int, data: TouchpointLog, actor: Actor
) -> TouchpointRead:
    """Record a meeting, call, email or note on an account (its owner, team, manager or admin)."""
    account = get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    attendees = []
    if data.attendee_ids:
        attendees = list(
            session.scalars(
                sa.select(Contact).where(
                    Contact.id.in_(data.attendee_ids), Contact.account_id == account_id
                )
            ).all()
        )
        missing = set(data.attendee_ids) - {c.id for c in attendees}
        if missing:
            raise InvalidInput(
                f"attendee_ids: contact(s) {sorted(missing)} are not contacts of {account.name!r}"
            )
    touchpoint = Touchpoint(
        external_id=f"tenure-{uuid.uuid4().hex}",
        account_id=account_id,
        kind=data.kind,
        occurred_at=data.occurred_at or utcnow(),
        subject=data.subject.strip(),
        notes=(data.notes or "").strip() or None,
        user_id=actor.id,
        attendees=attendees,
    )
    session.add(touchpoint)
    session.flush()
    after = audit.snapshot(touchpoint)
    after["attendee_ids"] = [c.id for c in attendees]
    audit.record(session, actor, "touchpoint.create", "touchpoint", touchpoint.id, after=after)
    return touchpoint_read(touchpoint)
