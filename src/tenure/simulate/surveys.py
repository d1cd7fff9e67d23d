"""Survey answers: NPS from contacts and a sample of users on each account's cycle, CSAT after a
closed ticket. Scores follow latent value (standardized) with noise; NPS also falls after
incidents and rises with seniority, CSAT falls with a slow resolution. A few NPS answers carry a
comment.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tenure.simulate.population import NEVER
from tenure.simulate.records import account_ids, contact_ids, serials, times, user_ids
from tenure.simulate.state import CUSTOMER, Floats, Ints, SimulationState
from tenure.simulate.value import latent_value, standardized

SURVEY_COMMENTS = np.array([None, "Great product and support", "Too expensive for what we get"])


def _record_answers(
    state: SimulationState,
    accounts: Ints,
    contacts: Ints,
    ids: pa.Array,
    kind: str,
    score: Ints,
    at: Ints,
) -> None:
    code = np.select([score >= 9, score <= 4], [1, 2], 0)
    code[state.rng_sentiment.random(len(score)) >= 0.3] = 0  # most leave no comment
    if kind != "nps":
        code[:] = 0
    comment = SURVEY_COMMENTS[code]
    state.spools.append(
        "surveys",
        pa.table(
            {
                "external_id": serials(state, "survey", accounts, "s"),
                "account_external_id": account_ids(state, accounts),
                "contact_external_id": ids,
                "kind": np.full(len(accounts), kind),
                "score": score,
                "comment": pa.array(comment, pa.string()),
                "responded_at": pa.array(at, pa.timestamp("us", tz="UTC")),
                "_account": accounts,
                "_contact": contacts,
            }
        ),
    )


def ask_csat(
    state: SimulationState,
    rng: np.random.Generator,
    accounts: Ints,
    slots: Ints,
    resolution_hours: Floats,
    closed: Ints,
    as_of_us: int,
) -> None:
    """CSAT a share of users answer an hour after their ticket closed (closed before as_of)."""
    asked = (closed < as_of_us) & (
        rng.random(len(accounts)) < state.config.sentiment.csat_after_ticket
    )
    if not asked.any():
        return
    a = accounts[asked]
    z = standardized(state, latent_value(state, a))
    noise = rng.normal(0, 0.8, len(a))
    score = np.clip(
        np.rint(3.9 + 0.4 * z - 0.5 * np.log(resolution_hours[asked] / 22) + noise), 1, 5
    ).astype(np.int64)
    _record_answers(
        state,
        a,
        state.pop.slot_base[a] + slots[asked],
        user_ids(state, a, slots[asked]),
        "csat",
        score,
        closed[asked] + 3_600_000_000,
    )


def ask_nps(state: SimulationState, day: int) -> None:
    """NPS for accounts whose survey cycle falls today (customers for at least 30 days)."""
    pop, cfg, rng = state.pop, state.config.sentiment, state.rng_sentiment
    due = np.flatnonzero(
        (state.status == CUSTOMER)
        & ((day + pop.phase) % cfg.nps_every_days == 0)
        & (day - pop.signed_day >= 30)
    )
    if len(due) == 0:
        return
    book = state.book
    members = np.flatnonzero(
        np.isin(book.account[: book.size], due) & (book.left[: book.size] == NEVER)
    )
    members = members[rng.random(len(members)) < cfg.contact_response]
    sample = np.minimum(
        rng.binomial(state.active_users[due], cfg.user_sample_share), cfg.user_sample_max
    )
    u_acc = np.repeat(due, sample)
    u_slot = np.unique(
        np.column_stack(
            [u_acc, np.floor(rng.random(len(u_acc)) * state.active_users[u_acc])]
        ).astype(np.int64),
        axis=0,
    )
    c_acc = book.account[members]
    accounts = np.concatenate([c_acc, u_slot[:, 0]])
    if len(accounts) == 0:
        return
    z = standardized(state, latent_value(state, accounts))
    seniority = np.concatenate([book.level[members] * 0.15, np.zeros(len(u_slot))])
    score = np.clip(
        np.rint(
            7.0
            + 1.6 * z
            + seniority
            - 1.2 * np.minimum(state.incident_load[accounts], 2)
            + rng.normal(0, 1.7, len(accounts))
        ),
        0,
        10,
    ).astype(np.int64)
    ids = pa.concat_arrays(
        [contact_ids(state, members), user_ids(state, u_slot[:, 0], u_slot[:, 1])]
    )
    contacts = np.concatenate(
        [pop.total_slots + members, pop.slot_base[u_slot[:, 0]] + u_slot[:, 1]]
    )
    _record_answers(state, accounts, contacts, ids, "nps", score, times(state, rng, day, accounts))
