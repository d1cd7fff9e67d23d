"""The growth side: opportunities (opened, changed, won, lost), their forecast, and advocacy."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from tenure.accounts import advocacy, opportunities
from tenure.accounts.growth_schemas import (
    AdvocacyRead,
    AdvocacyRecord,
    OpportunityChange,
    OpportunityClose,
    OpportunityOpen,
    OpportunityRead,
)
from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session, today
from tenure.model import AdvocacyKind, OpportunityKind, OpportunityStatus
from tenure.portfolio import pipeline
from tenure.portfolio.records import CursorPage

router = APIRouter(tags=["pipeline"], responses=ERRORS)


@router.get(
    "/opportunities",
    response_model=CursorPage[OpportunityRead],
    dependencies=[CurrentActor],
)
def list_opportunities(
    account_id: int | None = Query(None, ge=1, description="Only this account's"),
    status: OpportunityStatus | None = None,
    kind: OpportunityKind | None = None,
    owner_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=500, description="Items per page (1–500)"),
    # The cursor carries the last deal's account name: 255 characters, JSON-escaped, in base64.
    cursor: str | None = Query(None, max_length=2200, description="The previous next_cursor"),
    db: Session = Db,
) -> CursorPage[OpportunityRead]:
    """Opportunities, soonest expected close first (undated last), a page at a time: pass the
    page's ``next_cursor`` as ``cursor`` for the next one (null on the last)."""
    return pipeline.opportunity_page(
        db,
        limit=limit,
        cursor=cursor,
        account_id=account_id,
        status=status,
        kind=kind,
        owner_id=owner_id,
    )


@router.get(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityRead,
    dependencies=[CurrentActor],
)
def get_opportunity(opportunity_id: int, db: Session = Db) -> OpportunityRead:
    return opportunities.read_opportunity(db, opportunity_id)


@router.post(
    "/accounts/{account_id}/opportunities",
    response_model=OpportunityRead,
    status_code=201,
    summary="Open an opportunity",
)
def open_opportunity(
    account_id: int, data: OpportunityOpen, actor: Actor = CurrentActor, db: Session = Db
) -> OpportunityRead:
    """New business, expansion, renewal or an advocacy ask, opened today by the account's editors.
    Without ``owner_id`` it goes to the account's hunter (new business) or farmer (expansion,
    renewal), else to you."""
    return opportunities.open_opportunity(db, account_id, data, actor, today())


@router.patch(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityRead,
    summary="Change an opportunity",
)
def change_opportunity(
    opportunity_id: int, data: OpportunityChange, actor: Actor = CurrentActor, db: Session = Db
) -> OpportunityRead:
    """Only the fields sent change; null clears one."""
    return opportunities.change_opportunity(db, opportunity_id, data, actor)


@router.post(
    "/opportunities/{opportunity_id}/win", response_model=OpportunityRead, summary="Mark won"
)
def win_opportunity(
    opportunity_id: int, data: OpportunityClose, actor: Actor = CurrentActor, db: Session = Db
) -> OpportunityRead:
    return opportunities.close_opportunity(db, opportunity_id, True, data, actor, today())


@router.post(
    "/opportunities/{opportunity_id}/lose", response_model=OpportunityRead, summary="Mark lost"
)
def lose_opportunity(
    opportunity_id: int, data: OpportunityClose, actor: Actor = CurrentActor, db: Session = Db
) -> OpportunityRead:
    """``reason`` is required: why the deal was lost."""
    return opportunities.close_opportunity(db, opportunity_id, False, data, actor, today())


@router.get(
    "/pipeline",
    response_model=pipeline.PipelineView,
    dependencies=[CurrentActor],
    summary="Open deals and the new-business and expansion forecast",
)
def get_pipeline(
    months: int = Query(12, ge=1, le=36, description="Forecast horizon in months"),
    owner_id: int | None = Query(None, ge=1),
    page: int = Query(1, ge=1, le=100_000, description="Page of the open deals"),
    group: pipeline.DealGroup = Query(
        "growth",
        description="Which open deals: growth (new business and expansion), renewal, advocacy",
    ),
    db: Session = Db,
    as_of: date = AsOf,
) -> pipeline.PipelineView:
    """Expected amount = amount × probability, per close month and quarter, kind and currency,
    of every open deal; the group's open deals themselves a page at a time."""
    return pipeline.pipeline_view(db, as_of, months, owner_id, page, group)


@router.get("/advocacy", response_model=CursorPage[AdvocacyRead], dependencies=[CurrentActor])
def list_advocacy(
    account_id: int | None = Query(None, ge=1),
    kind: AdvocacyKind | None = None,
    since: date | None = None,
    limit: int = Query(100, ge=1, le=500, description="Items per page (1–500)"),
    cursor: str | None = Query(None, max_length=200, description="The previous next_cursor"),
    db: Session = Db,
) -> CursorPage[AdvocacyRead]:
    """Success stories, case studies, references, speaker slots and referrals, newest first, a
    page at a time: pass the page's ``next_cursor`` as ``cursor`` for the next one."""
    return pipeline.advocacy_page(
        db, limit=limit, cursor=cursor, account_id=account_id, kind=kind, since=since
    )


@router.post(
    "/accounts/{account_id}/advocacy",
    response_model=AdvocacyRead,
    status_code=201,
    summary="Record advocacy",
)
def record_advocacy(
    account_id: int, data: AdvocacyRecord, actor: Actor = CurrentActor, db: Session = Db
) -> AdvocacyRead:
    return advocacy.record_advocacy(db, account_id, data, actor, today())
