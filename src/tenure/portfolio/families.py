"""Families of accounts: a parent with every account below it, rolled up — on Account 360 (the
family below an account) and on the portfolio rolled up to each top parent (the account at the
head of its family), so a CS leader reads a group of companies as the one customer it is.

ARR and risk-weighted ARR (ARR × P(churn at the next renewal)) add up per currency, never
across currencies, and convert at the rates of the day, saying their dates; the worst health is
the lowest score among the scored members; the members are listed in renewal order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service, hierarchy
from tenure.accounts.arr import MULTIPLE_CURRENCIES
from tenure.accounts.fx import RateTable, convert, converted_amount
from tenure.model import Account, User
from tenure.portfolio.book import export_ids
from tenure.portfolio.rows import arr_by_currency, full_rows
from tenure.portfolio.schemas import (
    AccountRow,
    ArrByCurrency,
    FamilyMember,
    FamilyRollup,
    FamilyRow,
    PortfolioQuery,
    TopParents,
)


def member(row: AccountRow) -> FamilyMember:
    return FamilyMember(
        id=row.id,
        name=row.name,
        external_id=row.external_id,
        renewal_on=row.renewal_on,
        health_score=row.health_score,
        health_band=row.health_band,
        arr_by_currency=row.arr_by_currency,
    )


def _per_currency(figures: Iterable[tuple[str, float]]) -> list[ArrByCurrency]:
    return [ArrByCurrency(currency=c, arr=v) for c, v in _totals(figures).items()]


def _totals(figures: Iterable[tuple[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for currency, value in figures:
        totals[currency] += value
    return {c: round(v, 2) for c, v in sorted(totals.items())}


def roll_up(rows: Sequence[AccountRow], table: RateTable, as_of: date) -> FamilyRollup:
    """These accounts' figures as one family's (see the module)."""
    arr = _per_currency((c.currency, c.arr) for r in rows for c in r.arr_by_currency)
    at_risk = _per_currency(
        (r.currency, r.arr_at_risk)
        for r in rows
        if r.arr_at_risk is not None and r.currency and r.currency != MULTIPLE_CURRENCIES
    )
    scored = [r for r in rows if r.health_score is not None]
    worst = min(scored, key=lambda r: (r.health_score, r.id)) if scored else None
    members = sorted(rows, key=lambda r: (r.renewal_on or date.max, r.id))
    return FamilyRollup(
        accounts=len(rows),
        members=[member(r) for r in members],
        arr_by_currency=arr,
        arr_converted=convert({c.currency: c.arr for c in arr}, table, as_of) if arr else None,
        arr_at_risk_by_currency=at_risk,
        arr_at_risk_converted=convert({c.currency: c.arr for c in at_risk}, table, as_of)
        if at_risk
        else None,
        worst_health=member(worst) if worst else None,
    )


def family_rollup(session: Session, account_id: int, as_of: date) -> FamilyRollup | None:
    """The account and every account below it, rolled up (None without a child account)."""
    below = hierarchy.descendants(session, account_id)
    if not below:
        return None
    rows = full_rows(session, [account_id, *below], as_of)
    return roll_up(rows, fx_service.rate_table(session, on=as_of), as_of)


def top_parents(session: Session, query: PortfolioQuery, user: User, as_of: date) -> TopParents:
    """The portfolio rolled up to top parents: the accounts the filters select, grouped under
    the account at the head of each one's family (named even when the filters leave it out),
    largest ARR in the reporting currency first, then families with ARR in a currency without a
    rate, then those without ARR; ``query.limit`` families a page.

    Every family is ranked from its members' ARR alone (one grouped read of the contracts in
    force); only the page's families are rolled up in full (health, risk, renewals)."""
    ids = list(session.scalars(export_ids(session, query, user, as_of)))
    arr = arr_by_currency(session, set(ids), as_of)
    # Every account's parent and name in one read: the heads are named from it (an IN list of
    # every family's head would pass SQLite's and PostgreSQL's bound-parameter limits).
    accounts = session.execute(
        sa.select(Account.id, Account.parent_id, Account.name, Account.external_id)
    ).all()
    parents: dict[int, int | None] = {a.id: a.parent_id for a in accounts}
    groups: dict[int, list[int]] = defaultdict(list)
    for account_id in ids:
        groups[hierarchy.top_parent_of(parents, account_id)].append(account_id)
    heads = {a.id: a for a in accounts if a.id in groups}
    table = fx_service.rate_table(session, on=as_of)

    def rank(head: int) -> tuple[int, float, str]:
        # The rolled-up family's ARR in the reporting currency (roll_up's arr_converted).
        totals = _totals(figure for i in groups[head] for figure in arr.get(i, ()))
        name = heads[head].name.lower()
        if not totals:  # no ARR at all
            return (2, 0.0, name)
        amount = converted_amount(totals, table, as_of)
        if amount is None:  # ARR in a currency without a rate
            return (1, 0.0, name)
        return (0, -amount, name)

    ranked = sorted(groups, key=rank)
    shown = ranked[(query.page - 1) * query.limit : query.page * query.limit]
    rows = {r.id: r for r in full_rows(session, [i for h in shown for i in groups[h]], as_of)}
    families = [
        FamilyRow(
            id=head,
            name=heads[head].name,
            external_id=heads[head].external_id,
            rollup=roll_up([rows[i] for i in groups[head]], table, as_of),
        )
        for head in shown
    ]
    return TopParents(
        as_of=as_of,
        reporting_currency=table.reporting_currency,
        accounts=len(ids),
        families=families,
        families_total=len(ranked),
        page=query.page,
        pages=max(1, -(-len(ranked) // query.limit)),
        limit=query.limit,
    )
