"""Product ids that name no account (admins): the ids the product sends as groupId — often its
own workspace ids — that no account carries yet, with what the product says about each and the
account it most likely is, and a button to link it. The same services as `tenure events held`
/ `link` and `/api/v1/events/held` / `links`."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, require_role
from tenure.ingest.held_groups import (
    GroupLink,
    held_groups,
    link_group_id,
    open_account_for_group_id,
)
from tenure.model import UserRole
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)


@router.get("/events/held")
def held_page(
    request: Request, linked: str = "", actor: Actor = PageActor, db: Session = DbSession
) -> Response:
    require_role(actor.user, UserRole.admin)
    report = held_groups(db, request.app.state.event_store, limit=100)
    return render(
        request,
        "held_groups.html",
        {"report": report, "linked": linked[:300]},
        db=db,
        json_url="/api/v1/events/held",
    )


@router.post("/events/held/link")
def link(
    request: Request,
    group_id: str = Form(..., max_length=128),
    account: str = Form(..., max_length=300),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    result = link_group_id(db, request.app.state.event_store, account.strip(), group_id, actor)
    return _done(result)


@router.post("/events/held/new-account")
def new_account(
    request: Request,
    group_id: str = Form(..., max_length=128),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    result = open_account_for_group_id(db, request.app.state.event_store, group_id, actor)
    return _done(result)


def _done(result: GroupLink) -> Response:
    said = (
        f"{result.group_id} now belongs to {result.account.name}: {result.events:,} stored "
        f"event(s) count for it from the next metrics run; {result.members_joined:,} person(s) "
        "joined it."
    )
    return RedirectResponse(f"/events/held?{urlencode({'linked': said})}", 303)
