"""The day loop: every account steps through each simulated day together, in numpy arrays.

Each day: terms that ended yesterday close (renewed, changed or churned); new customers sign;
renewal reviews due today draw who intends to leave, and renewal decisions due today are drawn
from latent value and that intent (``_intend``, ``_decide``); champions and sponsors leave, get
promoted or get replaced; incidents strike; users ramp toward the seats the account can fill;
feature events are drawn (Poisson per account and feature) and written as ONE Parquet file in
the day's partition; latent value moves; tickets, NPS/CSAT answers and touchpoints follow.
Message ids are ``s<seed>-d<day>-<n>``: unique by construction, so the store skips deduplication.
Only numpy state of fixed size per account (plus the contacts book) lives across days.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tenure.simulate import names
from tenure.simulate.behaviour import (
    COMPONENTS,
    breadth,
    calibrate,
    component_weights,
    feature_weights,
    price_component,
    renewal_probabilities,
    static_value,
    steady_components,
)
from tenure.simulate.calendar import Calendar
from tenure.simulate.config import BILLING_PERIODS, SimulationConfig
from tenure.simulate.interventions import Interventions, PlaySchedule
from tenure.simulate.population import FITS, NEVER, Population, draw_population
from tenure.simulate.truth import CAUSES, OUTCOMES, TruthWriter
from tenure.simulate.writers import Spools
from tenure.store.events import EVENT_SCHEMA

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

LEVELS = ("end_user", "manager", "director_vp", "executive")
ROLES = ("champion", "sponsor", "commercial_buyer", "stakeholder", "end_user")
CHAMPION, SPONSOR, BUYER, STAKEHOLDER, END_USER = (1 << i for i in range(5))
CHURN, DOWNGRADE, RENEW, EXPAND = range(4)
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
TICKET_CATEGORIES = ("how_to", "bug", "integration", "billing", "outage")
BILLING = TICKET_CATEGORIES.index("billing")
SURVEY_COMMENTS = np.array([None, "Great product and support", "Too expensive for what we get"])
HOLIDAYS = {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)}


def _ranges(starts: Ints, lengths: Ints) -> Ints:
    """Concatenated ``arange(s, s + l)`` for each pair, without a Python loop."""
    lengths = np.maximum(lengths, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.asarray(offsets + np.arange(total), dtype=np.int64)


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _str(values: Ints) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


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


class Simulation:
    """State and daily step of one run; ``run()`` drives it to the as-of date."""

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
        seeds = np.random.SeedSequence(config.seed).spawn(9)
        (
            self.rng_population,
            self.rng_usage,
            self.rng_relations,
            self.rng_outcomes,
            self.rng_support,
            self.rng_sentiment,
            self.rng_touch,
            self.rng_names,
            self.rng_intent,  # spawned last: runs without an intent stage draw exactly as before
        ) = (np.random.default_rng(s) for s in seeds)
        self.pop: Population = draw_population(config, self.calendar, self.rng_population)
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
        self.status = np.zeros(n, np.int64)  # 0 prospect, 1 customer, 2 churned
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
        self.serial = {"ticket": 0, "survey": 0, "touchpoint": 0}
        self.stated: dict[int, StatedChurn] = {}
        self.csm_emails = pa.array([], pa.string())  # set by the snapshot
        self.company_names = pa.array([], pa.string())
        # plays (interventions): deterministic arithmetic on value, no random number drawn
        self.plays: PlaySchedule | None = None
        if interventions is not None and len(interventions):
            index = {a: i for i, a in enumerate(self.account_ids.to_pylist())}
            self.plays = PlaySchedule(interventions, config, index)
            self.play_effect = np.zeros(n)  # utility a running play adds today
            self.lift = np.zeros(n)  # its moving average: what the play adds to latent value
            self.treated_on = np.full(n, NEVER, np.int64)
            self.last_play = np.full(n, -1, np.int64)
            self.truth_decided = np.zeros(n, np.bool_)  # first decision since treatment recorded
            self.status_at_play_start = np.zeros(len(self.plays.account), np.bool_)

    # --- helpers -------------------------------------------------------------------------

    def _times(self, rng: np.random.Generator, day: int, accounts: Ints) -> Ints:
        """Microsecond UTC timestamps on ``day``: local business hours, wrapped into the UTC day."""
        hour = np.searchsorted(self.hour_cdf, rng.random(len(accounts)))
        local = hour * 3600 + rng.integers(0, 3600, len(accounts))
        seconds = (local - self.utc_offset_s[accounts]) % 86_400
        epoch_day = (self.calendar.start64 + np.timedelta64(day, "D")).astype("datetime64[us]")
        return np.asarray(epoch_day.astype(np.int64) + seconds * 1_000_000, dtype=np.int64)

    def _user_ids(self, accounts: Ints, slots: Ints) -> pa.Array:
        return _join(self.account_ids.take(pa.array(accounts)), "-u", _str(slots))

    def _contact_ids(self, contacts: Ints) -> pa.Array:
        return _join(
            self.account_ids.take(pa.array(self.book.account[contacts])), "-k", _str(contacts)
        )

    def _serials(self, kind: str, accounts: Ints, letter: str) -> pa.Array:
        first = self.serial[kind]
        self.serial[kind] += len(accounts)
        return _join(
            self.account_ids.take(pa.array(accounts)),
            f"-{letter}",
            _str(np.arange(first, first + len(accounts))),
        )

    def _set_decision_days(self, accounts: Ints) -> None:
        term_days = self.c_end[accounts] - self.c_start[accounts] + 1
        lead = np.minimum(self.config.renewal.decision_lead_days, term_days // 3)
        self.decision_day[accounts] = self.c_end[accounts] - lead
        intent_lead = np.minimum(self.config.renewal.intent_lead_days, 2 * term_days // 3)
        self.intent_day[accounts] = np.where(
            intent_lead > lead, self.c_end[accounts] - intent_lead, NEVER
        )
        self.intent_on[accounts] = NEVER
        self.intent_p[accounts] = -1.0
        self.intent_p_cf[accounts] = -1.0
        self.decided[accounts] = -1
        self.notice_day[accounts] = NEVER
        self.term_incidents[accounts] = 0

    # --- lifecycle -----------------------------------------------------------------------

    def _onboard(self, accounts: Ints, day: int) -> None:
        pop, rel = self.pop, self.config.relationships
        if len(accounts) == 0:
            return
        signed = pop.signed_day[accounts]
        self.status[accounts] = 1
        start = signed.copy()
        seq = np.zeros(len(accounts), np.int64)
        term = pop.term_months[accounts]
        end = self.calendar.term_end(start, term)
        while (late := end < day).any():  # the installed base: the term running on day 0
            start[late] = end[late] + 1
            seq[late] += 1
            end[late] = self.calendar.term_end(start[late], term[late])
        self.c_start[accounts], self.c_end[accounts], self.c_seq[accounts] = start, end, seq
        self._set_decision_days(accounts)
        age = np.maximum(day - signed, 0)
        target = self.c_seats[accounts] * pop.adoption_target[accounts]
        self.users[accounts] = np.maximum(
            1.0, target * (1 - np.exp(-age / pop.ramp_days[accounts]))
        )
        self.components[accounts] = 0.0  # value is earned: it starts at zero for new logos
        if day == 0:  # the installed base has been earning value for a while
            ramp = (1 - np.exp(-age / pop.ramp_days[accounts]))[:, None]
            self.components[accounts] = self.steady[accounts] * ramp
        self.components[accounts, 4] = price_component(pop, self.c_price)[accounts]
        # relationships at signing
        level_for_buyer = np.where(pop.segment[accounts] == 0, 2, 3)
        joined = signed
        with_champion = accounts[pop.has_champion[accounts]]
        self.champion[with_champion] = self.book.add(
            with_champion, 1, CHAMPION, pop.signed_day[with_champion]
        )
        no_champion = accounts[~pop.has_champion[accounts]]
        found = self.rng_relations.random(len(no_champion)) < rel.replace_share
        self.champion_back[no_champion[found]] = np.maximum(
            day, pop.signed_day[no_champion[found]]
        ) + (
            self.rng_relations.exponential(rel.replace_days_mean, found.sum()).astype(np.int64) + 1
        )
        with_sponsor = accounts[pop.has_sponsor[accounts]]
        self.sponsor[with_sponsor] = self.book.add(
            with_sponsor, 2, SPONSOR, pop.signed_day[with_sponsor]
        )
        self.buyer[accounts] = self.book.add(accounts, level_for_buyer, BUYER, joined)
        stakeholders = self.rng_relations.integers(0, rel.stakeholders_max + 1, len(accounts))
        holders = np.repeat(accounts, stakeholders)
        levels = self.rng_relations.integers(0, 2, len(holders))
        self.book.add(holders, levels, STAKEHOLDER, pop.signed_day[holders])

    def _close_terms(self, day: int) -> None:
        ending = np.flatnonzero((self.status == 1) & (self.c_end == day - 1))
        if len(ending) == 0:
            return
        self._emit_contracts(ending, day)
        outcome = self.decided[ending]
        churned = ending[outcome == CHURN]
        self.status[churned] = 2
        self.end_day[churned] = day
        self.active_users[churned] = 0
        staying = ending[outcome != CHURN]
        self.c_seq[staying] += 1
        self.c_start[staying] = day
        self.c_end[staying] = self.calendar.term_end(
            np.full(len(staying), day), self.pop.term_months[staying]
        )
        self.c_seats[staying] = self.next_seats[staying]
        self.c_price[staying] = self.next_price[staying]
        self._set_decision_days(staying)

    def _z(self, latent: Floats) -> Floats:
        """Latent value standardized against the population's steady state."""
        return np.asarray((latent - self.pop.value_mean) / self.pop.value_sd)

    def _churn_now(self, accounts: Ints, without_play: bool = False) -> Floats:
        """P(value churn) per term if the decision were drawn today."""
        latent = self.latent_value(accounts)
        if without_play and self.plays is not None:
            latent = latent - self.lift[accounts]
        utilization = self.active_users[accounts] / self.c_seats[accounts]
        term = self.pop.term_months[accounts]
        return renewal_probabilities(self.config, self.pop, self._z(latent), term, utilization)[0]

    def _intend(self, day: int) -> None:
        """The renewal review: an account heading out forms its intent to leave today."""
        due = np.flatnonzero((self.status == 1) & (self.intent_day <= day))
        if len(due) == 0:
            return
        self.intent_day[due] = NEVER
        p = self._churn_now(due)
        self.intent_p[due] = p
        if self.plays is not None:
            self.intent_p_cf[due] = self._churn_now(due, without_play=True)
        follow = self.config.renewal.intent_follow_through
        intends = self.rng_intent.random(len(due)) < np.minimum(p / follow, 1.0)
        self.intent_on[due[intends]] = day

    @staticmethod
    def _still_at_risk(p_now: Floats, p_intent: Floats) -> Floats:
        """min(1, P(churn) now ÷ P(churn) at intent): what value recovered since the intent
        formed takes off an intender's follow-through."""
        return np.asarray(np.minimum(p_now / np.maximum(p_intent, 1e-12), 1.0))

    def _value_churn(self, due: Ints, p_now: Floats, p_intent: Floats) -> Floats:
        """P(value churn) at today's decision: the one-step probability without an intent stage;
        with one, the intender's follow-through (0 for accounts that formed no intent)."""
        follow = self.config.renewal.intent_follow_through
        left = self._still_at_risk(p_now, p_intent)
        staged = np.where(self.intent_on[due] < NEVER, follow * left, 0.0)
        return np.where(p_intent < 0, p_now, staged)

    @classmethod
    def _ex_ante(cls, p_now: Floats, p_intent: Floats, follow: float) -> Floats:
        """P(value churn) over both steps, before the intent was drawn."""
        left = cls._still_at_risk(p_now, p_intent)
        return np.where(p_intent < 0, p_now, np.minimum(follow, p_intent) * left)

    def _decide(self, day: int) -> None:
        pop, cfg = self.pop, self.config.renewal
        due = np.flatnonzero((self.status == 1) & (self.decided < 0) & (self.decision_day <= day))
        if len(due) == 0:
            return
        rng = self.rng_outcomes
        latent = self.latent_value(due)
        z = self._z(latent)
        seats = self.c_seats[due]
        utilization = self.active_users[due] / seats
        term = pop.term_months[due]
        p_now, p_down, p_up = renewal_probabilities(self.config, pop, z, term, utilization)
        p_intent = self.intent_p[due]
        p_churn = self._ex_ante(p_now, p_intent, cfg.intent_follow_through)
        able = pop.readiness[due, 2]
        p_unexplained = 1 - (1 - cfg.unexplained_annual * np.where(able, 1.0, 1.5)) ** (term / 12)
        draws = rng.random((len(due), 4))
        unexplained = draws[:, 0] < p_unexplained
        churn = unexplained | (draws[:, 1] < self._value_churn(due, p_now, p_intent))
        down = ~churn & (draws[:, 2] < p_down) & (seats > 1)
        up = ~churn & ~down & (draws[:, 3] < p_up) & (seats < pop.max_seats[due])
        outcome = np.select([churn, down, up], [CHURN, DOWNGRADE, EXPAND], RENEW)
        self.decided[due] = outcome
        factor = np.select(
            [outcome == EXPAND, outcome == DOWNGRADE],
            [rng.uniform(1.15, 1.6, len(due)), rng.uniform(0.6, 0.9, len(due))],
            1.0,
        )
        new_seats = np.clip(np.rint(seats * factor), 1, pop.max_seats[due]).astype(np.int64)
        new_seats = np.where(outcome == DOWNGRADE, np.minimum(new_seats, seats - 1), new_seats)
        self.next_seats[due] = new_seats
        uplift = np.where((outcome == RENEW) & (term >= 12), 1 + cfg.renewal_uplift, 1.0)
        self.next_price[due] = self.c_price[due] * uplift
        # causes, notices and stated reasons for the churners
        causes = self._causes(due, unexplained, rng)
        gives_notice = churn & (rng.random(len(due)) < cfg.notice_share)
        lead = rng.integers(cfg.notice_lead_days[0], cfg.notice_lead_days[1] + 1, len(due))
        notice = np.where(gives_notice, np.maximum(day, self.c_end[due] - lead), NEVER)
        self.notice_day[due] = notice
        truthful = rng.random(len(due)) < cfg.stated_truthful
        missing = rng.random(len(due)) < cfg.stated_missing
        other = rng.choice(len(STATED), size=len(due), p=STATED_WEIGHTS / STATED_WEIGHTS.sum())
        reasons: list[str | None] = [None] * len(due)
        for k in np.flatnonzero(churn):
            cause = CAUSES[causes[k]]
            if not missing[k]:
                reasons[k] = STATED_FOR_CAUSE[cause] if truthful[k] else STATED[other[k]]
            i = int(due[k])
            self.stated[i] = StatedChurn(
                reasons[k],
                self._contract_id(i, int(self.c_seq[i])),
                int(min(notice[k], self.c_end[i])),
            )
        if self.plays is not None:
            self._treated_decisions(due, day, z, p_churn, p_down, p_unexplained, seats, utilization)
        self.truth.outcome(
            account=due,
            contract_seq=self.c_seq[due],
            decision_day=np.full(len(due), day),
            term_end=self.c_end[due],
            outcome=outcome,
            cause=np.where(churn, causes, -1),
            unexplained=unexplained,
            latent_value=latent,
            z=z,
            p_churn=p_churn,
            term_months=term,
            notice_day=notice,
            stated_reason=reasons,
            intent_day=self.intent_on[due],
        )

    def _treated_decisions(
        self,
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
        treated = self.treated_on[due] <= day
        if not treated.any():
            return
        k = np.flatnonzero(treated)
        a = due[k]
        z_cf = z[k] - self.lift[a] / self.pop.value_sd
        cf_now, cf_down, _ = renewal_probabilities(
            self.config, self.pop, z_cf, self.pop.term_months[a], utilization[k]
        )
        follow = self.config.renewal.intent_follow_through
        cf_churn = self._ex_ante(cf_now, self.intent_p_cf[a], follow)
        pu = p_unexplained[k]
        can_down = seats[k] > 1

        def totals(pc: Floats, pd: Floats) -> tuple[Floats, Floats]:
            churn = pu + (1 - pu) * pc
            return churn, churn + (1 - churn) * pd * can_down

        with_churn, with_either = totals(p_churn[k], p_down[k])
        cf_churn_total, cf_either = totals(cf_churn, cf_down)
        assert self.plays is not None
        self.truth.treated_decision(
            account=a,
            play=[self.plays.play_names[p] for p in self.last_play[a]],
            treated_day=self.treated_on[a],
            decision_day=np.full(len(a), day),
            term_end=self.c_end[a],
            first_since_treatment=~self.truth_decided[a],
            lift=self.lift[a],
            z=z[k],
            z_counterfactual=z_cf,
            p_churn=with_churn,
            p_churn_counterfactual=cf_churn_total,
            p_churn_or_downgrade=with_either,
            p_churn_or_downgrade_counterfactual=cf_either,
        )
        self.truth_decided[a] = True

    def _causes(self, due: Ints, unexplained: Bools, rng: np.random.Generator) -> Ints:
        """The true cause of each potential churn: the largest shortfall in latent value."""
        pop = self.pop
        w = self.component_weights
        comps = self.components[due]
        deficit = np.column_stack(
            [
                w[0] * (comps[:, 0] - 0.45) + w[1] * (comps[:, 1] - pop.adoption_target.mean()),
                w[2] * (comps[:, 2] - 0.9) + w[3] * (comps[:, 3] - 0.5),
                w[5] * comps[:, 5],
                w[4] * (comps[:, 4] + 0.9 * (1.5 - pop.fits[due, 2])),
            ]
        )
        choice = np.array([1, 2, 3, 4])[np.argmin(deficit, axis=1)]
        left_recently = self.champion_left_day[due] >= self.c_start[due] - 180
        choice = np.where((choice == 2) & ~left_recently, 1, choice)
        choice = np.where(pop.bad_fit[due], 0, choice)
        random_cause = rng.choice([5, 6, 7], size=len(due), p=[0.35, 0.15, 0.5])
        return np.where(unexplained, random_cause, choice)

    def owner(self, accounts: Ints, day: int) -> Ints:
        """The CSM who owns each account on ``day``."""
        pop = self.pop
        return np.where(
            day >= pop.reassigned_day[accounts], pop.csm_after[accounts], pop.csm[accounts]
        )

    def latent_value(self, accounts: Ints) -> Floats:
        value = self.components[accounts] @ self.component_weights + self.static_value[accounts]
        if self.plays is not None:
            value = value + self.lift[accounts]
        return np.asarray(value)

    def _contract_id(self, account: int, seq: int) -> str:
        return f"{self.account_ids[account].as_py()}-c{seq}"

    def _emit_contracts(self, accounts: Ints, day: int, *, final: bool = False) -> None:
        """Contract rows for terms that closed (or, at the end, the running and signed ones)."""
        pop, cal = self.pop, self.calendar
        decided = self.decided[accounts]
        known = decided >= 0
        if final:  # outcomes count only once they happened before as_of
            churn_known = (decided == CHURN) & (self.c_end[accounts] < day)
            known = np.where(
                decided == CHURN, churn_known, known & (self.decision_day[accounts] < day)
            )
        outcome_day = np.where(decided == CHURN, self.c_end[accounts], self.decision_day[accounts])
        arr = np.round(self.c_seats[accounts] * self.c_price[accounts], 2)
        next_arr = np.where(
            decided == CHURN,
            0.0,
            np.round(self.next_seats[accounts] * self.next_price[accounts], 2),
        )
        notice = self.notice_day[accounts]
        segments = list(self.config.segments.values())
        status = np.where(self.c_end[accounts] < day, "ended", "active")
        table = pa.table(
            {
                "external_id": _join(
                    self.account_ids.take(pa.array(accounts)), "-c", _str(self.c_seq[accounts])
                ),
                "account_external_id": self.account_ids.take(pa.array(accounts)),
                "plan": [segments[s].plan for s in pop.segment[accounts]],
                "billing_period": [BILLING_PERIODS[b] for b in pop.billing[accounts]],
                "starts_on": cal.dates(self.c_start[accounts]),
                "ends_on": cal.dates(self.c_end[accounts]),
                "arr": arr,
                "currency": self.currency[pop.region[accounts]],
                "licensed_seats": self.c_seats[accounts],
                "discount": pop.discount[accounts],
                "status": status,
                "renewal_outcome": pa.array(
                    [OUTCOMES[o] if k else None for o, k in zip(decided, known, strict=True)],
                    pa.string(),
                ),
                "outcome_on": pa.array(cal.dates(outcome_day), pa.date32(), mask=~known),
                "notice_on": pa.array(
                    cal.dates(np.minimum(notice, 10**6)), pa.date32(), mask=notice >= day
                ),
                "arr_delta": pa.array(np.round(next_arr - arr, 2), pa.float64(), mask=~known),
                "_account": accounts,
            }
        )
        self.spools.append("contracts", table)
        if final:
            signed = np.flatnonzero(known & (decided != CHURN))
            if len(signed):
                a = accounts[signed]
                start = self.c_end[a] + 1
                pending = pa.table(
                    {
                        "external_id": _join(
                            self.account_ids.take(pa.array(a)), "-c", _str(self.c_seq[a] + 1)
                        ),
                        "account_external_id": self.account_ids.take(pa.array(a)),
                        "plan": [segments[s].plan for s in pop.segment[a]],
                        "billing_period": [BILLING_PERIODS[b] for b in pop.billing[a]],
                        "starts_on": cal.dates(start),
                        "ends_on": cal.dates(cal.term_end(start, pop.term_months[a])),
                        "arr": next_arr[signed],
                        "currency": self.currency[pop.region[a]],
                        "licensed_seats": self.next_seats[a],
                        "discount": pop.discount[a],
                        "status": np.where(start <= day, "active", "pending"),
                        "renewal_outcome": pa.nulls(len(a), pa.string()),
                        "outcome_on": pa.nulls(len(a), pa.date32()),
                        "notice_on": pa.nulls(len(a), pa.date32()),
                        "arr_delta": pa.nulls(len(a), pa.float64()),
                        "_account": a,
                    }
                )
                self.spools.append("contracts", pending)

    # --- people --------------------------------------------------------------------------

    def _relationships(self, day: int) -> None:
        rel, pop, rng = self.config.relationships, self.pop, self.rng_relations
        active = self.status == 1
        cultural = pop.fits[:, 5]
        for role, holder, back, annual in (
            (CHAMPION, self.champion, self.champion_back, rel.champion_leave_annual),
            (SPONSOR, self.sponsor, self.sponsor_back, rel.sponsor_leave_annual),
        ):
            p_leave = annual / 365 * (1.6 - cultural)
            leaving = np.flatnonzero(active & (holder >= 0) & (rng.random(pop.n) < p_leave))
            self.book.left[holder[leaving]] = day
            holder[leaving] = -1
            if role == CHAMPION:
                self.champion_left_day[leaving] = day
            replaced = rng.random(len(leaving)) < rel.replace_share
            back[leaving] = np.where(
                replaced,
                day + 1 + rng.exponential(rel.replace_days_mean, len(leaving)).astype(np.int64),
                NEVER,
            )
            arriving = np.flatnonzero(active & (back <= day) & (holder < 0))
            holder[arriving] = self.book.add(arriving, 1 if role == CHAMPION else 2, role, day)
            back[arriving] = NEVER
        # CSMs multi-thread: new stakeholders at every level, mostly managers
        new = np.flatnonzero(active & (rng.random(pop.n) < 1 / rel.new_contact_every_days))
        levels = rng.choice(4, size=len(new), p=[0.3, 0.45, 0.2, 0.05])
        self.book.add(new, levels, STAKEHOLDER, day)
        promoted = np.flatnonzero(
            active & (self.champion >= 0) & (rng.random(pop.n) < rel.champion_promote_annual / 365)
        )
        self.book.level[self.champion[promoted]] = 2

    # --- usage and value -----------------------------------------------------------------

    def _day_factor(self, day: int) -> float:
        date = self.calendar.date(day)
        usage = self.config.usage
        factor = usage.weekday_factors[date.weekday()] * usage.month_factors[date.month - 1]
        return factor * (0.3 if (date.month, date.day) in HOLIDAYS else 1.0)

    def _engagement(self, accounts: Ints, day: int) -> Floats:
        usage, rel = self.config.usage, self.config.relationships
        no_champion = self.champion[accounts] < 0
        leaving = (self.decided[accounts] == CHURN) & (self.decision_day[accounts] <= day)
        intent_on = self.intent_on[accounts]
        intending = (intent_on <= day) & (self.decided[accounts] < 0)
        ramp = np.clip(
            (day - intent_on) / np.maximum(self.decision_day[accounts] - intent_on, 1), 0, 1
        )
        return np.asarray(
            (1 - rel.champion_usage_drop * no_champion)
            * (1 - usage.disengage_before_decision * intending * ramp)
            * (1 - usage.disengage_after_decision * leaving)
            / (1 + 0.5 * np.minimum(self.incident_load[accounts], 2))
        )

    def _usage(self, day: int) -> None:
        pop, usage = self.pop, self.config.usage
        accounts = np.flatnonzero(self.status == 1)
        if len(accounts) == 0:
            return
        engagement = self._engagement(accounts, day)
        seats = self.c_seats[accounts]
        target = seats * pop.adoption_target[accounts] * engagement
        self.users[accounts] += (target - self.users[accounts]) / pop.ramp_days[accounts]
        active_users = np.clip(np.rint(self.users[accounts]), 1, seats).astype(np.int64)
        active_users = np.minimum(active_users, pop.max_seats[accounts])
        self.active_users[accounts] = active_users
        grew = np.flatnonzero(active_users > self.max_active[accounts])
        if len(grew):
            a = accounts[grew]
            slots = _ranges(
                pop.slot_base[a] + self.max_active[a], active_users[grew] - self.max_active[a]
            )
            self.first_active[slots] = np.minimum(self.first_active[slots], day)
            self.max_active[a] = active_users[grew]

        adopted = pop.adopt_day[accounts] <= day
        # latent value
        comps = np.column_stack(
            [
                breadth(self.weights, adopted, pop.rate_ratio[accounts], engagement),
                np.minimum(active_users / seats, 1.0),
                (self.champion[accounts] >= 0).astype(float),
                (self.sponsor[accounts] >= 0).astype(float),
                price_component(pop, self.c_price)[accounts],
                -np.minimum(self.incident_load[accounts], 2),
            ]
        )
        memory = self.config.value.memory_days
        self.components[accounts] += (comps - self.components[accounts]) / memory
        today = comps @ self.component_weights + self.static_value[accounts]
        if self.plays is not None:  # a play adds utility while it runs; value follows gradually
            self.lift[accounts] += (self.play_effect[accounts] - self.lift[accounts]) / memory
            today = today + self.play_effect[accounts]
        self.month_value[accounts] += today
        self.month_days[accounts] += 1

        # events
        rate = (
            active_users[:, None]
            * pop.rates[accounts]
            * adopted
            * (engagement * self._day_factor(day) * usage.event_scale)[:, None]
        )
        counts = self.rng_usage.poisson(rate)
        rows, cols = np.nonzero(counts)
        per = counts[rows, cols]
        acc = np.repeat(accounts[rows], per)
        feature = np.repeat(cols, per)
        slot = np.floor(
            self.rng_usage.random(len(acc)) ** usage.user_skew * self.active_users[acc]
        ).astype(np.int64)
        timestamps = self._times(self.rng_usage, day, acc)
        names_ = self.feature_keys.take(pa.array(feature))
        properties = pa.nulls(len(acc), pa.string())
        # milestones reached today, as observable track events
        m_rows, m_cols = np.nonzero(pop.milestone_day[accounts] == day)
        if len(m_rows):
            m_acc = accounts[m_rows]
            keys = [
                self.milestone_keys[pop.segment[a]][j] for a, j in zip(m_acc, m_cols, strict=True)
            ]
            acc = np.concatenate([acc, m_acc])
            slot = np.concatenate([slot, np.zeros(len(m_acc), np.int64)])
            timestamps = np.concatenate([timestamps, self._times(self.rng_usage, day, m_acc)])
            names_ = pa.concat_arrays([names_, pa.array([f"milestone.{k}" for k in keys])])
            properties = pa.concat_arrays(
                [properties, pa.array([json.dumps({"milestone": k}) for k in keys])]
            )
        if len(acc) == 0:
            return
        order = np.lexsort((timestamps, acc))  # clustered by account: compresses, reads fast
        acc, slot, timestamps = acc[order], slot[order], timestamps[order]
        n_events = len(acc)
        latency = self.rng_usage.integers(200_000, 30_000_000, n_events)
        table = pa.table(
            {
                "message_id": _join(f"s{self.config.seed}-d{day}-", _str(np.arange(n_events))),
                "source": pa.array(np.full(n_events, "simulator")),
                "type": pa.array(np.full(n_events, "track")),
                "account_id": self.account_ids.take(pa.array(acc)),
                "user_id": self._user_ids(acc, slot),
                "anonymous_id": pa.nulls(n_events, pa.string()),
                "event": names_.take(pa.array(order)),
                "timestamp": pa.array(timestamps, pa.timestamp("us", tz="UTC")),
                "received_at": pa.array(timestamps + latency, pa.timestamp("us", tz="UTC")),
                "properties": properties.take(pa.array(order)),
            },
            schema=EVENT_SCHEMA,
        )
        self.write_events(table)
        self.counts.events += n_events

    def _incidents(self, day: int) -> Bools:
        support, pop, rng = self.config.support, self.pop, self.rng_support
        hit = rng.random(pop.n) < support.account_incidents_per_year / 365 * (
            1 + 2 * (1 - pop.fits[:, 0])
        )
        if rng.random() < support.global_incidents_per_month / 30:
            region = rng.integers(0, len(self.config.regions))
            hit |= (pop.region == region) & (rng.random(pop.n) < 0.6)
        hit &= self.status == 1
        self.incident_load = self.incident_load * np.exp(-1 / support.incident_memory_days) + hit
        self.term_incidents += hit
        return np.asarray(hit)

    # --- support, sentiment, touchpoints -------------------------------------------------

    def _tickets(self, day: int, incident: Bools) -> None:
        pop, rng, support = self.pop, self.rng_support, self.config.support
        accounts = np.flatnonzero(self.status == 1)
        fits = pop.fits[accounts]
        rate = (
            self.seg_tickets[accounts]
            * self.active_users[accounts] ** 0.8
            * (1 + 1.5 * (1 - fits[:, 0]) + (1 - fits[:, 3]))
            * (1 + support.incident_ticket_boost * incident[accounts])
            * (0.25 if self.calendar.weekday(day) >= 5 else 1.0)
        )
        counts = rng.poisson(rate)
        acc = np.repeat(accounts, counts)
        commercial = self._commercial_tickets(day, accounts)
        if len(acc) + len(commercial) == 0:
            return
        f = pop.fits[acc]
        weights = np.column_stack(
            [
                0.35 * (1.5 - f[:, 3]),
                np.full(len(acc), 0.3),
                0.15 * (1.5 - f[:, 0]),
                np.full(len(acc), 0.1),
                np.where(incident[acc], 3.0, 0.02),
            ]
        )
        category = (
            rng.random(len(acc))[:, None] > np.cumsum(weights, 1) / weights.sum(1)[:, None]
        ).sum(1)
        is_commercial = np.repeat([False, True], [len(acc), len(commercial)])
        acc = np.concatenate([acc, commercial])
        category = np.concatenate([category, np.full(len(commercial), BILLING)])
        urgent = category == 4
        priority = np.where(
            urgent,
            np.where(rng.random(len(acc)) < 0.5, "urgent", "high"),
            np.array(["normal", "high", "normal", "low", "high"])[category],
        )
        opened = self._times(rng, day, acc)
        hours = np.exp(rng.normal(np.where(urgent, np.log(5), np.log(22)), 0.9))
        closed = opened + (hours * 3600e6).astype(np.int64)
        as_of_us = self._day_us(self.calendar.n_days)
        slot = np.floor(rng.random(len(acc)) * np.maximum(self.active_users[acc], 1)).astype(
            np.int64
        )
        subject = [
            names.COMMERCIAL_SUBJECTS[k % 3]
            if own
            else names.TICKET_SUBJECTS[TICKET_CATEGORIES[c]][k % 3]
            for c, k, own in zip(category, slot, is_commercial, strict=True)
        ]
        self.spools.append(
            "tickets",
            pa.table(
                {
                    "external_id": self._serials("ticket", acc, "t"),
                    "account_external_id": self.account_ids.take(pa.array(acc)),
                    "contact_external_id": self._user_ids(acc, slot),
                    "subject": subject,
                    "priority": priority,
                    "category": np.array(TICKET_CATEGORIES)[category],
                    "opened_at": pa.array(opened, pa.timestamp("us", tz="UTC")),
                    "closed_at": pa.array(
                        closed, pa.timestamp("us", tz="UTC"), mask=closed >= as_of_us
                    ),
                    "_account": acc,
                    "_contact": pop.slot_base[acc] + slot,
                }
            ),
        )
        # CSAT after a closed ticket
        asked = (closed < as_of_us) & (
            rng.random(len(acc)) < self.config.sentiment.csat_after_ticket
        )
        if asked.any():
            a = acc[asked]
            z = self._z(self.latent_value(a))
            score = np.clip(
                np.rint(
                    3.9 + 0.4 * z - 0.5 * np.log(hours[asked] / 22) + rng.normal(0, 0.8, len(a))
                ),
                1,
                5,
            ).astype(np.int64)
            self._survey_rows(
                a,
                pop.slot_base[a] + slot[asked],
                self._user_ids(a, slot[asked]),
                "csat",
                score,
                closed[asked] + 3_600_000_000,
            )

    def _going_quiet(self, day: int) -> Bools:
        """Accounts that intend to leave and have not decided to stay."""
        return np.asarray((self.intent_on <= day) & ((self.decided < 0) | (self.decided == CHURN)))

    def _commercial_tickets(self, day: int, accounts: Ints) -> Ints:
        """Seat-cut, contract and data-export requests: a few from anyone, more from a customer
        that intends to leave. One account index per ticket."""
        support = self.config.support
        if (
            support.commercial_tickets_per_year == 0
            and support.leaving_commercial_tickets_per_month == 0
        ):
            return np.zeros(0, np.int64)
        rate = (
            support.commercial_tickets_per_year / 365
            + support.leaving_commercial_tickets_per_month / 30 * self._going_quiet(day)[accounts]
        )
        return np.repeat(accounts, self.rng_intent.poisson(rate))

    def _day_us(self, day: int) -> int:
        return int(
            (self.calendar.start64 + np.timedelta64(day, "D"))
            .astype("datetime64[us]")
            .astype(np.int64)
        )

    def _survey_rows(
        self,
        accounts: Ints,
        contacts: Ints,
        contact_ids: pa.Array,
        kind: str,
        score: Ints,
        at: Ints,
    ) -> None:
        code = np.select([score >= 9, score <= 4], [1, 2], 0)
        code[self.rng_sentiment.random(len(score)) >= 0.3] = 0  # most leave no comment
        if kind != "nps":
            code[:] = 0
        comment = SURVEY_COMMENTS[code]
        self.spools.append(
            "surveys",
            pa.table(
                {
                    "external_id": self._serials("survey", accounts, "s"),
                    "account_external_id": self.account_ids.take(pa.array(accounts)),
                    "contact_external_id": contact_ids,
                    "kind": np.full(len(accounts), kind),
                    "score": score,
                    "comment": pa.array(comment, pa.string()),
                    "responded_at": pa.array(at, pa.timestamp("us", tz="UTC")),
                    "_account": accounts,
                    "_contact": contacts,
                }
            ),
        )

    def _nps(self, day: int) -> None:
        pop, cfg, rng = self.pop, self.config.sentiment, self.rng_sentiment
        due = np.flatnonzero(
            (self.status == 1)
            & ((day + pop.phase) % cfg.nps_every_days == 0)
            & (day - pop.signed_day >= 30)
        )
        if len(due) == 0:
            return
        book = self.book
        members = np.flatnonzero(
            np.isin(book.account[: book.size], due) & (book.left[: book.size] == NEVER)
        )
        members = members[rng.random(len(members)) < cfg.contact_response]
        sample = np.minimum(
            rng.binomial(self.active_users[due], cfg.user_sample_share), cfg.user_sample_max
        )
        u_acc = np.repeat(due, sample)
        u_slot = np.unique(
            np.column_stack(
                [u_acc, np.floor(rng.random(len(u_acc)) * self.active_users[u_acc])]
            ).astype(np.int64),
            axis=0,
        )
        c_acc = book.account[members]
        accounts = np.concatenate([c_acc, u_slot[:, 0]])
        if len(accounts) == 0:
            return
        z = self._z(self.latent_value(accounts))
        seniority = np.concatenate([book.level[members] * 0.15, np.zeros(len(u_slot))])
        score = np.clip(
            np.rint(
                7.0
                + 1.6 * z
                + seniority
                - 1.2 * np.minimum(self.incident_load[accounts], 2)
                + rng.normal(0, 1.7, len(accounts))
            ),
            0,
            10,
        ).astype(np.int64)
        ids = pa.concat_arrays(
            [self._contact_ids(members), self._user_ids(u_slot[:, 0], u_slot[:, 1])]
        )
        contacts = np.concatenate(
            [pop.total_slots + members, pop.slot_base[u_slot[:, 0]] + u_slot[:, 1]]
        )
        self._survey_rows(accounts, contacts, ids, "nps", score, self._times(rng, day, accounts))

    def _touchpoints(self, day: int) -> None:
        pop, rng = self.pop, self.rng_touch
        active = self.status == 1
        quiet = self._going_quiet(day)
        silence = self.config.relationships.silence_when_leaving
        regular = active & (rng.random(pop.n) < (1 - silence * quiet) / self.seg_touch)
        qbr = active & pop.qbr & ((day + pop.phase) % 91 == 0)
        ebr = active & pop.ebr & (self.c_end - day == 75) & (pop.term_months >= 12)
        kinds = np.array(["email", "call", "meeting"])[pop.segment]
        acc = np.concatenate([np.flatnonzero(regular), np.flatnonzero(qbr), np.flatnonzero(ebr)])
        if len(acc) == 0:
            return
        kind = np.concatenate(
            [kinds[regular], np.full(int(qbr.sum()), "qbr"), np.full(int(ebr.sum()), "ebr")]
        )
        attendees: list[list[int]] = []
        for a, k in zip(acc, kind, strict=True):
            people = [int(self.champion[a])]
            sponsor_comes = self.sponsor[a] >= 0 and not (silence > 0 and quiet[a])
            if k in ("qbr", "ebr") and sponsor_comes and (k == "ebr" or rng.random() < 0.5):
                people.append(int(self.sponsor[a]))
            if k == "ebr":
                people.append(int(self.buyer[a]))
            attendees.append([p for p in people if p >= 0])
        flat = np.array([p for people in attendees for p in people], dtype=np.int64)
        flat_ids = self._contact_ids(flat).to_pylist() if len(flat) else []
        lengths = np.array([len(p) for p in attendees])
        splits = np.split(np.arange(len(flat)), np.cumsum(lengths)[:-1])
        self.spools.append(
            "touchpoints",
            pa.table(
                {
                    "external_id": self._serials("touchpoint", acc, "m"),
                    "account_external_id": self.account_ids.take(pa.array(acc)),
                    "kind": kind,
                    "occurred_at": pa.array(
                        self._times(rng, day, acc), pa.timestamp("us", tz="UTC")
                    ),
                    "subject": [names.TOUCHPOINT_SUBJECTS[k] for k in kind],
                    "notes": pa.nulls(len(acc), pa.string()),
                    "user_email": [csm_email(int(c)) for c in self.owner(acc, day)],
                    "attendee_external_ids": [[flat_ids[i] for i in s] for s in splits],
                    "_account": acc,
                    "_user": self.owner(acc, day),
                    "_attendees": [[int(pop.total_slots + flat[i]) for i in s] for s in splits],
                }
            ),
        )

    # --- months and the run --------------------------------------------------------------

    def _month_end(self, day: int) -> None:
        accounts = np.flatnonzero(self.month_days > 0)
        month = self.calendar.date(day).replace(day=1)
        self.truth.month(
            month=month,
            account=accounts,
            latent_value=self.month_value[accounts] / self.month_days[accounts],
            latent_value_ewma=self.latent_value(accounts),
            active_users=self.active_users[accounts],
            champion_present=self.champion[accounts] >= 0,
            incidents=self.incident_load[accounts],
        )
        self.month_value[:] = 0
        self.month_days[:] = 0

    def _start_plays(self, day: int) -> None:
        assert self.plays is not None
        self.plays.effect_today(day, self.play_effect)
        accounts, plays = self.plays.started(day)
        self.status_at_play_start[self.plays.start == day] = self.status[accounts] == 1
        if len(accounts):
            self.treated_on[accounts] = np.minimum(self.treated_on[accounts], day)
            self.last_play[accounts] = plays
            self.truth_decided[accounts] = False

    def step(self, day: int) -> None:
        if self.plays is not None:
            self._start_plays(day)
        self._close_terms(day)
        signing = np.flatnonzero((self.status == 0) & (self.pop.signed_day <= day))
        self._onboard(signing, day)
        self._intend(day)
        self._decide(day)
        self._relationships(day)
        incident = self._incidents(day)
        self._usage(day)
        self._tickets(day, incident)
        self._nps(day)
        self._touchpoints(day)
        if day + 1 == self.calendar.n_days or self.calendar.date(day + 1).day == 1:
            self._month_end(day)
        self.counts.days += 1

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        total = self.calendar.n_days
        for day in range(total):
            self.step(day)
            if progress is not None:
                progress(day + 1, total)

    def finish(self, meta: dict[str, object]) -> None:
        """Rows that exist once the run is over: running contracts, accounts, people, truth."""
        from tenure.simulate.snapshot import write_snapshot, write_truth

        running = np.flatnonzero(self.status == 1)
        self._emit_contracts(running, self.calendar.n_days, final=True)
        write_snapshot(self)
        write_truth(self, meta)


def csm_email(index: int) -> str:
    return f"csm{index + 1:03d}@cs.example.com"


__all__ = ["FITS", "Simulation", "csm_email"]
