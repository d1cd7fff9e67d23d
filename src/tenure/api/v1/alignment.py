"""Alignment: the account team's shared view, handoffs (sales → services → CSM), rescue CTAs."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session
from tenure.model.base import utcnow
from tenure.portfolio import alignment, handoff, rescue

router = APIRouter(tags=["alignment"], responses=ERRORS)


@router.get(
    "/accounts/{account_id}/alignment",
    response_model=alignment.AlignmentView,
    summary="Alignment: the account team's shared view",
)
def get_alignment(
    account_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> alignment.AlignmentView:
    """ARR, renewal, health and churn risk as the CSM sees them; the account team; who holds the
    customer now and the handoff history; open CTAs; what you may do here."""
    return alignment.alignment_view(db, account_id, actor, as_of)


@router.get(
    "/accounts/{account_id}/handoffs",
    response_model=handoff.HandoffView,
    summary="Who holds the customer and the handoff history",
)
def get_handoffs(
    account_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> handoff.HandoffView:
    return handoff.handoff_view(db, account_id, as_of)


@router.post(
    "/accounts/{account_id}/handoffs",
    response_model=handoff.HandoffRead,
    status_code=201,
    summary="Record a handoff",
)
def record_handoff(
    account_id: int,
    data: handoff.HandoffCreate,
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> handoff.HandoffRead:
    """sales_to_services, services_to_csm or sales_to_csm, in that order. The first handoff must
    carry ``desired_outcome`` and ``fit_answers`` (the account's editors: owner, team, manager,
    admin)."""
    return handoff.record_handoff(db, account_id, data, actor, as_of)


@router.post(
    "/accounts/{account_id}/rescue",
    response_model=rescue.RescueResult,
    status_code=201,
    summary="Open a rescue CTA for the owner",
)
def request_rescue(
    account_id: int,
    data: rescue.RescueRequest,
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> rescue.RescueResult:
    """The account team (sales and support included), managers and admins ask the owner to step
    in; ``created`` is false when a rescue CTA was already open (the request joins it)."""
    return rescue.request_rescue(db, account_id, data, actor, as_of, utcnow())
