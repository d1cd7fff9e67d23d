"""Product usage: users ramp toward the seats an account can fill (less while it disengages),
latent value accrues, and the day's feature events are drawn — Poisson per account and feature,
by a day's weekday, season and holidays — plus a track event for each milestone reached today.

The day's events go out as ONE table (one Parquet file in the day's partition), clustered by
account. Message ids are ``s<seed>-d<day>-<n>``: unique by construction, so the store skips
deduplication.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from tenure.simulate.population import target_users
from tenure.simulate.records import account_ids, as_text, join, ranges, times, user_ids
from tenure.simulate.state import CHURN, CUSTOMER, Floats, Ints, SimulationState
from tenure.simulate.value import accrue_value
from tenure.store.events import EVENT_SCHEMA

HOLIDAYS = {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)}


def _day_factor(state: SimulationState, day: int) -> float:
    date = state.calendar.date(day)
    usage = state.config.usage
    factor = usage.weekday_factors[date.weekday()] * usage.month_factors[date.month - 1]
    return factor * (0.3 if (date.month, date.day) in HOLIDAYS else 1.0)


def _engagement(state: SimulationState, accounts: Ints, day: int) -> Floats:
    """How much of its potential an account uses today: less without a champion, while it
    intends to leave (gradually up to the decision), after it decided to, and after incidents."""
    usage, rel = state.config.usage, state.config.relationships
    no_champion = state.champion[accounts] < 0
    leaving = (state.decided[accounts] == CHURN) & (state.decision_day[accounts] <= day)
    intent_on = state.intent_on[accounts]
    intending = (intent_on <= day) & (state.decided[accounts] < 0)
    ramp = np.clip(
        (day - intent_on) / np.maximum(state.decision_day[accounts] - intent_on, 1), 0, 1
    )
    return np.asarray(
        (1 - rel.champion_usage_drop * no_champion)
        * (1 - usage.disengage_before_decision * intending * ramp)
        * (1 - usage.disengage_after_decision * leaving)
        / (1 + 0.5 * np.minimum(state.incident_load[accounts], 2))
    )


def _ramp_users(state: SimulationState, accounts: Ints, engagement: Floats) -> Ints:
    """Active users today: a ramp toward the users the account can put on its seats, engaged —
    beyond the seats for a team that outgrew them (up to the account's seat slots)."""
    pop, seats = state.pop, state.c_seats[accounts]
    target = target_users(seats, pop.adoption_target[accounts]) * engagement
    state.users[accounts] += (target - state.users[accounts]) / pop.ramp_days[accounts]
    active_users = np.clip(np.rint(state.users[accounts]), 1, pop.max_seats[accounts])
    active_users = active_users.astype(np.int64)
    state.active_users[accounts] = active_users
    return active_users


def use_product(state: SimulationState, day: int) -> None:
    """Today's users, value and events for every customer."""
    pop, usage, rng = state.pop, state.config.usage, state.rng_usage
    accounts = np.flatnonzero(state.status == CUSTOMER)
    if len(accounts) == 0:
        return
    engagement = _engagement(state, accounts, day)
    active_users = _ramp_users(state, accounts, engagement)
    # seat slots used for the first time: the product users the contacts file will list
    grew = np.flatnonzero(active_users > state.max_active[accounts])
    if len(grew):
        a = accounts[grew]
        slots = ranges(
            pop.slot_base[a] + state.max_active[a], active_users[grew] - state.max_active[a]
        )
        state.first_active[slots] = np.minimum(state.first_active[slots], day)
        state.max_active[a] = active_users[grew]
    adopted = pop.adopt_day[accounts] <= day
    accrue_value(state, accounts, adopted, engagement, active_users)

    rate = (
        active_users[:, None]
        * pop.rates[accounts]
        * adopted
        * (engagement * _day_factor(state, day) * usage.event_scale)[:, None]
    )
    counts = rng.poisson(rate)
    rows, cols = np.nonzero(counts)
    per = counts[rows, cols]
    acc = np.repeat(accounts[rows], per)
    feature = np.repeat(cols, per)
    slot = np.floor(rng.random(len(acc)) ** usage.user_skew * state.active_users[acc]).astype(
        np.int64
    )
    timestamps = times(state, rng, day, acc)
    names_ = state.feature_keys.take(pa.array(feature))
    properties = pa.nulls(len(acc), pa.string())
    # milestones reached today, as observable track events
    m_rows, m_cols = np.nonzero(pop.milestone_day[accounts] == day)
    if len(m_rows):
        m_acc = accounts[m_rows]
        keys = [state.milestone_keys[pop.segment[a]][j] for a, j in zip(m_acc, m_cols, strict=True)]
        acc = np.concatenate([acc, m_acc])
        slot = np.concatenate([slot, np.zeros(len(m_acc), np.int64)])
        timestamps = np.concatenate([timestamps, times(state, rng, day, m_acc)])
        names_ = pa.concat_arrays([names_, pa.array([f"milestone.{k}" for k in keys])])
        properties = pa.concat_arrays(
            [properties, pa.array([json.dumps({"milestone": k}) for k in keys])]
        )
    if len(acc) == 0:
        return
    order = np.lexsort((timestamps, acc))  # clustered by account: compresses, reads fast
    acc, slot, timestamps = acc[order], slot[order], timestamps[order]
    n_events = len(acc)
    latency = rng.integers(200_000, 30_000_000, n_events)
    table = pa.table(
        {
            "message_id": join(f"s{state.config.seed}-d{day}-", as_text(np.arange(n_events))),
            "source": pa.array(np.full(n_events, "simulator")),
            "type": pa.array(np.full(n_events, "track")),
            "account_id": account_ids(state, acc),
            "user_id": user_ids(state, acc, slot),
            "anonymous_id": pa.nulls(n_events, pa.string()),
            "event": names_.take(pa.array(order)),
            "timestamp": pa.array(timestamps, pa.timestamp("us", tz="UTC")),
            "received_at": pa.array(timestamps + latency, pa.timestamp("us", tz="UTC")),
            "properties": properties.take(pa.array(order)),
        },
        schema=EVENT_SCHEMA,
    )
    state.write_events(table)
    state.counts.events += n_events
