"""Who the customers are: static account attributes, latent fits and behaviour rates, drawn once.

Behaviour rates follow the approach of the "Fighting Churn with Data" simulator: each account's
event rate per feature is log-normal, with correlation between features, here shifted by the
account's functional and competence fit. The six fits and Ready / Willing / Able set how fast an
account ramps, how much of its seats it fills, which features it adopts and how many milestones it
reaches. Bad-fit accounts exist by construction (``fit.bad_fit_share``): one to three fits drawn
from a low Beta. Everything here is latent except what ``writers`` turns into observable rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tenure.simulate.calendar import Calendar
from tenure.simulate.config import BILLING_PERIODS, SimulationConfig

FITS = ("technical", "functional", "resource", "competence", "experience", "cultural")
FIT_WEIGHTS = np.array([0.25, 0.25, 0.125, 0.125, 0.125, 0.125])
NEVER = np.iinfo(np.int32).max // 2  # a day that never comes

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Population:
    n: int
    segment: Ints
    industry: Ints
    region: Ints
    employees: Ints
    fits: Floats  # (n, 6) in (0, 1), order of FITS
    bad_fit: Bools
    readiness: npt.NDArray[np.bool_]  # (n, 3): ready, willing, able
    signed_day: Ints  # negative: signed before the window
    billing: Ints  # index into BILLING_PERIODS
    term_months: Ints
    seats0: Ints
    max_seats: Ints
    slot_base: Ints  # first global user slot of each account
    list_price: Floats  # per seat per year
    discount: Floats
    rates: Floats  # (n, F) expected events per active user on an average workday
    rate_ratio: Floats  # (n, F) rate ÷ population mean rate: the input of saturation
    adopt_day: Ints  # (n, F) first day of use, NEVER if never adopted
    # Users the account would put on the product at steady state, as a share of its seats; above 1
    # the team outgrew what it bought and runs over-deployed until the true-up at renewal.
    adoption_target: Floats
    ramp_days: Floats
    idiosyncratic: Floats
    has_sponsor: Bools
    has_champion: Bools
    csm: Ints  # the CSM at signing …
    csm_after: Ints  # … and the one the account moves to on reassigned_day (NEVER: it stays)
    reassigned_day: Ints
    qbr: Bools
    ebr: Bools
    phase: Ints  # per-account offset for periodic surveys and reviews
    milestone_day: Ints  # (n, M) day reached, NEVER if not reached; M = longest segment list
    handoff_rating: Ints  # (n, 6) sales' 1–5 rating of each fit, 0 = left blank
    handoff_readiness: Ints  # (n, 3) 1 yes, 0 no, -1 blank
    required_outcome: Ints
    value_mean: float = 0.0  # steady-state utility moments that standardize latent value
    value_sd: float = 1.0
    churn_logit: float = 0.0  # calibrated churn logit at average value, per annual term

    @property
    def fit_score(self) -> Floats:
        return self.fits @ FIT_WEIGHTS

    @property
    def readiness_count(self) -> Ints:
        return self.readiness.sum(axis=1).astype(np.int64)

    @property
    def outcome_fit(self) -> Floats:
        return self.fits[:, [1, 4, 5]].mean(axis=1)

    @property
    def total_slots(self) -> int:
        return int(self.slot_base[-1] + self.max_seats[-1]) if self.n else 0


TOUCH_MODELS = ("high_touch", "mid_touch", "low_touch", "tech_touch")
# The experience each commercial segment's customers need, as shares of TOUCH_MODELS: mostly
# what the tier is served with, but a regulated small firm may need a named person, and a large
# one may want to serve itself.
EXPERIENCE_SHARES = {
    "smb": (0.03, 0.07, 0.20, 0.70),
    "mid_market": (0.15, 0.60, 0.20, 0.05),
    "enterprise": (0.75, 0.20, 0.05, 0.0),
}
# A segment not listed needs the touch model its tier is served with.
TIER_EXPERIENCE = {"smb": "tech_touch", "mid_market": "mid_touch", "enterprise": "high_touch"}
# Where seats are not enforced a team that outgrew its purchase keeps adding users (over-deployed
# until the true-up): the demand share may exceed 1 — before, it stopped at exactly 1, so licence
# utilization reached 100 % only for an account whose every seat holder was active.
OVERDEPLOYED_MAX = 1.3
# The first seats a customer buys are for named people who use them (a team of three buys three);
# the share of the rest filled is ``adoption_target`` — before, every seat was filled at that
# share, so a three-seat customer at 73 % ran two users on three seats for ever.
NAMED_SEATS = 3


def target_users(seats: Ints, adoption_target: Floats) -> Floats:
    """The users an account puts on the product at steady state: its named seats, then the
    share of the rest.

    >>> target_users(np.array([2, 3, 13]), np.array([0.5, 0.5, 0.5])).tolist()
    [2.0, 3.0, 8.0]
    """
    named = np.minimum(seats, NAMED_SEATS)
    return np.asarray(named + (seats - named) * adoption_target, dtype=np.float64)


def draw_experience(
    config: SimulationConfig, rng: np.random.Generator, segment: Ints
) -> npt.NDArray[np.object_]:
    """Each account's Appropriate Experience (a touch model), drawn once from ``rng`` (the run's
    CRM stream, so the population's own draws are unchanged)."""
    out = np.empty(len(segment), dtype=object)
    for s, name in enumerate(config.segments):
        mask = segment == s
        shares = EXPERIENCE_SHARES.get(name)
        if shares is None:
            out[mask] = TIER_EXPERIENCE.get(name, "mid_touch")
            continue
        p = np.asarray(shares) / sum(shares)
        out[mask] = np.array(TOUCH_MODELS)[rng.choice(len(TOUCH_MODELS), size=int(mask.sum()), p=p)]
    return out


def _choice(rng: np.random.Generator, shares: list[float], size: int) -> Ints:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int64)


def _signing_days(config: SimulationConfig, calendar: Calendar, rng: np.random.Generator) -> Ints:
    n = config.accounts
    n_initial = round(n * config.base.initial_share)
    installed = -rng.integers(1, int(config.base.max_age_months * 30.44) + 1, size=n_initial)
    weights = (1 + config.base.monthly_growth) ** np.arange(config.months)
    months = _choice(rng, list(weights), n - n_initial)
    month_starts = calendar.days(
        (calendar.start64.astype("datetime64[M]") + np.arange(config.months + 1)).astype(
            "datetime64[D]"
        )
    )
    month_starts = np.maximum(month_starts, 0)
    offsets = rng.random(n - n_initial) * (month_starts[months + 1] - month_starts[months])
    acquired = month_starts[months] + offsets.astype(np.int64)
    return np.sort(np.concatenate([installed, acquired]))


def _fits(config: SimulationConfig, rng: np.random.Generator, n: int) -> tuple[Floats, Bools]:
    fits = rng.beta(*config.fit.good_beta, size=(n, len(FITS)))
    bad = rng.random(n) < config.fit.bad_fit_share
    n_bad = np.where(bad, rng.choice([1, 2, 3], size=n, p=[0.5, 0.3, 0.2]), 0)
    order = np.argsort(rng.random((n, len(FITS))), axis=1)
    low = np.argsort(order, axis=1) < n_bad[:, None]
    fits = np.where(low, rng.beta(*config.fit.bad_beta, size=(n, len(FITS))), fits)
    fits = np.clip(fits, 0.01, 0.99)
    bad_fit = np.asarray((fits < config.fit.bad_threshold).any(axis=1))
    return fits, bad_fit


def _behaviour_rates(
    config: SimulationConfig, rng: np.random.Generator, fits: Floats
) -> tuple[Floats, Floats]:
    usage = config.usage
    n, f = fits.shape[0], len(config.features)
    share = np.array([feat.rate for feat in config.features])
    base = usage.events_per_user_day * share / share.sum()
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, f))
    z = np.sqrt(usage.rate_correlation) * common + np.sqrt(1 - usage.rate_correlation) * own
    capability = 0.5 * fits[:, 1] + 0.5 * fits[:, 3]
    log_rates = (
        np.log(base)
        + usage.rate_sigma * z
        - usage.rate_sigma**2 / 2
        + usage.fit_rate_effect * (capability - capability.mean())[:, None]
    )
    rates = np.exp(log_rates)
    return rates, rates / rates.mean(axis=0)


def _adoption(
    config: SimulationConfig,
    calendar: Calendar,
    rng: np.random.Generator,
    fits: Floats,
    slowness: Floats,
    signed_day: Ints,
) -> Ints:
    n, f = fits.shape[0], len(config.features)
    strategic = np.array([feat.strategic for feat in config.features])
    release = np.array(
        [
            calendar.days(
                np.array(
                    [calendar.start64.astype("datetime64[M]") + (feat.released_month or -1000)]
                ).astype("datetime64[D]")
            )[0]
            if feat.released_month is not None
            else -100_000
            for feat in config.features
        ]
    )
    a = config.adoption
    p_basic = np.clip(a.basic_feature_share * (0.6 + 0.5 * fits[:, 1]), 0, 0.98)
    p_strategic = np.clip(a.strategic_feature_share * (0.4 + 1.2 * fits[:, 3]), 0, 0.95)
    p = np.where(strategic[None, :], p_strategic[:, None], p_basic[:, None])
    adopted = rng.random((n, f)) < p
    delay = rng.exponential(a.days_mean * slowness[:, None], size=(n, f)).astype(np.int64)
    first = np.maximum(signed_day[:, None], release[None, :]) + delay
    return np.where(adopted, first, NEVER)


def _milestones(
    config: SimulationConfig,
    rng: np.random.Generator,
    pop_segment: Ints,
    fit_score: Floats,
    readiness: Ints,
    slowness: Floats,
    signed_day: Ints,
) -> Ints:
    lists = list(config.milestones.values())
    m = max(len(x) for x in lists)
    days = np.full((len(pop_segment), m), np.inf)
    count = np.zeros(len(pop_segment), dtype=np.int64)
    for s, milestones in enumerate(lists):
        count[pop_segment == s] = len(milestones)
        for j, milestone in enumerate(milestones):
            days[pop_segment == s, j] = milestone.days
    step = np.arange(m)[None, :]
    logit = 2.8 + 5 * (fit_score[:, None] - 0.6) + 0.7 * (readiness[:, None] - 2) - 0.45 * step
    reached = rng.random(days.shape) < 1 / (1 + np.exp(-logit))
    reached &= step < count[:, None]
    reached = np.cumprod(reached, axis=1).astype(bool)  # a stuck step blocks the ones after it
    spread = np.exp(rng.normal(0, 0.25, size=days.shape))
    elapsed = np.maximum.accumulate(
        np.where(np.isfinite(days), days, 0) * slowness[:, None] * spread, axis=1
    )
    return np.where(reached, signed_day[:, None] + elapsed.astype(np.int64), NEVER)


def _handoff(
    config: SimulationConfig, rng: np.random.Generator, fits: Floats, readiness: Bools
) -> tuple[Ints, Ints]:
    f = config.fit
    seen = fits + f.handoff_optimism + rng.normal(0, f.handoff_noise, size=fits.shape)
    rating = np.clip(np.rint(1 + 4 * seen), 1, 5).astype(np.int64)
    rating[rng.random(fits.shape) < f.handoff_missing] = 0
    answers = np.where(rng.random(readiness.shape) < f.readiness_flip, ~readiness, readiness)
    answers_int = answers.astype(np.int64)
    answers_int[rng.random(readiness.shape) < f.handoff_missing] = -1
    return rating, answers_int


def _coverage(
    config: SimulationConfig,
    calendar: Calendar,
    rng: np.random.Generator,
    segment: Ints,
    signed_day: Ints,
) -> tuple[Ints, Ints, Ints]:
    """Each account's CSM (a pool per segment), and a reassignment within the window for some."""
    n = len(segment)
    csm = np.zeros(n, dtype=np.int64)
    csm_after = np.zeros(n, dtype=np.int64)
    first_csm = 0
    for s, seg in enumerate(config.segments.values()):
        mask = segment == s
        n_csm = max(1, int(np.ceil(mask.sum() / seg.accounts_per_csm)))
        own = rng.integers(0, n_csm, size=int(mask.sum()))
        other = (own + 1 + rng.integers(0, max(n_csm - 1, 1), size=own.size)) % n_csm
        csm[mask] = first_csm + own
        csm_after[mask] = first_csm + other
        first_csm += n_csm
    p = 1 - (1 - config.relationships.csm_reassign_annual) ** (config.months / 12)
    first = np.maximum(signed_day, 0)
    day = first + (rng.random(n) * (calendar.n_days - first)).astype(np.int64)
    moved = (rng.random(n) < p) & (csm_after != csm)
    return csm, np.where(moved, csm_after, csm), np.where(moved, day, NEVER)


def draw_population(
    config: SimulationConfig, calendar: Calendar, rng: np.random.Generator
) -> Population:
    """Every account's static, latent make-up (see the module docstring)."""
    n = config.accounts
    segments = list(config.segments.values())
    signed_day = _signing_days(config, calendar, rng)
    segment = _choice(rng, [s.share for s in segments], n)
    region = _choice(rng, [r.share for r in config.regions.values()], n)
    industry = rng.integers(0, len(config.industries), size=n)
    seg_param = lambda name: np.array([getattr(s, name) for s in segments])[segment]  # noqa: E731
    employees = np.maximum(
        5, np.rint(seg_param("employees_median") * np.exp(rng.normal(0, 0.6, n)))
    ).astype(np.int64)

    fits, bad_fit = _fits(config, rng, n)
    p_rwa = np.where(bad_fit, config.fit.bad_fit_rwa, config.fit.ready_willing_able)
    readiness = rng.random((n, 3)) < p_rwa[:, None]
    ready_count = readiness.sum(axis=1)

    billing = np.zeros(n, dtype=np.int64)
    for s, seg in enumerate(segments):
        mask = segment == s
        shares = {str(period): share for period, share in seg.billing.items()}
        billing[mask] = _choice(rng, [shares.get(p, 0.0) for p in BILLING_PERIODS], int(mask.sum()))
    multi = rng.choice(config.renewal.multi_year_months, size=n)
    term_months = np.select([billing == 0, billing == 1], [1, 12], multi).astype(np.int64)

    seats0 = np.maximum(
        1,
        np.rint(seg_param("seats_median") * np.exp(rng.normal(0, 1, n) * seg_param("seats_sigma"))),
    ).astype(np.int64)
    max_seats = np.ceil(seats0 * config.renewal.max_seat_growth).astype(np.int64)
    slot_base = np.concatenate([[0], np.cumsum(max_seats)[:-1]]).astype(np.int64)
    discount = np.round(rng.random(n) * seg_param("discount_max"), 2)

    slowness = (
        np.exp(0.35 * (2 - ready_count))
        * np.exp(0.8 * (0.7 - fits[:, 3]))
        * np.exp(0.5 * (0.7 - fits[:, 0]))
        * np.exp(rng.normal(0, 0.2, n))
    )
    ramp_days = seg_param("ramp_days") * slowness
    adoption_target = np.clip(
        0.2
        + 0.45 * fits[:, 1]
        + 0.15 * fits[:, 2]
        + 0.15 * readiness[:, 1]
        + rng.normal(0, 0.08, n),
        0.08,
        OVERDEPLOYED_MAX,
    )
    rates, rate_ratio = _behaviour_rates(config, rng, fits)
    adopt_day = _adoption(config, calendar, rng, fits, slowness, signed_day)

    csm, csm_after, reassigned_day = _coverage(config, calendar, rng, segment, signed_day)

    rel = config.relationships
    population = Population(
        n=n,
        segment=segment,
        industry=industry,
        region=region,
        employees=employees,
        fits=fits,
        bad_fit=bad_fit,
        readiness=readiness,
        signed_day=signed_day,
        billing=billing,
        term_months=term_months,
        seats0=seats0,
        max_seats=max_seats,
        slot_base=slot_base,
        list_price=seg_param("list_price_per_seat").astype(float),
        discount=discount,
        rates=rates,
        rate_ratio=rate_ratio,
        adopt_day=adopt_day,
        adoption_target=adoption_target,
        ramp_days=ramp_days,
        idiosyncratic=rng.normal(0, config.value.idiosyncratic_sd, n),
        has_sponsor=rng.random(n) < seg_param("sponsor_share"),
        has_champion=rng.random(n) < rel.champion_at_signing * (0.7 + 0.3 * readiness[:, 1]),
        csm=csm,
        csm_after=csm_after,
        reassigned_day=reassigned_day,
        qbr=rng.random(n) < seg_param("qbr_share"),
        ebr=rng.random(n) < seg_param("ebr_share"),
        phase=rng.integers(0, 365, size=n),
        milestone_day=_milestones(
            config, rng, segment, fits @ FIT_WEIGHTS, ready_count, slowness, signed_day
        ),
        handoff_rating=np.zeros((n, 6), dtype=np.int64),
        handoff_readiness=np.zeros((n, 3), dtype=np.int64),
        required_outcome=rng.integers(0, 8, size=n),
    )
    population.handoff_rating, population.handoff_readiness = _handoff(config, rng, fits, readiness)
    return population
