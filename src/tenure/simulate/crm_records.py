"""What sales, services and the reference program write down: the Appropriate Experience each
customer needs, the sales → CS handoffs of new customers with the Desired Outcome they captured,
the outcome the CS team measured at the last review, and the advocacy happy customers gave.

Driven by the latent truth, as a company's records are by what really happens, never copied from
it: the experience a customer needs is its own (mostly, not always, what its price tier gets); a
handoff exists only where sales filled in the form; the measured outcome follows the account's
latent value with noise, and only where someone measured it (at a review, or when a tech-touch
customer answered the outcome check-in); a success story, reference, referral or speaker slot
comes from a customer of some tenure with a champion, more often the more value it gets.

Every draw comes from the run's own ``rng_crm`` stream (spawned after the others), so a run
draws its accounts, usage and renewals exactly as it did before these records existed. The
parameters below are the simulator's [default] choices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tenure.simulate import names
from tenure.simulate.population import NEVER
from tenure.simulate.records import account_ids, contact_ids, csm_email
from tenure.simulate.state import CUSTOMER, PROSPECT, Ints, SimulationState
from tenure.simulate.touchpoints import owner_on
from tenure.simulate.value import latent_value, standardized
from tenure.simulate.writers import OUTCOME

# Sales fills in the handoff form for this share of new customers (the rest are handed over in
# a hallway); the first handoff follows the signature by up to HANDOFF_DELAY_DAYS.
HANDOFF_RECORDED = 0.85
HANDOFF_DELAY_DAYS = 4
# Accounts per sales rep and per implementation consultant (at least one of each).
ACCOUNTS_PER_SALES_REP = 60
ACCOUNTS_PER_CONSULTANT = 90
# A customer without reviews answers the six-month outcome check-in with this probability.
CHECK_IN_ANSWERED = 0.5
CHECK_IN_DAY = 182
# Progress toward the Required Outcome: a logistic of standardized latent value, reached at
# OUTCOME_SCALE × the logistic = 1, grown in over OUTCOME_RAMP_DAYS since the signature.
OUTCOME_SLOPE, OUTCOME_SHIFT, OUTCOME_NOISE, OUTCOME_SCALE = 1.3, 1.1, 0.5, 1.25
OUTCOME_RAMP_DAYS = 150
# Advocacy per month, for customers of at least `tenure` days with a champion and standardized
# latent value of at least `z`: (kind, tenure days, z, monthly probability).
ADVOCACY = (
    ("success_story", 365, 0.5, 0.04),
    ("case_study", 540, 1.0, 0.006),
    ("reference", 180, 0.0, 0.03),
    ("referral", 180, 0.8, 0.01),
    ("speaker", 730, 1.0, 0.004),
)
ADVOCACY_TITLES = {
    "success_story": "Success story: {}",
    "case_study": "Case study: {}",
    "reference": "Reference call with a prospect",
    "referral": None,
    "speaker": "Customer panel: {}",
}


def advocate(state: SimulationState, day: int) -> None:
    """The month's advocacy: customers of some tenure, with a champion, getting value."""
    pop, rng = state.pop, state.rng_crm
    customers = np.flatnonzero((state.status == CUSTOMER) & (state.champion >= 0))
    if len(customers) == 0:
        return
    z = standardized(state, latent_value(state, customers))
    tenure = day - pop.signed_day[customers]
    for kind, days, z_min, p in ADVOCACY:
        eligible = (tenure >= days) & (z >= z_min)
        chosen = customers[eligible & (rng.random(len(customers)) < p)]
        if len(chosen) == 0:
            continue
        template = ADVOCACY_TITLES[kind]
        outcomes = [names.REQUIRED_OUTCOMES[int(i)] for i in pop.required_outcome[chosen]]
        first = state.serial.setdefault("advocacy", 0)
        state.serial["advocacy"] += len(chosen)
        ids = [f"{a}-v{first + k}" for k, a in enumerate(account_ids(state, chosen).to_pylist())]
        occurred = state.calendar.dates(np.full(len(chosen), day))
        state.spools.append(
            "advocacy",
            pa.table(
                {
                    "external_id": ids,
                    "account_external_id": account_ids(state, chosen),
                    "kind": [kind] * len(chosen),
                    "occurred_on": pa.array(occurred, pa.date32()),
                    "title": [template.format(o) if template else None for o in outcomes],
                    "contact_external_id": contact_ids(state, state.champion[chosen]),
                }
            ),
        )


def _people(
    state: SimulationState, prefix: str, count: int, role: str, first_index: int
) -> pa.Table:
    rng = state.rng_crm
    first = np.array(names.FIRST_NAMES)[rng.integers(0, len(names.FIRST_NAMES), count)]
    last = np.array(names.LAST_NAMES)[rng.integers(0, len(names.LAST_NAMES), count)]
    return pa.table(
        {
            "email": [f"{prefix}{k + 1:03d}@example.com" for k in range(count)],
            "name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
            "role": [role] * count,
            "manager_email": pa.nulls(count, pa.string()),
            "_index": np.arange(first_index, first_index + count),
            "_manager": np.full(count, -1),
        }
    )


def write_crm_records(state: SimulationState, go_live_day: Ints) -> None:
    """The end-of-run records: sales and services people, handoffs and outcome measurements
    (the latter folded into the accounts spool by ``snapshot``)."""
    pop, rng, cal = state.pop, state.rng_crm, state.calendar
    signed = np.flatnonzero(state.status != PROSPECT)
    n_sales = max(1, int(np.ceil(len(signed) / ACCOUNTS_PER_SALES_REP)))
    n_services = max(1, int(np.ceil(len(signed) / ACCOUNTS_PER_CONSULTANT)))
    users = state.users_written
    state.spools.append("users", _people(state, "sales", n_sales, "sales", users))
    state.spools.append(
        "users", _people(state, "services", n_services, "services", users + n_sales)
    )
    new = signed[(pop.signed_day[signed] >= 0) & (rng.random(len(signed)) < HANDOFF_RECORDED)]
    rep = rng.integers(0, n_sales, len(new))
    consultant = rng.integers(0, n_services, len(new))
    delay = rng.integers(0, HANDOFF_DELAY_DAYS + 1, len(new))
    rows: list[dict[str, object]] = []
    for a, r, c, d in zip(new, rep, consultant, delay, strict=True):
        first_day = int(pop.signed_day[a] + d)
        if first_day >= cal.n_days:
            continue
        ext = state.account_ids[int(a)].as_py()
        touch = str(state.experience[a])
        measure, op, target, _ = names.OUTCOME_MEASURES[int(pop.required_outcome[a])]
        implemented = touch in ("high_touch", "mid_touch")
        rows.append(
            {
                "external_id": f"{ext}-h1",
                "account_external_id": ext,
                "step": "sales_to_services" if implemented else "sales_to_csm",
                "handed_off_on": cal.date(first_day),
                "from_user_email": f"sales{int(r) + 1:03d}@example.com",
                "to_user_email": f"services{int(c) + 1:03d}@example.com"
                if implemented
                else _owner(state, a, first_day),
                "required_outcome": names.REQUIRED_OUTCOMES[int(pop.required_outcome[a])],
                "outcome_measure": measure,
                "outcome_op": op,
                "outcome_target": target,
                "touch_model": touch,
            }
        )
        live = int(go_live_day[a])
        if implemented and first_day <= live < cal.n_days:
            rows.append(
                {
                    "external_id": f"{ext}-h2",
                    "account_external_id": ext,
                    "step": "services_to_csm",
                    "handed_off_on": cal.date(live),
                    "from_user_email": f"services{int(c) + 1:03d}@example.com",
                    "to_user_email": _owner(state, a, live),
                }
            )
    if rows:
        schema = state.spools.spools["handoffs"].file_schema
        state.spools.append("handoffs", pa.Table.from_pylist(rows, schema=schema))


def _owner(state: SimulationState, account: int, day: int) -> str:
    """The CSM who owns the account on ``day``: the one a handoff to the CSM goes to."""
    return csm_email(int(owner_on(state, np.array([account]), day)[0]))


def outcome_measurements(state: SimulationState, accounts: Ints) -> pa.Array:
    """What the CS team measured of each account's Required Outcome, and when: at the last
    review, else (for a customer without reviews) at the six-month check-in if it answered."""
    pop, rng, cal = state.pop, state.rng_crm, state.calendar
    n = len(accounts)
    answered = rng.random(n) < CHECK_IN_ANSWERED
    noise = rng.normal(0, OUTCOME_NOISE, n)
    check_in = pop.signed_day[accounts] + CHECK_IN_DAY
    reviewed = state.last_review[accounts]
    day = np.where(reviewed >= 0, reviewed, np.where(answered, check_in, NEVER))
    day = np.where(day >= np.maximum(pop.signed_day[accounts], 0), day, NEVER)
    measured = day < cal.n_days
    z = standardized(state, latent_value(state, accounts))
    grown = np.clip((day - pop.signed_day[accounts]) / OUTCOME_RAMP_DAYS, 0, 1)
    progress = OUTCOME_SCALE * grown / (1 + np.exp(-(OUTCOME_SLOPE * z + OUTCOME_SHIFT + noise)))
    values: list[dict[str, object] | None] = []
    for i, a in enumerate(accounts):
        if not measured[i]:
            values.append(None)
            continue
        measure, _, target, start = names.OUTCOME_MEASURES[int(pop.required_outcome[a])]
        value = max(0.0, start + float(progress[i]) * (target - start))  # no negative count
        if measure.endswith("_pct"):
            value = min(value, 100.0)
        value = round(value, 1)
        values.append({measure: value, "measured_on": cal.date(int(day[i])).isoformat()})
    return pa.array(values, OUTCOME)
