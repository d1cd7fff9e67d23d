"""The growth side in the console: the pipeline page, opportunities opened, edited, won and lost
on Account 360 and their own page, advocacy recorded — each form calls the same service as the
API and the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.accounts import advocacy, opportunities
from tenure.accounts.growth_schemas import (
    AdvocacyRecord,
    OpportunityChange,
    OpportunityClose,
    OpportunityOpen,
)
from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, can_edit_account
from tenure.http.deps import AsOf, today
from tenure.model import Account, ForecastCategory, OpportunityKind
from tenure.portfolio import owners, pipeline
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession

# The words the console uses for each kind and category (never the stored keys).
KIND_NAMES = {
    OpportunityKind.new_business: "New business",
    OpportunityKind.expansion: "Expansion",
    OpportunityKind.renewal: "Renewal",
    OpportunityKind.advocacy: "Advocacy ask",
}
CATEGORY_NAMES = {
    ForecastCategory.pipeline: "Pipeline",
    ForecastCategory.best_case: "Best case",
    ForecastCategory.commit: "Commit",
    ForecastCategory.closed: "Closed",
    ForecastCategory.omitted: "Omitted",
}
# The pipeline page's groups of open deals, as its tabs name them.
GROUP_NAMES = {
    "growth": "New business and expansion",
    "renewal": "Renewal deals",
    "advocacy": "Advocacy asks",
}
FIELDS = (
    "name",
    "kind",
    "stage",
    "amount",
    "currency",
    "probability",
    "forecast_category",
    "close_on",
    "owner_id",
    "description",
)


def growth_context(db: Session, account_id: int) -> dict[str, Any]:
    """What Account 360's growth section shows: the account's deals and advocacy, and the words
    for the forms."""
    return {
        "opportunities": opportunities.list_opportunities(db, account_id=account_id),
        "advocacy": advocacy.list_advocacy(db, account_id=account_id),
        **form_words(),
    }


def form_words() -> dict[str, Any]:
    return {
        "kind_names": KIND_NAMES,
        "category_names": CATEGORY_NAMES,
        "advocacy_names": advocacy.ADVOCACY_NOUNS,
    }


async def _form(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    """The form's fields that were filled in (an empty input means 'not given')."""
    form = await request.form()
    return {n: str(form[n]).strip() for n in names if str(form.get(n) or "").strip()}


@router.get("/pipeline")
def pipeline_page(
    request: Request,
    months: int = Query(12, ge=1, le=36),
    page: int = Query(1, ge=1, le=100_000),
    group: pipeline.DealGroup = Query("growth"),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    view = pipeline.pipeline_view(db, as_of, months, page=page, group=group)
    query = f"months={months}" + (f"&group={group}" if group != "growth" else "")
    return render(
        request,
        "pipeline.html",
        {
            "view": view,
            "months": months,
            "per_page": pipeline.OPEN_DEALS_PER_PAGE,
            "group_names": GROUP_NAMES,
            **form_words(),
        },
        db=db,
        json_url=f"/api/v1/pipeline?{query}" + (f"&page={page}" if page > 1 else ""),
    )


@router.post("/accounts/{account_id}/opportunities")
async def open_opportunity(
    request: Request, account_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    data = OpportunityOpen.model_validate(await _form(request, FIELDS))
    opportunities.open_opportunity(db, account_id, data, actor, today())
    return RedirectResponse(f"/accounts/{account_id}#growth", status_code=303)


@router.get("/opportunities/{opportunity_id}")
def opportunity_page(
    request: Request, opportunity_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    deal = opportunities.read_opportunity(db, opportunity_id)
    account = db.get_one(Account, deal.account_id)
    return render(
        request,
        "opportunity.html",
        {
            "o": deal,
            "can_edit": can_edit_account(db, actor.user, account),
            "people": owners.owner_choices(db),
            **form_words(),
        },
        db=db,
        json_url=f"/api/v1/opportunities/{opportunity_id}",
    )


@router.post("/opportunities/{opportunity_id}")
async def change_opportunity(
    request: Request, opportunity_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    filled = await _form(request, FIELDS)
    # An input emptied on the edit form clears that field (name, kind and currency stay).
    cleared = {n: None for n in FIELDS if n not in filled and n not in ("name", "kind", "currency")}
    data = OpportunityChange.model_validate({**cleared, **filled})
    opportunities.change_opportunity(db, opportunity_id, data, actor)
    return RedirectResponse(f"/opportunities/{opportunity_id}", status_code=303)


async def _close(
    request: Request, opportunity_id: int, won: bool, actor: Actor, db: Session
) -> Response:
    data = OpportunityClose.model_validate(await _form(request, ("on", "reason")))
    deal = opportunities.close_opportunity(db, opportunity_id, won, data, actor, today())
    return RedirectResponse(f"/accounts/{deal.account_id}#growth", status_code=303)


@router.post("/opportunities/{opportunity_id}/win")
async def win_opportunity(
    request: Request, opportunity_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    return await _close(request, opportunity_id, True, actor, db)


@router.post("/opportunities/{opportunity_id}/lose")
async def lose_opportunity(
    request: Request, opportunity_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    return await _close(request, opportunity_id, False, actor, db)


@router.post("/accounts/{account_id}/advocacy")
async def record_advocacy(
    request: Request, account_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    names = ("kind", "occurred_on", "title", "note", "contact_id", "referred_account_id")
    data = AdvocacyRecord.model_validate(await _form(request, names))
    advocacy.record_advocacy(db, account_id, data, actor, today())
    return RedirectResponse(f"/accounts/{account_id}#advocacy", status_code=303)
