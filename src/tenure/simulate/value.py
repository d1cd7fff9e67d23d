"""Latent value: what the customer gets from the product, the quantity renewals are drawn from.

Its components (breadth of use, utilization, champion, sponsor, price, incidents) move toward
today's level as a moving average (``value.memory_days``), so value is earned and lost gradually;
a running play adds utility on top. The truth gets each account's monthly mean.
"""

from __future__ import annotations

import numpy as np

from tenure.simulate.behaviour import breadth, price_component
from tenure.simulate.state import Bools, Floats, Ints, SimulationState


def latent_value(state: SimulationState, accounts: Ints) -> Floats:
    value = state.components[accounts] @ state.component_weights + state.static_value[accounts]
    if state.plays is not None:
        value = value + state.plays.lift[accounts]
    return np.asarray(value)


def standardized(state: SimulationState, latent: Floats) -> Floats:
    """Latent value standardized against the population's steady state."""
    return np.asarray((latent - state.pop.value_mean) / state.pop.value_sd)


def accrue_value(
    state: SimulationState,
    accounts: Ints,
    adopted: Bools,
    engagement: Floats,
    active_users: Ints,
) -> None:
    """Move each component toward today's level and add today's utility to the month."""
    pop, seats = state.pop, state.c_seats[accounts]
    comps = np.column_stack(
        [
            breadth(state.weights, adopted, pop.rate_ratio[accounts], engagement),
            np.minimum(active_users / seats, 1.0),
            (state.champion[accounts] >= 0).astype(float),
            (state.sponsor[accounts] >= 0).astype(float),
            price_component(pop, state.c_price)[accounts],
            -np.minimum(state.incident_load[accounts], 2),
        ]
    )
    memory = state.config.value.memory_days
    state.components[accounts] += (comps - state.components[accounts]) / memory
    today = comps @ state.component_weights + state.static_value[accounts]
    plays = state.plays
    if plays is not None:  # a play adds utility while it runs; value follows gradually
        plays.lift[accounts] += (plays.effect[accounts] - plays.lift[accounts]) / memory
        today = today + plays.effect[accounts]
    state.month_value[accounts] += today
    state.month_days[accounts] += 1


def close_month(state: SimulationState, day: int) -> None:
    """The month's value per account, as the truth keeps it."""
    accounts = np.flatnonzero(state.month_days > 0)
    month = state.calendar.date(day).replace(day=1)
    state.truth.month(
        month=month,
        account=accounts,
        latent_value=state.month_value[accounts] / state.month_days[accounts],
        latent_value_ewma=latent_value(state, accounts),
        active_users=state.active_users[accounts],
        champion_present=state.champion[accounts] >= 0,
        incidents=state.incident_load[accounts],
    )
    state.month_value[:] = 0
    state.month_days[:] = 0
