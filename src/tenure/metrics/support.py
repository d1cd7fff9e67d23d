"""Support: friction the customer reports through tickets.

A ticket is **open at the cutoff** when it was opened before it and is not closed before it.
High priority means ``high`` or ``urgent``.
"""

from __future__ import annotations

import ibis

from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric
from tenure.model.ticket import TicketPriority

HIGH_PRIORITIES = (TicketPriority.high.value, TicketPriority.urgent.value)


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
