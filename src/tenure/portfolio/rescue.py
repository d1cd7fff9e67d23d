"""The rescue CTA: anyone on the account team — sales and support included — or any manager or
admin asks the owner to step in on an account, with a reason.

Sales and support people are csm-role users who own no accounts; they see the same health and
risk as the CSM, and this is how they raise the alarm. The request goes through the playbooks'
own path (rule → firing → plan → CTA): one open rescue CTA per account (a second request while one
is open is deduplicated and added to its history), owned by the account's owner, ranked by the
account's ARR at risk, and recorded as a rule evaluation like every other CTA.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor
from tenure.errors import Conflict, Forbidden
from tenure.model import Account, AccountTeamMember, Cta, CtaEvent, UserRole
from tenure.model.cta import CtaPriority, CtaType
from tenure.playbooks.ctas import AccountContext, dedupe_key
from tenure.playbooks.facts import FactsTable
from tenure.playbooks.rules import Condition, PlaybookStep, Rule, Ruleset, RulesetSettings, Trigger
from tenure.playbooks.schemas import CtaRead
from tenure.portfolio import signals

RESCUE_RULE = Rule(
    key="rescue_request",
    name="Rescue requested by the account team",
    description="Sales or support asked the owner to step in (opened by hand, not by rules).",
    type=CtaType.risk,
    priority=CtaPriority.high,
    when=Trigger(all=(Condition(fact="rescue_requested", op="==", value=True),)),
    due_in_days=3,
    # A new request right after a close is a new alarm: no cooldown, and never closed by itself.
    cooldown_days=0,
    auto_close=False,
    playbook=(
        PlaybookStep(title="Talk to whoever raised it: what did they see?", due_offset_days=0),
        PlaybookStep(
            title="Call the champion or sponsor and agree a recovery step",
            due_offset_days=2,
            template="risk_outreach",
            goal="Learn what went wrong for the customer and agree one step to recover",
        ),
    ),
)
# A request is never held back by the daily cap: a person asked for it.
RESCUE_RULESET = Ruleset(settings=RulesetSettings(daily_cap_per_csm=None), rules=(RESCUE_RULE,))


class RescueRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="What the requester saw")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("say what you saw: the reason is what the owner acts on")
        return reason.strip()


class RescueResult(BaseModel):
    cta: CtaRead
    created: bool  # False: a rescue CTA was already open; the request joined its history


def team_role(session: Session, actor: Actor, account: Account) -> str | None:
    """The actor's seat on the account team ('owner' for the owner), None when off the team."""
    if account.owner_id == actor.id:
        return "owner"
    role = session.scalar(
        sa.select(AccountTeamMember.role).where(
            AccountTeamMember.account_id == account.id, AccountTeamMember.user_id == actor.id
        )
    )
    return role.value if role else None


def can_request_rescue(session: Session, actor: Actor, account: Account) -> bool:
    if actor.role in (UserRole.admin, UserRole.manager):
        return True
    # Anyone who sits on the account (CSM, sales, services) may ask for the rescue.
    on_team = (UserRole.csm, UserRole.sales, UserRole.services)
    return actor.role in on_team and team_role(session, actor, account) is not None


def _context(session: Session, account: Account) -> AccountContext:
    risk = signals.account_risk(session, account)
    return AccountContext(
        account_id=account.id,
        external_id=account.external_id,
        owner_id=account.owner_id,
        arr_at_risk=float(risk.arr_at_risk) if risk and risk.arr_at_risk else 0.0,
        currency=risk.currency if risk else None,
    )


def request_rescue(
    session: Session,
    account_id: int,
    data: RescueRequest,
    actor: Actor,
    as_of: date,
    now: datetime,
) -> RescueResult:
    from tenure.playbooks.service import apply_rules

    account = get_account(session, account_id)
    if not can_request_rescue(session, actor, account):
        raise Forbidden(
            f"{actor.user.email} ({actor.role.value}) may not open a rescue CTA on "
            f"{account.name!r}: only its account team, managers and admins can"
        )
    seat = team_role(session, actor, account) or actor.role.value
    requested = f"Rescue requested by {actor.user.name} ({seat.replace('_', ' ')}): {data.reason}"
    facts = FactsTable(
        as_of=as_of,
        facts={account.id: {"rescue_requested": True}},
        accounts={account.id: _context(session, account)},
    )
    counts = apply_rules(session, RESCUE_RULESET, facts, now=now)
    cta = session.scalar(
        sa.select(Cta).where(Cta.open_key == dedupe_key(RESCUE_RULE.key, account.id))
    )
    if cta is None:  # today's rescue CTA was opened and already closed: today is decided
        raise Conflict(
            f"a rescue CTA on {account.name!r} was opened and closed today; "
            "reopen the conversation with the owner, or ask again tomorrow"
        )
    created = counts["created"] == 1
    request = {"by": actor.user.email, "seat": seat, "reason": data.reason}
    if created:
        # The reason a person gave, not the trigger's "rescue_requested = True".
        cta.reason = requested
        cta.facts = [{"fact": "rescue_request", **request}]
    else:
        session.add(
            CtaEvent(
                cta_id=cta.id,
                kind="rescue_requested",
                on_date=as_of,
                at=now,
                user_id=actor.id,
                detail=request,
            )
        )
    session.flush()
    audit.record(
        session,
        actor,
        "cta.rescue_request",
        "cta",
        cta.id,
        after={**request, "created": created, "owner_id": cta.owner_id},
    )
    return RescueResult(cta=CtaRead.from_row(cta, account.name), created=created)
