"""The simulation state: fixed-size numpy arrays per account (plus the contacts book) that live
across days, the random streams, and where rows go.

Every mechanism (``onboarding``, ``contracts``, ``renewals``, ``relationships``, ``usage``,
``support``, ``surveys``, ``touchpoints``) is a function over this state, so the day loop in
``engine`` reads as the order things happen in, and a mechanism can be read on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tenure.simulate.behaviour import (
    COMPONENTS,
    calibrate,
    component_weights,
    feature_weights,
    static_value,
    steady_components,
)
from tenure.simulate.calendar import Calendar
from tenure.simulate.config import SimulationConfig
from tenure.simulate.interventions import Interventions, PlaySchedule, RunningPlays
from tenure.simulate.population import NEVER, Population, draw_experience, draw_population
from tenure.simulate.truth import TruthWriter
from tenure.simulate.writers import Spools

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

LEVELS = ("end_user", "manager", "director_vp", "executive")
ROLES = ("champion", "sponsor", "commercial_buyer", "stakeholder", "end_user")
CHAMPION, SPONSOR, BUYER, STAKEHOLDER, END_USER = (1 << i for i in range(5))
# renewal outcomes, as ``decided`` holds them (-1: not decided this term)
CHURN, DOWNGRADE, RENEW, EXPAND = range(4)
# account status
PROSPECT, CUSTOMER, CHURNED = range(3)


@dataclass
class ContactBook:
    """People in relationship roles (champion, sponsor, buyer, stakeholders), growing in place."""

    account: Ints = field(default_factory=lambda: np.zeros(1024, dtype=np.int64))
    level: Ints = field(default_factory=lambda: np.zeros(1024, dtype=np.int64))
    roles: Ints = field(default_factory=lambda: np.zeros(1024, dtype=np.int64))
    joined: Ints = field(default_factory=lambda: np.zeros(1024, dtype=np.int64))
    left: Ints = field(default_factory=lambda: np.zeros(1024, dtype=np.int64))
    size: int = 0

    def add(self, account: Ints, level: Ints | int, roles: int, joined: Ints | int) -> Ints:
        n = len(account)
        if self.size + n > len(self.account):
            grow = max(len(self.account), n)
            for name in ("account", "level", "roles", "joined", "left"):
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(grow, np.int64)]))
        index = np.arange(self.size, self.size + n)
        self.account[index] = account
        self.level[index] = level
        self.roles[index] = roles
        self.joined[index] = joined
        self.left[index] = NEVER
        self.size += n
        return index


@dataclass(frozen=True)
class StatedChurn:
    """What a churning customer told us, and when (notice day, else the term's last day)."""

    reason: str | None
    contract_external_id: str
    day: int


@dataclass
class RunCounts:
    events: int = 0
    days: int = 0


class SimulationState:
    """Everything one run carries from day to day; the mechanisms read and update it in place.

    The random streams are spawned in a fixed order from the seed, one per mechanism, so a
    mechanism that draws more never shifts another's draws.
    """

    def __init__(
        self,
        config: SimulationConfig,
        spools: Spools,
        truth_dir: Path,
        write_events: Callable[[pa.Table], None],
        interventions: Interventions | None = None,
    ) -> None:
        self.config = config
        self.calendar = Calendar.ending(config.as_of, config.months)
        # Spawned in a fixed order; a stream added later comes last, so the earlier ones draw
        # exactly as before.
        seeds = np.random.SeedSequence(config.seed).spawn(11)
        (
            self.rng_population,
            self.rng_usage,
            self.rng_relations,
            self.rng_outcomes,
            self.rng_support,
            self.rng_sentiment,
            self.rng_touch,
            self.rng_names,
            self.rng_intent,  # spawned late: runs without an intent stage draw as before
            self.rng_crm,  # what sales, services and the reference program record (crm_records)
            self.rng_messages,  # the goal-bearing messages the CS team sends (messages)
        ) = (np.random.default_rng(s) for s in seeds)
        self.pop: Population = draw_population(config, self.calendar, self.rng_population)
        self.experience = draw_experience(config, self.rng_crm, self.pop.segment)
        calibrate(config, self.pop)
        self.spools, self.write_events = spools, write_events
        self.counts = RunCounts()
        n, pop = self.pop.n, self.pop
        width = max(5, len(str(n)))
        self.account_ids = pa.array([f"acct-{i:0{width}d}" for i in range(n)], pa.string())
        self.truth = TruthWriter(truth_dir, self.account_ids, self.calendar)
        self.truth.value_mean, self.truth.value_sd = pop.value_mean, pop.value_sd
        self.feature_keys = pa.array([f.key for f in config.features], pa.string())
        self.weights = feature_weights(config)
        self.component_weights = component_weights(config)
        self.static_value = static_value(config, pop)
        self.steady = steady_components(config, pop)
        segments = list(config.segments.values())
        self.seg_touch = np.array([s.touch_every_days for s in segments])[pop.segment]
        self.seg_tickets = np.array([s.tickets_per_user_day for s in segments])[pop.segment]
        self.currency = np.array([r.currency for r in config.regions.values()])
        self.utc_offset_s = np.array([r.utc_offset_hours * 3600 for r in config.regions.values()])[
            pop.region
        ]
        hours = np.arange(24)
        profile = np.exp(-0.5 * ((hours - config.usage.business_hour_peak) / 3.0) ** 2) + 0.03
        self.hour_cdf = np.cumsum(profile / profile.sum())
        self.milestone_keys = [[m.key for m in ms] for ms in config.milestones.values()]
        self.book = ContactBook()
        # account state
        self.status = np.full(n, PROSPECT, np.int64)
        self.c_seq = np.zeros(n, np.int64)
        self.c_start = np.zeros(n, np.int64)
        self.c_end = np.zeros(n, np.int64)
        self.c_seats = pop.seats0.copy()
        self.c_price = pop.list_price * (1 - pop.discount)
        self.decision_day = np.full(n, NEVER, np.int64)
        self.decided = np.full(n, -1, np.int64)
        self.next_seats = np.zeros(n, np.int64)
        self.next_price = np.zeros(n)
        self.notice_day = np.full(n, NEVER, np.int64)
        # renewal intent (config renewal.intent_*): the day it is drawn, the day it formed, and
        # P(churn) then (-1: this term has no intent stage) with and without a running play
        self.intent_day = np.full(n, NEVER, np.int64)
        self.intent_on = np.full(n, NEVER, np.int64)
        self.intent_p = np.full(n, -1.0)
        self.intent_p_cf = np.full(n, -1.0)
        self.end_day = np.full(n, NEVER, np.int64)  # first day as a churned account
        self.users = np.zeros(n)
        self.active_users = np.zeros(n, np.int64)
        self.max_active = np.zeros(n, np.int64)
        self.first_active = np.full(pop.total_slots, NEVER, np.int64)
        self.components = np.zeros((n, len(COMPONENTS)))
        self.month_value = np.zeros(n)
        self.month_days = np.zeros(n, np.int64)
        self.incident_load = np.zeros(n)
        self.term_incidents = np.zeros(n, np.int64)
        self.champion = np.full(n, -1, np.int64)
        self.sponsor = np.full(n, -1, np.int64)
        self.buyer = np.full(n, -1, np.int64)
        self.champion_back = np.full(n, NEVER, np.int64)
        self.sponsor_back = np.full(n, NEVER, np.int64)
        self.champion_left_day = np.full(n, -NEVER, np.int64)
        self.serial = {"ticket": 0, "survey": 0, "touchpoint": 0, "message": 0}
        self.last_review = np.full(n, -1, np.int64)  # the day of the last QBR or EBR held
        self.last_outreach = np.full(n, -NEVER, np.int64)  # the last risk outreach sent
        self.users_written = 0  # the CS team's rows in the users spool (set by the snapshot)
        self.stated: dict[int, StatedChurn] = {}
        self.deals: list[pa.Table] = []  # renewal and expansion deals (simulate/deals.py)
        self.csm_emails = pa.array([], pa.string())  # set by the snapshot
        self.company_names = pa.array([], pa.string())
        # plays (interventions): deterministic arithmetic on value, no random number drawn
        self.plays: RunningPlays | None = None
        if interventions is not None and len(interventions):
            index = {a: i for i, a in enumerate(self.account_ids.to_pylist())}
            self.plays = RunningPlays(PlaySchedule(interventions, config, index), n)
