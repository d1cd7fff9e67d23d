"""Support: friction the customer reports through tickets.

A ticket is **open at the cutoff** when it was opened before it and is not closed before it.
High priority means ``high`` or ``urgent``. Billing tickets are those whose category is
``billing`` (any case): seat counts, contract terms, invoices — the commercial questions that
multiply ahead of a renewal the customer doubts.
"""

from __future__ import annotations

import ibis

from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric
from tenure.model.ticket import TicketPriority

HIGH_PRIORITIES = (TicketPriority.high.value, TicketPriority.urgent.value)
BILLING_CATEGORY = "billing"
BILLING_DAYS = 90


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
