"""Churn review and KPIs as the console shows them, over the success frameworks' services.

Churn review: every lost or downgraded customer with the class the data suggests (and why), for
the CSM to confirm or correct — each confirmation audited with before/after. KPIs: the success
KPI report (NRR, GRR, logo churn, expansion, NPS…) for the last few quarters, per segment or CSM.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor, require_role
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, Contract, User, UserRole
from tenure.model.churn_record import ChurnRecord
from tenure.success import kpis
from tenure.success.churn_classification import CauseSide
from tenure.success.maturity import CsriResult, Pillar, Stage
from tenure.success.service import MaturityRecord


class ChurnReviewRow(BaseModel):
    id: int
    account_id: int
    account_name: str
    owner_name: str | None
    kind: str
    churned_on: date
    notice_on: date | None
    arr: float | None
    currency: str | None
    churn_class: str
    cause_side: str
    avoidable: bool | None
    foreseen: bool
    internal_reason: str
    stated_reason: str | None
    suggested_class: str | None
    suggested_cause: str | None
    reasons: list[str]
    confirmed: bool
    confirmed_at: datetime | None
    root_cause_review: str | None


class ChurnReview(BaseModel):
    items: list[ChurnReviewRow]
    unconfirmed: int
    total: int


class ChurnConfirm(BaseModel):
    cause_side: CauseSide
    avoidable: bool | None = None
    foreseen: bool | None = None
    review: str | None = Field(default=None, max_length=5000)


def churn_review(session: Session, *, status: str = "unconfirmed", limit: int = 100) -> ChurnReview:
    """Lost and downgraded customers, newest first; ``status``: unconfirmed, confirmed or all."""
    if status not in {"unconfirmed", "confirmed", "all"}:
        raise InvalidInput(f"status: {status!r} is not one of unconfirmed, confirmed, all")
    query = (
        sa.select(ChurnRecord, Account.name, User.name, Contract.arr, Contract.currency)
        .join(Account, Account.id == ChurnRecord.account_id)
        .outerjoin(User, User.id == Account.owner_id)
        .outerjoin(Contract, Contract.id == ChurnRecord.contract_id)
        .order_by(ChurnRecord.churned_on.desc(), ChurnRecord.id.desc())
        .limit(limit)
    )
    if status != "all":
        query = query.where(ChurnRecord.confirmed.is_(status == "confirmed"))
    items = [_row(*found) for found in session.execute(query).all()]
    counts = session.execute(
        sa.select(
            sa.func.count(), sa.func.sum(sa.case((ChurnRecord.confirmed.is_(False), 1), else_=0))
        )
    ).one()
    return ChurnReview(items=items, total=int(counts[0] or 0), unconfirmed=int(counts[1] or 0))


def _row(
    record: ChurnRecord, account: str, owner: str | None, arr: float | None, currency: str | None
) -> ChurnReviewRow:
    suggestion: dict[str, Any] = record.suggestion or {}
    return ChurnReviewRow(
        id=record.id,
        account_id=record.account_id,
        account_name=account,
        owner_name=owner,
        kind=record.kind,
        churned_on=record.churned_on,
        notice_on=record.notice_on,
        arr=arr,
        currency=currency,
        churn_class=record.churn_class,
        cause_side=record.cause_side,
        avoidable=record.avoidable,
        foreseen=record.foreseen,
        internal_reason=record.internal_reason,
        stated_reason=record.stated_reason,
        suggested_class=suggestion.get("churn_class"),
        suggested_cause=suggestion.get("cause_side"),
        reasons=list(suggestion.get("reasons", [])),
        confirmed=record.confirmed,
        confirmed_at=record.confirmed_at,
        root_cause_review=record.root_cause_review,
    )


def confirm_churn_class(
    session: Session, record_id: int, data: ChurnConfirm, actor: Actor
) -> ChurnReviewRow:
    """The CSM confirms or corrects the suggested class (owner, account team, manager, admin)."""
    from tenure.success.service import confirm_churn

    record = session.get(ChurnRecord, record_id)
    if record is None:
        raise NotFound(f"no churn record with id {record_id}")
    account = session.get(Account, record.account_id)
    assert account is not None
    require_account_editor(session, actor.user, account)
    before = audit.snapshot(record)
    confirm_churn(
        session,
        account.external_id,
        cause_side=data.cause_side,
        avoidable=data.avoidable,
        foreseen=data.foreseen,
        review=data.review,
        confirmed_by_id=actor.id,
        churned_on=record.churned_on,
    )
    audit.record(
        session,
        actor,
        "churn_record.confirm",
        "churn_record",
        record.id,
        before=before,
        after=audit.snapshot(record),
    )
    found = session.execute(
        sa.select(ChurnRecord, Account.name, User.name, Contract.arr, Contract.currency)
        .join(Account, Account.id == ChurnRecord.account_id)
        .outerjoin(User, User.id == Account.owner_id)
        .outerjoin(Contract, Contract.id == ChurnRecord.contract_id)
        .where(ChurnRecord.id == record.id)
    ).one()
    return _row(*found)


# --- KPIs -------------------------------------------------------------------------------------


def quarters_before(as_of: date, count: int) -> list[kpis.Period]:
    """The last ``count`` complete calendar quarters before ``as_of``'s quarter, oldest first."""
    if not 1 <= count <= 12:
        raise InvalidInput(f"quarters: {count} is outside 1–12")
    start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    periods = []
    for _ in range(count):
        previous = date(start.year - (start.month == 1), (start.month - 4) % 12 + 1, 1)
        periods.append(kpis.Period(previous, start))
        start = previous
    return periods[::-1]


def kpi_history(
    session: Session, as_of: date, *, quarters: int, by: kpis.GroupBy
) -> list[kpis.KpiReport]:
    from tenure.success.service import kpi_report

    return [kpi_report(session, period, by) for period in quarters_before(as_of, quarters)]


def cohort_retention(session: Session, as_of: date, *, max_months: int) -> kpis.CohortRetention:
    """Logo and ARR retention curves of every start-quarter cohort (see kpis.cohort_retention)."""
    rows = session.execute(
        sa.select(
            Contract.account_id,
            Contract.currency,
            Contract.starts_on,
            Contract.ends_on,
            Contract.arr,
            Contract.status,
            Contract.outcome_on,
        )
    )
    facts = [
        kpis.ContractFact(a, cur, start, end, float(arr), status=status, outcome_on=outcome_on)
        for a, cur, start, end, arr, status, outcome_on in rows
    ]
    return kpis.cohort_retention(facts, as_of, max_months=max_months)


# --- CS maturity (CSRI) -------------------------------------------------------------------------


class PillarPrefill(BaseModel):
    stage: Stage
    reasons: list[str]


class MaturityView(BaseModel):
    """The pillars the data pre-fills (with why), and every past self-assessment."""

    prefill: dict[str, PillarPrefill]
    history: list[MaturityRecord]


class MaturityAnswers(BaseModel):
    """The team's stage per pillar; pillars left out keep the stage the data suggests."""

    answers: dict[Pillar, Stage] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=2000)


def maturity_view(session: Session, as_of: date) -> MaturityView:
    from tenure.success.service import maturity_history, maturity_prefill

    prefill = maturity_prefill(session, as_of)
    return MaturityView(
        prefill={p.value: PillarPrefill(stage=s, reasons=why) for p, (s, why) in prefill.items()},
        history=maturity_history(session),
    )


def assess(session: Session, as_of: date, data: MaturityAnswers, actor: Actor) -> CsriResult:
    """Save a self-assessment (managers and admins: it speaks for the team)."""
    from tenure.success.service import assess_maturity

    require_role(actor.user, UserRole.admin, UserRole.manager)
    result = assess_maturity(session, as_of, data.answers, assessed_by_id=actor.id, note=data.note)
    audit.record(
        session,
        actor,
        "maturity.assess",
        "maturity_assessment",
        as_of,
        after=result.model_dump(mode="json"),
    )
    return result
