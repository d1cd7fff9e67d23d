"""Account 360: everything about one account on one page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import active_on
from tenure.accounts.service import get_account
from tenure.accounts.words import custom_fields
from tenure.auth.permissions import can_edit_account
from tenure.health.schemas import AccountScore
from tenure.model import AccountOwnership, Contact, Contract, ContractStatus, SourceIdentity, User
from tenure.portfolio import signals
from tenure.portfolio.families import family_rollup, member
from tenure.portfolio.forecast import categorize
from tenure.portfolio.renewals import renewals_due
from tenure.portfolio.risk_story import RiskInputs, RiskStory, risk_story
from tenure.portfolio.rows import account_row, full_rows
from tenure.portfolio.schemas import (
    Account360,
    AccountRow,
    ArrPoint,
    ContactCard,
    ContractLine,
    KnownAs,
    OwnershipSpan,
)
from tenure.portfolio.team import team_seats
from tenure.portfolio.timeline import timeline
from tenure.risk.schemas import ChurnRiskRead
from tenure.words import measure_text


def _relationship_order(contact: Contact) -> tuple[bool, bool, str]:
    key_role = bool({"champion", "sponsor"} & set(contact.roles or []))
    return (not key_role, contact.left_on is None, (contact.name or "").lower())


def _managers(session: Session, contacts: Sequence[Contact]) -> dict[int, str]:
    """Whom each contact reports to, by name (a manager may be at another account: a parent)."""
    ids = {c.reports_to_id for c in contacts if c.reports_to_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Contact.id, Contact.name, Contact.email).where(Contact.id.in_(ids))
    )
    return {id_: name or email or f"contact {id_}" for id_, name, email in rows}


SYSTEM_NAMES = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "stripe": "Stripe",
    "product": "Product",
    "domain": "Web domain",
    "tenure": "a Tenure file",
}


def known_as(session: Session, account_id: int) -> list[KnownAs]:
    """The account's ids in other systems, in plain words, the CRM's first."""
    rows = session.scalars(
        sa.select(SourceIdentity)
        .where(SourceIdentity.account_id == account_id)
        .order_by(SourceIdentity.id)
    )
    return [
        KnownAs(
            system=SYSTEM_NAMES.get(i.system.value, i.system.value),
            value=i.value,
            given_by=SYSTEM_NAMES.get(i.given_by, i.given_by) if i.given_by else None,
            recorded_on=i.created_at.date(),
        )
        for i in rows
    ]


LEVEL_ORDER = ["executive", "director_vp", "manager", "end_user", "unknown"]


def account_360(session: Session, account_id: int, user: User, as_of: date) -> Account360:
    account = get_account(session, account_id)
    health = signals.account_health(session, account)
    contacts = session.scalars(
        sa.select(Contact).where(Contact.account_id == account_id).order_by(Contact.name)
    ).all()
    by_level: dict[str, list[ContactCard]] = {level: [] for level in LEVEL_ORDER}
    managers = _managers(session, contacts)
    # Champions and sponsors first, then who left, then everyone else by name.
    for contact in sorted(contacts, key=_relationship_order):
        level = contact.level.value if contact.level else "unknown"
        card = ContactCard.model_validate(contact)
        if contact.reports_to_id is not None:
            card.reports_to = managers.get(contact.reports_to_id)
        by_level[level].append(card)
    contracts = session.scalars(
        sa.select(Contract).where(Contract.account_id == account_id).order_by(Contract.starts_on)
    ).all()
    ownership = session.execute(
        sa.select(AccountOwnership, User.name)
        .outerjoin(User, User.id == AccountOwnership.user_id)
        .where(AccountOwnership.account_id == account_id)
        .order_by(AccountOwnership.started_at)
    ).all()
    # One rate table for every figure of the page (the row, its family, its parent, its CTAs).
    table = fx_service.rate_table(session, on=as_of)
    row = account_row(session, account_id, as_of, table)
    churn_risk = signals.account_risk(session, account)
    return Account360(
        account=row,
        industry=account.industry,
        region=account.region,
        country=account.country,
        employee_count=account.employee_count,
        created_on=account.created_on,
        onboarded_on=account.onboarded_on,
        contacts_by_level={k: v for k, v in by_level.items() if v},
        known_as=known_as(session, account_id),
        fields=custom_fields(account.custom),
        rollup=family_rollup(session, account_id, as_of, table),
        parent=member(full_rows(session, [account.parent_id], as_of, table)[0])
        if account.parent_id
        else None,
        contracts=[
            ContractLine.model_validate(
                {
                    **{k: getattr(c, k) for k in ContractLine.model_fields},
                    "billing_period": c.billing_period.value,
                    "status": c.status.value,
                    "renewal_outcome": c.renewal_outcome.value if c.renewal_outcome else None,
                }
            )
            for c in contracts
        ],
        arr_history=arr_history(contracts, as_of),
        arr_history_currency=contracts[-1].currency if contracts else None,
        timeline=timeline(session, account_id),
        ownership=[
            OwnershipSpan(
                user_id=o.user_id, user_name=name, started_at=o.started_at, ended_at=o.ended_at
            )
            for o, name in ownership
        ],
        team=team_seats(session, account_id),
        can_edit=can_edit_account(session, user, account),
        health=health,
        health_history=signals.health_history(session, account_id, health) if health else [],
        churn_risk=churn_risk,
        risk_story=account_risk_story(session, row, health, churn_risk, as_of),
        usage_history=signals.usage_history(session, account_id),
        stage=signals.account_stage(session, account_id),
        open_ctas=signals.open_ctas(session, account_id, as_of, table),
        success_plan=signals.success_plan(session, account, as_of),
        desired_outcome=signals.desired_outcome(session, account, as_of),
    )


def account_risk_story(
    session: Session,
    row: AccountRow,
    health: AccountScore | None,
    churn: ChurnRiskRead | None,
    as_of: date,
) -> RiskStory:
    """The health, churn probability and next renewal's outlook of the account, as one story."""
    due = renewals_due(session, None, None, as_of, as_of + timedelta(days=730), accounts=[row.id])
    renewal = min(due, key=lambda d: d.renewal.renewal_on).renewal if due else None
    outlook = categorize(renewal) if renewal else None
    drags = sorted(
        (m for m in health.measures if m.points < m.max_points) if health else [],
        key=lambda m: (m.points - m.max_points, m.name),
    )
    return risk_story(
        RiskInputs(
            health_score=health.score if health else None,
            health_band=health.band if health else None,
            probability=churn.churn_probability if churn else None,
            window=churn.churn_window if churn else None,
            horizon_days=churn.horizon_days
            if churn and churn.renewal_probability is None
            else None,
            in_alert_set=churn.in_alert_set if churn else False,
            renewal_on=renewal.renewal_on if renewal else row.renewal_on,
            days_to_renewal=(renewal.renewal_on - as_of).days if renewal else row.days_to_renewal,
            booked=renewal.booked if renewal else False,
            outlook=outlook[0].value if outlook else None,
            outlook_reason=outlook[1] if outlook else None,
            reasons=churn.reasons if churn else (),
            health_drags=[measure_text(m.name, m.shown, m.points, m.max_points) for m in drags[:3]],
        )
    )


def arr_history(contracts: Sequence[Contract], as_of: date) -> list[ArrPoint]:
    """ARR in force on each day a contract starts or ends, up to ``as_of``: a step series.

    ARR on each day is tenure.accounts.arr's (pending terms left out, a cancelled one counted
    through its outcome day, a renewal handed over on its anniversary counted once), in the
    currency of the latest contract only (ARR is never added across currencies).
    The series ends on ``as_of`` with the ARR in force then: a term ending later is not a loss
    yet. Example, as of 2025-06-30: 100 from Jan–Dec 2024 then 120 from Jan 2025 →
    (2024-01-01, 100), (2025-01-01, 120), (2025-06-30, 120).
    """
    if not contracts:
        return []
    currency = max(contracts, key=lambda c: (c.starts_on, c.id)).currency
    # Pending terms never count, so their dates are no change days.
    terms = [c for c in contracts if c.currency == currency and c.status != ContractStatus.pending]
    changes = {c.starts_on for c in terms} | {c.ends_on + timedelta(days=1) for c in terms}
    changes |= {
        c.outcome_on + timedelta(days=1)
        for c in terms
        if c.status == ContractStatus.cancelled and c.outcome_on
    }
    days = sorted({day for day in changes if day < as_of} | {as_of})
    return [
        ArrPoint(on=day, arr=round(sum(float(c.arr) for c in active_on(terms, day)), 2))
        for day in days
    ]
