"""CTA triage from the console: acknowledge, snooze or close — by the CTA's owner, the account's
editors or an admin — each audited with the CTA before and after."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, can_edit_account
from tenure.errors import Forbidden, InvalidInput, NotFound
from tenure.model import Account, Cta
from tenure.model.cta import CtaOutcome
from tenure.playbooks.schemas import CtaRead

SNOOZE_DAYS = 7


class TriageAction(enum.StrEnum):
    acknowledge = "acknowledge"
    snooze = "snooze"
    close = "close"


class Triage(BaseModel):
    action: TriageAction
    until: date | None = Field(default=None, description="Snooze until (default: a week)")
    outcome: CtaOutcome = CtaOutcome.success
    note: str | None = Field(default=None, max_length=2000)


def triage(session: Session, cta_id: int, data: Triage, actor: Actor, as_of: date) -> CtaRead:
    from tenure.playbooks import service as playbooks

    cta = session.get(Cta, cta_id)
    if cta is None:
        raise NotFound(f"no call to action with id {cta_id}")
    account = session.get(Account, cta.account_id)
    assert account is not None
    if cta.owner_id != actor.id and not can_edit_account(session, actor.user, account):
        raise Forbidden(f"{actor.user.email} may not triage CTAs of {account.name!r}")
    before = audit.snapshot(cta)
    if data.action == TriageAction.acknowledge:
        playbooks.acknowledge(session, cta_id, user_id=actor.id)
    elif data.action == TriageAction.snooze:
        until = data.until or as_of + timedelta(days=SNOOZE_DAYS)
        if until <= as_of:
            raise InvalidInput(f"until: {until} is not after {as_of}")
        playbooks.snooze(session, cta_id, until, user_id=actor.id)
    else:
        playbooks.close(session, cta_id, data.outcome, data.note, on_date=as_of, user_id=actor.id)
    audit.record(
        session,
        actor,
        f"cta.{data.action.value}",
        "cta",
        cta.id,
        before=before,
        after=audit.snapshot(cta),
    )
    return CtaRead.from_row(cta, account.name)
