"""Support: friction the customer reports through tickets.

A ticket is **open at the cutoff** when it was opened before it and is not closed before it.
High priority means ``high`` or ``urgent``. Billing tickets are those whose category is
``billing`` (any case): seat counts, contract terms, invoices — the commercial questions that
multiply ahead of a renewal the customer doubts. A request to cut or leave is a ticket, of any
category, whose subject asks to cancel or give notice, to cut seats, when the contract ends, or
for all the data (:func:`tenure.metrics.snapshot.asks_to_leave`, read when the snapshot is taken).
Such requests weigh most in the run-up to a renewal, when customers review whether to renew.
"""

from __future__ import annotations

from datetime import timedelta

import ibis

from tenure.metrics.commercial import next_renewal
from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric
from tenure.model.ticket import TicketPriority

HIGH_PRIORITIES = (TicketPriority.high.value, TicketPriority.urgent.value)
BILLING_CATEGORY = "billing"
BILLING_DAYS = 90
# Customers review a renewal one to two quarters before it: the run-up the requests to cut or
# leave are counted over before a renewal.
RENEWAL_REVIEW_DAYS = 180


def open_tickets_at_cutoff(inputs: MetricInputs) -> ibis.Table:
    tickets = inputs.snapshot.tickets
    return tickets.filter(
        tickets.opened_at < inputs.cutoff,
        tickets.closed_at.isnull() | (tickets.closed_at >= inputs.cutoff),
    )


@metric(
    "open_tickets",
    "Open tickets",
    Unit.number,
    default=0,
    description="Support tickets open at the end of the as-of day.",
)
def open_tickets(inputs: MetricInputs) -> ibis.Table:
    tickets = open_tickets_at_cutoff(inputs)
    return tickets.group_by("account_id").aggregate(value=tickets.count())


@metric(
    "open_high_priority_tickets",
    "Open high-priority tickets",
    Unit.number,
    default=0,
    description="Open tickets (end of the as-of day) with high or urgent priority.",
)
def open_high_priority_tickets(inputs: MetricInputs) -> ibis.Table:
    tickets = open_tickets_at_cutoff(inputs)
    high = tickets.filter(tickets.priority.isin(HIGH_PRIORITIES))
    return high.group_by("account_id").aggregate(value=high.count())


@metric(
    "billing_tickets_90d",
    "Billing tickets (90 days)",
    Unit.number,
    default=0,
    description=(
        "Tickets in the billing category (seats, contract terms, invoices) opened in the "
        "trailing 90 days."
    ),
)
def billing_tickets_90d(inputs: MetricInputs) -> ibis.Table:
    tickets = inputs.snapshot.tickets
    billing = tickets.filter(
        tickets.category.lower() == BILLING_CATEGORY,
        inputs.within(tickets.opened_at, BILLING_DAYS),
    )
    return billing.group_by("account_id").aggregate(value=billing.count())


@metric(
    "leaving_requests_90d",
    "Requests to cut or leave (90 days)",
    Unit.number,
    default=0,
    description=(
        "Tickets opened in the trailing 90 days that ask to cancel or give notice, to cut "
        "seats or downgrade, when the contract ends, or for all the data (read in the "
        "subject, any category): what a customer asks before a renewal it may not make."
    ),
)
def leaving_requests_90d(inputs: MetricInputs) -> ibis.Table:
    tickets = inputs.snapshot.tickets
    asked = tickets.filter(
        tickets.asks_to_leave.fill_null(False), inputs.within(tickets.opened_at, BILLING_DAYS)
    )
    return asked.group_by("account_id").aggregate(value=asked.count())


@metric(
    "leaving_requests_before_renewal",
    "Requests to cut or leave before the renewal",
    Unit.number,
    default=0,
    description=(
        "Requests to cut or leave (as in the 90-day count) opened since two quarters (180 "
        "days) before the next renewal, when customers review whether to renew, up to the "
        "as-of day. 0 while the renewal is further off, or without one."
    ),
)
def leaving_requests_before_renewal(inputs: MetricInputs) -> ibis.Table:
    tickets = inputs.snapshot.tickets
    asked = tickets.filter(
        tickets.asks_to_leave.fill_null(False), tickets.opened_at < inputs.cutoff
    )
    due = next_renewal(inputs)
    joined = asked.join(due, "account_id")
    review = joined.filter(
        joined.opened_at.date() > joined.renews_on - timedelta(days=RENEWAL_REVIEW_DAYS)
    )
    return review.group_by("account_id").aggregate(value=review.count())
