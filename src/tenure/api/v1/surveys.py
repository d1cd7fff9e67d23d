"""/api/v1/survey-campaigns: NPS and CSAT campaigns — the JSON twins of the console's Surveys
pages and of `tenure surveys create|send` (the same service functions; admins and managers create
and send)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session
from tenure.model import ContactLevel, ContactRole, SurveyKind
from tenure.playbooks import surveys
from tenure.playbooks.config import playbook_settings

router = APIRouter(tags=["surveys"], responses=ERRORS)


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: SurveyKind = SurveyKind.nps
    question: str | None = Field(default=None, max_length=500)
    segments: list[str] = Field(default_factory=list, description="Account segments; [] = all")
    roles: list[ContactRole] = Field(default_factory=list, description="Contact roles; [] = all")
    levels: list[ContactLevel] = Field(default_factory=list, description="Levels; [] = all")
    min_interval_days: int = Field(default=90, ge=0, le=3650)


class SendResult(BaseModel):
    sent: int = Field(description="Invitations queued in the outbox")
    skipped_recently_surveyed: int
    skipped_already_linked: int


@router.get(
    "/survey-campaigns", response_model=list[surveys.CampaignRow], summary="Survey campaigns"
)
def list_campaigns(actor: Actor = CurrentActor, db: Session = Db) -> list[surveys.CampaignRow]:
    return surveys.campaigns(db)


@router.get("/survey-campaigns/{campaign_id}", response_model=surveys.CampaignView)
def get_campaign(
    campaign_id: int,
    limit: int = Query(surveys.ANSWERS_SHOWN, ge=1, le=500, description="Answers per page"),
    cursor: str | None = Query(None, max_length=200, description="The previous next_cursor"),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> surveys.CampaignView:
    """One campaign with its score over every answer so far, and its answers, latest first, a
    page at a time."""
    return surveys.campaign_view(db, campaign_id, limit=limit, cursor=cursor)


@router.post("/survey-campaigns", response_model=surveys.CampaignRow, status_code=201)
def create_campaign(
    body: CampaignCreate, actor: Actor = CurrentActor, db: Session = Db
) -> surveys.CampaignRow:
    campaign = surveys.create_campaign(
        db,
        actor,
        name=body.name,
        kind=body.kind,
        question=body.question,
        segments=body.segments,
        roles=[r.value for r in body.roles],
        levels=[lv.value for lv in body.levels],
        min_interval_days=body.min_interval_days,
    )
    return surveys.campaign_view(db, campaign.id).campaign


@router.post("/survey-campaigns/{campaign_id}/send", response_model=SendResult)
def send_campaign(
    request: Request, campaign_id: int, actor: Actor = CurrentActor, db: Session = Db
) -> SendResult:
    """A signed one-click link per audience contact, each e-mail queued in the outbox."""
    config = playbook_settings()
    name = surveys.campaign_view(db, campaign_id).campaign.name
    summary = surveys.send_campaign(
        db,
        actor,
        name,
        secret_key=request.app.state.settings.signing_key,
        public_url=config.public_url,
        sender=config.mail_from,
    )
    return SendResult(**summary.__dict__)
