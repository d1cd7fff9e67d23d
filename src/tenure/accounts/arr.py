"""Active contract and ARR on a day: the one definition every figure in Tenure uses.

A contract is **active on D** when

1. ``starts_on <= D <= ends_on`` — or, for a contract that **renews by itself** (``auto_renews``:
   a subscription, whose ``ends_on`` is the end of the period paid for), ``starts_on <= D`` while
   it *continues*: neither cancelled nor ended, and no outcome recorded. A monthly subscription
   paid for two years is one contract in force for two years, not one that ends every month;
   an announced cancellation (outcome ``churned``) ends it on ``ends_on``, a cancellation on
   ``outcome_on``;
2. it is not ``pending`` (signed but not begun: a renewal on file is not revenue yet);
3. it was not cancelled before D: a ``cancelled`` contract is in force through its ``outcome_on``
   (through ``ends_on`` when ``outcome_on`` is missing);
4. it does not yield to a successor: a contract that ends on D, having started before D, yields to
   a contract of the same account that starts on D and is itself in force (a renewal handed over on
   the anniversary counts once, not twice).

Only ``pending`` and ``cancelled`` are read from ``status`` (and ``ended``, which stops a
subscription renewing): ``active``/``ended`` otherwise merely restate the dates, and reading them
would leak today's status into a past D.

**ARR on D** is the sum of ``arr`` over the contracts active on D **per (account, currency)**. It
is never summed across currencies (ENGINEERING.md: a figure in two currencies is two figures):
an account paying 1,000 USD and 500 EUR has two ARR figures. Where one number per account is
needed (the metric registry's ``arr``), it exists only when the account pays in one currency.

The definition has three twins, tested against each other on SQLite/DuckDB and PostgreSQL
(tests/accounts/test_arr.py): :func:`active_on` over rows already in memory, :func:`active_clause`
for SQLAlchemy queries (services) and :func:`active_contracts_ibis` for the metric registry.

>>> from types import SimpleNamespace as C
>>> term = dict(auto_renews=False, renewal_outcome=None, outcome_on=None, status="active")
>>> old = C(account_id=1, currency="USD", starts_on=date(2024, 1, 1), ends_on=date(2025, 1, 1),
...         arr=100.0, **term)
>>> new = C(account_id=1, currency="USD", starts_on=date(2025, 1, 1), ends_on=date(2026, 1, 1),
...         arr=110.0, **term)
>>> eur = C(account_id=1, currency="EUR", starts_on=date(2024, 6, 1), ends_on=date(2025, 5, 31),
...         arr=50.0, **term | dict(status="cancelled", outcome_on=date(2025, 2, 1)))
>>> arr_on([old, new, eur], date(2025, 1, 1))
{(1, 'USD'): 110.0, (1, 'EUR'): 50.0}
>>> arr_on([old, new, eur], date(2025, 2, 2))
{(1, 'USD'): 110.0}

A monthly subscription started in 2024, its current period ending 2025-02-28, still paying
in 2026 (the export is older than the day asked):

>>> monthly = C(account_id=2, currency="USD", starts_on=date(2024, 1, 1),
...             ends_on=date(2025, 2, 28), arr=600.0, **term | dict(auto_renews=True))
>>> arr_on([monthly], date(2024, 1, 1)), arr_on([monthly], date(2026, 6, 1))
({(2, 'USD'): 600.0}, {(2, 'USD'): 600.0})
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tenure.model.contract import Contract, ContractStatus

if TYPE_CHECKING:
    import ibis


class Dated(Protocol):
    """What rules 1–3 read of a contract (a ``Contract`` row or any lighter record)."""

    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...
    @property
    def status(self) -> str: ...
    @property
    def outcome_on(self) -> date | None: ...
    @property
    def auto_renews(self) -> bool: ...
    @property
    def renewal_outcome(self) -> str | None: ...


class Term(Dated, Protocol):
    """What the whole definition and ARR read of a contract."""

    @property
    def account_id(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def arr(self) -> float: ...


T = TypeVar("T", bound=Term)

# The currency named for an account whose active contracts are in several (it then has no one ARR).
MULTIPLE_CURRENCIES = "multiple"


# --- in memory ----------------------------------------------------------------------------------


# Statuses that stop a subscription renewing by itself.
STOPPED = (ContractStatus.cancelled, ContractStatus.ended, ContractStatus.pending)


def continues(term: Dated) -> bool:
    """A contract renewing by itself past its ``ends_on``: auto-renewing, neither cancelled nor
    ended (nor pending), and no renewal outcome recorded."""
    return term.auto_renews and term.status not in STOPPED and term.renewal_outcome is None


def in_force(term: Dated, day: date) -> bool:
    """Rules 1–3: dated over ``day`` (or continuing past its end), not pending, not cancelled
    before ``day``."""
    dated = term.starts_on <= day and (day <= term.ends_on or continues(term))
    if not dated or term.status == ContractStatus.pending:
        return False
    return not (term.status == ContractStatus.cancelled and (term.outcome_on or term.ends_on) < day)


def active_on(terms: Iterable[T], day: date) -> list[T]:
    """The contracts active on ``day`` (rules 1–4), in their given order."""
    live = [t for t in terms if in_force(t, day)]
    succeeded = {t.account_id for t in live if t.starts_on == day}
    return [t for t in live if not _handed_over(t, day, succeeded)]


def _handed_over(term: Term, day: date, succeeded: set[int]) -> bool:
    return term.ends_on == day and term.starts_on != day and term.account_id in succeeded


def arr_on(terms: Iterable[Term], day: date) -> dict[tuple[int, str], float]:
    """ARR per (account, currency) on ``day``; accounts without an active contract are absent."""
    arr: dict[tuple[int, str], float] = defaultdict(float)
    for t in active_on(terms, day):
        arr[(t.account_id, t.currency)] += float(t.arr)
    return dict(arr)


def one_figure(arr: dict[tuple[int, str], float]) -> dict[int, tuple[float | None, str]]:
    """Each account's (ARR, currency) where one number per account is wanted: the ARR when the
    account pays in one currency, else ``(None, MULTIPLE_CURRENCIES)`` — two figures are not one.

    >>> one_figure({(1, "USD"): 10.0, (2, "USD"): 5.0, (2, "EUR"): 4.0})
    {1: (10.0, 'USD'), 2: (None, 'multiple')}
    """
    currencies: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for (account_id, currency), value in arr.items():
        currencies[account_id].append((value, currency))
    return {
        a: figures[0] if len(figures) == 1 else (None, MULTIPLE_CURRENCIES)
        for a, figures in currencies.items()
    }


# --- SQLAlchemy ---------------------------------------------------------------------------------


def continues_clause(contract: Any) -> sa.ColumnElement[bool]:
    """:func:`continues` as SQL over :class:`Contract` (or an alias of it)."""
    return sa.and_(
        contract.auto_renews.is_(True),
        contract.status.not_in(STOPPED),
        contract.renewal_outcome.is_(None),
    )


def _in_force_clause(contract: Any, day: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        contract.starts_on <= day,
        sa.or_(contract.ends_on >= day, continues_clause(contract)),
        contract.status != ContractStatus.pending,
        sa.not_(
            sa.and_(
                contract.status == ContractStatus.cancelled,
                sa.func.coalesce(contract.outcome_on, contract.ends_on) < day,
            )
        ),
    )


def active_clause(day: date) -> sa.ColumnElement[bool]:
    """A WHERE clause on :class:`Contract` selecting the contracts active on ``day``."""
    successor = aliased(Contract)
    succeeded = (
        sa.exists()
        .where(successor.account_id == Contract.account_id, successor.starts_on == day)
        .where(_in_force_clause(successor, day))
    )
    handed_over = sa.and_(Contract.ends_on == day, Contract.starts_on != day, succeeded)
    return sa.and_(_in_force_clause(Contract, day), sa.not_(handed_over))


def arr_by_currency(
    session: Session, day: date, account_ids: Collection[int] | None = None
) -> dict[tuple[int, str], float]:
    """ARR per (account, currency) on ``day`` read from the database (of ``account_ids`` only,
    when given)."""
    query = (
        sa.select(Contract.account_id, Contract.currency, sa.func.sum(Contract.arr))
        .where(active_clause(day))
        .group_by(Contract.account_id, Contract.currency)
    )
    if account_ids is not None:
        query = query.where(Contract.account_id.in_(account_ids))
    return {(a, currency): float(arr) for a, currency, arr in session.execute(query)}


# --- Ibis ---------------------------------------------------------------------------------------


def continues_ibis(contracts: ibis.Table) -> ibis.BooleanValue:
    """:func:`continues` over a contracts table (the metric snapshot's)."""
    return (
        contracts.auto_renews.fill_null(False)
        & ~contracts.status.isin([s.value for s in STOPPED])
        & contracts.renewal_outcome.isnull()
    )


def active_contracts_ibis(contracts: ibis.Table, day: ibis.DateValue) -> ibis.Table:
    """The rows of a contracts table (the metric snapshot's) active on ``day``."""
    cancelled_before = (contracts.status == ContractStatus.cancelled.value) & (
        contracts.outcome_on.fill_null(contracts.ends_on) < day
    )
    live = contracts.filter(
        contracts.starts_on <= day,
        (contracts.ends_on >= day) | continues_ibis(contracts),
        contracts.status != ContractStatus.pending.value,
        ~cancelled_before,
    )
    starting = live.filter(live.starts_on == day)
    handed_over = (
        (live.ends_on == day) & (live.starts_on != day) & live.account_id.isin(starting.account_id)
    )
    return live.filter(~handed_over)
