"""The deals a CRM holds for the simulated customers: a renewal opportunity for every annual or
multi-year term, and an expansion opportunity where the account asked for more seats or used all
it had — won or lost as the renewal decision (drawn from latent value and utilization) went.

What a deal says is only what the company knew on the day: a renewal is won on its decision day
(the successor term is signed then, as the contract rows say), lost when the customer gave notice
or the term ran out; an expansion is won when the renewal expanded and lost when it did not. A
deal whose outcome lies past the as-of date is open, at a stage set by the days left — never by
the truth. Monthly plans change seats in billing, without deals. No random number is drawn, so a
run's other records are the same with or without deals.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tenure.simulate.records import account_ids, csm_email
from tenure.simulate.state import CHURN, EXPAND, Ints, SimulationState

# Days before the term's last day a renewal opportunity is opened, and before the renewal
# decision an expansion is; seat use at which a CSM opens an expansion unasked.
RENEWAL_OPENS_DAYS = 120
EXPANSION_OPENS_DAYS = 45
FULL_USE = 0.7
# What a rep pitches when the customer has not asked: a quarter more seats.
PITCHED_SHARE = 0.25
# Salesforce's default sales stages with their default probabilities and forecast categories.
WON = ("Closed Won", 100.0, "closed")
LOST = ("Closed Lost", 0.0, "omitted")
NEGOTIATION = ("Negotiation/Review", 90.0, "commit")
PROPOSAL = ("Proposal/Price Quote", 75.0, "best_case")
VALUE = ("Value Proposition", 50.0, "pipeline")
OPEN_STATUS, WON_STATUS, LOST_STATUS = "open", "won", "lost"


def record_deals(state: SimulationState, accounts: Ints, day: int) -> None:
    """The deals of the terms in ``accounts`` as the CRM holds them on ``day`` (a term's closing
    day, or the as-of date for the running terms). Kept on the state until the accounts have
    names (``write_deals``)."""
    a = accounts[state.pop.term_months[accounts] >= 12]
    if len(a) == 0:
        return
    decided, decision = state.decided[a], state.decision_day[a]
    start, end = state.c_start[a], state.c_end[a]
    churn = decided == CHURN
    # the day the renewal's fate reached the company, and whether it had by ``day``
    settled_on = np.where(churn, np.minimum(state.notice_day[a], end), decision)
    settled = (decided >= 0) & (settled_on < day)
    arr = np.round(state.c_seats[a] * state.c_price[a], 2)
    next_arr = np.round(state.next_seats[a] * state.next_price[a], 2)
    renewal_opened = np.maximum(start, end - RENEWAL_OPENS_DAYS)
    renewal = renewal_opened < day
    _append(
        state,
        a[renewal],
        kind="renewal",
        seq=state.c_seq[a][renewal],
        opened=renewal_opened[renewal],
        status=np.where(settled, np.where(churn, LOST_STATUS, WON_STATUS), OPEN_STATUS)[renewal],
        close_on=np.where(settled, settled_on, end)[renewal],
        amount=np.where(settled & ~churn, next_arr, arr)[renewal],
        days_left=(end - day)[renewal],
    )
    utilization = state.active_users[a] / np.maximum(state.c_seats[a], 1)
    expanded = settled & (decided == EXPAND)
    expansion_opened = np.maximum(start, decision - EXPANSION_OPENS_DAYS)
    expansion = (expanded | (utilization >= FULL_USE)) & (expansion_opened < day)
    pitched = np.maximum(1, np.ceil(state.c_seats[a] * PITCHED_SHARE)) * state.c_price[a]
    bought = (state.next_seats[a] - state.c_seats[a]) * state.next_price[a]
    _append(
        state,
        a[expansion],
        kind="expansion",
        seq=state.c_seq[a][expansion],
        opened=expansion_opened[expansion],
        status=np.where(settled, np.where(expanded, WON_STATUS, LOST_STATUS), OPEN_STATUS)[
            expansion
        ],
        close_on=np.where(settled, settled_on, decision)[expansion],
        amount=np.round(np.where(expanded, bought, pitched), 2)[expansion],
        days_left=(decision - day)[expansion],
    )


def _append(
    state: SimulationState,
    accounts: Ints,
    *,
    kind: str,
    seq: Ints,
    opened: Ints,
    status: np.ndarray,
    close_on: Ints,
    amount: np.ndarray,
    days_left: Ints,
) -> None:
    if len(accounts) == 0:
        return
    pop, cal = state.pop, state.calendar
    near = 60 if kind == "renewal" else 30
    stage = np.select(
        [status == WON_STATUS, status == LOST_STATUS, days_left <= near],
        [0, 1, 2],
        3 if kind == "renewal" else 4,
    )
    stages = (WON, LOST, NEGOTIATION if kind == "renewal" else PROPOSAL, PROPOSAL, VALUE)
    owner = np.where(
        pop.reassigned_day[accounts] <= opened, pop.csm_after[accounts], pop.csm[accounts]
    )
    ids = account_ids(state, accounts)
    state.deals.append(
        pa.table(
            {
                "external_id": pc.binary_join_element_wise(
                    ids, "-c", pc.cast(pa.array(seq), pa.string()), f"-{kind}", ""
                ),
                "account_external_id": ids,
                "kind": pa.array([kind] * len(accounts)),
                "status": pa.array(status, pa.string()),
                "stage": [stages[s][0] for s in stage],
                "amount": amount,
                "currency": state.currency[pop.region[accounts]],
                "probability": [stages[s][1] for s in stage],
                "forecast_category": [stages[s][2] for s in stage],
                "opened_on": pa.array(cal.dates(opened), pa.date32()),
                "close_on": pa.array(cal.dates(close_on), pa.date32()),
                "owner_email": [csm_email(int(i)) for i in owner],
                "_account": accounts,
                "_owner": owner,
            }
        )
    )


def write_deals(state: SimulationState) -> None:
    """The recorded deals, named as a CRM names them ("Acme – Renewal 2027")."""
    if not state.deals:
        return
    deals = pa.concat_tables(state.deals)
    state.deals.clear()
    company = state.company_names.take(deals["_account"])
    year = pc.cast(pc.year(deals["close_on"]), pa.string())
    label = pc.if_else(pc.equal(deals["kind"], "renewal"), " – Renewal ", " – Expansion ")
    name = pc.binary_join_element_wise(company, label, year, "")
    state.spools.append("opportunities", deals.append_column("name", name))
