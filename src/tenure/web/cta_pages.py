"""The console's call-to-action page and the forms that act on a CTA: acknowledge, snooze to a
picked day, close with an outcome and a note, tick a playbook step off. Every change goes
through the one triage service (tenure.playbooks.triage), as the CLI's and the API's do."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.http.deps import AsOf
from tenure.model import CtaOutcome
from tenure.playbooks.config import playbook_settings
from tenure.playbooks.cta_detail import cta_detail
from tenure.playbooks.rules import load_ruleset
from tenure.playbooks.schemas import Triage, TriageAction
from tenure.playbooks.triage import complete_step, triage
from tenure.web.render import render, same_site

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession


@router.get("/ctas/{cta_id}")
def cta_page(
    request: Request, cta_id: int, actor: Actor = PageActor, db: Session = Db, as_of: date = AsOf
) -> Response:
    detail = cta_detail(db, load_ruleset(playbook_settings().rules_file), cta_id, actor.user, as_of)
    return render(
        request,
        "cta.html",
        {"d": detail},
        db=db,
        json_url=f"/api/v1/ctas/{cta_id}/detail",
    )


@router.post("/ctas/{cta_id}/steps/{position}/done")
def cta_step_done(
    cta_id: int,
    position: int,
    back: str = Form("", max_length=2000),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    complete_step(db, cta_id, position, actor, as_of)
    return RedirectResponse(same_site(back, f"/ctas/{cta_id}"), status_code=303)


@router.post("/ctas/{cta_id}/{action}")
def triage_cta(
    cta_id: int,
    action: TriageAction,
    back: str = Form("/today", max_length=2000),
    outcome: CtaOutcome = Form(CtaOutcome.success),
    note: str = Form("", max_length=2000),
    until: date | None = Form(None),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    data = Triage(action=action, outcome=outcome, note=note.strip() or None, until=until)
    triage(db, cta_id, data, actor, as_of)
    return RedirectResponse(same_site(back, "/today"), status_code=303)
