"""Why a customer churns, twice over: the true cause (the truth's) and the reason it states (the
company's, often a different one, sometimes missing), with the notice some churners give.

The true cause is the largest shortfall in latent value; a churn no behaviour explains gets a
customer-side cause (acquisition, bankruptcy, budget cut). The stated reason matches the cause
only with probability ``renewal.stated_truthful`` — what a CS team hears is not the truth.
"""

from __future__ import annotations

import numpy as np

from tenure.simulate.contracts import contract_id
from tenure.simulate.population import NEVER
from tenure.simulate.state import Bools, Ints, SimulationState, StatedChurn
from tenure.simulate.truth import CAUSES

STATED = (
    "budget",
    "price",
    "competitor",
    "missing_features",
    "reorganization",
    "not_using",
    "product_issues",
    "company_acquired",
    "business_closed",
)
STATED_FOR_CAUSE = {
    "bad_fit": "missing_features",
    "low_adoption": "not_using",
    "champion_left": "reorganization",
    "product_quality": "product_issues",
    "price": "price",
    "acquisition": "company_acquired",
    "bankruptcy": "business_closed",
    "budget_cut": "budget",
}
STATED_WEIGHTS = np.array([0.35, 0.25, 0.2, 0.1, 0.1, 0, 0, 0, 0])


def true_causes(
    state: SimulationState, due: Ints, unexplained: Bools, rng: np.random.Generator
) -> Ints:
    """The true cause of each potential churn: the largest shortfall in latent value."""
    pop = state.pop
    w = state.component_weights
    comps = state.components[due]
    deficit = np.column_stack(
        [
            w[0] * (comps[:, 0] - 0.45) + w[1] * (comps[:, 1] - state.steady[:, 1].mean()),
            w[2] * (comps[:, 2] - 0.9) + w[3] * (comps[:, 3] - 0.5),
            w[5] * comps[:, 5],
            w[4] * (comps[:, 4] + 0.9 * (1.5 - pop.fits[due, 2])),
        ]
    )
    choice = np.array([1, 2, 3, 4])[np.argmin(deficit, axis=1)]
    left_recently = state.champion_left_day[due] >= state.c_start[due] - 180
    choice = np.where((choice == 2) & ~left_recently, 1, choice)
    choice = np.where(pop.bad_fit[due], 0, choice)
    random_cause = rng.choice([5, 6, 7], size=len(due), p=[0.35, 0.15, 0.5])
    return np.where(unexplained, random_cause, choice)


def tell_churn(
    state: SimulationState,
    due: Ints,
    churn: Bools,
    causes: Ints,
    day: int,
    rng: np.random.Generator,
) -> tuple[Ints, list[str | None]]:
    """Notice days and stated reasons of today's churners (kept for the accounts file)."""
    cfg = state.config.renewal
    gives_notice = churn & (rng.random(len(due)) < cfg.notice_share)
    lead = rng.integers(cfg.notice_lead_days[0], cfg.notice_lead_days[1] + 1, len(due))
    notice = np.where(gives_notice, np.maximum(day, state.c_end[due] - lead), NEVER)
    state.notice_day[due] = notice
    truthful = rng.random(len(due)) < cfg.stated_truthful
    missing = rng.random(len(due)) < cfg.stated_missing
    other = rng.choice(len(STATED), size=len(due), p=STATED_WEIGHTS / STATED_WEIGHTS.sum())
    reasons: list[str | None] = [None] * len(due)
    for k in np.flatnonzero(churn):
        cause = CAUSES[causes[k]]
        if not missing[k]:
            reasons[k] = STATED_FOR_CAUSE[cause] if truthful[k] else STATED[other[k]]
        i = int(due[k])
        state.stated[i] = StatedChurn(
            reasons[k],
            contract_id(state, i, int(state.c_seq[i])),
            int(min(notice[k], state.c_end[i])),
        )
    return notice, reasons
