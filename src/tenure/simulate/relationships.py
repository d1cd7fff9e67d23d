"""The people on the customer's side: champion, sponsor, commercial buyer and stakeholders.

Champions and sponsors leave (more often where the cultural fit is poor), some are replaced after
a while, champions get promoted, and CSMs multi-thread by meeting new stakeholders. Who is present
feeds latent value, and a champion who left recently can be the true cause of a churn.
"""

from __future__ import annotations

import numpy as np

from tenure.simulate.population import NEVER
from tenure.simulate.state import (
    BUYER,
    CHAMPION,
    CUSTOMER,
    SPONSOR,
    STAKEHOLDER,
    Ints,
    SimulationState,
)


def first_contacts(state: SimulationState, accounts: Ints, day: int) -> None:
    """The people present at signing; accounts signed without a champion may find one later."""
    pop, rel, book, rng = state.pop, state.config.relationships, state.book, state.rng_relations
    signed = pop.signed_day[accounts]
    level_for_buyer = np.where(pop.segment[accounts] == 0, 2, 3)
    with_champion = accounts[pop.has_champion[accounts]]
    state.champion[with_champion] = book.add(
        with_champion, 1, CHAMPION, pop.signed_day[with_champion]
    )
    no_champion = accounts[~pop.has_champion[accounts]]
    found = rng.random(len(no_champion)) < rel.replace_share
    state.champion_back[no_champion[found]] = np.maximum(
        day, pop.signed_day[no_champion[found]]
    ) + (rng.exponential(rel.replace_days_mean, found.sum()).astype(np.int64) + 1)
    with_sponsor = accounts[pop.has_sponsor[accounts]]
    state.sponsor[with_sponsor] = book.add(with_sponsor, 2, SPONSOR, pop.signed_day[with_sponsor])
    state.buyer[accounts] = book.add(accounts, level_for_buyer, BUYER, signed)
    stakeholders = rng.integers(0, rel.stakeholders_max + 1, len(accounts))
    holders = np.repeat(accounts, stakeholders)
    levels = rng.integers(0, 2, len(holders))
    book.add(holders, levels, STAKEHOLDER, pop.signed_day[holders])


def change_relationships(state: SimulationState, day: int) -> None:
    """Today's departures, replacements, new stakeholders and champion promotions."""
    rel, pop, rng = state.config.relationships, state.pop, state.rng_relations
    active = state.status == CUSTOMER
    cultural = pop.fits[:, 5]
    for role, holder, back, annual in (
        (CHAMPION, state.champion, state.champion_back, rel.champion_leave_annual),
        (SPONSOR, state.sponsor, state.sponsor_back, rel.sponsor_leave_annual),
    ):
        p_leave = annual / 365 * (1.6 - cultural)
        leaving = np.flatnonzero(active & (holder >= 0) & (rng.random(pop.n) < p_leave))
        state.book.left[holder[leaving]] = day
        holder[leaving] = -1
        if role == CHAMPION:
            state.champion_left_day[leaving] = day
        replaced = rng.random(len(leaving)) < rel.replace_share
        back[leaving] = np.where(
            replaced,
            day + 1 + rng.exponential(rel.replace_days_mean, len(leaving)).astype(np.int64),
            NEVER,
        )
        arriving = np.flatnonzero(active & (back <= day) & (holder < 0))
        holder[arriving] = state.book.add(arriving, 1 if role == CHAMPION else 2, role, day)
        back[arriving] = NEVER
    # CSMs multi-thread: new stakeholders at every level, mostly managers
    new = np.flatnonzero(active & (rng.random(pop.n) < 1 / rel.new_contact_every_days))
    levels = rng.choice(4, size=len(new), p=[0.3, 0.45, 0.2, 0.05])
    state.book.add(new, levels, STAKEHOLDER, day)
    promoted = np.flatnonzero(
        active & (state.champion >= 0) & (rng.random(pop.n) < rel.champion_promote_annual / 365)
    )
    state.book.level[state.champion[promoted]] = 2
