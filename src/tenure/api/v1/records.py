"""Operational records, cursor-paginated by id: contacts, contracts, features, touchpoints,
surveys, tickets — and one account's events (read-only, one bounded time window per request)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import selectinload

from tenure.accounts import schemas as records
from tenure.accounts.group_ids import group_ids_of
from tenure.accounts.service import get_account, touchpoint_read
from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store, today
from tenure.auth.schemas import RowId
from tenure.ingest.held_groups import (
    GroupLink,
    HeldGroups,
    held_groups,
    link_group_id,
    open_account_for_group_id,
)
from tenure.model import (
    Contact,
    ContactLevel,
    Contract,
    ContractStatus,
    Feature,
    SurveyKind,
    SurveyResponse,
    Ticket,
    Touchpoint,
)
from tenure.model.base import Base
from tenure.portfolio.records import CursorPage, EventRead, account_events, record_page
from tenure.store.events import EventStore

router = APIRouter(tags=["records"], responses=ERRORS, dependencies=[CurrentActor])


class Paging:
    """What every record list takes: a page size and a cursor."""

    account_id: int | None = None

    def __init__(
        self,
        limit: int = Query(100, ge=1, le=500, description="Items per page (1–500)"),
        cursor: str | None = Query(None, max_length=200, description="The previous next_cursor"),
        db: Session = Db,
    ) -> None:
        self.limit, self.cursor, self.db = limit, cursor, db

    def page(
        self,
        model: type[Base],
        convert: Callable[[Any], BaseModel],
        *conditions: Any,
        options: list[Any] | None = None,
    ) -> CursorPage[Any]:
        where = [c for c in conditions if c is not None]
        if self.account_id is not None:
            get_account(self.db, self.account_id)  # 404 for an unknown account
            where.append(model.account_id == self.account_id)  # type: ignore[attr-defined]
        return record_page(
            self.db,
            model,
            convert,
            limit=self.limit,
            cursor=self.cursor,
            where=where,
            options=options,
        )


class AccountPaging(Paging):
    """A record list that can be narrowed to one account."""

    def __init__(
        self,
        account_id: int | None = Query(None, ge=1, description="Only this account's records"),
        limit: int = Query(100, ge=1, le=500, description="Items per page (1–500)"),
        cursor: str | None = Query(None, max_length=200, description="The previous next_cursor"),
        db: Session = Db,
    ) -> None:
        super().__init__(limit, cursor, db)
        self.account_id = account_id


def _equals(column: Any, value: Any) -> Any:
    return None if value is None else column == value


@router.get("/contacts", response_model=CursorPage[records.ContactRead])
def list_contacts(level: ContactLevel | None = None, paging: AccountPaging = Depends()) -> Any:
    return paging.page(Contact, records.ContactRead.model_validate, _equals(Contact.level, level))


@router.get("/contracts", response_model=CursorPage[records.ContractRead])
def list_contracts(status: ContractStatus | None = None, paging: AccountPaging = Depends()) -> Any:
    return paging.page(
        Contract, records.ContractRead.model_validate, _equals(Contract.status, status)
    )


@router.get("/features", response_model=CursorPage[records.FeatureRead])
def list_features(strategic: bool | None = None, paging: Paging = Depends()) -> Any:
    return paging.page(
        Feature, records.FeatureRead.model_validate, _equals(Feature.strategic, strategic)
    )


@router.get("/touchpoints", response_model=CursorPage[records.TouchpointRead])
def list_touchpoints(paging: AccountPaging = Depends()) -> Any:
    return paging.page(Touchpoint, touchpoint_read, options=[selectinload(Touchpoint.attendees)])


@router.get("/surveys", response_model=CursorPage[records.SurveyResponseRead])
def list_surveys(kind: SurveyKind | None = None, paging: AccountPaging = Depends()) -> Any:
    return paging.page(
        SurveyResponse,
        records.SurveyResponseRead.model_validate,
        _equals(SurveyResponse.kind, kind),
    )


@router.get("/tickets", response_model=CursorPage[records.TicketRead])
def list_tickets(paging: AccountPaging = Depends()) -> Any:
    return paging.page(Ticket, records.TicketRead.model_validate)


@router.get("/events", response_model=CursorPage[EventRead])
def list_events(
    account_id: int = Query(..., ge=1, description="The account whose events to read"),
    since: date | None = Query(None, description="First day (UTC); default: 6 days before until"),
    until: date | None = Query(None, description="Last day (UTC); default: today"),
    event: str | None = Query(None, max_length=128, description="Only this event name"),
    limit: int = Query(100, ge=1, le=500, description="Items per page (1–500)"),
    cursor: str | None = Query(None, max_length=200, description="The previous next_cursor"),
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> CursorPage[EventRead]:
    """Raw product-usage events of one account, newest first, in a window of at most 31 days."""
    account = get_account(db, account_id)
    until = until or today()
    since = since or until - timedelta(days=6)
    return account_events(
        store,
        group_ids_of(db, account.id),
        since,
        until,
        limit=limit,
        cursor=cursor,
        event=event,
    )


@router.get("/events/held", response_model=HeldGroups)
def list_held_groups(
    limit: int = Query(50, ge=1, le=1000, description="How many, most events first"),
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> HeldGroups:
    """Group ids the product sends that name no account yet: their events are stored but count
    for no account until the id is linked (with the account each most likely is)."""
    return held_groups(db, store, limit=limit)


class GroupLinkCreate(BaseModel):
    group_id: str = Field(min_length=1, max_length=128, description="The id the product sends")
    account_id: RowId


@router.post("/events/links", response_model=GroupLink, status_code=201)
def link_held_group(
    body: GroupLinkCreate,
    actor: Actor = CurrentActor,
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> GroupLink:
    """Record a product group id as an account's (admins): its events count for the account
    from the next metrics computation, and its group calls' members join it."""
    return link_group_id(db, store, body.account_id, body.group_id, actor)


class GroupAccountCreate(BaseModel):
    group_id: str = Field(min_length=1, max_length=128, description="The id the product sends")


@router.post("/events/held/accounts", response_model=GroupLink, status_code=201)
def open_account_for_held_group(
    body: GroupAccountCreate,
    actor: Actor = CurrentActor,
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> GroupLink:
    """Make a held group id an account of its own (admins), for customers that exist only in
    the product: named as its latest group call says; its members join it."""
    return open_account_for_group_id(db, store, body.group_id, actor)
