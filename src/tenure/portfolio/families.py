"""Families of accounts: a parent with every account below it, rolled up — on Account 360 (the
family below an account) and on the portfolio rolled up to each top parent (the account at the
head of its family), so a CS leader reads a group of companies as the one customer it is.

ARR and risk-weighted ARR (ARR × P(churn at the next renewal)) add up per currency, never
across currencies, and convert at the rates of the day, saying their dates; the worst health is
the lowest score among the scored members; the members are listed in renewal order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def family_rollup(
    session: Session, account_id: int, as_of: date, table: RateTable | None = None
) -> FamilyRollup | None:
    """The account and every account below it, rolled up (None without a child account), at
    the rates of ``table`` (read for ``as_of`` when not given)."""
    below = hierarchy.descendants(session, account_id)
    if not below:
        return None
    table = table or fx_service.rate_table(session, on=as_of)
    return roll_up(full_rows(session, [account_id, *below], as_of, table), table, as_of)


# The whole book's families in rank order, as the daily run ranked them for the page's default
# selection (every customer and prospect, sorted by name): the Top parents page reads its page of
# families from it instead of reading every account's ARR and parent each request.
FAMILY_RANKING = "family_ranking"
# What ranking any selection needs of every account, stored beside the ranking: its ARR per
# currency, its top parent and that head's name. A filtered selection (an owner, a segment, a
# band, a search…) is ranked from it without reading the whole book's contracts and accounts
# (two thirds of such a view's time at 10,000 accounts).
FAMILY_BOOK = "family_ranking_book"


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


def _book(session: Session, table: RateTable, as_of: date) -> dict[str, dict[str, Any]]:
    """What ranking any selection reads of every account, by account id as text (as stored:
    JSON keys are text): its ARR per currency (``arr``: those with a contract in force; the pairs
    become lists once stored, read alike), its rank as a family of its own (``solo``: most
    families in a selection are one account), its top parent (``heads``: those below another
    account) and each head's name in lower case (``names``)."""
    accounts = session.execute(sa.select(Account.id, Account.parent_id, Account.name)).all()
    parents: dict[int, int | None] = {a.id: a.parent_id for a in accounts}
    heads = {a.id: hierarchy.top_parent_of(parents, a.id) for a in accounts}
    named = set(heads.values())
    arr = {str(i): amounts for i, amounts in arr_by_currency(session, None, as_of).items()}
    return {
        "arr": arr,
        "solo": {i: _rank_of(amounts, table, as_of) for i, amounts in arr.items()},
        "heads": {str(i): head for i, head in heads.items() if head != i},
        "names": {str(a.id): a.name.lower() for a in accounts if a.id in named},
    }


def _rank_of(amounts: Iterable[Sequence[Any]], table: RateTable, as_of: date) -> tuple[int, float]:
    """A family's place by its ARR (``amounts``: its members' pairs of currency and ARR): by its
    total in the reporting currency (roll_up's arr_converted), largest first; then families
    with ARR in a currency without a rate; then those without ARR."""
    totals = _totals((currency, value) for currency, value in amounts)
    if not totals:
        return (2, 0.0)
    amount = converted_amount(totals, table, as_of)
    return (1, 0.0) if amount is None else (0, -amount)


def _rank(
    ids: list[int], book: Mapping[str, Mapping[str, Any]], table: RateTable, as_of: date
) -> tuple[list[int], dict[int, list[int]]]:
    """The selected accounts grouped under their top parents, largest family first and then
    by name (see :func:`top_parents`): the heads in rank order and each one's members in
    selection order."""
    arr, solo, heads, names = book["arr"], book["solo"], book["heads"], book["names"]
    groups: dict[int, list[int]] = defaultdict(list)
    for account_id in ids:
        groups[heads.get(str(account_id), account_id)].append(account_id)

    def rank(head: int) -> tuple[int, float, str]:
        members = groups[head]
        if len(members) == 1:
            place = solo.get(str(members[0]), (2, 0.0))
        else:
            place = _rank_of((f for i in members for f in arr.get(str(i), ())), table, as_of)
        return (place[0], place[1], names[str(head)])

    return sorted(groups, key=rank), groups


def _default_selection(session: Session, as_of: date) -> list[int]:
    return list(session.scalars(export_ids(session, PortfolioQuery(), None, as_of)))


def store_family_ranking(session: Session, as_of: date) -> dict[str, Any]:
    """The daily run's step: every account's ARR and top parent, and the default selection's
    families ranked from them, stored for the Top parents page."""
    table = fx_service.rate_table(session, on=as_of)
    inputs = _inputs(session, table)
    book = _store_book(session, inputs, table, as_of)
    ids = _default_selection(session, as_of)
    ranked, groups = _rank(ids, book, table, as_of)
    _store_ranking(session, inputs, ids, ranked, groups, as_of)
    return {"families": len(ranked)}


def _store_book(
    session: Session, inputs: str, table: RateTable, as_of: date
) -> dict[str, dict[str, Any]]:
    book = _book(session, table, as_of)
    figures.write_snapshot(session, FAMILY_BOOK, _ranking_code(), as_of, {"inputs": inputs, **book})
    return book


def _store_ranking(
    session: Session,
    inputs: str,
    ids: list[int],
    ranked: list[int],
    groups: dict[int, list[int]],
    as_of: date,
) -> None:
    # Compact, as a page decodes it whole: the selection's size, not its ids; the members
    # of a family only when they are not its head alone (most families at 10,000 accounts).
    data = {
        "inputs": inputs,
        "accounts": len(ids),
        "ranked": ranked,
        "members": {str(h): groups[h] for h in ranked if groups[h] != [h]},
    }
    figures.write_snapshot(session, FAMILY_RANKING, _ranking_code(), as_of, data)


def _read(
    session: Session, kind: str, inputs: str, as_of: date
) -> tuple[dict[str, Any] | None, bool]:
    """The stored figures of ``kind`` when they are of ``as_of`` and nothing they read changed
    since (else None), and whether figures computed now for ``as_of`` replace them (none stored,
    or stored for ``as_of`` or an earlier day)."""
    stored = figures.read_snapshot(session, kind, _ranking_code())
    if stored is None:
        return None, True
    data, day = stored
    if day == as_of and data.get("inputs") == inputs:
        return data, False
    return None, day <= as_of


def _ranked(
    session: Session, query: PortfolioQuery, user: User, table: RateTable, as_of: date
) -> tuple[int, list[int], Callable[[int], list[int]]]:
    """How many accounts the filters select, their families' heads in rank order and each
    head's members in selection order: from the stored ranking for the default selection when
    it is of ``as_of`` and nothing it read changed since (the selection is then the same: it
    reads accounts and contracts alone); any other selection ranked now from every account's
    stored ARR and top parent (the selection itself is found now: its filters read more than the
    stored figures do). What is not stored or stale is computed — and stored again when of
    ``as_of`` or a later day than the stored one."""
    inputs = _inputs(session, table)
    default = query.model_dump(exclude=PAGING) == PortfolioQuery().model_dump(exclude=PAGING)
    replace_ranking = False
    if default:
        ranking, replace_ranking = _read(session, FAMILY_RANKING, inputs, as_of)
        if ranking is not None:
            members: dict[str, list[int]] = ranking["members"]
            return (
                ranking["accounts"],
                ranking["ranked"],
                lambda head: members.get(str(head), [head]),
            )
    ids = list(session.scalars(export_ids(session, query, user, as_of)))
    stored, replace_book = _read(session, FAMILY_BOOK, inputs, as_of)
    if stored is not None:
        book: Mapping[str, Mapping[str, Any]] = stored
    elif replace_book:
        book = _store_book(session, inputs, table, as_of)
    else:  # an earlier day than the stored one: that day's
        book = _book(session, table, as_of)
    ranked, groups = _rank(ids, book, table, as_of)
    if replace_ranking:
        _store_ranking(session, inputs, ids, ranked, groups, as_of)
    return len(ids), ranked, groups.__getitem__


PAGING = {"page", "limit", "cursor"}


def top_parents(session: Session, query: PortfolioQuery, user: User, as_of: date) -> TopParents:
    """The portfolio rolled up to top parents: the accounts the filters select, grouped under
    the account at the head of each one's family (named even when the filters leave it out),
    largest ARR in the reporting currency first, then families with ARR in a currency without a
    rate, then those without ARR; ``query.limit`` families a page.

    Every family is ranked from its members' ARR alone (stored by the daily run with every
    account's ARR, or one grouped read of the contracts in force) — or read from the ranking
    the daily run stored for the default selection; only the page's families are rolled up in
    full (health, risk, renewals)."""
    table = fx_service.rate_table(session, on=as_of)
    accounts, ranked, members_of = _ranked(session, query, user, table, as_of)
    shown = ranked[(query.page - 1) * query.limit : query.page * query.limit]
    heads = {
        a.id: a
        for a in session.execute(
            sa.select(Account.id, Account.name, Account.external_id).where(Account.id.in_(shown))
        )
    }
    page = [i for head in shown for i in members_of(head)]
    rows = {r.id: r for r in full_rows(session, page, as_of, table)}
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
