"""Commercial: what the account pays, for how long it has, and when it decides again.

Active contract and ARR on a day follow the one definition in :mod:`tenure.accounts.arr`
(in force by dates, not pending, not cancelled before the day, a renewal handed over on its
anniversary counted once). ARR stays in its currency: ``arr`` is given only for an account whose
active contracts share one currency, named by ``arr_currency``; an account paying in two
currencies gets ``arr_currency = "multiple"`` and no ``arr``.
"""

from __future__ import annotations

import ibis

from tenure.accounts.arr import MULTIPLE_CURRENCIES, active_contracts_ibis
from tenure.accounts.renewal import RENEWING_OUTCOMES, renewal_on_ibis
from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric


def active_contracts(inputs: MetricInputs) -> ibis.Table:
    """Contracts active on ``as_of`` (:func:`tenure.accounts.arr.active_contracts_ibis`)."""
    return active_contracts_ibis(inputs.snapshot.contracts, inputs.as_of_literal())


def _arr_by_account(inputs: MetricInputs) -> ibis.Table:
    contracts = active_contracts(inputs)
    per_currency = contracts.group_by("account_id", "currency").aggregate(arr=contracts.arr.sum())
    return per_currency.group_by("account_id").aggregate(
        currencies=per_currency.count(),
        arr=per_currency.arr.max(),
        currency=per_currency.currency.max(),
    )


@metric(
    "arr",
    "ARR",
    Unit.money,
    description=(
        "Annual recurring revenue of the contracts active on the as-of day, in `arr_currency`. "
        "No data without an active contract or when they are in several currencies."
    ),
)
def arr(inputs: MetricInputs) -> ibis.Table:
    by_account = _arr_by_account(inputs)
    return by_account.select(
        "account_id", value=ibis.ifelse(by_account.currencies == 1, by_account.arr, ibis.null())
    )


@metric(
    "arr_currency",
    "ARR currency",
    Unit.currency_code,
    description='Currency of `arr` (ISO 4217), or "multiple" when active contracts mix currencies.',
)
def arr_currency(inputs: MetricInputs) -> ibis.Table:
    by_account = _arr_by_account(inputs)
    return by_account.select(
        "account_id",
        value=ibis.ifelse(
            by_account.currencies == 1, by_account.currency, ibis.literal(MULTIPLE_CURRENCIES)
        ),
    )


@metric(
    "licensed_seats",
    "Licensed seats",
    Unit.number,
    description="Seats licensed by the contracts active on the as-of day.",
)
def licensed_seats(inputs: MetricInputs) -> ibis.Table:
    contracts = active_contracts(inputs)
    return contracts.group_by("account_id").aggregate(value=contracts.licensed_seats.sum())


@metric(
    "discount",
    "Discount",
    Unit.share,
    description=("Average discount (0–1) of the contracts active on the as-of day that state one."),
)
def discount(inputs: MetricInputs) -> ibis.Table:
    contracts = active_contracts(inputs)
    return contracts.group_by("account_id").aggregate(value=contracts.discount.mean())


@metric(
    "days_to_renewal",
    "Days to renewal",
    Unit.days,
    description=(
        "Days from the as-of day to the earliest renewal among the active contracts (the next "
        "renewal decision; a monthly subscription renewing by itself has none). No data "
        "without an active contract."
    ),
)
def days_to_renewal(inputs: MetricInputs) -> ibis.Table:
    due = next_renewal(inputs)
    return due.select("account_id", value=due.renews_on.delta(inputs.as_of_literal(), unit="day"))


def next_renewal(inputs: MetricInputs) -> ibis.Table:
    """account_id, renews_on: the earliest renewal among the active contracts (none for a
    monthly subscription renewing by itself)."""
    live = active_contracts(inputs)
    contracts = live.mutate(renews_on=renewal_on_ibis(live)).filter(lambda t: t.renews_on.notnull())
    return contracts.group_by("account_id").aggregate(renews_on=contracts.renews_on.min())


@metric(
    "renewal_booked",
    "Renewal booked",
    Unit.flag,
    default=0,
    description=(
        "Yes when the next renewal (the one `days_to_renewal` counts to) is already decided "
        "in the customer's favour: every active contract coming up for renewal that day has a "
        "renewing outcome (renewed, expanded, downgraded) dated on or before the as-of day, or "
        "a renewal opportunity won during its term, closed on or before the as-of day."
    ),
)
def renewal_booked(inputs: MetricInputs) -> ibis.Table:
    """The renewal list's "booked" (:mod:`tenure.accounts.renewal`, rules 1 and 3) as of a day:
    only what carries its day can be placed in the past — a successor signed ahead (rule 2)
    carries none here, so it cannot say since when it was known. A CRM records a renewal as a
    won opportunity and billing has no field for it: without rule 3 such a book reads no
    renewal booked before its term ends."""
    live = active_contracts(inputs)
    contracts = live.mutate(renews_on=renewal_on_ibis(live)).filter(lambda t: t.renews_on.notnull())
    first = contracts.group_by("account_id").aggregate(first_on=contracts.renews_on.min())
    due = contracts.join(first, "account_id").filter(lambda t: t.renews_on == t.first_on)
    won = inputs.snapshot.won_renewals
    won = won.filter(won.closed_on <= inputs.as_of_literal())
    last_won = won.group_by("account_id").aggregate(last_won_on=won.closed_on.max())
    due = due.left_join(last_won, "account_id").select(
        due.account_id, due.starts_on, due.renewal_outcome, due.outcome_on, last_won.last_won_on
    )
    outcome = due.renewal_outcome.isin([o.value for o in RENEWING_OUTCOMES]) & (
        due.outcome_on <= inputs.as_of_literal()
    )
    won_in_term = due.last_won_on >= due.starts_on  # the latest win up to the day, in the term
    booked = outcome.fill_null(False) | won_in_term.fill_null(False)
    flagged = due.mutate(booked=ibis.ifelse(booked, 1, 0))
    return flagged.group_by("account_id").aggregate(value=flagged.booked.min())


@metric(
    "tenure_days",
    "Tenure",
    Unit.days,
    description=(
        "Days since the first contract started (contracts starting after the as-of day and "
        "pending ones do not count). No data before the first contract."
    ),
)
def tenure_days(inputs: MetricInputs) -> ibis.Table:
    contracts = inputs.snapshot.contracts
    day = inputs.as_of_literal()
    started = contracts.filter(contracts.starts_on <= day, contracts.status != "pending")
    first = started.group_by("account_id").aggregate(first=started.starts_on.min())
    return first.select("account_id", value=day.delta(first.first, unit="day"))
