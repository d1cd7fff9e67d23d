"""Success KPIs for a period, per segment or CSM."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service, hierarchy
from tenure.errors import InvalidInput
from tenure.model import AccountOwnership, Contract, Referral
from tenure.success import fit, kpis
from tenure.success.book import (
    Book,
    account_facts,
    active_contracts,
    first_value_on,
    load_book,
    metric,
    signed_on,
    stored_metrics_by_account,
)


def _owner_at(session: Session, day: date) -> dict[int, int]:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = session.execute(
        sa.select(AccountOwnership.account_id, AccountOwnership.user_id)
        .where(
            AccountOwnership.started_at <= moment,
            sa.or_(AccountOwnership.ended_at.is_(None), AccountOwnership.ended_at > moment),
        )
        .order_by(AccountOwnership.started_at)
    )
    return {account_id: user_id for account_id, user_id in rows}


@dataclass(frozen=True)
class _Shared:
    """What every period of a KPI history reads alike: the book's records (``load_book`` filters
    nothing by day but the stored metrics), the fit at signing, referrals and top parents."""

    book: Book
    fit_bands: dict[int, str]
    referred: frozenset[int | None]
    heads: dict[int, str]


# What the KPIs read of the book (fit at signing reads the accounts themselves).
KPI_PARTS = ("contracts", "nps", "milestones", "opportunities", "metrics", "users")


def _shared(session: Session, as_of: date, config: fit.FitConfig | None) -> _Shared:
    book = load_book(session, as_of, parts=KPI_PARTS)
    fit_config = config or fit.load_fit_config()
    referred = frozenset(
        session.scalars(
            sa.select(Referral.referred_account_id).where(
                Referral.kind == "referral", Referral.referred_account_id.is_not(None)
            )
        )
    )
    parents = {a: account.parent_id for a, account in book.accounts.items()}
    heads = {
        account_id: book.accounts.get(hierarchy.top_parent_of(parents, account_id), account).name
        for account_id, account in book.accounts.items()
    }
    # Fit at signing reads the account's attributes and handoff answers only: one assessment per
    # account serves every period.
    fit_bands = {
        account_id: fit.assess_fit(
            account_facts(book, account_id, at_signing=True), fit_config
        ).fit_band.value
        for account_id in book.accounts
    }
    return _Shared(book, fit_bands, referred, heads)


def _period_report(
    session: Session, shared: _Shared, period: kpis.Period, by: kpis.GroupBy
) -> kpis.KpiReport:
    book = shared.book
    if book.as_of != period.last_day:
        # Usage facts come from the metrics stored on or before the period's last day.
        metrics, metrics_as_of = stored_metrics_by_account(session, period.last_day)
        book = replace(book, as_of=period.last_day, metrics=metrics, metrics_as_of=metrics_as_of)
    owners = _owner_at(session, period.start)
    accounts, contracts, answers = [], [], []
    for account_id, account in book.accounts.items():
        owner_id = owners.get(account_id, account.owner_id)
        owner = book.users.get(owner_id) if owner_id else None
        seats = sum(
            c.licensed_seats or 0 for c in active_contracts(book, account_id, period.last_day)
        )
        active = metric(book, account_id, "active_users_28d")
        accounts.append(
            kpis.AccountFact(
                account_id=account_id,
                segment=account.segment,
                csm=(owner.name or owner.email) if owner else None,
                active_users=None if active is None else int(active),
                licensed_seats=seats or None,
                feature_share=metric(book, account_id, "feature_breadth"),
                first_contract_on=signed_on(book, account_id),
                first_value_on=first_value_on(book, account_id),
                fit_band=shared.fit_bands[account_id],
                referred=account_id in shared.referred,
                top_parent=shared.heads[account_id],
            )
        )
        contracts += [
            kpis.ContractFact(
                account_id,
                c.currency,
                c.starts_on,
                c.ends_on,
                c.arr,
                c.renewal_outcome.value if c.renewal_outcome else None,
                status=c.status,
                outcome_on=c.outcome_on,
                auto_renews=c.auto_renews,
            )
            for c in book.contracts[account_id]
        ]
        answers += [
            kpis.NpsAnswer(account_id, r.score, r.responded_on) for r in book.nps[account_id]
        ]
    deals = [
        kpis.DealFact(o.account_id, o.kind.value, o.status == "won", o.currency, o.amount, day)
        for account_id in book.accounts
        for o in book.opportunities[account_id]
        if o.status != "open" and (day := o.closed_on or o.close_on) is not None
    ]
    rates = fx_service.rate_table(session, on=period.last_day)
    return kpis.compute_kpis(period, accounts, contracts, answers, by, deals, rates)


def kpi_report(
    session: Session, period: kpis.Period, by: kpis.GroupBy, config: fit.FitConfig | None = None
) -> kpis.KpiReport:
    """KPIs for the period; per CSM uses the owner at the period's start (history kept)."""
    return _period_report(session, _shared(session, period.last_day, config), period, by)


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
    """One report per quarter, oldest first: the book is loaded and fit assessed once for all
    of them (only the stored metrics differ by period)."""
    periods = quarters_before(as_of, quarters)
    shared = _shared(session, periods[-1].last_day, None)
    return [_period_report(session, shared, period, by) for period in periods]


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
            Contract.renewal_outcome,
            Contract.auto_renews,
        )
    )
    facts = [
        kpis.ContractFact(
            a,
            cur,
            start,
            end,
            float(arr),
            outcome.value if outcome else None,
            status=status,
            outcome_on=outcome_on,
            auto_renews=renews,
        )
        for a, cur, start, end, arr, status, outcome_on, outcome, renews in rows
    ]
    return kpis.cohort_retention(facts, as_of, max_months=max_months)
