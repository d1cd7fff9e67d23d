"""New customers: the first term (for the installed base, the term running on day 0), users
ramping toward the seats the account can fill, value starting from zero (or, for the installed
base, from where its age has brought it), and the people present at signing.
"""

from __future__ import annotations

import numpy as np

from tenure.simulate.behaviour import price_component
from tenure.simulate.contracts import open_term
from tenure.simulate.population import target_users
from tenure.simulate.relationships import first_contacts
from tenure.simulate.state import CUSTOMER, PROSPECT, Ints, SimulationState


def signing_today(state: SimulationState, day: int) -> Ints:
    """Prospects whose signing day has come."""
    return np.flatnonzero((state.status == PROSPECT) & (state.pop.signed_day <= day))


def onboard(state: SimulationState, accounts: Ints, day: int) -> None:
    pop = state.pop
    if len(accounts) == 0:
        return
    signed = pop.signed_day[accounts]
    state.status[accounts] = CUSTOMER
    start = signed.copy()
    seq = np.zeros(len(accounts), np.int64)
    term = pop.term_months[accounts]
    end = state.calendar.term_end(start, term)
    while (late := end < day).any():  # the installed base: the term running on day 0
        start[late] = end[late] + 1
        seq[late] += 1
        end[late] = state.calendar.term_end(start[late], term[late])
    state.c_start[accounts], state.c_end[accounts], state.c_seq[accounts] = start, end, seq
    open_term(state, accounts)
    age = np.maximum(day - signed, 0)
    target = target_users(state.c_seats[accounts], pop.adoption_target[accounts])
    state.users[accounts] = np.maximum(1.0, target * (1 - np.exp(-age / pop.ramp_days[accounts])))
    state.components[accounts] = 0.0  # value is earned: it starts at zero for new logos
    if day == 0:  # the installed base has been earning value for a while
        ramp = (1 - np.exp(-age / pop.ramp_days[accounts]))[:, None]
        state.components[accounts] = state.steady[accounts] * ramp
    state.components[accounts, 4] = price_component(pop, state.c_price)[accounts]
    first_contacts(state, accounts, day)
