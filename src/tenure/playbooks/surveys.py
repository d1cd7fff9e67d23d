"""NPS and CSAT campaigns: an audience, one signed link per contact, one answer per link.

A link's token is ``itsdangerous``-signed ``{link id, random nonce}`` with the deployment's secret
key: changing any character breaks the signature, and a valid signature on a link id whose nonce
differs (a forged or stale token) is refused too. The first answer is kept; a second is refused.
No contact is surveyed again within the campaign's ``min_interval_days`` of their last link.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.dates import end_of, utc
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.model import (
    Account,
    Contact,
    SurveyCampaign,
    SurveyKind,
    SurveyLink,
    SurveyResponse,
    UserRole,
)
from tenure.model.base import utcnow
from tenure.playbooks import outbox, webhooks
from tenure.portfolio.records import MOMENT, ROW_ID, Keyset

SALT = "tenure.survey-link"
SCALES = {SurveyKind.nps: (0, 10), SurveyKind.csat: (1, 5)}


def check_surveyor(actor: Actor) -> None:
    """Campaigns write to customers in the company's name: admins and managers."""
    require_role(actor.user, UserRole.admin, UserRole.manager)


def create_campaign(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: SurveyKind,
    question: str | None = None,
    segments: Iterable[str] = (),
    roles: Iterable[str] = (),
    levels: Iterable[str] = (),
    min_interval_days: int = 90,
) -> SurveyCampaign:
    check_surveyor(actor)
    name = name.strip()
    if not name:
        raise InvalidInput("a survey campaign needs a name")
    if session.scalar(sa.select(SurveyCampaign.id).where(SurveyCampaign.name == name)):
        raise Conflict(f"survey campaign {name!r} already exists")
    if min_interval_days < 0:
        raise InvalidInput(f"campaign {name!r}: min_interval_days must be ≥ 0")
    default_question = {
        SurveyKind.nps: "How likely are you to recommend us to a friend or colleague?",
        SurveyKind.csat: "How satisfied are you with our service?",
    }[kind]
    campaign = SurveyCampaign(
        name=name,
        kind=kind,
        question=question or default_question,
        audience={"segments": sorted(segments), "roles": sorted(roles), "levels": sorted(levels)},
        min_interval_days=min_interval_days,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        actor,
        "survey_campaign.create",
        "survey_campaign",
        campaign.id,
        after=audit.snapshot(campaign),
    )
    return campaign


def get_campaign(session: Session, name: str) -> SurveyCampaign:
    campaign = session.scalar(sa.select(SurveyCampaign).where(SurveyCampaign.name == name))
    if campaign is None:
        raise NotFound(f"no survey campaign {name!r}")
    return campaign


def audience(session: Session, campaign: SurveyCampaign, today: date) -> list[Contact]:
    """Current contacts with an email, not opted out of e-mail, whose account segment, roles
    and level match."""
    spec: dict[str, Any] = campaign.audience
    query = (
        sa.select(Contact)
        .join(Account, Account.id == Contact.account_id)
        .where(Contact.email.is_not(None))
        .where(sa.not_(Contact.email_opt_out))
        .where(sa.or_(Contact.left_on.is_(None), Contact.left_on > today))
        .order_by(Contact.id)
    )
    if spec.get("segments"):
        query = query.where(Account.segment.in_(spec["segments"]))
    if spec.get("levels"):
        query = query.where(Contact.level.in_(spec["levels"]))
    contacts = list(session.scalars(query))
    if spec.get("roles"):
        wanted = set(spec["roles"])
        contacts = [c for c in contacts if wanted & set(c.roles or [])]
    return contacts


def token_for(secret_key: str, link: SurveyLink) -> str:
    return str(URLSafeSerializer(secret_key, salt=SALT).dumps({"l": link.id, "n": link.nonce}))


@dataclass
class SendSummary:
    sent: int = 0
    skipped_recently_surveyed: int = 0
    skipped_already_linked: int = 0


def send_campaign(
    session: Session,
    actor: Actor,
    name: str,
    *,
    secret_key: str,
    public_url: str,
    sender: str,
    now: datetime | None = None,
) -> SendSummary:
    """Create a link per audience contact and queue its email (same transaction); admins and
    managers, audited with the counts."""
    check_surveyor(actor)
    now = now or utcnow()
    campaign = get_campaign(session, name)
    summary = SendSummary()
    cutoff = now - timedelta(days=campaign.min_interval_days)
    # Surveyed = sent a link by Tenure, or answered a survey recorded any other way (imports).
    last_sent: dict[int, datetime] = {}
    for contact_id, at in [
        *session.execute(
            sa.select(SurveyLink.contact_id, sa.func.max(SurveyLink.sent_at)).group_by(
                SurveyLink.contact_id
            )
        ),
        *session.execute(
            sa.select(SurveyResponse.contact_id, sa.func.max(SurveyResponse.responded_at))
            .where(SurveyResponse.contact_id.is_not(None))
            .group_by(SurveyResponse.contact_id)
        ),
    ]:
        if at is not None and (contact_id not in last_sent or utc(at) > last_sent[contact_id]):
            last_sent[contact_id] = utc(at)
    linked = set(
        session.scalars(
            sa.select(SurveyLink.contact_id).where(SurveyLink.campaign_id == campaign.id)
        )
    )
    for contact in audience(session, campaign, now.date()):
        if contact.id in linked:
            summary.skipped_already_linked += 1
            continue
        previous = last_sent.get(contact.id)
        if previous is not None and previous > cutoff:
            summary.skipped_recently_surveyed += 1
            continue
        assert contact.account_id is not None and contact.email is not None
        link = SurveyLink(
            campaign_id=campaign.id,
            contact_id=contact.id,
            account_id=contact.account_id,
            nonce=secrets.token_urlsafe(16),
            sent_at=now,
        )
        session.add(link)
        session.flush()
        url = f"{public_url.rstrip('/')}/s/{token_for(secret_key, link)}"
        outbox.enqueue(
            session,
            kind="survey",
            goal=f"Hear how {contact.name or contact.email} rates us ({campaign.kind.value})",
            recipient=contact.email,
            subject=campaign.question,
            body=(
                f"Hello {contact.name or ''},\n\n{campaign.question}\n\n"
                f"Answer in one click (no sign-in needed): {url}\n\n"
                "Your answer goes to your customer success manager.\n"
            ),
            sender=sender,
            dedupe_key=f"survey:{link.id}",
            account_id=contact.account_id,
            now=now,
        )
        summary.sent += 1
    campaign.sent_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "survey_campaign.send",
        "survey_campaign",
        campaign.id,
        after={"name": campaign.name, **asdict(summary)},
    )
    return summary


def resolve(session: Session, secret_key: str, token: str) -> SurveyLink:
    """The link a token stands for; a tampered or forged token is refused."""
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(token)
        link_id, nonce = int(data["l"]), str(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise NotFound("this survey link is not valid (it may have been altered)") from error
    link = session.get(SurveyLink, link_id)
    if link is None or not secrets.compare_digest(link.nonce, nonce):
        raise NotFound("this survey link is not valid (it may have been altered)")
    return link


def answer(
    session: Session,
    secret_key: str,
    token: str,
    score: int,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> SurveyResponse:
    """Record the one answer a link allows, and tell subscribed webhooks."""
    now = now or utcnow()
    link = resolve(session, secret_key, token)
    campaign = session.get_one(SurveyCampaign, link.campaign_id)
    if link.responded_at is not None:
        raise Conflict(f"this survey was already answered on {link.responded_at:%Y-%m-%d}")
    low, high = SCALES[campaign.kind]
    if not low <= score <= high:
        raise InvalidInput(f"score {score}: a {campaign.kind.value} answer is {low} to {high}")
    response = SurveyResponse(
        external_id=f"survey-link-{link.id}",
        account_id=link.account_id,
        contact_id=link.contact_id,
        kind=campaign.kind,
        score=score,
        comment=(comment or "").strip()[:5000] or None,
        responded_at=now,
    )
    session.add(response)
    session.flush()
    link.responded_at = now
    link.response_id = response.id
    account = session.get_one(Account, link.account_id)
    webhooks.emit(
        session,
        "survey.responded",
        {
            "campaign": campaign.name,
            "kind": campaign.kind.value,
            "score": score,
            "comment": response.comment,
            "account": {"id": account.id, "external_id": account.external_id, "name": account.name},
            "contact_id": link.contact_id,
            "summary": f"{campaign.kind.value.upper()} {score} from {account.name}",
        },
        now=now,
    )
    session.flush()
    return response


# --- NPS -----------------------------------------------------------------------------------


class NpsRow(BaseModel):
    group: str
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float


def nps_of(scores: Iterable[int], group: str = "all") -> NpsRow:
    """NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100.

    >>> nps_of([10, 9, 8, 3]).nps  # 2 promoters, 1 detractor of 4: 50 − 25
    25.0
    """
    values = list(scores)
    promoters = sum(s >= 9 for s in values)
    detractors = sum(s <= 6 for s in values)
    n = len(values)
    nps = 100.0 * (promoters - detractors) / n if n else 0.0
    return NpsRow(
        group=group,
        responses=n,
        promoters=promoters,
        passives=n - promoters - detractors,
        detractors=detractors,
        nps=nps,
    )


def nps_report(session: Session, *, by: str, start: date, end: date) -> list[NpsRow]:
    """NPS per account, segment or month over answers dated in [start, end]."""
    if by not in ("account", "segment", "period"):
        raise InvalidInput(f"--by {by!r}: choose account, segment or period")
    rows = session.execute(
        sa.select(Account.name, Account.segment, SurveyResponse.score, SurveyResponse.responded_at)
        .join(Account, Account.id == SurveyResponse.account_id)
        .where(SurveyResponse.kind == SurveyKind.nps)
        .where(SurveyResponse.responded_at >= end_of(start - timedelta(days=1)))
        .where(SurveyResponse.responded_at < end_of(end))
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for name, segment, score, responded_at in rows:
        keys = {"account": name, "segment": segment or "(none)", "period": f"{responded_at:%Y-%m}"}
        key = keys[by]
        groups[key].append(score)
    return [nps_of(scores, group) for group, scores in sorted(groups.items())]


# --- campaigns as the console lists them ----------------------------------------------------


class CampaignRow(BaseModel):
    id: int
    name: str
    kind: SurveyKind
    question: str
    segments: list[str]
    roles: list[str]
    levels: list[str]
    min_interval_days: int
    sent_at: datetime | None
    links: int
    answered: int
    # NPS (−100 to 100) for NPS campaigns, the share of 4–5 answers for CSAT; None: no answer.
    score: float | None


class CampaignAnswer(BaseModel):
    account_id: int
    account_name: str
    contact_name: str | None
    score: int
    comment: str | None
    responded_at: datetime


class CampaignView(BaseModel):
    campaign: CampaignRow
    nps: NpsRow | None  # over every answer
    answers: list[CampaignAnswer]  # the latest, a page at a time
    next_cursor: str | None = None  # the older answers' page, when there are more


def _score(kind: SurveyKind, scores: list[int]) -> float | None:
    if not scores:
        return None
    if kind is SurveyKind.nps:
        return nps_of(scores).nps
    return 100.0 * sum(s >= 4 for s in scores) / len(scores)


def campaigns(session: Session) -> list[CampaignRow]:
    """Every campaign, newest first, with its links sent, answers and score so far."""
    scores: dict[int, list[int]] = defaultdict(list)
    links: dict[int, int] = defaultdict(int)
    for campaign_id, score in session.execute(
        sa.select(SurveyLink.campaign_id, SurveyResponse.score).outerjoin(
            SurveyResponse, SurveyResponse.id == SurveyLink.response_id
        )
    ):
        links[campaign_id] += 1
        if score is not None:
            scores[campaign_id].append(score)
    rows = session.scalars(sa.select(SurveyCampaign).order_by(SurveyCampaign.id.desc()))
    return [_campaign_row(c, links[c.id], scores[c.id]) for c in rows]


def _campaign_row(campaign: SurveyCampaign, links: int, scores: list[int]) -> CampaignRow:
    spec: dict[str, Any] = campaign.audience or {}
    return CampaignRow(
        id=campaign.id,
        name=campaign.name,
        kind=campaign.kind,
        question=campaign.question,
        segments=list(spec.get("segments", [])),
        roles=list(spec.get("roles", [])),
        levels=list(spec.get("levels", [])),
        min_interval_days=campaign.min_interval_days,
        sent_at=campaign.sent_at,
        links=links,
        answered=len(scores),
        score=_score(campaign.kind, scores),
    )


# Answers a campaign's page and /api/v1/survey-campaigns/{id} show at once, latest first: a
# quarterly NPS to every champion of 10,000 accounts gets thousands.
ANSWERS_SHOWN = 100
ANSWER_KEYS = Keyset(MOMENT, ROW_ID)


def campaign_view(
    session: Session, campaign_id: int, *, limit: int = ANSWERS_SHOWN, cursor: str | None = None
) -> CampaignView:
    """One campaign with its score over every answer so far, and ``limit`` answers, latest
    first, after the ``cursor`` a previous view returned as ``next_cursor``."""
    campaign = session.get(SurveyCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no survey campaign with id {campaign_id}")
    answered = (
        sa.select(SurveyResponse.score)
        .join(SurveyLink, SurveyLink.response_id == SurveyResponse.id)
        .where(SurveyLink.campaign_id == campaign_id)
    )
    query = (
        answered.with_only_columns(SurveyResponse, Account.name, Contact.name, Contact.email)
        .join(Account, Account.id == SurveyResponse.account_id)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .order_by(SurveyResponse.responded_at.desc(), SurveyResponse.id.desc())
    )
    rows, next_cursor = ANSWER_KEYS.page(
        lambda after, n: list(session.execute(query.where(*_before(after)).limit(n)).all()),
        lambda row: (row[0].responded_at, row[0].id),
        limit=limit,
        cursor=cursor,
    )
    links = session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyLink)
        .where(SurveyLink.campaign_id == campaign_id)
    )
    scores = list(session.scalars(answered))
    return CampaignView(
        campaign=_campaign_row(campaign, int(links or 0), scores),
        nps=nps_of(scores) if campaign.kind is SurveyKind.nps and scores else None,
        answers=[
            CampaignAnswer(
                account_id=r.account_id,
                account_name=account,
                contact_name=name or email,
                score=r.score,
                comment=r.comment,
                responded_at=r.responded_at,
            )
            for r, account, name, email in rows
        ],
        next_cursor=next_cursor,
    )


def _before(key: tuple[Any, ...] | None) -> list[sa.ColumnElement[bool]]:
    """Answers after the key's in the view's order (latest first, then the higher id)."""
    if key is None:
        return []
    at, id_ = key
    return [
        sa.or_(
            SurveyResponse.responded_at < at,
            sa.and_(SurveyResponse.responded_at == at, SurveyResponse.id < id_),
        )
    ]
