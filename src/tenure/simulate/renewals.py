"""Renewals in two steps: the renewal review, where an account heading out forms its intent to
leave (``renewal.intent_*``), and the decision, drawn from latent value, utilization and that
intent — churn, downgrade, renew or expand, with the next term's seats and price.

P(churn) over both steps equals P(churn) at the review capped by what value recovered since, so
calibration holds whether or not a term has an intent stage. With plays running, the truth also
records each treated decision's counterfactual: the same draws without the play's lift.
"""

from __future__ import annotations

import numpy as np

from tenure.simulate.behaviour import renewal_probabilities
from tenure.simulate.churn_reasons import tell_churn, true_causes
from tenure.simulate.population import NEVER
from tenure.simulate.state import (
    CHURN,
    CUSTOMER,
    DOWNGRADE,
    EXPAND,
    RENEW,
    Bools,
    Floats,
    Ints,
    SimulationState,
)
from tenure.simulate.value import latent_value, standardized


def going_quiet(state: SimulationState, day: int) -> Bools:
    """Accounts that intend to leave and have not decided to stay."""
    return np.asarray((state.intent_on <= day) & ((state.decided < 0) | (state.decided == CHURN)))


def _churn_now(state: SimulationState, accounts: Ints, without_play: bool = False) -> Floats:
    """P(value churn) per term if the decision were drawn today."""
    latent = latent_value(state, accounts)
    if without_play and state.plays is not None:
        latent = latent - state.plays.lift[accounts]
    utilization = state.active_users[accounts] / state.c_seats[accounts]
    term = state.pop.term_months[accounts]
    z = standardized(state, latent)
    return renewal_probabilities(state.config, state.pop, z, term, utilization)[0]


def review_renewals(state: SimulationState, day: int) -> None:
    """The renewal review: an account heading out forms its intent to leave today."""
    due = np.flatnonzero((state.status == CUSTOMER) & (state.intent_day <= day))
    if len(due) == 0:
        return
    state.intent_day[due] = NEVER
    p = _churn_now(state, due)
    state.intent_p[due] = p
    if state.plays is not None:
        state.intent_p_cf[due] = _churn_now(state, due, without_play=True)
    follow = state.config.renewal.intent_follow_through
    intends = state.rng_intent.random(len(due)) < np.minimum(p / follow, 1.0)
    state.intent_on[due[intends]] = day


def _still_at_risk(p_now: Floats, p_intent: Floats) -> Floats:
    """min(1, P(churn) now ÷ P(churn) at intent): what value recovered since the intent
    formed takes off an intender's follow-through."""
    return np.asarray(np.minimum(p_now / np.maximum(p_intent, 1e-12), 1.0))


def _value_churn(state: SimulationState, due: Ints, p_now: Floats, p_intent: Floats) -> Floats:
    """P(value churn) at today's decision: the one-step probability without an intent stage;
    with one, the intender's follow-through (0 for accounts that formed no intent)."""
    follow = state.config.renewal.intent_follow_through
    left = _still_at_risk(p_now, p_intent)
    staged = np.where(state.intent_on[due] < NEVER, follow * left, 0.0)
    return np.where(p_intent < 0, p_now, staged)


def _ex_ante(p_now: Floats, p_intent: Floats, follow: float) -> Floats:
    """P(value churn) over both steps, before the intent was drawn."""
    left = _still_at_risk(p_now, p_intent)
    return np.where(p_intent < 0, p_now, np.minimum(follow, p_intent) * left)


def decide_renewals(state: SimulationState, day: int) -> None:
    """Renewal decisions due today, their next term, and for churners cause, notice and reason."""
    pop, cfg = state.pop, state.config.renewal
    due = np.flatnonzero(
        (state.status == CUSTOMER) & (state.decided < 0) & (state.decision_day <= day)
    )
    if len(due) == 0:
        return
    rng = state.rng_outcomes
    latent = latent_value(state, due)
    z = standardized(state, latent)
    seats = state.c_seats[due]
    utilization = state.active_users[due] / seats
    term = pop.term_months[due]
    p_now, p_down, p_up = renewal_probabilities(state.config, pop, z, term, utilization)
    p_intent = state.intent_p[due]
    p_churn = _ex_ante(p_now, p_intent, cfg.intent_follow_through)
    able = pop.readiness[due, 2]
    p_unexplained = 1 - (1 - cfg.unexplained_annual * np.where(able, 1.0, 1.5)) ** (term / 12)
    draws = rng.random((len(due), 4))
    unexplained = draws[:, 0] < p_unexplained
    churn = unexplained | (draws[:, 1] < _value_churn(state, due, p_now, p_intent))
    down = ~churn & (draws[:, 2] < p_down) & (seats > 1)
    up = ~churn & ~down & (draws[:, 3] < p_up) & (seats < pop.max_seats[due])
    outcome = np.select([churn, down, up], [CHURN, DOWNGRADE, EXPAND], RENEW)
    state.decided[due] = outcome
    factor = np.select(
        [outcome == EXPAND, outcome == DOWNGRADE],
        [rng.uniform(1.15, 1.6, len(due)), rng.uniform(0.6, 0.9, len(due))],
        1.0,
    )
    new_seats = np.clip(np.rint(seats * factor), 1, pop.max_seats[due]).astype(np.int64)
    new_seats = np.where(outcome == DOWNGRADE, np.minimum(new_seats, seats - 1), new_seats)
    state.next_seats[due] = new_seats
    uplift = np.where((outcome == RENEW) & (term >= 12), 1 + cfg.renewal_uplift, 1.0)
    state.next_price[due] = state.c_price[due] * uplift
    causes = true_causes(state, due, unexplained, rng)
    notice, reasons = tell_churn(state, due, churn, causes, day, rng)
    if state.plays is not None:
        _record_treated(state, due, day, z, p_churn, p_down, p_unexplained, seats, utilization)
    state.truth.outcome(
        account=due,
        contract_seq=state.c_seq[due],
        decision_day=np.full(len(due), day),
        term_end=state.c_end[due],
        outcome=outcome,
        cause=np.where(churn, causes, -1),
        unexplained=unexplained,
        latent_value=latent,
        z=z,
        p_churn=p_churn,
        term_months=term,
        notice_day=notice,
        stated_reason=reasons,
        intent_day=state.intent_on[due],
    )


def _record_treated(
    state: SimulationState,
    due: Ints,
    day: int,
    z: Floats,
    p_churn: Floats,
    p_down: Floats,
    p_unexplained: Floats,
    seats: Ints,
    utilization: Floats,
) -> None:
    """Truth for treated accounts: churn probabilities with the play and without it."""
    plays = state.plays
    assert plays is not None
    treated = plays.treated_on[due] <= day
    if not treated.any():
        return
    k = np.flatnonzero(treated)
    a = due[k]
    z_cf = z[k] - plays.lift[a] / state.pop.value_sd
    cf_now, cf_down, _ = renewal_probabilities(
        state.config, state.pop, z_cf, state.pop.term_months[a], utilization[k]
    )
    follow = state.config.renewal.intent_follow_through
    cf_churn = _ex_ante(cf_now, state.intent_p_cf[a], follow)
    pu = p_unexplained[k]
    can_down = seats[k] > 1

    def totals(pc: Floats, pd: Floats) -> tuple[Floats, Floats]:
        churn = pu + (1 - pu) * pc
        return churn, churn + (1 - churn) * pd * can_down

    with_churn, with_either = totals(p_churn[k], p_down[k])
    cf_churn_total, cf_either = totals(cf_churn, cf_down)
    state.truth.treated_decision(
        account=a,
        play=[plays.schedule.play_names[p] for p in plays.last_play[a]],
        treated_day=plays.treated_on[a],
        decision_day=np.full(len(a), day),
        term_end=state.c_end[a],
        first_since_treatment=~plays.truth_decided[a],
        lift=plays.lift[a],
        z=z[k],
        z_counterfactual=z_cf,
        p_churn=with_churn,
        p_churn_or_downgrade=with_either,
        p_churn_counterfactual=cf_churn_total,
        p_churn_or_downgrade_counterfactual=cf_either,
    )
    plays.truth_decided[a] = True
