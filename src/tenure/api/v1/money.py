"""The reporting currency and the dated FX-rate table figures in several currencies convert with."""

from __future__ import annotations

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from tenure.accounts import fx_service
from tenure.accounts.fx_service import FxImportReport, FxRates
from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session

router = APIRouter(tags=["money"], responses=ERRORS)


class ReportingCurrencyRead(BaseModel):
    currency: str = Field(description="ISO 4217 code every converted figure is given in")


@router.get("/fx/reporting-currency", response_model=ReportingCurrencyRead)
def get_reporting_currency(actor: Actor = CurrentActor, db: Session = Db) -> ReportingCurrencyRead:
    return ReportingCurrencyRead(currency=fx_service.reporting_currency(db))


@router.put(
    "/fx/reporting-currency",
    response_model=ReportingCurrencyRead,
    summary="Set the reporting currency (admins)",
)
def put_reporting_currency(
    data: ReportingCurrencyRead, actor: Actor = CurrentActor, db: Session = Db
) -> ReportingCurrencyRead:
    return ReportingCurrencyRead(
        currency=fx_service.set_reporting_currency(db, data.currency, actor)
    )


@router.get("/fx/rates", response_model=FxRates, summary="Rates into the reporting currency")
def get_rates(
    currency: str | None = Query(default=None, max_length=3, description="Only this currency"),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> FxRates:
    return fx_service.list_rates(db, currency)


@router.post(
    "/fx/rates",
    response_model=FxImportReport,
    summary="Import date,currency,rate rows (admins)",
)
def post_rates(
    text: str = Body(
        ...,
        media_type="text/csv",
        max_length=2_000_000,
        description="CSV with the header date,currency,rate; a bad row refuses the whole file",
    ),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> FxImportReport:
    return fx_service.import_rates(db, text, actor)
