"""When a contract comes up for renewal, and whether that renewal is already booked: the one
definition the Renewals page, the forecast, Today, the playbook facts and the lifecycle read.

**Up for renewal.** A contract's renewal is its ``ends_on`` — except a monthly subscription that
renews by itself (:func:`tenure.accounts.arr.continues`): it is continuing revenue with no
renewal to prepare (its ``ends_on`` is only the end of the month paid for). Once it is set to
cancel at the period end (outcome ``churned``) it comes up again: a known loss on ``ends_on``.

**Booked.** A renewal is booked — decided, not at risk — when

1. the contract already has a renewing outcome (renewed, expanded, downgraded), or
2. a successor is on file: another contract of the account, not cancelled, starting after this
   one started and no later than :data:`SUCCESSOR_GAP_DAYS` after it ends, and ending after it
   (a renewal signed ahead is stored ``pending`` until it starts), or
3. a renewal opportunity of the account was won during the term.

>>> from types import SimpleNamespace as C
>>> term = C(id=1, account_id=1, starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30),
...          status="active", renewal_outcome=None, auto_renews=False, billing_period="annual")
>>> signed = C(id=2, account_id=1, starts_on=date(2026, 7, 1), ends_on=date(2027, 6, 30),
...            status="pending", renewal_outcome=None, auto_renews=False, billing_period="annual")
>>> booking(term, [term, signed], []), booking(term, [term], [])
('renewal signed (2026-07-01 to 2027-06-30)', None)
>>> monthly = C(**vars(term) | dict(auto_renews=True, billing_period="monthly"))
>>> renewal_on(term), renewal_on(monthly)
(datetime.date(2026, 6, 30), None)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import Dated, continues, continues_clause, continues_ibis
from tenure.model.contract import BillingPeriod, Contract, ContractStatus, RenewalOutcome
from tenure.model.opportunity import Opportunity, OpportunityKind, OpportunityStatus

if TYPE_CHECKING:
    import ibis

# A successor starting up to a month after the term ends still renews it (a late signature).
SUCCESSOR_GAP_DAYS = 31
RENEWING_OUTCOMES = frozenset(
    {RenewalOutcome.renewed, RenewalOutcome.expanded, RenewalOutcome.downgraded}
)


class Renewing(Dated, Protocol):
    @property
    def id(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def billing_period(self) -> str: ...


# What :class:`Renewing` reads of a contract, selected as plain rows: loading thousands of
# ``Contract`` objects only to read these costs seconds at 10,000 accounts.
RENEWING_COLUMNS = (
    Contract.id,
    Contract.account_id,
    Contract.starts_on,
    Contract.ends_on,
    Contract.status,
    Contract.outcome_on,
    Contract.auto_renews,
    Contract.renewal_outcome,
    Contract.billing_period,
)


def renews_itself(term: Dated, billing_period: str) -> bool:
    """A monthly subscription still renewing by itself: no renewal to prepare."""
    return billing_period == BillingPeriod.monthly and continues(term)


def renewal_on(term: Renewing) -> date | None:
    """The day the contract comes up for renewal, or None for a monthly self-renewing one."""
    return None if renews_itself(term, term.billing_period) else term.ends_on


def renewal_on_sql(contract: Any = Contract) -> Any:
    """:func:`renewal_on` as SQL over :class:`Contract` (NULL when it renews itself)."""
    monthly = sa.and_(contract.billing_period == BillingPeriod.monthly, continues_clause(contract))
    return sa.case((monthly, sa.null()), else_=contract.ends_on)


def renewal_on_ibis(contracts: ibis.Table) -> ibis.DateValue:
    """:func:`renewal_on` over a contracts table (the metric snapshot's; NULL when it renews
    itself)."""
    import ibis

    monthly = (contracts.billing_period == BillingPeriod.monthly.value) & continues_ibis(contracts)
    return ibis.ifelse(monthly, ibis.null().cast("date"), contracts.ends_on)


def booking(
    term: Renewing, contracts: Iterable[Renewing], won_renewals: Sequence[date]
) -> str | None:
    """Why the term's renewal is booked, in words, or None when it is not (rules 1–3 above);
    ``contracts`` are the account's, ``won_renewals`` the close days of its won renewal
    opportunities."""
    if term.renewal_outcome in RENEWING_OUTCOMES:
        return f"renewal {term.renewal_outcome}"
    latest = term.ends_on + timedelta(days=SUCCESSOR_GAP_DAYS)
    for other in contracts:
        if (
            other.id != term.id
            and other.status != ContractStatus.cancelled
            and term.starts_on < other.starts_on <= latest
            and other.ends_on > term.ends_on
        ):
            return f"renewal signed ({other.starts_on} to {other.ends_on})"
    won = [day for day in won_renewals if day >= term.starts_on]
    if won:
        return f"renewal opportunity won on {max(won)}"
    return None


def bookings(session: Session, terms: Sequence[Renewing], as_of: date) -> dict[int, str]:
    """Why each booked term's renewal is booked (by contract id), as known on ``as_of``."""
    accounts = sorted({t.account_id for t in terms})
    if not accounts:
        return {}
    contracts: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(accounts), 5_000):  # bounded IN lists (SQLite's limit)
        chunk = accounts[start : start + 5_000]
        rows = session.execute(sa.select(*RENEWING_COLUMNS).where(Contract.account_id.in_(chunk)))
        for row in rows:
            contracts[row.account_id].append(row)
    won = won_renewal_days(session, accounts, as_of)
    found = {}
    for term in terms:
        why = booking(term, contracts[term.account_id], won.get(term.account_id, []))
        if why is not None:
            found[term.id] = why
    return found


def won_renewal_days(
    session: Session, account_ids: Sequence[int], as_of: date
) -> dict[int, list[date]]:
    """The close days of each account's renewal opportunities won by ``as_of``."""
    found: dict[int, list[date]] = defaultdict(list)
    for start in range(0, len(account_ids), 5_000):
        rows = session.execute(
            sa.select(Opportunity.account_id, Opportunity.closed_on).where(
                Opportunity.account_id.in_(account_ids[start : start + 5_000]),
                Opportunity.kind == OpportunityKind.renewal,
                Opportunity.status == OpportunityStatus.won,
                Opportunity.closed_on <= as_of,
            )
        )
        for account_id, closed_on in rows:
            if closed_on is not None:
                found[account_id].append(closed_on)
    return dict(found)
