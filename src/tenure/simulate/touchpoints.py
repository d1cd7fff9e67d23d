"""Touchpoints the CSM logs: regular contact at the segment's rhythm (quieter with a customer
going quiet), QBRs on each account's quarterly cycle, and an EBR 75 days before a term of a year
or more ends — with the champion, and at reviews a stakeholder (the longest-serving one present),
the sponsor and, at the EBR, the buyer attending.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tenure.simulate import names
from tenure.simulate.records import account_ids, contact_ids, csm_email, serials, times
from tenure.simulate.renewals import going_quiet
from tenure.simulate.state import CUSTOMER, STAKEHOLDER, Ints, SimulationState


def owner_on(state: SimulationState, accounts: Ints, day: int) -> Ints:
    """The CSM who owns each account on ``day``."""
    pop = state.pop
    return np.where(day >= pop.reassigned_day[accounts], pop.csm_after[accounts], pop.csm[accounts])


def review_stakeholders(state: SimulationState, accounts: Ints, day: int) -> dict[int, int]:
    """The stakeholder who attends each account's review: the longest-serving one present."""
    book = state.book
    if len(accounts) == 0:
        return {}
    n = book.size
    present = np.flatnonzero(
        ((book.roles[:n] & STAKEHOLDER) > 0)
        & (book.joined[:n] <= day)
        & (book.left[:n] > day)
        & np.isin(book.account[:n], accounts)
    )
    out: dict[int, int] = {}
    for person in present:  # in order of joining: the first seen is the longest-serving
        out.setdefault(int(book.account[person]), int(person))
    return out


def log_touchpoints(state: SimulationState, day: int) -> None:
    pop, rng = state.pop, state.rng_touch
    active = state.status == CUSTOMER
    quiet = going_quiet(state, day)
    silence = state.config.relationships.silence_when_leaving
    regular = active & (rng.random(pop.n) < (1 - silence * quiet) / state.seg_touch)
    qbr = active & pop.qbr & ((day + pop.phase) % 91 == 0)
    ebr = active & pop.ebr & (state.c_end - day == 75) & (pop.term_months >= 12)
    state.last_review[qbr | ebr] = day
    kinds = np.array(["email", "call", "meeting"])[pop.segment]
    acc = np.concatenate([np.flatnonzero(regular), np.flatnonzero(qbr), np.flatnonzero(ebr)])
    if len(acc) == 0:
        return
    kind = np.concatenate(
        [kinds[regular], np.full(int(qbr.sum()), "qbr"), np.full(int(ebr.sum()), "ebr")]
    )
    stakeholder = review_stakeholders(state, acc[np.isin(kind, ("qbr", "ebr"))], day)
    attendees: list[list[int]] = []
    for a, k in zip(acc, kind, strict=True):
        people = [int(state.champion[a])]
        if k in ("qbr", "ebr"):
            people.append(stakeholder.get(int(a), -1))
        sponsor_comes = state.sponsor[a] >= 0 and not (silence > 0 and quiet[a])
        if k in ("qbr", "ebr") and sponsor_comes and (k == "ebr" or rng.random() < 0.5):
            people.append(int(state.sponsor[a]))
        if k == "ebr":
            people.append(int(state.buyer[a]))
        attendees.append([p for p in people if p >= 0])
    flat = np.array([p for people in attendees for p in people], dtype=np.int64)
    flat_ids = contact_ids(state, flat).to_pylist() if len(flat) else []
    lengths = np.array([len(p) for p in attendees])
    splits = np.split(np.arange(len(flat)), np.cumsum(lengths)[:-1])
    owners = owner_on(state, acc, day)
    state.spools.append(
        "touchpoints",
        pa.table(
            {
                "external_id": serials(state, "touchpoint", acc, "m"),
                "account_external_id": account_ids(state, acc),
                "kind": kind,
                "occurred_at": pa.array(times(state, rng, day, acc), pa.timestamp("us", tz="UTC")),
                "subject": [names.TOUCHPOINT_SUBJECTS[k] for k in kind],
                "notes": pa.nulls(len(acc), pa.string()),
                "user_email": [csm_email(int(c)) for c in owners],
                "attendee_external_ids": [[flat_ids[i] for i in s] for s in splits],
                "_account": acc,
                "_user": owners,
                "_attendees": [[int(pop.total_slots + flat[i]) for i in s] for s in splits],
            }
        ),
    )
