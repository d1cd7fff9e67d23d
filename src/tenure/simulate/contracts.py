"""Contract terms: opening a term (with its renewal review and decision days), closing it on the
day after it ends (renewed at the decided seats and price, or churned), and the contract rows a
billing system would hold — with an outcome only once it happened before ``as_of``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tenure.simulate.config import BILLING_PERIODS
from tenure.simulate.deals import record_deals
from tenure.simulate.population import NEVER
from tenure.simulate.records import account_ids, as_text, join
from tenure.simulate.state import CHURN, CHURNED, CUSTOMER, Floats, Ints, SimulationState
from tenure.simulate.truth import OUTCOMES


def open_term(state: SimulationState, accounts: Ints) -> None:
    """Schedule the term's renewal decision (and intent review) and clear the last term's."""
    renewal = state.config.renewal
    term_days = state.c_end[accounts] - state.c_start[accounts] + 1
    lead = np.minimum(renewal.decision_lead_days, term_days // 3)
    state.decision_day[accounts] = state.c_end[accounts] - lead
    intent_lead = np.minimum(renewal.intent_lead_days, 2 * term_days // 3)
    state.intent_day[accounts] = np.where(
        intent_lead > lead, state.c_end[accounts] - intent_lead, NEVER
    )
    state.intent_on[accounts] = NEVER
    state.intent_p[accounts] = -1.0
    state.intent_p_cf[accounts] = -1.0
    state.decided[accounts] = -1
    state.notice_day[accounts] = NEVER
    state.term_incidents[accounts] = 0


def close_terms(state: SimulationState, day: int) -> None:
    """Terms that ended yesterday: churners leave, the others start their next term."""
    ending = np.flatnonzero((state.status == CUSTOMER) & (state.c_end == day - 1))
    if len(ending) == 0:
        return
    record_contracts(state, ending, day)
    outcome = state.decided[ending]
    churned = ending[outcome == CHURN]
    state.status[churned] = CHURNED
    state.end_day[churned] = day
    state.active_users[churned] = 0
    staying = ending[outcome != CHURN]
    state.c_seq[staying] += 1
    state.c_start[staying] = day
    state.c_end[staying] = state.calendar.term_end(
        np.full(len(staying), day), state.pop.term_months[staying]
    )
    state.c_seats[staying] = state.next_seats[staying]
    state.c_price[staying] = state.next_price[staying]
    open_term(state, staying)


def contract_id(state: SimulationState, account: int, seq: int) -> str:
    return f"{state.account_ids[account].as_py()}-c{seq}"


def _contract_rows(
    state: SimulationState,
    accounts: Ints,
    seq: Ints,
    start: Ints,
    end: Ints,
    arr: Floats,
    seats: Ints,
    status: npt.NDArray[np.str_],
    outcome: dict[str, pa.Array],
) -> pa.Table:
    """One row per account's term; ``outcome`` holds the renewal columns (nulls while open)."""
    pop, cal = state.pop, state.calendar
    segments = list(state.config.segments.values())
    return pa.table(
        {
            "external_id": join(account_ids(state, accounts), "-c", as_text(seq)),
            "account_external_id": account_ids(state, accounts),
            "plan": [segments[s].plan for s in pop.segment[accounts]],
            "billing_period": [BILLING_PERIODS[b] for b in pop.billing[accounts]],
            # A monthly plan renews itself each month until cancelled, as billing stores it.
            "auto_renews": [BILLING_PERIODS[b] == "monthly" for b in pop.billing[accounts]],
            "starts_on": cal.dates(start),
            "ends_on": cal.dates(end),
            "arr": arr,
            "currency": state.currency[pop.region[accounts]],
            "licensed_seats": seats,
            "discount": pop.discount[accounts],
            "status": status,
            **outcome,
            "_account": accounts,
        }
    )


def record_contracts(
    state: SimulationState, accounts: Ints, day: int, *, final: bool = False
) -> None:
    """Contract rows for terms that closed (or, at the end, the running and signed ones)."""
    pop, cal = state.pop, state.calendar
    decided = state.decided[accounts]
    known = decided >= 0
    if final:  # outcomes count only once they happened before as_of
        churn_known = (decided == CHURN) & (state.c_end[accounts] < day)
        known = np.where(
            decided == CHURN, churn_known, known & (state.decision_day[accounts] < day)
        )
    outcome_day = np.where(decided == CHURN, state.c_end[accounts], state.decision_day[accounts])
    arr = np.round(state.c_seats[accounts] * state.c_price[accounts], 2)
    next_arr = np.where(
        decided == CHURN,
        0.0,
        np.round(state.next_seats[accounts] * state.next_price[accounts], 2),
    )
    notice = state.notice_day[accounts]
    record_deals(state, accounts, day)
    outcome = {
        "renewal_outcome": pa.array(
            [OUTCOMES[o] if k else None for o, k in zip(decided, known, strict=True)],
            pa.string(),
        ),
        "outcome_on": pa.array(cal.dates(outcome_day), pa.date32(), mask=~known),
        "notice_on": pa.array(
            cal.dates(np.minimum(notice, 10**6)), pa.date32(), mask=notice >= day
        ),
        "arr_delta": pa.array(np.round(next_arr - arr, 2), pa.float64(), mask=~known),
    }
    state.spools.append(
        "contracts",
        _contract_rows(
            state,
            accounts,
            state.c_seq[accounts],
            state.c_start[accounts],
            state.c_end[accounts],
            arr,
            state.c_seats[accounts],
            np.where(state.c_end[accounts] < day, "ended", "active"),
            outcome,
        ),
    )
    if not final:
        return
    signed = np.flatnonzero(known & (decided != CHURN))
    if len(signed) == 0:
        return
    a = accounts[signed]  # renewed before as_of: the next term is signed (pending or started)
    start = state.c_end[a] + 1
    n = len(a)
    state.spools.append(
        "contracts",
        _contract_rows(
            state,
            a,
            state.c_seq[a] + 1,
            start,
            cal.term_end(start, pop.term_months[a]),
            next_arr[signed],
            state.next_seats[a],
            np.where(start <= day, "active", "pending"),
            {
                "renewal_outcome": pa.nulls(n, pa.string()),
                "outcome_on": pa.nulls(n, pa.date32()),
                "notice_on": pa.nulls(n, pa.date32()),
                "arr_delta": pa.nulls(n, pa.float64()),
            },
        ),
    )
