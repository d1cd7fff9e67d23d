"""The day's alert events, found in what is stored: health turned red, churn risk crossing the
threshold (or entering the model's alert set), a champion who left, a CTA assigned. Whether an
event was alerted already, and where it goes, is the alerts service's business.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import (
    Account,
    ChurnRiskScore,
    Contact,
    Cta,
    CtaEvent,
    CtaStatus,
    HealthScore,
    User,
)
from tenure.playbooks.alerts import (
    AlertEvent,
    CtaFacts,
    champion_left_event,
    cta_assigned_event,
    health_red_event,
    risk_crossed_event,
)
from tenure.playbooks.rules import Ruleset

# A champion's departure or a CTA's assignment found up to this many days late (a sync that
# brought it in after the day) still alerts, once.
LOOKBACK_DAYS = 7
RED = "red"


def find_events(
    session: Session,
    as_of: date,
    kinds: Sequence[str],
    *,
    risk_threshold: float | None,
    assigned_since: datetime | None,
    ruleset: Ruleset | None = None,
) -> list[AlertEvent]:
    """Every event of the chosen kinds on ``as_of`` (or, for departures and assignments, in the
    days before it), whether or not it was alerted already. CTAs assigned before
    ``assigned_since`` (when Slack was connected) were not news to anyone then."""
    owners = _owner_emails(session)
    finders: dict[str, Callable[[], list[AlertEvent]]] = {
        "health_red": lambda: _health_red(session, as_of, owners),
        "risk_crossed": lambda: _risk_crossed(session, as_of, risk_threshold, owners),
        "champion_left": lambda: _champions_left(session, as_of, owners),
        "cta_assigned": lambda: ctas_assigned(session, as_of, ruleset, assigned_since),
    }
    return [event for kind in kinds for event in finders[kind]()]


@dataclass(frozen=True)
class _Owners:
    by_account: dict[int, tuple[str, str | None]]  # account id → (name, owner's e-mail)


def _owner_emails(session: Session) -> _Owners:
    rows = session.execute(
        sa.select(Account.id, Account.name, User.email).outerjoin(
            User, sa.and_(User.id == Account.owner_id, User.is_active.is_(True))
        )
    )
    return _Owners({account_id: (name, email) for account_id, name, email in rows})


def _previous_rows(
    session: Session, model: Any, as_of: date, account_ids: Sequence[int], *extra: Any
) -> dict[int, Any]:
    """Each account's latest row of ``model`` before ``as_of`` (with ``extra`` conditions)."""
    if not account_ids:
        return {}
    latest = (
        sa.select(model.account_id, sa.func.max(model.as_of).label("day"))
        .where(model.as_of < as_of, model.account_id.in_(account_ids), *extra)
        .group_by(model.account_id)
        .subquery()
    )
    rows = session.scalars(
        sa.select(model)
        .join(latest, sa.and_(model.account_id == latest.c.account_id, model.as_of == latest.c.day))
        .where(*extra)
    )
    return {row.account_id: row for row in rows}


def _health_red(session: Session, as_of: date, owners: _Owners) -> list[AlertEvent]:
    today = list(
        session.scalars(
            sa.select(HealthScore).where(HealthScore.as_of == as_of, HealthScore.band == RED)
        )
    )
    before = _previous_rows(session, HealthScore, as_of, [s.account_id for s in today])
    events = []
    for score in today:
        previous = before.get(score.account_id)
        if previous is None or previous.band == RED:  # red already, or a first score
            continue
        name, email = owners.by_account.get(score.account_id, (str(score.account_id), None))
        events.append(
            health_red_event(
                score.account_id,
                name,
                as_of,
                score.score,
                previous.score,
                previous.band,
                score.measures,
                email,
            )
        )
    return events


def _risk_crossed(
    session: Session, as_of: date, threshold: float | None, owners: _Owners
) -> list[AlertEvent]:
    """Accounts whose churn risk rose past the threshold since their previous score (same model
    version), or, without a threshold, that entered the model's alert set. A model's first day
    alerts nobody: there is no previous score to have crossed from."""
    rose = (
        ChurnRiskScore.in_alert_set
        if threshold is None
        else ChurnRiskScore.probability >= threshold
    )
    today = list(
        session.scalars(sa.select(ChurnRiskScore).where(ChurnRiskScore.as_of == as_of, rose))
    )
    events = []
    for version in {s.model_version for s in today}:
        scores = [s for s in today if s.model_version == version]
        before = _previous_rows(
            session,
            ChurnRiskScore,
            as_of,
            [s.account_id for s in scores],
            ChurnRiskScore.model_version == version,
        )
        for score in scores:
            previous = before.get(score.account_id)
            if previous is None or (
                previous.in_alert_set if threshold is None else previous.probability >= threshold
            ):
                continue
            name, email = owners.by_account.get(score.account_id, (str(score.account_id), None))
            events.append(
                risk_crossed_event(
                    score.account_id,
                    name,
                    as_of,
                    score.probability,
                    previous.probability,
                    threshold,
                    score.reasons,
                    score.next_renewal_on,
                    email,
                )
            )
    return events


def _champions_left(session: Session, as_of: date, owners: _Owners) -> list[AlertEvent]:
    rows = session.scalars(
        sa.select(Contact).where(
            Contact.left_on <= as_of,
            Contact.left_on > as_of - timedelta(days=LOOKBACK_DAYS),
            Contact.account_id.is_not(None),
        )
    )
    events = []
    for contact in rows:
        account_id = contact.account_id
        if "champion" not in (contact.roles or []) or contact.left_on is None or not account_id:
            continue
        name, email = owners.by_account.get(account_id, (str(account_id), None))
        events.append(
            champion_left_event(
                account_id,
                name,
                contact.id,
                contact.name or contact.email or f"contact {contact.id}",
                contact.title,
                contact.left_on,
                email,
            )
        )
    return events


def ctas_assigned(
    session: Session,
    as_of: date,
    ruleset: Ruleset | None,
    since: datetime | None,
    cta_ids: Collection[int] | None = None,
) -> list[AlertEvent]:
    """Open CTAs created with an owner, or reassigned, in the last days (and since Slack was
    connected): the owner's alert. ``cta_ids``: only those (the ones just handed over)."""
    rows = session.execute(
        sa.select(Cta, CtaEvent.kind, Account.name, User.name, User.email)
        .join(CtaEvent, CtaEvent.cta_id == Cta.id)
        .join(Account, Account.id == Cta.account_id)
        .join(User, User.id == Cta.owner_id)
        .where(
            CtaEvent.kind.in_(("created", "reassigned")),
            CtaEvent.on_date <= as_of,
            CtaEvent.on_date > as_of - timedelta(days=LOOKBACK_DAYS),
            Cta.status == CtaStatus.open,
            *([CtaEvent.at >= since] if since is not None else []),
            *([Cta.id.in_(cta_ids)] if cta_ids is not None else []),
        )
        .order_by(Cta.id, CtaEvent.id)
    )
    latest: dict[int, AlertEvent] = {}
    for cta, kind, account_name, owner_name, owner_email in rows:
        goal, next_step, description = _playbook_words(cta, ruleset)
        facts = CtaFacts(
            id=cta.id,
            title=cta.title,
            priority=cta.priority.value,
            due_on=cta.due_on,
            owner_id=int(cta.owner_id or 0),
            owner_name=owner_name,
            owner_email=owner_email,
            reason=cta.reason,
            facts=cta.facts,
            description=description,
            goal=goal,
            next_step=next_step,
            reassigned=kind == "reassigned",
        )
        latest[cta.id] = cta_assigned_event(cta.account_id, account_name, facts)
    return list(latest.values())


def _playbook_words(cta: Cta, ruleset: Ruleset | None) -> tuple[str | None, str | None, str]:
    """The goal of the CTA's playbook (its first step with one), its next open step, and the
    rule's description — the words the CTA's page shows."""
    next_step = next((s.title for s in cta.steps if s.done_at is None), None)
    if ruleset is None:
        return None, next_step, ""
    rule = next((r for r in ruleset.rules if r.key == cta.rule_key), None)
    if rule is None:
        return None, next_step, ""
    goal = next((step.goal for step in rule.playbook if step.goal), None)
    return goal, next_step, rule.description
