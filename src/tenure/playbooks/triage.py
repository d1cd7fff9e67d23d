"""People act on calls to action: acknowledge, snooze, close, tick a step off.

One service for every surface (CLI, API, console page): the CTA's owner, the account's editors
(owner, account team, their manager) or an admin may act, and each change is audited with the
CTA before and after. The day of the change is ``as_of``, the day the data is read as of (see
``tenure.as_of``): the daily run judges cooldowns and wakes snoozed CTAs on
that calendar, so a CTA closed or snoozed from any surface counts on the same day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, account_owners, can_edit_account, editable_accounts
from tenure.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenure.model import Account, Cta, CtaStatus, User
from tenure.model.base import utcnow
from tenure.playbooks.schemas import CtaRead, Triage, TriageAction
from tenure.playbooks.service import close_cta, get_cta, record_event

SNOOZE_DAYS = 7
# The furthest a snooze may reach: a CTA put away for longer is work nobody will see again.
SNOOZE_MAX_DAYS = 90


def snooze_range(as_of: date) -> tuple[date, date, date]:
    """The days a snooze may pick on the data day ``as_of``: the first, the default (a week
    later) and the last."""
    return (
        as_of + timedelta(days=1),
        as_of + timedelta(days=SNOOZE_DAYS),
        as_of + timedelta(days=SNOOZE_MAX_DAYS),
    )


def may_triage(session: Session, user: User, cta: Cta) -> bool:
    """Whether ``user`` may act on the CTA: its owner, or an editor of its account. The pages ask
    this before they offer the buttons, so nobody is offered what would be refused."""
    account = session.get_one(Account, cta.account_id)
    return cta.owner_id == user.id or can_edit_account(session, user, account)


def triageable(session: Session, user: User, ctas: Sequence[CtaRead]) -> list[int]:
    """The ids of these CTAs ``user`` may act on (:func:`may_triage`), for a list's buttons: two
    statements at most for the list."""
    others = {c.account_id for c in ctas if c.owner_id != user.id}
    editable = editable_accounts(session, user, account_owners(session, others))
    return [c.id for c in ctas if c.owner_id == user.id or c.account_id in editable]


def _actionable(session: Session, cta_id: int, actor: Actor) -> tuple[Cta, Account]:
    """The CTA and its account, once the actor may act on it and it is still open."""
    cta = get_cta(session, cta_id)
    account = session.get_one(Account, cta.account_id)
    if not may_triage(session, actor.user, cta):
        raise Forbidden(f"{actor.user.email} may not triage CTAs of {account.name!r}")
    if cta.status == CtaStatus.closed:
        raise Conflict(f"CTA {cta.id} is closed ({cta.outcome}); nothing to change")
    return cta, account


def triage(session: Session, cta_id: int, data: Triage, actor: Actor, as_of: date) -> CtaRead:
    """Acknowledge, snooze (``until``, default a week after ``as_of``) or close a CTA."""
    cta, account = _actionable(session, cta_id, actor)
    before = audit.snapshot(cta)
    now = utcnow()
    if data.action == TriageAction.acknowledge:
        _acknowledge(session, cta, as_of, now, actor)
    elif data.action == TriageAction.snooze:
        _snooze(session, cta, data.until or as_of + timedelta(days=SNOOZE_DAYS), as_of, now, actor)
    else:
        close_cta(session, cta, data.outcome, data.note, as_of, now, user_id=actor.id)
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


def complete_step(
    session: Session, cta_id: int, position: int, actor: Actor, as_of: date
) -> CtaRead:
    """Tick a playbook step off (acknowledging the CTA: someone is working on it)."""
    cta, account = _actionable(session, cta_id, actor)
    step = next((s for s in cta.steps if s.position == position), None)
    if step is None:
        raise NotFound(f"CTA {cta_id} has no step {position} (it has {len(cta.steps)})")
    before = audit.snapshot(cta)
    now = utcnow()
    if step.done_at is None:
        step.done_at = now
        cta.acknowledged_at = cta.acknowledged_at or now
        if cta.status == CtaStatus.open:
            cta.status = CtaStatus.in_progress
        record_event(session, cta, "step_done", as_of, now, {"position": position}, actor.id)
    session.flush()
    after = audit.snapshot(cta)
    audit.record(session, actor, "cta.step_done", "cta", cta.id, before=before, after=after)
    return CtaRead.from_row(cta, account.name)


def _acknowledge(session: Session, cta: Cta, as_of: date, now: datetime, actor: Actor) -> None:
    if cta.acknowledged_at is None:
        cta.acknowledged_at = now
        cta.status = CtaStatus.in_progress
        record_event(session, cta, "acknowledged", as_of, now, user_id=actor.id)
    session.flush()


def _snooze(
    session: Session, cta: Cta, until: date, as_of: date, now: datetime, actor: Actor
) -> None:
    if until <= as_of:
        raise InvalidInput(
            f"until: snooze to a day after {as_of} (the day the data is read as of), not {until}"
        )
    latest = snooze_range(as_of)[2]
    if until > latest:
        raise InvalidInput(
            f"until: snooze for at most {SNOOZE_MAX_DAYS} days (to {latest} at the latest), "
            f"not to {until}; close the CTA if there is nothing to do"
        )
    cta.status = CtaStatus.snoozed
    cta.snoozed_until = until
    cta.acknowledged_at = cta.acknowledged_at or now
    detail = {"until": until.isoformat()}
    record_event(session, cta, "snoozed", as_of, now, detail, actor.id)
    session.flush()
