"""One call to action as its page shows it: the goal, why it was raised (in words), the playbook
steps with who ticked them off, the history, and what the reader may do with it.

The console's CTA page, ``GET /api/v1/ctas/{id}/detail`` and ``tenure ctas show`` render this one
object. Reading it changes nothing; acting on it goes through :mod:`tenure.playbooks.triage`,
which answers the same ``may_act`` question before it changes anything.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.model import Account, CtaEvent, CtaStatus, User
from tenure.playbooks.rules import Ruleset
from tenure.playbooks.schemas import CtaDetail, CtaHistoryEntry, CtaRead, CtaStepView
from tenure.playbooks.service import get_cta
from tenure.playbooks.triage import may_triage, snooze_range
from tenure.playbooks.wording import cta_goal, history_text, outcome_text, why_text


def cta_detail(
    session: Session, ruleset: Ruleset, cta_id: int, user: User, as_of: date
) -> CtaDetail:
    """The CTA ``cta_id`` read by ``user`` on the data day ``as_of``."""
    cta = get_cta(session, cta_id)
    account = session.get_one(Account, cta.account_id)
    events = session.scalars(
        sa.select(CtaEvent).where(CtaEvent.cta_id == cta.id).order_by(CtaEvent.at, CtaEvent.id)
    ).all()
    people = {cta.owner_id, cta.escalated_to_id} | {e.user_id for e in events}
    people |= {e.detail.get("to_user_id") for e in events if isinstance(e.detail, dict)}
    ids = [p for p in people if isinstance(p, int)]
    names = dict(session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
    rule = next((r for r in ruleset.rules if r.key == cta.rule_key), None)
    ticked = {
        int(e.detail.get("position", 0)): e for e in events if e.kind == "step_done" and e.detail
    }
    steps = []
    for step in cta.steps:
        done = ticked.get(step.position)
        goal = None
        if rule is not None and step.position <= len(rule.playbook):
            goal = rule.playbook[step.position - 1].goal
        steps.append(
            CtaStepView(
                position=step.position,
                title=step.title,
                due_on=step.due_on,
                goal=goal,
                done=step.done_at is not None,
                done_on=done.on_date if done else (step.done_at.date() if step.done_at else None),
                done_by=names.get(done.user_id) if done and done.user_id else None,
                overdue=step.done_at is None
                and cta.status != CtaStatus.closed
                and step.due_on < as_of,
            )
        )
    snooze_from, snooze_default, snooze_to = snooze_range(as_of)
    may_act = cta.status != CtaStatus.closed and may_triage(session, user, cta)
    return CtaDetail(
        cta=CtaRead.from_row(cta, account.name).in_reporting_currency(
            fx_service.rate_table(session, on=as_of), as_of
        ),
        as_of=as_of,
        goal=cta_goal(cta.kind.value),
        rule_name=rule.name if rule else cta.rule_key.replace("_", " ").capitalize(),
        rule_description=rule.description if rule else "",
        why=why_text(cta.facts) or cta.reason,
        owner_name=names.get(cta.owner_id) if cta.owner_id else None,
        escalated_to_name=names.get(cta.escalated_to_id) if cta.escalated_to_id else None,
        outcome_words=outcome_text(cta.outcome.value) if cta.outcome else None,
        steps=steps,
        history=[
            CtaHistoryEntry(
                on_date=e.on_date,
                at=e.at,
                by=names.get(e.user_id) if e.user_id else None,
                text=history_text(e.kind, e.detail or {}, names),
            )
            for e in reversed(events)
        ],
        may_act=may_act,
        snooze_from=snooze_from,
        snooze_default=snooze_default,
        snooze_to=snooze_to,
    )
