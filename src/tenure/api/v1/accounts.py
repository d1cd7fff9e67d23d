"""Accounts and the console's read models: portfolio, Account 360, today, renewals, search."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tenure.accounts import service as accounts
from tenure.accounts.schemas import TouchpointRead
from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session, event_store
from tenure.errors import NotFound
from tenure.model.base import utcnow
from tenure.portfolio import (
    account_360,
    book,
    families,
    owners,
    palette,
    renewals,
    signals,
    timeline,
    today,
    touchpoints,
)
from tenure.portfolio.schemas import (
    Account360,
    HealthView,
    OwnerChoice,
    PaletteEntry,
    PortfolioPage,
    PortfolioQuery,
    ReassignRequest,
    ReassignResult,
    RenewalsReport,
    RiskPage,
    RiskQuery,
    TimelineItem,
    TodayReport,
    TopParents,
    TouchpointLog,
)
from tenure.risk.schemas import ChurnRiskRead
from tenure.store.events import EventStore
from tenure.success.schemas import PlanView

router = APIRouter(tags=["accounts"], responses=ERRORS)


@router.get("/accounts", response_model=PortfolioPage, summary="The portfolio (book of business)")
def list_accounts(
    query: Annotated[PortfolioQuery, Query()],
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> PortfolioPage:
    """Filtered, sorted accounts with ARR, renewal, health, risk, stage and utilization. Page
    with ``cursor`` (or ``page``); ``sort`` by name, arr, renewal_on, segment, owner, health,
    risk, arr_at_risk, utilization; ``utilization`` (low, medium, high, unknown) and
    ``utilization_min``/``utilization_max`` (ratios) filter by license utilization."""
    return book.portfolio(db, query, actor.user, as_of)


@router.get(
    "/portfolio/top-parents",
    response_model=TopParents,
    summary="The portfolio rolled up to top parents",
)
def list_top_parents(
    query: Annotated[PortfolioQuery, Query()],
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> TopParents:
    """The accounts the filters select, grouped under the account at the head of each one's
    family: ARR and risk-weighted ARR per currency (and converted at dated rates), the worst
    health and the members in renewal order, largest family first."""
    return families.top_parents(db, query, actor.user, as_of)


@router.get("/risk", response_model=RiskPage, summary="Accounts ranked by churn risk")
def list_risk(
    query: Annotated[RiskQuery, Query()],
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> RiskPage:
    """The portfolio ranked by churn risk with each account's top reasons; ``owner`` defaults to
    you (a CSM) or your team (a manager)."""
    return book.risk_list(db, query.for_user(actor.user), actor.user, as_of)


@router.get("/accounts/{account_id}", response_model=Account360, summary="Account 360")
def get_account(
    account_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> Account360:
    """Header, health with its breakdown, churn risk with reasons, relationships, contracts,
    usage history and the merged timeline."""
    return account_360.account_360(db, account_id, actor.user, as_of)


@router.get("/accounts/{account_id}/health", response_model=HealthView, summary="Health score")
def account_health(account_id: int, actor: Actor = CurrentActor, db: Session = Db) -> HealthView:
    """The latest score with every measure's value, points and what would move it; the history."""
    account = accounts.get_account(db, account_id)
    score = signals.account_health(db, account)
    if score is None:
        raise NotFound(f"account {account_id} has no health score yet: run `tenure run daily`")
    return HealthView(score=score, history=signals.health_history(db, account_id, score))


@router.get("/accounts/{account_id}/risk", response_model=ChurnRiskRead, summary="Churn risk")
def account_risk(account_id: int, actor: Actor = CurrentActor, db: Session = Db) -> ChurnRiskRead:
    """The latest churn probability with its reasons and the model version that produced it."""
    risk = signals.account_risk(db, accounts.get_account(db, account_id))
    if risk is None:
        raise NotFound(f"account {account_id} has no churn risk yet: run `tenure model score`")
    return risk


@router.get("/accounts/{account_id}/milestones", response_model=PlanView, summary="Success plan")
def account_milestones(
    account_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> PlanView:
    """The success plan's milestones with their status (reached, on track, behind, stuck)."""
    plan = signals.success_plan(db, accounts.get_account(db, account_id), as_of)
    if plan is None:
        raise NotFound(f"account {account_id} has no success plan: `tenure milestones plan`")
    return plan


@router.get("/accounts/{account_id}/timeline", response_model=list[TimelineItem])
def account_timeline(
    account_id: int,
    limit: int = Query(150, ge=1, le=500),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[TimelineItem]:
    accounts.get_account(db, account_id)
    return timeline.timeline(db, account_id, limit)


@router.post(
    "/accounts/{account_id}/touchpoints",
    response_model=TouchpointRead,
    status_code=201,
    summary="Log a touchpoint or note",
)
def log_touchpoint(
    account_id: int, data: TouchpointLog, actor: Actor = CurrentActor, db: Session = Db
) -> TouchpointRead:
    return touchpoints.log_touchpoint(db, account_id, data, actor)


@router.get(
    "/owners/assignable",
    response_model=list[OwnerChoice],
    summary="Whom the caller may make an account's owner",
)
def assignable_owners(actor: Actor = CurrentActor, db: Session = Db) -> list[OwnerChoice]:
    """Exactly the people POST /accounts/reassign accepts from the caller: an admin any active
    non-viewer, a manager their team, anyone else nobody."""
    return owners.assignable_owners(db, actor.user)


@router.post("/accounts/reassign", response_model=ReassignResult, summary="Reassign owner")
def reassign(
    data: ReassignRequest, actor: Actor = CurrentActor, db: Session = Db
) -> ReassignResult:
    return owners.reassign_owner(db, data, actor, utcnow())


@router.get("/today", response_model=TodayReport, summary="Today: renewals and neglected accounts")
def get_today(
    scope: str | None = Query(None, pattern="^(mine|team|all)$"),
    actor: Actor = CurrentActor,
    db: Session = Db,
    events: EventStore = Depends(event_store),
    as_of: date = AsOf,
) -> TodayReport:
    return today.today(db, actor.user, as_of, events, scope)


@router.get("/renewals", response_model=RenewalsReport, summary="Renewals by month")
def get_renewals(
    months: int = Query(12, ge=1, le=36),
    # At most 9 digits: a user id PostgreSQL can compare (more reached it as a 500).
    owner: str | None = Query(None, pattern=r"^(\d{1,9}|me|team|none)$"),
    month: str | None = Query(
        None,
        pattern=r"^\d{4}-\d{2}$",
        description="List this month's largest renewals only (YYYY-MM, one of the months); "
        "every month keeps its totals and forecast",
    ),
    actor: Actor = CurrentActor,
    db: Session = Db,
    events: EventStore = Depends(event_store),
    as_of: date = AsOf,
) -> RenewalsReport:
    """The forecast by month and quarter, and each month's 25 largest renewals — or one
    ``month``'s (the console's opened month: a page of the listing)."""
    listed = None if month is None else {month}
    return renewals.renewals(
        db, actor.user, as_of, events, months=months, owner=owner, listed_months=listed
    )


@router.get("/search", response_model=list[PaletteEntry], summary="Command palette search")
def search(
    q: str = Query(..., min_length=1, max_length=200),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[PaletteEntry]:
    return palette.palette(db, q, actor.user)
