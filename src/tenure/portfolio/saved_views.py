"""Saved portfolio views: a user's named filters, audited."""

from __future__ import annotations

from urllib.parse import parse_qsl

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor
from tenure.errors import InvalidInput, NotFound
from tenure.model import SavedView, User
from tenure.portfolio.schemas import PortfolioQuery, SavedViewRead


def saved_views(session: Session, user: User) -> list[SavedViewRead]:
    views = session.scalars(
        sa.select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)
    ).all()
    return [SavedViewRead.model_validate(v) for v in views]


def save_view(session: Session, name: str, query: str, actor: Actor) -> SavedViewRead:
    """Save (or overwrite) a named portfolio view of the actor's."""
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the view a name")
    if len(name) > 120 or len(query) > 2000:
        raise InvalidInput("name or query too long (120 / 2000 characters at most)")
    PortfolioQuery.model_validate(dict(parse_qsl(query)))  # refuse a query the page would refuse
    view = session.scalar(
        sa.select(SavedView).where(SavedView.user_id == actor.id, SavedView.name == name)
    )
    before = audit.snapshot(view) if view else None
    if view is None:
        view = SavedView(user_id=actor.id, name=name, query=query)
        session.add(view)
    else:
        view.query = query
    session.flush()
    audit.record(
        session,
        actor,
        "saved_view.save",
        "saved_view",
        view.id,
        before=before,
        after=audit.snapshot(view),
    )
    return SavedViewRead.model_validate(view)


def delete_view(session: Session, view_id: int, actor: Actor) -> None:
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != actor.id:
        raise NotFound(f"no saved view {view_id} of yours")
    before = audit.snapshot(view)
    session.delete(view)
    session.flush()
    audit.record(session, actor, "saved_view.delete", "saved_view", view_id, before=before)
