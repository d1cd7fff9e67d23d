"""The goal-bearing messages the CS team sends from Tenure (issue 18: the engagement-message loop
had no data on the demo): each with its goal and the check that tells, N days later, whether it
was met.

The team has sent them from Tenure for the last MESSAGES_DAYS of the run (a company new to Tenure
has no such history; the demo measures the same last twelve weeks, so every goal can be checked).
Who gets one is what a CSM can see, never the latent truth:
- **risk outreach** — seat use has sunk below RISK_UTILIZATION; on a Monday the CSM notices with
  RISK_NOTICED_WEEKLY and writes to the champion (else the buyer): goal, licence utilization up
  RISK_STEP within CHECK_DAYS (at most 100 %); not again within REPEAT_DAYS;
- **renewal preparation** — RENEWAL_DAYS before a term of a year or more ends, for RENEWAL_SENT of
  them, to the sponsor (else the buyer): goal, the sponsor met within CHECK_DAYS.
Whether a goal is met is left to what the account then does: the messages change nothing in the
simulation, so the report per template shows how often such goals are met anyway — the honest
baseline a team compares its messages with. Every draw comes from the run's own
``rng_messages`` stream (spawned last), so nothing else draws differently. [default] choices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tenure.simulate.records import account_ids, contact_ids, csm_email
from tenure.simulate.state import CUSTOMER, SimulationState
from tenure.simulate.touchpoints import owner_on
from tenure.words import percent

MESSAGES_DAYS = 90
RISK_UTILIZATION = 0.5
RISK_NOTICED_WEEKLY = 0.25
RISK_STEP = 0.1
RENEWAL_DAYS = 100
RENEWAL_SENT = 0.6
CHECK_DAYS = 30
REPEAT_DAYS = 90

RISK_SUBJECT = "Getting more of your team on board"
RISK_BODY = (
    "Hello,\n\nOnly {used} of your {seats} seats were used over the last weeks. We would like "
    "to help the rest of the team get going: a 30-minute session for the people who have not "
    "started yet, and our guide for new users. Would next week suit you?\n\nBest regards"
)
RENEWAL_SUBJECT = "Planning the year ahead together"
RENEWAL_BODY = (
    "Hello,\n\nYour subscription renews on {renews}. Before then we would like to review "
    "what the team achieved this year and agree on the goals for the next one. Could we find an "
    "hour with you in the coming weeks?\n\nBest regards"
)


def send_messages(state: SimulationState, day: int) -> None:
    """Today's risk outreaches (on Mondays) and renewal preparations."""
    if day < state.calendar.n_days - MESSAGES_DAYS:
        return
    pop, rng = state.pop, state.rng_messages
    active = state.status == CUSTOMER
    monday = state.calendar.date(day).weekday() == 0
    used = state.active_users / np.maximum(state.c_seats, 1)
    risk = (
        active
        & monday
        & (used < RISK_UTILIZATION)
        & (day - state.last_outreach >= REPEAT_DAYS)
        & (rng.random(pop.n) < RISK_NOTICED_WEEKLY)
    )
    renewal = (
        active
        & (state.c_end - day == RENEWAL_DAYS)
        & (pop.term_months >= 12)
        & (rng.random(pop.n) < RENEWAL_SENT)
    )
    state.last_outreach[risk] = day
    rows: list[tuple[Any, ...]] = []
    for a in np.flatnonzero(risk):
        person = state.champion[a] if state.champion[a] >= 0 else state.buyer[a]
        target = min(1.0, round(float(used[a]) + RISK_STEP, 2))
        rows.append(
            (
                a,
                person,
                "risk_outreach",
                f"License utilization up to {percent(target)}",
                "license_utilization",
                target,
                RISK_SUBJECT,
                RISK_BODY,
                {"used": int(state.active_users[a]), "seats": int(state.c_seats[a])},
            )
        )
    for a in np.flatnonzero(renewal):
        person = state.sponsor[a] if state.sponsor[a] >= 0 else state.buyer[a]
        renews = state.calendar.date(int(state.c_end[a]) + 1).isoformat()
        rows.append(
            (
                a,
                person,
                "renewal_prep",
                "Meet the sponsor before the renewal",
                "sponsor_engaged",
                1.0,
                RENEWAL_SUBJECT,
                RENEWAL_BODY,
                {"renews": renews},
            )
        )
    rows = [r for r in rows if r[1] >= 0]
    if not rows:
        return
    accounts = np.array([r[0] for r in rows], dtype=np.int64)
    people = np.array([r[1] for r in rows], dtype=np.int64)
    first = state.serial["message"]
    state.serial["message"] += len(rows)
    ids = account_ids(state, accounts).to_pylist()
    sent_on = state.calendar.date(day)
    state.spools.append(
        "messages",
        pa.table(
            {
                "external_id": [f"{i}-g{first + k}" for k, i in enumerate(ids)],
                "account_external_id": ids,
                "contact_external_id": contact_ids(state, people),
                "sender_email": [csm_email(int(c)) for c in owner_on(state, accounts, day)],
                "moment": [r[2] for r in rows],
                "goal": [r[3] for r in rows],
                "metric": [r[4] for r in rows],
                "comparison": ["at_least"] * len(rows),
                "target": pa.array([r[5] for r in rows], pa.float64()),
                "check_after_days": pa.array([CHECK_DAYS] * len(rows), pa.int64()),
                "subject": [r[6] for r in rows],
                "body": [r[7].format(**r[8]) for r in rows],
                "sent_on": pa.array([sent_on] * len(rows), pa.date32()),
            }
        ),
    )
