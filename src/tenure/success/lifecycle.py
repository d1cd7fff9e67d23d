"""TSIA's LAER lifecycle (Land, Adopt, Expand, Renew) and the "customer for life" after R.

[pub] Land covers the first sale *and the initial implementation*; Adopt is the customer adopting
and expanding their use; then Expand and Renew. The motions overlap ("no letter stands alone").

[default] Active motions on ``as_of``: land = first signature → go-live; adopt = after go-live;
expand = an expansion opportunity opened or won, or a contract renewed with an expansion, in the
last 90 days; renew = an active contract ending within 120 days. The displayed stage is the latest
active motion (L < A < E < R). A customer that renewed is past Land even when no go-live day was
recorded: Land never follows a later stage. ``year_index`` = full years since the customer's real
start (``customer_since``: the account's first signature, which stored contracts may postdate —
an import often carries only the recent subscriptions), so a customer of five years is in year
index 5 however many of its contracts were stored; for annual terms that is the renewals
completed. No active contract → no stage ("not a customer").

After the first renewal, the four areas of the Customer Success Field Guide [pub], each with
[default] targets: **Relationships** — the source's "three new relationships this month at three
levels" is the CSM's monthly task across their book [pub], not a quota per account (a CSM with 30
customers meeting it adds one to each every ten months); per account [inf]: relationships at all
three levels now (end user, manager, director/VP+; executives count as director/VP+) and at least
one built in the last 90 days. A relationship is a contact in a relationship role (champion,
sponsor, buyer, stakeholder); a product user the CRM lists is not one the CSM built;
**Adoption** — licence utilization ≥ 100 %; **Maturity** — ≥ 50 % of features used or the
strategic features adopted; **Evangelism** — champions, success stories, references and referrals
(one story a quarter).

>>> from datetime import date
>>> c = LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None)
>>> laer_stage(LifecycleFacts(contracts=[c], go_live_on=date(2025, 3, 1)), date(2025, 6, 1)).stage
<LaerStage.adopt: 'adopt'>
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from tenure.accounts.arr import in_force
from tenure.accounts.renewal import renewal_on
from tenure.words import percent

RENEWED = frozenset({"renewed", "expanded", "downgraded"})
EXPAND_WINDOW_DAYS = 90
RENEW_WINDOW_DAYS = 120


class LaerStage(enum.StrEnum):
    land = "land"
    adopt = "adopt"
    expand = "expand"
    renew = "renew"


@dataclass(frozen=True)
class LifecycleContract:
    starts_on: date
    ends_on: date
    renewal_outcome: str | None
    outcome_on: date | None
    status: str = "active"
    auto_renews: bool = False
    billing_period: str = "annual"
    id: int = 0
    account_id: int = 0


@dataclass(frozen=True)
class LifecycleFacts:
    contracts: Sequence[LifecycleContract]
    go_live_on: date | None = None
    # Where go-live came from, in words, shown in the reasons.
    go_live_source: str = "the go-live day on the account"
    # Dates expansion opportunities were opened or won, and contracts renewed with an expansion.
    expansion_dates: Sequence[date] = field(default_factory=tuple)
    # The customer's first signature (the account's created_on), when it predates the contracts.
    customer_since: date | None = None


class StageResult(BaseModel):
    as_of: date
    stage: LaerStage | None
    active_motions: list[LaerStage]
    year_index: int
    reasons: list[str]


class StageChange(BaseModel):
    effective_on: date
    stage: LaerStage | None
    reasons: list[str]
    # Why the stage went back (renew → adopt, expand → adopt, any stage → none): the motion that
    # ended and what ended it. None when the stage moved forward. A step back is never shown
    # without it.
    cause: str | None = None


STAGE_ORDER = {LaerStage.land: 1, LaerStage.adopt: 2, LaerStage.expand: 3, LaerStage.renew: 4}


def laer_stage(facts: LifecycleFacts, as_of: date) -> StageResult:
    """The motions active on ``as_of`` and the displayed stage, with the facts that set them."""
    signed = [c for c in facts.contracts if c.starts_on <= as_of]
    active = [c for c in signed if in_force(c, as_of)]  # tenure.accounts.arr's rules 1–3
    renewals = sorted(
        c.outcome_on
        for c in facts.contracts
        if c.renewal_outcome in RENEWED and c.outcome_on and c.outcome_on <= as_of
    )
    first = min(
        [c.starts_on for c in facts.contracts]
        + ([facts.customer_since] if facts.customer_since else []),
        default=as_of,
    )
    full_years = max(0, (as_of - first).days // 365)
    year_index = full_years
    reasons: list[str] = []
    motions: list[LaerStage] = []
    if not active:
        why = "no contract signed yet" if not signed else "no active contract (churned or lapsed)"
        return StageResult(
            as_of=as_of, stage=None, active_motions=[], year_index=year_index, reasons=[why]
        )
    first_signed = min(c.starts_on for c in signed)
    # A renewal completed, or stored contracts that start after the customer's first signature
    # (the terms before them were not stored), mean the customer renewed: past Land.
    stored_from = min(c.starts_on for c in facts.contracts)
    unstored = [stored_from] if stored_from > first else []
    renewed_on = min([*renewals, *unstored], default=None)
    if facts.go_live_on is not None and facts.go_live_on <= as_of:
        motions.append(LaerStage.adopt)
        reasons.append(f"adopt: live since {facts.go_live_on} ({facts.go_live_source})")
    elif renewed_on is not None:
        motions.append(LaerStage.adopt)
        reasons.append(f"adopt: renewed on {renewed_on} (no go-live day recorded)")
    else:
        motions.append(LaerStage.land)
        reasons.append(f"land: signed {first_signed}, not live yet")
    recent = [
        d for d in facts.expansion_dates if as_of - timedelta(days=EXPAND_WINDOW_DAYS) <= d <= as_of
    ]
    if recent:
        motions.append(LaerStage.expand)
        reasons.append(f"expand: expansion on {max(recent)} (within {EXPAND_WINDOW_DAYS} days)")
    # A monthly subscription renewing itself has no renewal to work (tenure.accounts.renewal).
    next_end = min((d for d in map(renewal_on, active) if d is not None), default=None)
    if next_end is not None and (next_end - as_of).days <= RENEW_WINDOW_DAYS:
        motions.append(LaerStage.renew)
        reasons.append(
            f"renew: contract ends {next_end}, {(next_end - as_of).days} days away "
            f"(within {RENEW_WINDOW_DAYS})"
        )
    reasons.append(
        f"a customer for {full_years} full year(s) since the first signature on {first} "
        f"({len(renewals)} renewal(s) stored)"
    )
    return StageResult(
        as_of=as_of,
        stage=motions[-1],
        active_motions=motions,
        year_index=year_index,
        reasons=reasons,
    )


def _change_days(facts: LifecycleFacts) -> set[date]:
    """The only days a stage can change on: every boundary of every motion's window."""
    days: set[date] = set()
    for c in facts.contracts:
        days |= {
            c.starts_on,
            c.ends_on + timedelta(days=1),
            c.ends_on - timedelta(days=RENEW_WINDOW_DAYS),
        }
        if c.outcome_on:  # a renewal counts from it; a cancelled term ends the day after it
            days |= {c.outcome_on, c.outcome_on + timedelta(days=1)}
    for d in facts.expansion_dates:
        days |= {d, d + timedelta(days=EXPAND_WINDOW_DAYS + 1)}
    if facts.go_live_on:
        days.add(facts.go_live_on)
    return days


def _ended(motion: LaerStage, facts: LifecycleFacts, day: date) -> str:
    """What ended an active motion on ``day``, in the facts' words."""
    if motion is LaerStage.renew:
        done = [
            c.outcome_on
            for c in facts.contracts
            if c.renewal_outcome in RENEWED and c.outcome_on and c.outcome_on < day
        ]
        if done:
            return f"renew ended: the renewal was completed on {max(done)}"
        return "renew ended: no contract ends within the next 120 days any more"
    if motion is LaerStage.expand:
        last = max((d for d in facts.expansion_dates if d < day), default=None)
        return f"expand ended: the last expansion ({last}) is over {EXPAND_WINDOW_DAYS} days old"
    return f"{motion.value} ended"


def regression_cause(
    before: StageResult, after: StageResult, facts: LifecycleFacts, day: date
) -> str | None:
    """Why the displayed stage went back between two days (None when it did not).

    >>> c = LifecycleContract(date(2024, 1, 1), date(2024, 12, 31), "renewed", date(2024, 12, 15))
    >>> n = LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None)
    >>> f = LifecycleFacts(contracts=[c, n], go_live_on=date(2024, 3, 1))
    >>> regression_cause(laer_stage(f, date(2024, 12, 31)), laer_stage(f, date(2025, 1, 1)), f,
    ...                  date(2025, 1, 1))
    'renew ended: the renewal was completed on 2024-12-15'
    """
    if before.stage is None:
        return None
    if after.stage is None:
        return after.reasons[0]
    if STAGE_ORDER[after.stage] >= STAGE_ORDER[before.stage]:
        return None
    gone = [m for m in before.active_motions if m not in after.active_motions]
    return "; ".join(_ended(m, facts, day) for m in gone) or None


def stage_history(facts: LifecycleFacts, as_of: date) -> list[StageChange]:
    """Each change of stage from the first signature to ``as_of``, with the facts that set it;
    a step back carries its cause (also first among the reasons, so it is stored with them)."""
    if not facts.contracts:
        return []
    first = min(c.starts_on for c in facts.contracts)
    history: list[StageChange] = []
    previous: StageResult | None = None
    for day in sorted(d for d in _change_days(facts) if first <= d <= as_of):
        result = laer_stage(facts, day)
        if not history or history[-1].stage != result.stage:
            before = laer_stage(facts, day - timedelta(days=1)) if previous else None
            cause = regression_cause(before, result, facts, day) if before else None
            history.append(
                StageChange(
                    effective_on=day,
                    stage=result.stage,
                    reasons=[f"back: {cause}", *result.reasons] if cause else result.reasons,
                    cause=cause,
                )
            )
        previous = result
    return history


# --- after R: the customer for life ---------------------------------------------------------


@dataclass(frozen=True)
class ContactFact:
    level: str | None
    roles: Sequence[str]
    joined_on: date | None
    left_on: date | None


@dataclass(frozen=True)
class AfterRenewalFacts:
    contacts: Sequence[ContactFact]
    active_users: int | None
    licensed_seats: int | None
    # Share of the catalog's features used, and of its strategic features (metrics registry).
    feature_share: float | None
    strategic_share: float | None
    success_stories_last_quarter: int = 0
    references: int = 0
    referrals: int = 0
    speaker_slots: int = 0


class Dimension(BaseModel):
    name: str
    on_target: bool | None
    figures: dict[str, float | int | None]
    reasons: list[str]


class CustomerForLife(BaseModel):
    applies: bool
    dimensions: list[Dimension]


LEVEL_GROUP = {
    "end_user": "end_user",
    "manager": "manager",
    "director_vp": "director_vp+",
    "executive": "director_vp+",
}
RELATIONSHIP_ROLES = frozenset({"champion", "sponsor", "commercial_buyer", "stakeholder"})
RELATIONSHIP_WINDOW_DAYS = 90
NEW_RELATIONSHIPS_PER_WINDOW = 1
UTILIZATION_TARGET = 1.0
FEATURE_SHARE_TARGET = 0.5
LEVEL_WORDS = {"end_user": "end user", "manager": "manager", "director_vp+": "director/VP or above"}


def _relationships(contacts: Sequence[ContactFact], as_of: date) -> Dimension:
    since = as_of - timedelta(days=RELATIONSHIP_WINDOW_DAYS)
    relationships = [c for c in contacts if RELATIONSHIP_ROLES.intersection(c.roles)]
    current = [
        c
        for c in relationships
        if (c.left_on is None or c.left_on > as_of)
        and (c.joined_on is None or c.joined_on <= as_of)
    ]
    new_by_level: dict[str, int] = defaultdict(int)
    for c in relationships:
        if c.joined_on and since < c.joined_on <= as_of:
            new_by_level[LEVEL_GROUP.get(c.level or "", "unknown")] += 1
    new = sum(new_by_level.values())
    covered = {LEVEL_GROUP[c.level] for c in current if c.level in LEVEL_GROUP}
    missing = [lvl for lvl in ("end_user", "manager", "director_vp+") if lvl not in covered]
    by_level = ", ".join(
        f"{n} {LEVEL_WORDS.get(level, 'of unknown level')}"
        for level, n in sorted(new_by_level.items())
    )
    reasons = [
        f"{new} new relationship(s) in the last {RELATIONSHIP_WINDOW_DAYS} days"
        + (f" ({by_level})" if by_level else "")
        + f"; target at least {NEW_RELATIONSHIPS_PER_WINDOW}",
        "relationships at all three levels"
        if not missing
        else f"no relationship at: {', '.join(LEVEL_WORDS[m] for m in missing)}",
    ]
    figures: dict[str, float | int | None] = {
        "new_last_90_days": new,
        "levels_covered": 3 - len(missing),
    }
    return Dimension(
        name="relationships",
        on_target=new >= NEW_RELATIONSHIPS_PER_WINDOW and not missing,
        figures=figures,
        reasons=reasons,
    )


def _adoption(facts: AfterRenewalFacts) -> Dimension:
    if not facts.licensed_seats or facts.active_users is None:
        return Dimension(
            name="adoption",
            on_target=None,
            figures={"license_utilization": None},
            reasons=["license utilization unknown (no seats or no usage data)"],
        )
    utilization = facts.active_users / facts.licensed_seats
    return Dimension(
        name="adoption",
        on_target=utilization >= UTILIZATION_TARGET,
        figures={"license_utilization": utilization},
        reasons=[
            f"{facts.active_users} active users ÷ {facts.licensed_seats} seats = "
            f"{percent(utilization)} (target {percent(UTILIZATION_TARGET)})"
        ],
    )


def _maturity(facts: AfterRenewalFacts) -> Dimension:
    share, strategic = facts.feature_share, facts.strategic_share
    reasons = [
        "features used: "
        + ("unknown" if share is None else percent(share))
        + f" (target: at least {percent(FEATURE_SHARE_TARGET)})",
        "strategic features used: " + ("unknown" if strategic is None else percent(strategic)),
    ]
    on_target: bool | None
    if share is None and strategic is None:
        on_target = None
    else:
        on_target = (share or 0) >= FEATURE_SHARE_TARGET or (strategic or 0) >= 1.0
    return Dimension(
        name="maturity",
        on_target=on_target,
        figures={"feature_share": share, "strategic_share": strategic},
        reasons=reasons,
    )


def _evangelism(facts: AfterRenewalFacts) -> Dimension:
    champions = sum(1 for c in facts.contacts if "champion" in c.roles and c.left_on is None)
    figures: dict[str, float | int | None] = {
        "champions": champions,
        "success_stories_last_quarter": facts.success_stories_last_quarter,
        "references": facts.references,
        "referrals": facts.referrals,
        "speaker_slots": facts.speaker_slots,
    }
    return Dimension(
        name="evangelism",
        on_target=champions > 0 and facts.success_stories_last_quarter >= 1,
        figures=figures,
        reasons=[
            f"{champions} champion(s); {facts.success_stories_last_quarter} success "
            f"stor(ies) last quarter (target 1); {facts.references} reference(s); "
            f"{facts.referrals} referral(s); {facts.speaker_slots} speaker slot(s)"
        ],
    )


def customer_for_life(stage: StageResult, facts: AfterRenewalFacts) -> CustomerForLife:
    """The four after-R dimensions; they apply from the customer's second year — after the
    year-one renewal for annual terms, as the source puts it ("after the year one renewal"),
    and after a year of monthly renewals or of a multi-year term's first year likewise."""
    dims = [
        _relationships(facts.contacts, stage.as_of),
        _adoption(facts),
        _maturity(facts),
        _evangelism(facts),
    ]
    return CustomerForLife(applies=stage.year_index >= 1, dimensions=dims)


class TenureYearRow(BaseModel):
    year_index: int
    accounts: int
    on_target: dict[str, int]


def portfolio_by_tenure_year(
    accounts: Iterable[tuple[StageResult, CustomerForLife]],
) -> list[TenureYearRow]:
    """Accounts per tenure year and how many are on target in each dimension."""
    rows: dict[int, TenureYearRow] = {}
    for stage, life in accounts:
        row = rows.setdefault(
            stage.year_index, TenureYearRow(year_index=stage.year_index, accounts=0, on_target={})
        )
        row.accounts += 1
        for dim in life.dimensions:
            row.on_target[dim.name] = row.on_target.get(dim.name, 0) + (dim.on_target is True)
    return [rows[k] for k in sorted(rows)]
