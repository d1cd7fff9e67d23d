"""The account timeline: touchpoints, tickets, surveys and other domains' items, newest first."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.words import key_words
from tenure.dates import utc
from tenure.model import Contact, SurveyResponse, Ticket, Touchpoint, User
from tenure.portfolio import signals
from tenure.portfolio.schemas import TimelineItem

TimelineSource = Callable[[Session, int], list[TimelineItem]]


def _touchpoint_items(session: Session, account_id: int) -> list[TimelineItem]:
    result = session.execute(
        sa.select(Touchpoint, User.name)
        .outerjoin(User, User.id == Touchpoint.user_id)
        .where(Touchpoint.account_id == account_id)
        .order_by(Touchpoint.occurred_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=t.occurred_at,
            kind="touchpoint",
            title=f"{t.kind.value}: {t.subject or '(no subject)'}",
            detail=t.notes,
            by=by,
            data={"id": t.id, "touchpoint_kind": t.kind.value},
        )
        for t, by in result
    ]


def _ticket_items(session: Session, account_id: int) -> list[TimelineItem]:
    tickets = session.scalars(
        sa.select(Ticket)
        .where(Ticket.account_id == account_id)
        .order_by(Ticket.opened_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=t.opened_at,
            kind="ticket",
            title=f"ticket ({t.priority.value}): {t.subject or t.external_id}",
            detail=(f"closed {t.closed_at:%Y-%m-%d}" if t.closed_at else "open")
            + (f" · {key_words(t.category)}" if t.category else ""),
            data={"id": t.id, "priority": t.priority.value},
        )
        for t in tickets
    ]


def _survey_items(session: Session, account_id: int) -> list[TimelineItem]:
    result = session.execute(
        sa.select(SurveyResponse, Contact.name)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(SurveyResponse.account_id == account_id)
        .order_by(SurveyResponse.responded_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=s.responded_at,
            kind="survey",
            title=f"{s.kind.value.upper()} {s.score}",
            detail=s.comment,
            by=contact,
            data={"id": s.id, "score": s.score, "survey_kind": s.kind.value},
        )
        for s, contact in result
    ]


# Other domains (health, playbooks, success) append their own sources: milestones, stage
# changes, CTAs. Each returns the account's most recent items.
TIMELINE_SOURCES: list[TimelineSource] = [
    _touchpoint_items,
    _ticket_items,
    _survey_items,
    signals.stage_items,
    signals.cta_items,
    signals.milestone_items,
]


def timeline(session: Session, account_id: int, limit: int = 150) -> list[TimelineItem]:
    items = [item for source in TIMELINE_SOURCES for item in source(session, account_id)]
    return sorted(items, key=lambda i: utc(i.at), reverse=True)[:limit]
