"""Accounts and the console's read models: portfolio, Account 360, today, renewals, search."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from tenure.accounts.schemas import TouchpointRead
from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store, today
from tenure.model.base import utcnow
from tenure.portfolio import service
from tenure.portfolio.schemas import (
    Account360,
    PaletteEntry,
    PortfolioPage,
    PortfolioQuery,
    ReassignRequest,
    ReassignResult,
    RenewalsReport,
    TimelineItem,
    TodayReport,
    TouchpointLog,
)
from tenure.store.events import EventStore

router = APIRouter(tags=["accounts"], responses=ERRORS)


@router.get("/accounts", response_model=PortfolioPage, summary="The portfolio (book of business)")
def list_accounts(
    query: PortfolioQuery = Depends(),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> PortfolioPage:
    """Filtered, sorted accounts with ARR and next renewal. Page with ``cursor`` (or ``page``)."""
    return service.portfolio(db, query, actor.user, today())


@router.get("/accounts/{account_id}", response_model=Account360, summary="Account 360")
def get_account(account_id: int, actor: Actor = CurrentActor, db: Session = Db) -> Account360:
    return service.account_360(db, account_id, actor.user, today())


@router.get("/accounts/{account_id}/timeline", response_model=list[TimelineItem])
def account_timeline(
    account_id: int,
    limit: int = Query(150, ge=1, le=500),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[TimelineItem]:
    service.get_account(db, account_id)
    return service.timeline(db, account_id, limit)


@router.post(
    "/accounts/{account_id}/touchpoints",
    response_model=TouchpointRead,
    status_code=201,
    summary="Log a touchpoint or note",
)
def log_touchpoint(
    account_id: int, data: TouchpointLog, actor: Actor = CurrentActor, db: Session = Db
) -> TouchpointRead:
    return service.log_touchpoint(db, account_id, data, actor)


@router.post("/accounts/reassign", response_model=ReassignResult, summary="Reassign owner")
def reassign(
    data: ReassignRequest, actor: Actor = CurrentActor, db: Session = Db
) -> ReassignResult:
    return service.reassign_owner(db, data, actor, utcnow())


@router.get("/today", response_model=TodayReport, summary="Today: renewals and neglected accounts")
def get_today(
    scope: str | None = Query(None, pattern="^(mine|team|all)$"),
    actor: Actor = CurrentActor,
    db: Session = Db,
    events: EventStore = Depends(event_store),
) -> TodayReport:
    return service.today(db, actor.user, today(), events, scope)


@router.get("/renewals", response_model=RenewalsReport, summary="Renewals by month")
def get_renewals(
    months: int = Query(12, ge=1, le=36),
    owner: str | None = Query(None, pattern=r"^(\d+|me|team|none)$"),
    actor: Actor = CurrentActor,
    db: Session = Db,
    events: EventStore = Depends(event_store),
) -> RenewalsReport:
    return service.renewals(db, actor.user, today(), events, months=months, owner=owner)


@router.get("/search", response_model=list[PaletteEntry], summary="Command palette search")
def search(
    q: str = Query(..., min_length=1, max_length=200),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[PaletteEntry]:
    return service.palette(db, q, actor.user)
