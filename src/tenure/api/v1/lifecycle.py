"""The lifecycle: the model in force (LAER, ESG or ClientSuccess), the portfolio by stage and one
account's stage with its history."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from tenure.api.v1.common import ERRORS, Actor, AsOf, CurrentActor, Db, Session
from tenure.success import lifecycle_service
from tenure.success.schemas import (
    LifecycleModelChoice,
    LifecycleModelRead,
    LifecyclePortfolio,
    LifecycleStages,
    LifecycleView,
)

router = APIRouter(tags=["frameworks"], responses=ERRORS)


@router.get(
    "/lifecycle/models",
    response_model=list[LifecycleModelRead],
    summary="Lifecycle models and the one in force",
)
def get_models(actor: Actor = CurrentActor, db: Session = Db) -> list[LifecycleModelRead]:
    """LAER, ESG and ClientSuccess with their stages, each marked as named by the published
    model (pub) or Tenure's choice (default)."""
    return lifecycle_service.lifecycle_models(db)


@router.put(
    "/lifecycle/model",
    response_model=LifecycleModelRead,
    summary="Choose the lifecycle model (admins)",
)
def put_model(
    data: LifecycleModelChoice, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> LifecycleModelRead:
    """Every page, report and export then shows this model's stages; audited."""
    return lifecycle_service.set_lifecycle_model(db, data.model, actor, as_of)


@router.get(
    "/lifecycle/stages",
    response_model=LifecycleStages,
    summary="Accounts per lifecycle stage, as the daily run saved them",
)
def get_stored_stages(actor: Actor = CurrentActor, db: Session = Db) -> LifecycleStages:
    """Each account's latest saved stage in the model in force, per stage (every stage in step
    order), and customers by full years with us: the Lifecycle page's data. Fast on any book."""
    return lifecycle_service.stored_stages(db)


@router.get("/lifecycle", response_model=LifecyclePortfolio, summary="Accounts per lifecycle stage")
def get_portfolio(
    actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> LifecyclePortfolio:
    """Accounts per stage of the model in force (every stage, in step order) and per tenure
    year with the customer-for-life dimensions on ``as_of``: as the daily run counted them for
    that day, unless an account, contract, opportunity, reference or Desired Outcome changed
    since; counted from the records otherwise (the whole book: seconds on a large one)."""
    return lifecycle_service.portfolio_view(db, as_of)


@router.get(
    "/accounts/{account_id}/lifecycle",
    response_model=LifecycleView,
    summary="An account's lifecycle stage",
)
def get_account_lifecycle(
    account_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> LifecycleView:
    """The stage in the model in force with the facts that set it and its history (a step back
    carries its cause), LAER's stage, and the customer-for-life dimensions."""
    return lifecycle_service.lifecycle_show(db, account_id, as_of, save=False)
