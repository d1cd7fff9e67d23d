"""Typed factories with keyword defaults: each builds one row, flushes it and returns it."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tenure.auth.passwords import hash_password
from tenure.model import (
    Account,
    ChurnRiskScore,
    Contact,
    Contract,
    ContractStatus,
    Cta,
    HealthScore,
    RenewalOutcome,
    SurveyKind,
    SurveyResponse,
    User,
    UserRole,
)

PASSWORD = "correct-horse-9"  # every factory user's; sign in with tests.web.factories.sign_in


@functools.cache
def _password_hash() -> str:
    # One hash for every test user: Argon2 is deliberately slow, and tests create many users.
    return hash_password(PASSWORD)


def user(
    session: Session,
    *,
    email: str,
    name: str | None = None,
    role: UserRole = UserRole.csm,
    manager: User | None = None,
    active: bool = True,
) -> User:
    row = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=_password_hash(),
        manager_id=manager.id if manager else None,
        is_active=active,
    )
    session.add(row)
    session.flush()
    return row


def account(
    session: Session,
    *,
    external_id: str,
    name: str | None = None,
    owner: User | None = None,
    segment: str | None = "mid-market",
    created_on: date | None = date(2025, 1, 1),
    onboarded_on: date | None = date(2025, 2, 1),
    industry: str | None = None,
    region: str | None = None,
    employee_count: int | None = None,
    custom: dict[str, Any] | None = None,
) -> Account:
    row = Account(
        external_id=external_id,
        name=name or external_id.title(),
        segment=segment,
        owner_id=owner.id if owner else None,
        created_on=created_on,
        onboarded_on=onboarded_on,
        industry=industry,
        region=region,
        employee_count=employee_count,
        custom=custom or {},
    )
    session.add(row)
    session.flush()
    return row


def contract(
    session: Session,
    acct: Account,
    *,
    arr: float = 12_000.0,
    starts_on: date = date(2025, 1, 1),
    ends_on: date = date(2026, 1, 1),
    currency: str = "USD",
    status: ContractStatus = ContractStatus.active,
    outcome_on: date | None = None,
    renewal_outcome: RenewalOutcome | None = None,
    notice_on: date | None = None,
    external_id: str | None = None,
    plan: str | None = None,
    licensed_seats: int | None = 10,
) -> Contract:
    row = Contract(
        external_id=external_id or f"{acct.external_id}-{starts_on}-{ends_on}-{currency}",
        account_id=acct.id,
        plan=plan,
        arr=arr,
        currency=currency,
        starts_on=starts_on,
        ends_on=ends_on,
        licensed_seats=licensed_seats,
        status=status,
        outcome_on=outcome_on,
        renewal_outcome=renewal_outcome,
        notice_on=notice_on,
    )
    session.add(row)
    session.flush()
    return row


def contact(
    session: Session,
    acct: Account,
    *,
    external_id: str,
    email: str | None = None,
    roles: list[str] | None = None,
    left_on: date | None = None,
    level: str | None = None,
    email_opt_out: bool = False,
) -> Contact:
    row = Contact(
        external_id=external_id,
        account_id=acct.id,
        email=email,
        name=external_id,
        roles=roles or [],
        left_on=left_on,
        level=level,
        email_opt_out=email_opt_out,
    )
    session.add(row)
    session.flush()
    return row


def nps(
    session: Session, acct: Account, *, score: int, on: date, contact_row: Contact | None = None
) -> SurveyResponse:
    row = SurveyResponse(
        external_id=f"nps-{acct.external_id}-{on}-{score}",
        account_id=acct.id,
        contact_id=contact_row.id if contact_row else None,
        kind=SurveyKind.nps,
        score=score,
        responded_at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
    )
    session.add(row)
    session.flush()
    return row


def health_score(
    session: Session,
    acct: Account,
    *,
    as_of: date,
    score: int,
    previous: int | None = None,
    usage_points: int = 10,
) -> HealthScore:
    band = "red" if score < 50 else "yellow" if score < 75 else "green"
    trend = "new" if previous is None else "up" if score > previous else "down"
    measures = [
        {
            "metric": "license_utilization",
            "name": "License utilization",
            "value": usage_points / 20,
            "shown": f"{usage_points * 5} %",
            "points": usage_points,
            "max_points": 20,
            "next_at": 0.8,
            "next_shown": "at least 80 %",
            "gain": 20 - usage_points,
        },
        {
            "metric": "champion_present",
            "name": "Champion present",
            "value": 1.0,
            "shown": "yes",
            "points": score - usage_points,
            "max_points": 80,
            "next_at": None,
            "next_shown": None,
            "gain": 0,
        },
    ]
    row = HealthScore(
        account_id=acct.id,
        as_of=as_of,
        scorecard="default",
        scorecard_version="1",
        profile="standard",
        score=score,
        band=band,
        trend=trend,
        previous_score=previous,
        measures=measures,
    )
    session.add(row)
    session.flush()
    return row


def churn_risk_score(
    session: Session,
    acct: Account,
    *,
    as_of: date,
    probability: float,
    arr_at_risk: float | None = None,
    renewal_probability: float | None = None,
    next_renewal_on: date | None = None,
) -> ChurnRiskScore:
    row = ChurnRiskScore(
        account_id=acct.id,
        as_of=as_of,
        model_version="test-model",
        probability=probability,
        horizon_days=180,
        lead_days=30,
        renewal_probability=renewal_probability,
        next_renewal_on=next_renewal_on,
        arr_at_risk=arr_at_risk,
        currency="USD",
        in_alert_set=probability > 0.5,
        reasons=[{"feature": "nps_latest", "value": 2.0, "contribution": 0.8, "direction": "up"}],
    )
    session.add(row)
    session.flush()
    return row


def cta(
    session: Session,
    acct: Account,
    *,
    owner: User | None,
    title: str,
    priority: str = "high",
    arr_at_risk: float | None = None,
    today: date,
) -> Cta:
    row = Cta(
        rule_key="nps_detractor",
        rule_version=1,
        account_id=acct.id,
        open_key=f"nps_detractor:{acct.id}",
        kind="risk",
        priority=priority,
        title=title,
        owner_id=owner.id if owner else None,
        opened_on=today,
        due_on=today + timedelta(days=7),
        last_fired_on=today,
        reason="nps_category = detractor",
        facts=[],
        facts_signature="0" * 16,
        arr_at_risk=arr_at_risk,
    )
    session.add(row)
    session.flush()
    return row
