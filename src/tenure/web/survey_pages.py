"""The Surveys page: NPS and CSAT campaigns — create one with its audience, send it (a signed link
per contact, queued in the outbox the mail sender delivers), read the answers. The same service
functions as `tenure surveys create|send` (admins and managers, audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.model import ContactLevel, ContactRole, SurveyKind, UserRole
from tenure.playbooks import surveys
from tenure.playbooks.config import playbook_settings
from tenure.portfolio import book
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)

KIND_WORDS = {
    SurveyKind.nps: "NPS: how likely to recommend us (0–10)",
    SurveyKind.csat: "CSAT: how satisfied (1–5)",
}
ROLE_WORDS = {
    ContactRole.champion: "Champions",
    ContactRole.sponsor: "Executive sponsors",
    ContactRole.commercial_buyer: "Buyers",
    ContactRole.stakeholder: "Stakeholders",
    ContactRole.end_user: "End users",
}
LEVEL_WORDS = {
    ContactLevel.executive: "Executives",
    ContactLevel.director_vp: "Directors and VPs",
    ContactLevel.manager: "Managers",
    ContactLevel.end_user: "Individual contributors",
}


def _context(db: Session, actor: Actor) -> dict[str, object]:
    return {
        "kind_words": KIND_WORDS,
        "role_words": {r.value: w for r, w in ROLE_WORDS.items()},
        "level_words": {lv.value: w for lv, w in LEVEL_WORDS.items()},
        "segments": book.segments(db),
        "can_send": actor.role in (UserRole.admin, UserRole.manager),
    }


@router.get("/surveys")
def surveys_page(request: Request, actor: Actor = PageActor, db: Session = DbSession) -> Response:
    return render(
        request,
        "surveys.html",
        {"campaigns": surveys.campaigns(db), **_context(db, actor)},
        db=db,
        json_url="/api/v1/survey-campaigns",
    )


@router.post("/surveys")
def create_campaign_page(
    name: str = Form(..., max_length=200),
    kind: SurveyKind = Form(SurveyKind.nps),
    question: str = Form("", max_length=500),
    segments: list[str] = Form(default_factory=list),
    roles: list[ContactRole] = Form(default_factory=list),
    levels: list[ContactLevel] = Form(default_factory=list),
    min_interval_days: int = Form(90, ge=0, le=3650),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    campaign = surveys.create_campaign(
        db,
        actor,
        name=name,
        kind=kind,
        question=question.strip() or None,
        segments=segments,
        roles=[r.value for r in roles],
        levels=[lv.value for lv in levels],
        min_interval_days=min_interval_days,
    )
    return RedirectResponse(f"/surveys/{campaign.id}", status_code=303)


@router.get("/surveys/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: int,
    sent: int | None = Query(None, ge=0),
    recent: int = Query(0, ge=0),
    linked: int = Query(0, ge=0),
    cursor: str | None = Query(None, max_length=200),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    summary = None if sent is None else surveys.SendSummary(sent, recent, linked)
    view = surveys.campaign_view(db, campaign_id, cursor=cursor)
    return render(
        request,
        "survey_campaign.html",
        {"v": view, "summary": summary, "older": cursor is not None, **_context(db, actor)},
        db=db,
        json_url=f"/api/v1/survey-campaigns/{campaign_id}",
    )


@router.post("/surveys/{campaign_id}/send")
def send_campaign_page(
    request: Request,
    campaign_id: int,
    name: str = Form(..., max_length=200),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    config = playbook_settings()
    summary = surveys.send_campaign(
        db,
        actor,
        name,
        secret_key=request.app.state.settings.signing_key,
        public_url=config.public_url,
        sender=config.mail_from,
    )
    query = (
        f"sent={summary.sent}&recent={summary.skipped_recently_surveyed}"
        f"&linked={summary.skipped_already_linked}"
    )
    return RedirectResponse(f"/surveys/{campaign_id}?{query}", status_code=303)
