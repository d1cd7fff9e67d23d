"""Churn classification: suggest a class from the data, the CSM confirms, report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor, team_member_ids
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, ChurnRecord, Contract, User
from tenure.success import churn_classification, fit
from tenure.success.book import (
    LOST,
    Book,
    account_facts,
    last_nps,
    load_book,
    metric_before,
    monitored_since,
)
from tenure.success.schemas import (
    ChurnCorrection,
    ChurnRecordView,
    ChurnReview,
    ChurnReviewRow,
    ClassifyResult,
)


def _customer_events(account: Account, before: date) -> list[str]:
    out = []
    for event in (account.custom or {}).get("customer_events", []) or []:
        if not isinstance(event, dict) or "type" not in event:
            continue
        on = event.get("on")
        if on is None or date.fromisoformat(str(on)) <= before:
            out.append(str(event["type"]))
    return out


def _first_value_by(book: Book, account_id: int, day: date) -> bool | None:
    """Whether the plan's first-value milestone was reached by ``day``; None when there is no
    such milestone or the data could not have shown it yet (no metrics stored by then)."""
    planned = [m for m in book.milestones[account_id] if m.key == "first_value"]
    if not planned:
        return None
    if any(m.reached_on is not None and m.reached_on <= day for m in planned):
        return True
    if book.first_metrics_day is None or day < book.first_metrics_day:
        return None
    return False


def churn_facts(
    session: Session,
    book: Book,
    contract: Contract,
    config: fit.FitConfig,
    watched_from: date | None = None,
) -> churn_classification.ChurnFacts:
    """What the data showed before one churn or downgrade (nothing after the notice)."""
    account = book.accounts[contract.account_id]
    churned_on = contract.outcome_on or contract.ends_on
    anchor = contract.notice_on or churned_on
    at_signing = fit.assess_fit(account_facts(book, account.id, at_signing=True), config)
    potential = at_signing.success_potential
    said = (account.custom or {}).get("churn") or {}
    stated = (
        said.get("stated_reason")
        if isinstance(said, dict)
        and said.get("contract_external_id", contract.external_id) == contract.external_id
        else None
    )
    return churn_classification.ChurnFacts(
        account_id=account.id,
        kind=churn_classification.ChurnKind(
            contract.renewal_outcome.value if contract.renewal_outcome else "churned"
        ),
        churned_on=churned_on,
        notice_on=contract.notice_on,
        success_potential_at_signing=potential,
        failing_at_signing=at_signing.failing,
        risk_flag_dates=[d for d in book.risk_flags[account.id] if d <= anchor],
        customer_events=_customer_events(account, anchor),
        champion_left_on=[
            c.left_on
            for c in book.contacts[account.id]
            if c.left_on and "champion" in (c.roles or []) and c.left_on <= anchor
        ],
        high_priority_ticket_dates=[
            d for d in book.high_priority_tickets[account.id] if d <= anchor
        ],
        license_utilization=metric_before(session, account.id, anchor, "license_utilization"),
        first_value_reached=_first_value_by(book, account.id, anchor),
        last_nps=last_nps(book, account.id, anchor),
        stated_reason=str(stated) if stated else None,
        monitored_since=watched_from,
    )


def classify_churn(session: Session, as_of: date, config: fit.FitConfig) -> ClassifyResult:
    """Suggest a class for every churn/downgrade up to ``as_of`` not yet classified; saved
    unconfirmed for the CSM to confirm."""
    book = load_book(session, as_of)
    watched_from = monitored_since(session, book)
    done = set(session.scalars(sa.select(ChurnRecord.contract_id)))
    suggestions = []
    # Added once every loss is classified: the reads meanwhile write nothing (the daily run holds
    # the database's write lock only while it writes).
    records: list[ChurnRecord] = []
    already = 0
    for contracts in book.contracts.values():
        for c in contracts:
            if c.renewal_outcome is None or c.renewal_outcome.value not in LOST:
                continue
            if (c.outcome_on or c.ends_on) > as_of:
                continue
            if c.id in done:
                already += 1
                continue
            s = churn_classification.suggest(churn_facts(session, book, c, config, watched_from))
            records.append(
                ChurnRecord(
                    account_id=c.account_id,
                    contract_id=c.id,
                    kind=s.kind.value,
                    churned_on=s.churned_on,
                    notice_on=c.notice_on,
                    foreseen=s.foreseen,
                    fit_at_signing=s.good_fit,
                    avoidable=s.avoidable,
                    cause_side=s.cause_side.value,
                    churn_class=s.churn_class,
                    internal_reason=s.internal_reason,
                    stated_reason=s.stated_reason,
                    suggestion=s.model_dump(mode="json"),
                )
            )
            suggestions.append(s)
    session.add_all(records)
    session.flush()
    return ClassifyResult(classified=len(suggestions), already=already, records=suggestions)


def latest_churn_record(session: Session, external_id: str) -> int:
    """The id of an account's latest churn record (the one the command line confirms)."""
    account = get_account(session, external_id)
    found = session.scalar(
        sa.select(ChurnRecord.id)
        .where(ChurnRecord.account_id == account.id)
        .order_by(ChurnRecord.churned_on.desc(), ChurnRecord.id.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(f"no churn record for {external_id!r}: run `tenure churn classify` first")
    return found


def confirm_churn(
    session: Session, actor: Actor, record_id: int, data: ChurnCorrection
) -> ChurnReviewRow:
    """The CSM confirms (or corrects) the suggestion and records the root-cause review: the
    account's owner, team, their manager or an admin; audited with the record before/after."""
    record = session.get(ChurnRecord, record_id)
    if record is None:
        raise NotFound(f"no churn record with id {record_id}")
    account = session.get_one(Account, record.account_id)
    require_account_editor(session, actor.user, account)
    before = audit.snapshot(record)
    if data.internal_reason:
        record.internal_reason = data.internal_reason
    if data.cause_side is not None:
        record.cause_side = data.cause_side.value
        record.avoidable = (
            data.cause_side is not churn_classification.CauseSide.customer_change
            or (record.internal_reason not in churn_classification.UNAVOIDABLE)
        )
    if data.avoidable is not None:
        record.avoidable = data.avoidable
    if data.foreseen is not None:
        record.foreseen = data.foreseen
    record.churn_class = churn_classification.churn_class_name(
        record.foreseen, record.fit_at_signing
    )
    record.confirmed, record.confirmed_by_id = True, actor.id
    record.confirmed_at = datetime.now(UTC)
    if data.review:
        record.root_cause_review = data.review
    session.flush()
    audit.record(
        session,
        actor,
        "churn_record.confirm",
        "churn_record",
        record.id,
        before=before,
        after=audit.snapshot(record),
    )
    return _review_rows(session, ChurnRecord.id == record.id)[0]


def churn_review(
    session: Session,
    *,
    status: str = "unconfirmed",
    limit: int = 100,
    owner: str | None = None,
    reader: User | None = None,
    page: int = 1,
) -> ChurnReview:
    """Lost and downgraded customers, newest first; ``status``: unconfirmed, confirmed or all;
    ``owner``: the account owner's id, ``me``, ``team`` (the reader's) or ``none``
    (unassigned); ``page`` pages of ``limit``."""
    if status not in {"unconfirmed", "confirmed", "all"}:
        raise InvalidInput(f"status: {status!r} is not one of unconfirmed, confirmed, all")
    if page < 1:
        raise InvalidInput(f"page: {page} — pages start at 1")
    owned = _owner_clause(session, owner, reader)
    where = sa.true() if status == "all" else ChurnRecord.confirmed.is_(status == "confirmed")
    counts = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((ChurnRecord.confirmed.is_(False), 1), else_=0)),
            sa.func.sum(sa.case((where, 1), else_=0)),
        )
        .select_from(ChurnRecord)
        .join(Account, Account.id == ChurnRecord.account_id)
        .where(owned)
    ).one()
    matching = int(counts[2] or 0)
    return ChurnReview(
        items=_review_rows(session, sa.and_(where, owned), limit=limit, offset=(page - 1) * limit),
        total=int(counts[0] or 0),
        unconfirmed=int(counts[1] or 0),
        matching=matching,
        page=page,
        pages=max(1, -(-matching // limit)),
    )


def _owner_clause(session: Session, owner: str | None, reader: User | None) -> Any:
    """The accounts of ``owner`` (see :func:`churn_review`) as a condition on Account."""
    if owner in (None, ""):
        return sa.true()
    if owner == "none":
        return Account.owner_id.is_(None)
    if owner in ("me", "team"):
        if reader is None:
            raise InvalidInput(f"owner {owner!r}: name the owner's id instead")
        ids = {reader.id} if owner == "me" else team_member_ids(session, reader)
        return Account.owner_id.in_(ids)
    if not str(owner).isdigit():
        raise InvalidInput(f"owner: {owner!r} is not a user id, me, team or none")
    return Account.owner_id == int(str(owner))


def _review_rows(
    session: Session,
    where: sa.ColumnElement[bool],
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[ChurnReviewRow]:
    query = (
        sa.select(ChurnRecord, Account.name, User.name, Contract.arr, Contract.currency)
        .join(Account, Account.id == ChurnRecord.account_id)
        .outerjoin(User, User.id == Account.owner_id)
        .outerjoin(Contract, Contract.id == ChurnRecord.contract_id)
        .where(where)
        .order_by(ChurnRecord.churned_on.desc(), ChurnRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_row(*found) for found in session.execute(query).all()]


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


def churn_show(session: Session, external_id: str) -> list[ChurnRecordView]:
    """An account's churn records: class, stated and internal reasons, evidence, review."""
    account = get_account(session, external_id)
    rows = session.scalars(
        sa.select(ChurnRecord)
        .where(ChurnRecord.account_id == account.id)
        .order_by(ChurnRecord.churned_on)
    )
    return [
        ChurnRecordView(
            account=external_id,
            kind=r.kind,
            churned_on=r.churned_on,
            notice_on=r.notice_on,
            churn_class=r.churn_class,
            cause_side=r.cause_side,
            avoidable=r.avoidable,
            internal_reason=r.internal_reason,
            stated_reason=r.stated_reason,
            confirmed=r.confirmed,
            root_cause_review=r.root_cause_review,
            suggested_reasons=list(r.suggestion.get("reasons", [])),
            classifier_version=r.suggestion.get("classifier_version"),
        )
        for r in rows
    ]


def churn_report(session: Session) -> list[churn_classification.ClassCount]:
    rows = session.execute(
        sa.select(ChurnRecord.churned_on, ChurnRecord.churn_class, ChurnRecord.cause_side)
    )
    return churn_classification.report_by_class((d, c, s) for d, c, s in rows)
