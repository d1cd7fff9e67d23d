"""Latent value and what it decides: utility with saturation minus price, and renewal sigmoids.

Daily utility of an active account (``value`` weights in the config)::

    u = breadth_weight     · Σ_f w_f·adopted_f·(1 − e^(−2·r_f·engagement)) / Σ_f w_f
      + utilization_weight · min(active users ÷ seats, 1)
      + champion_weight    · [a champion is in place] + sponsor_weight · [a sponsor is in place]
      + outcome_fit_weight · (mean of functional, experience, cultural fit − ½)
      − price_weight       · (1.5 − resource fit) · price paid ÷ list price
      − incident_weight    · min(recent incident load, 2)
      + idiosyncratic term

where ``r_f`` is the account's rate on feature ``f`` over the population mean (saturation as in the
"Fighting Churn with Data" utility model). Latent value is the exponential moving average of ``u``
over ``memory_days``, standardized against the population's steady state. At each renewal decision
the churn probability per annual term is ``σ(churn_logit − value_slope · z)``; downgrades mirror it
and expansions rise with ``z`` (and with licence utilization above 85%). ``churn_logit`` is
calibrated so the population at steady state churns at the target rate. With a renewal intent
stage (``renewal.intent_*``) the same probability decides who intends to leave at the review, and
the engine keeps P(churn) over both steps at min(P at intent, P at decision), so the calibration
holds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tenure.simulate.config import SimulationConfig
from tenure.simulate.population import NEVER, Population, target_users

Floats = npt.NDArray[np.float64]

# Columns of the component matrix the engine keeps a moving average of.
COMPONENTS = ("breadth", "utilization", "champion", "sponsor", "price", "incidents")


def sigmoid(x: Floats | float) -> Floats:
    return np.asarray(1 / (1 + np.exp(-np.asarray(x, dtype=float))))


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def feature_weights(config: SimulationConfig) -> Floats:
    weights = np.array([f.weight for f in config.features], dtype=float)
    return weights / weights.sum()


def breadth(
    weights: Floats, adopted: npt.NDArray[np.bool_], rate_ratio: Floats, engagement: Floats
) -> Floats:
    saturation = 1 - np.exp(-2 * rate_ratio * engagement[:, None])
    return np.asarray((adopted * saturation) @ weights)


def component_weights(config: SimulationConfig) -> Floats:
    v = config.value
    return np.array(
        [
            v.breadth_weight,
            v.utilization_weight,
            v.champion_weight,
            v.sponsor_weight,
            v.price_weight,
            v.incident_weight,
        ]
    )


def static_value(config: SimulationConfig, population: Population) -> Floats:
    """The part of utility that does not move day to day: outcome fit and the idiosyncratic term."""
    return (
        config.value.outcome_fit_weight * (population.outcome_fit - 0.5) + population.idiosyncratic
    )


def price_component(population: Population, price_paid: Floats) -> Floats:
    return -(1.5 - population.fits[:, 2]) * price_paid / population.list_price


def steady_components(config: SimulationConfig, population: Population) -> Floats:
    """Each account's components fully ramped, with its signing-day relationships, no incidents."""
    adopted = population.adopt_day < NEVER
    ones = np.ones(population.n)
    users = target_users(population.seats0, population.adoption_target)
    return np.column_stack(
        [
            breadth(feature_weights(config), adopted, population.rate_ratio, ones),
            np.minimum(users / population.seats0, 1.0),
            population.has_champion.astype(float),
            population.has_sponsor.astype(float),
            price_component(population, population.list_price * (1 - population.discount)),
            np.zeros(population.n),
        ]
    )


def calibrate(config: SimulationConfig, population: Population) -> None:
    """Standardize latent value on the steady state and solve the churn logit for the target."""
    steady = steady_components(config, population) @ component_weights(config) + static_value(
        config, population
    )
    population.value_mean = float(steady.mean())
    population.value_sd = float(steady.std()) or 1.0
    z = (steady - population.value_mean) / population.value_sd
    r = config.renewal
    target = max(r.target_annual_logo_churn - r.unexplained_annual, 1e-4)
    low, high = -15.0, 15.0
    for _ in range(60):
        mid = (low + high) / 2
        if sigmoid(mid - r.value_slope * z).mean() > target:
            high = mid
        else:
            low = mid
    population.churn_logit = (low + high) / 2 + r.calibration_shift


def per_term(p_annual: Floats, term_months: npt.NDArray[np.int64]) -> Floats:
    """An annual probability spread over a term of ``term_months`` months."""
    return np.asarray(1 - (1 - p_annual) ** (term_months / 12))


def renewal_probabilities(
    config: SimulationConfig,
    population: Population,
    z: Floats,
    term_months: npt.NDArray[np.int64],
    utilization: Floats,
) -> tuple[Floats, Floats, Floats]:
    """P(value churn), P(downgrade), P(expansion) for one term, from standardized latent value z."""
    r = config.renewal
    churn = per_term(sigmoid(population.churn_logit - r.value_slope * z), term_months)
    down = per_term(sigmoid(logit(r.downgrade_base) - r.value_slope * z), term_months)
    boost = np.where(utilization >= 0.85, r.expansion_utilization_boost, 1.0)
    up = np.clip(
        per_term(sigmoid(logit(r.expansion_base) + r.value_slope * z), term_months) * boost, 0, 0.95
    )
    return churn, down, up
