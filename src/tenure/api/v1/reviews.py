"""Churn review (confirm or correct the suggested class) and KPIs by quarter."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session
from tenure.playbooks.schemas import CtaRead, Triage
from tenure.playbooks.triage import triage
from tenure.success import churn_classification_service, kpis_service, maturity_service
from tenure.success.kpis import CohortRetention, GroupBy, KpiReport
from tenure.success.maturity import CsriResult
from tenure.success.schemas import (
    ChurnConfirm,
    ChurnReview,
    ChurnReviewRow,
    MaturityAnswers,
    MaturityView,
)

router = APIRouter(tags=["frameworks"], responses=ERRORS)


@router.get("/churn-review", response_model=ChurnReview)
def churn_review(
    status: str = Query("unconfirmed", pattern="^(unconfirmed|confirmed|all)$"),
    owner: str | None = Query(
        None,
        pattern=r"^(\d{1,9}|me|team|none)?$",
        description="The account owner's user id, me, team (yours) or none (unassigned)",
    ),
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(100, ge=1, le=500),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> ChurnReview:
    """Lost and downgraded customers with the suggested churn class and its reasons."""
    return churn_classification_service.churn_review(
        db, status=status, limit=limit, owner=owner or None, reader=actor.user, page=page
    )


@router.post("/churn-review/{record_id}/confirm", response_model=ChurnReviewRow)
def confirm(
    record_id: int, data: ChurnConfirm, actor: Actor = CurrentActor, db: Session = Db
) -> ChurnReviewRow:
    """Confirm or correct the class (the account's owner, team, their manager or an admin)."""
    return churn_classification_service.confirm_churn(db, actor, record_id, data)


@router.get("/kpis", response_model=list[KpiReport])
def kpis(
    quarters: int = Query(4, ge=1, le=12),
    by: GroupBy = GroupBy.all,
    offset: int = Query(0, ge=0, le=1_000_000, description="Groups to skip in each quarter"),
    limit: int = Query(100, ge=1, le=1000, description="Groups per quarter (A–Z)"),
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> list[KpiReport]:
    """NRR, GRR, logo churn, expansion, renewal rate, NPS… for the last complete quarters, as
    the daily run stored them (``computed_on``: the day of the data; ``groups``: how many groups
    the quarter has, of which ``offset``/``limit`` are returned)."""
    return kpis_service.kpi_history(db, as_of, quarters=quarters, by=by, page=(offset, limit))


@router.get("/kpis/cohorts", response_model=CohortRetention, summary="Cohort retention curves")
def cohorts(
    months: int = Query(24, ge=1, le=120),
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> CohortRetention:
    """Logo and ARR retention by start-quarter cohort (and currency) over months since start;
    each curve stops at the last month its whole cohort has reached."""
    return kpis_service.cohort_retention(db, as_of, max_months=months)


@router.post("/ctas/{cta_id}/triage", response_model=CtaRead, summary="Triage a CTA")
def triage_cta(
    cta_id: int, data: Triage, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> CtaRead:
    """Acknowledge, snooze (default a week) or close a call to action."""
    return triage(db, cta_id, data, actor, as_of)


@router.get("/maturity", response_model=MaturityView, summary="CS maturity (CSRI)")
def maturity(actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf) -> MaturityView:
    """Pillars pre-filled from data (with reasons) and the history of self-assessments."""
    return maturity_service.maturity_view(db, as_of)


@router.post("/maturity", response_model=CsriResult, status_code=201)
def assess_maturity(
    data: MaturityAnswers,
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> CsriResult:
    """Save the team's self-assessment (managers and admins)."""
    return maturity_service.assess_maturity(db, actor, as_of, data)
