"""The day loop: every account steps through each simulated day together, in numpy arrays.

Each day: plays start or end; terms that ended yesterday close (renewed, changed or churned); new
customers sign; renewal reviews due today draw who intends to leave, and renewal decisions due
today are drawn from latent value and that intent; champions and sponsors leave, get promoted or
get replaced; incidents strike; users ramp toward the seats the account can fill and the day's
feature events are written; latent value moves; tickets, NPS/CSAT answers and touchpoints
follow. Each step is a mechanism module's function over the ``SimulationState``; the order below
is the order the random streams are read in, so changing it changes every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tenure.simulate.contracts import close_terms, record_contracts
from tenure.simulate.crm_records import advocate
from tenure.simulate.deals import write_deals
from tenure.simulate.messages import send_messages
from tenure.simulate.onboarding import onboard, signing_today
from tenure.simulate.relationships import change_relationships
from tenure.simulate.renewals import decide_renewals, review_renewals
from tenure.simulate.snapshot import write_snapshot, write_truth
from tenure.simulate.state import CUSTOMER, SimulationState
from tenure.simulate.support import open_tickets, strike_incidents
from tenure.simulate.surveys import ask_nps
from tenure.simulate.touchpoints import log_touchpoints
from tenure.simulate.usage import use_product
from tenure.simulate.value import close_month


def step(state: SimulationState, day: int) -> None:
    """One simulated day for every account."""
    if state.plays is not None:
        state.plays.begin_day(day, state.status == CUSTOMER)
    close_terms(state, day)
    onboard(state, signing_today(state, day), day)
    review_renewals(state, day)
    decide_renewals(state, day)
    change_relationships(state, day)
    incident = strike_incidents(state)
    use_product(state, day)
    open_tickets(state, day, incident)
    ask_nps(state, day)
    log_touchpoints(state, day)
    send_messages(state, day)
    calendar = state.calendar
    if day + 1 == calendar.n_days or calendar.date(day + 1).day == 1:
        advocate(state, day)
        close_month(state, day)
    state.counts.days += 1


def run(state: SimulationState, progress: Callable[[int, int], None] | None = None) -> None:
    """Step through every day up to the as-of date."""
    total = state.calendar.n_days
    for day in range(total):
        step(state, day)
        if progress is not None:
            progress(day + 1, total)


def finish(state: SimulationState, meta: dict[str, Any]) -> None:
    """Rows that exist once the run is over: running contracts, accounts, people, truth."""
    running = np.flatnonzero(state.status == CUSTOMER)
    record_contracts(state, running, state.calendar.n_days, final=True)
    write_snapshot(state)
    write_deals(state)
    write_truth(state, meta)
