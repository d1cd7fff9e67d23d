"""Support: incidents (per account, and now and then a regional outage) and the tickets users
open — more with more active users, a poor technical or operational fit and during incidents —
plus the commercial requests (seat cuts, contract questions, data exports) that come more often
from a customer that intends to leave. A closed ticket may be followed by a CSAT answer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tenure.simulate import names
from tenure.simulate.records import account_ids, day_us, serials, times, user_ids
from tenure.simulate.renewals import going_quiet
from tenure.simulate.state import CUSTOMER, Bools, Ints, SimulationState
from tenure.simulate.surveys import ask_csat

TICKET_CATEGORIES = ("how_to", "bug", "integration", "billing", "outage")
BILLING = TICKET_CATEGORIES.index("billing")


def strike_incidents(state: SimulationState) -> Bools:
    """Accounts an incident hits today; their incident load decays over ``incident_memory_days``."""
    support, pop, rng = state.config.support, state.pop, state.rng_support
    hit = rng.random(pop.n) < support.account_incidents_per_year / 365 * (
        1 + 2 * (1 - pop.fits[:, 0])
    )
    if rng.random() < support.global_incidents_per_month / 30:
        region = rng.integers(0, len(state.config.regions))
        hit |= (pop.region == region) & (rng.random(pop.n) < 0.6)
    hit &= state.status == CUSTOMER
    state.incident_load = state.incident_load * np.exp(-1 / support.incident_memory_days) + hit
    state.term_incidents += hit
    return np.asarray(hit)


def _commercial_tickets(state: SimulationState, day: int, accounts: Ints) -> Ints:
    """Seat-cut, contract and data-export requests: a few from anyone, more from a customer
    that intends to leave. One account index per ticket."""
    support = state.config.support
    if (
        support.commercial_tickets_per_year == 0
        and support.leaving_commercial_tickets_per_month == 0
    ):
        return np.zeros(0, np.int64)
    rate = (
        support.commercial_tickets_per_year / 365
        + support.leaving_commercial_tickets_per_month / 30 * going_quiet(state, day)[accounts]
    )
    return np.repeat(accounts, state.rng_intent.poisson(rate))


def open_tickets(state: SimulationState, day: int, incident: Bools) -> None:
    """Today's tickets, each with a category, priority, resolution time and the user who asked."""
    pop, rng, support = state.pop, state.rng_support, state.config.support
    accounts = np.flatnonzero(state.status == CUSTOMER)
    fits = pop.fits[accounts]
    rate = (
        state.seg_tickets[accounts]
        * state.active_users[accounts] ** 0.8
        * (1 + 1.5 * (1 - fits[:, 0]) + (1 - fits[:, 3]))
        * (1 + support.incident_ticket_boost * incident[accounts])
        * (0.25 if state.calendar.weekday(day) >= 5 else 1.0)
    )
    counts = rng.poisson(rate)
    acc = np.repeat(accounts, counts)
    commercial = _commercial_tickets(state, day, accounts)
    if len(acc) + len(commercial) == 0:
        return
    f = pop.fits[acc]
    weights = np.column_stack(
        [
            0.35 * (1.5 - f[:, 3]),
            np.full(len(acc), 0.3),
            0.15 * (1.5 - f[:, 0]),
            np.full(len(acc), 0.1),
            np.where(incident[acc], 3.0, 0.02),
        ]
    )
    category = (
        rng.random(len(acc))[:, None] > np.cumsum(weights, 1) / weights.sum(1)[:, None]
    ).sum(1)
    is_commercial = np.repeat([False, True], [len(acc), len(commercial)])
    acc = np.concatenate([acc, commercial])
    category = np.concatenate([category, np.full(len(commercial), BILLING)])
    urgent = category == 4
    priority = np.where(
        urgent,
        np.where(rng.random(len(acc)) < 0.5, "urgent", "high"),
        np.array(["normal", "high", "normal", "low", "high"])[category],
    )
    opened = times(state, rng, day, acc)
    hours = np.exp(rng.normal(np.where(urgent, np.log(5), np.log(22)), 0.9))
    closed = opened + (hours * 3600e6).astype(np.int64)
    as_of_us = day_us(state.calendar, state.calendar.n_days)
    slot = np.floor(rng.random(len(acc)) * np.maximum(state.active_users[acc], 1)).astype(np.int64)
    subject = [
        names.COMMERCIAL_SUBJECTS[k % 3]
        if own
        else names.TICKET_SUBJECTS[TICKET_CATEGORIES[c]][k % 3]
        for c, k, own in zip(category, slot, is_commercial, strict=True)
    ]
    state.spools.append(
        "tickets",
        pa.table(
            {
                "external_id": serials(state, "ticket", acc, "t"),
                "account_external_id": account_ids(state, acc),
                "contact_external_id": user_ids(state, acc, slot),
                "subject": subject,
                "priority": priority,
                "category": np.array(TICKET_CATEGORIES)[category],
                "opened_at": pa.array(opened, pa.timestamp("us", tz="UTC")),
                "closed_at": pa.array(
                    closed, pa.timestamp("us", tz="UTC"), mask=closed >= as_of_us
                ),
                "_account": acc,
                "_contact": pop.slot_base[acc] + slot,
            }
        ),
    )
    ask_csat(state, rng, acc, slot, hours, closed, as_of_us)
