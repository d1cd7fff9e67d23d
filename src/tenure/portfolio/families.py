"""Families of accounts: a parent with every account below it, rolled up — on Account 360 (the
family below an account) and on the portfolio rolled up to each top parent (the account at the
head of its family), so a CS leader reads a group of companies as the one customer it is.

ARR and risk-weighted ARR (ARR × P(churn at the next renewal)) add up per currency, never
across currencies, and convert at the rates of the day, saying their dates; the worst health is
the lowest score among the scored members; the members are listed in renewal order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service, hierarchy
from tenure.accounts.arr import MULTIPLE_CURRENCIES
from tenure.accounts.fx import RateTable, convert, converted_amount
from tenure.model import Account, Contract, User
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
from tenure.success import figures


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


# The whole book's families in rank order, as the daily run ranked them for the page's default
# selection (every customer and prospect, sorted by name): the Top parents page reads its page of
# families from it instead of reading every account's ARR and parent each request.
FAMILY_RANKING = "family_ranking"


def _ranking_code() -> str:
    return figures.code_digest(
        "tenure.portfolio.families",
        "tenure.portfolio.rows",
        "tenure.accounts.fx",
        "tenure.accounts.hierarchy",
    )


def _inputs(session: Session, table: RateTable) -> str:
    """What the ranking read, cheaply fingerprinted: each table's row count and last change
    (a contract booked, a parent or name changed since the daily run show at once), and the
    rates of the day."""
    found = figures.table_changes(session, Contract, Account)
    rates = sorted((c, list(r)) for c, r in table.rates.items())
    return figures.digest(found, table.reporting_currency, rates)


def _rank(
    session: Session, ids: list[int], table: RateTable, as_of: date
) -> tuple[list[int], dict[int, list[int]]]:
    """The selected accounts grouped under their top parents, largest family first (see
    :func:`top_parents`): the heads in rank order and each one's members in selection order."""
    arr = arr_by_currency(session, set(ids), as_of)
    # Every account's parent and name in one read: the heads are named from it (an IN list of
    # every family's head would pass SQLite's and PostgreSQL's bound-parameter limits).
    accounts = session.execute(sa.select(Account.id, Account.parent_id, Account.name)).all()
    parents: dict[int, int | None] = {a.id: a.parent_id for a in accounts}
    groups: dict[int, list[int]] = defaultdict(list)
    for account_id in ids:
        groups[hierarchy.top_parent_of(parents, account_id)].append(account_id)
    names = {a.id: a.name.lower() for a in accounts if a.id in groups}

    def rank(head: int) -> tuple[int, float, str]:
        # The rolled-up family's ARR in the reporting currency (roll_up's arr_converted).
        totals = _totals(figure for i in groups[head] for figure in arr.get(i, ()))
        if not totals:  # no ARR at all
            return (2, 0.0, names[head])
        amount = converted_amount(totals, table, as_of)
        if amount is None:  # ARR in a currency without a rate
            return (1, 0.0, names[head])
        return (0, -amount, names[head])

    return sorted(groups, key=rank), groups


def _default_selection(session: Session, as_of: date) -> list[int]:
    return list(session.scalars(export_ids(session, PortfolioQuery(), None, as_of)))


def store_family_ranking(session: Session, as_of: date) -> dict[str, Any]:
    """The daily run's step: the default selection's families ranked and stored for the Top
    parents page."""
    table = fx_service.rate_table(session, on=as_of)
    ranked, _ = _compute_stored(session, _default_selection(session, as_of), table, as_of)
    return {"families": len(ranked)}


def _compute_stored(
    session: Session, ids: list[int], table: RateTable, as_of: date
) -> tuple[list[int], dict[int, list[int]]]:
    inputs = _inputs(session, table)
    ranked, groups = _rank(session, ids, table, as_of)
    # Compact, as a page decodes it whole: the selection's size, not its ids; the members
    # of a family only when they are not its head alone (most families at 10,000 accounts).
    data = {
        "inputs": inputs,
        "accounts": len(ids),
        "ranked": ranked,
        "members": {str(h): groups[h] for h in ranked if groups[h] != [h]},
    }
    figures.write_snapshot(session, FAMILY_RANKING, _ranking_code(), as_of, data)
    return ranked, groups


def _ranked(
    session: Session, query: PortfolioQuery, user: User, table: RateTable, as_of: date
) -> tuple[int, list[int], Callable[[int], list[int]]]:
    """How many accounts the filters select, their families' heads in rank order and each
    head's members in selection order: from the stored ranking for the default selection when
    it is of ``as_of`` and nothing it read changed since (the selection is then the same: it
    reads accounts and contracts alone), otherwise ranked now — and stored again when the
    selection is the default one of ``as_of`` or later."""
    default = query.model_dump(exclude=PAGING) == PortfolioQuery().model_dump(exclude=PAGING)
    stored = figures.read_snapshot(session, FAMILY_RANKING, _ranking_code()) if default else None
    if (
        stored is not None
        and stored[1] == as_of
        and stored[0].get("inputs") == _inputs(session, table)
    ):
        members: dict[str, list[int]] = stored[0]["members"]
        return (
            stored[0]["accounts"],
            stored[0]["ranked"],
            lambda head: members.get(str(head), [head]),
        )
    ids = list(session.scalars(export_ids(session, query, user, as_of)))
    if default and (stored is None or stored[1] <= as_of):
        ranked, groups = _compute_stored(session, ids, table, as_of)
    else:
        ranked, groups = _rank(session, ids, table, as_of)
    return len(ids), ranked, groups.__getitem__


PAGING = {"page", "limit", "cursor"}


def top_parents(session: Session, query: PortfolioQuery, user: User, as_of: date) -> TopParents:
    """The portfolio rolled up to top parents: the accounts the filters select, grouped under
    the account at the head of each one's family (named even when the filters leave it out),
    largest ARR in the reporting currency first, then families with ARR in a currency without a
    rate, then those without ARR; ``query.limit`` families a page.

    Every family is ranked from its members' ARR alone (one grouped read of the contracts in
    force) — or read from the ranking the daily run stored for the default selection; only the
    page's families are rolled up in full (health, risk, renewals)."""
    table = fx_service.rate_table(session, on=as_of)
    accounts, ranked, members_of = _ranked(session, query, user, table, as_of)
    shown = ranked[(query.page - 1) * query.limit : query.page * query.limit]
    heads = {
        a.id: a
        for a in session.execute(
            sa.select(Account.id, Account.name, Account.external_id).where(Account.id.in_(shown))
        )
    }
    rows = {r.id: r for r in full_rows(session, [i for h in shown for i in members_of(h)], as_of)}
    families = [
        FamilyRow(
            id=head,
            name=heads[head].name,
            external_id=heads[head].external_id,
            rollup=roll_up([rows[i] for i in members_of(head)], table, as_of),
        )
        for head in shown
    ]
    return TopParents(
        as_of=as_of,
        reporting_currency=table.reporting_currency,
        accounts=accounts,
        families=families,
        families_total=len(ranked),
        page=query.page,
        pages=max(1, -(-len(ranked) // query.limit)),
        limit=query.limit,
    )
