"""Engagement messages: drafts with a goal and its check, approval (→ outbox, touchpoint), and
how often each template's goal was met."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session
from tenure.success import engagement_service
from tenure.success.schemas import EngagementRead, MessageCreate, TemplateOutcome

router = APIRouter(tags=["messages"], responses=ERRORS)


@router.get("/messages", response_model=list[EngagementRead], dependencies=[CurrentActor])
def list_messages(
    account_id: int | None = Query(None, ge=1),
    status: str | None = Query(None, pattern="^(draft|sent|discarded)$"),
    db: Session = Db,
) -> list[EngagementRead]:
    """Newest first: drafts awaiting approval, messages sent and what their goal check found."""
    return engagement_service.list_messages(db, account_id, status)


@router.get("/messages/report", response_model=list[TemplateOutcome], dependencies=[CurrentActor])
def message_report(db: Session = Db) -> list[TemplateOutcome]:
    """Per message template: sent, awaiting their check, goal met, not met, not measurable."""
    return engagement_service.goal_report(db)


@router.post("/messages", response_model=EngagementRead, status_code=201, summary="Draft")
def create_message(
    data: MessageCreate, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> EngagementRead:
    """Draft a template's message for an account with its goal and how the goal is checked;
    nothing is sent until someone approves it."""
    return engagement_service.create_draft(db, data, actor, as_of)


@router.post("/messages/{message_id}/approve", response_model=EngagementRead)
def approve_message(
    message_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> EngagementRead:
    """Approve a draft: queued in the outbox, logged as a touchpoint, goal checked N days on."""
    return engagement_service.approve(db, message_id, actor, as_of)
