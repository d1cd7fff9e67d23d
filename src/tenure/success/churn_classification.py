"""Churn classification: every lost or downgraded customer placed on the matrix, with reasons.

[pub] Churn is a cancellation, a non-renewal, or a customer that never buys again; all churn is
bad, some is worse; do a root-cause analysis on every churn. The matrix's axes [pub/inf]:
**foreseen vs unforeseen** × **good fit vs bad fit** (Success Potential at signing). Keep the
customer's **stated** reason apart from the **internal** one [pub].

[default] Tenure's extensions and thresholds:
- Downgrades count as churn events too.
- foreseen = a risk flag was raised at least 30 days before the notice (or before the outcome date
  when no notice was given), within the year before it — a flag from an earlier term foresaw
  nothing about this one. A loss whose notice came before Tenure watched the base (its first
  stored metrics or health score) is neither: nothing could have foreseen it, so foreseen is
  unknown (None) and the class reads ``foresight_unknown_…``.
- cause side, first match wins: ``acquisition_fit`` when the customer had no Success Potential at
  signing; ``customer_change`` when the data shows their own change (acquired, bankrupt, budget
  cut, or a champion who left in the 180 days before notice); ``acquisition_fit`` again when two
  or more fit criteria (must or nice) failed at signing; ``product_or_service`` when it shows
  ours (first value never reached, licence utilization < 40 % before the notice, ≥ 3
  high-priority tickets in those 180 days, or a last NPS ≤ 6 — checked in that order);
  otherwise ``unknown``.
- A stated reason that names a verifiable event ("company_acquired", "business_closed") counts as
  that customer event; every other stated reason is kept but not trusted ([pub]: relying on the
  stated reason misses the actual one).
- avoidable: acquisition, bankruptcy and budget cuts are "unavoidable" (quoted by the source);
  everything else is avoidable — bad fit at acquisition, our product or service, and a champion
  leaving (multi-threaded relationships are the vendor's job: "three new relationships a month").
Tenure *suggests* the class; the CSM confirms it (service layer), and the confirmed class is the
one reports use when present.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from tenure.words import percent

# Bumped whenever a threshold or rule below changes: every suggestion cites it.
CLASSIFIER_VERSION = 5
FORESEEN_LEAD_DAYS = 30
FORESEEN_WINDOW_DAYS = 365
LOOKBACK_DAYS = 180
LOW_UTILIZATION = 0.4
HIGH_PRIORITY_TICKETS = 3
WEAK_FIT_FAILURES = 2
CUSTOMER_EVENTS = ("acquired", "bankruptcy", "budget_cut")
UNAVOIDABLE = frozenset(CUSTOMER_EVENTS)
STATED_EVENTS = {"company_acquired": "acquired", "business_closed": "bankruptcy"}


class CauseSide(enum.StrEnum):
    acquisition_fit = "acquisition_fit"
    product_or_service = "product_or_service"
    customer_change = "customer_change"
    unknown = "unknown"


# The cause sides, internal reasons and classes in a CS manager's words (the console's review).
CAUSE_WORDS = {
    CauseSide.acquisition_fit: "Wrong fit when they signed",
    CauseSide.product_or_service: "Our product or service",
    CauseSide.customer_change: "A change at the customer",
    CauseSide.unknown: "Not known yet",
}
REASON_WORDS = {
    "bad_fit_at_signing": "A must-have fit criterion failed at signing",
    "weak_fit_at_signing": "Two or more fit criteria failed at signing",
    "acquired": "The customer was acquired",
    "bankruptcy": "The customer closed down",
    "budget_cut": "Their budget was cut",
    "champion_left": "Our champion left",
    "no_first_value": "Never reached first value (onboarding failed)",
    "low_adoption": "Too few people used the product",
    "support_issues": "Too many serious support problems",
    "low_value": "They did not see the value (detractor)",
    "unknown": "Not known yet",
}


def class_words(churn_class: str) -> str:
    """``unforeseen_good_fit`` → ``Unforeseen loss of a good-fit customer``."""
    seen, _, fit = churn_class.partition("_fit")[0].rpartition("_")
    seen = {"": "", "foresight_unknown": "foresight unknown"}.get(seen, seen)
    words = {"good": "a good-fit", "bad": "a bad-fit", "unknown": "a"}.get(fit, "a")
    if seen == "foresight unknown":
        return f"Loss of {words} customer (nothing watched early enough to foresee it)"
    return f"{seen.capitalize()} loss of {words} customer"


class ChurnKind(enum.StrEnum):
    churned = "churned"
    downgraded = "downgraded"


@dataclass(frozen=True)
class ChurnFacts:
    account_id: int
    kind: ChurnKind
    churned_on: date
    notice_on: date | None = None
    success_potential_at_signing: bool | None = None
    # Fit criteria that failed at signing (must or nice).
    failing_at_signing: Sequence[str] = field(default_factory=tuple)
    risk_flag_dates: Sequence[date] = field(default_factory=tuple)
    # Customer-side events recorded before the churn: "acquired", "bankruptcy", "budget_cut".
    customer_events: Sequence[str] = field(default_factory=tuple)
    champion_left_on: Sequence[date] = field(default_factory=tuple)
    high_priority_ticket_dates: Sequence[date] = field(default_factory=tuple)
    license_utilization: float | None = None
    # Whether the plan's first-value milestone was reached before the notice (None: no plan).
    first_value_reached: bool | None = None
    last_nps: int | None = None
    stated_reason: str | None = None
    # The first day Tenure watched the base (None: never): before it nothing was foreseeable.
    monitored_since: date | None = None


class ChurnSuggestion(BaseModel):
    classifier_version: int = CLASSIFIER_VERSION
    account_id: int
    kind: ChurnKind
    churned_on: date
    # None: the notice came before any monitoring existed (nothing could have foreseen it).
    foreseen: bool | None
    good_fit: bool | None
    churn_class: str
    avoidable: bool | None
    cause_side: CauseSide
    internal_reason: str
    stated_reason: str | None
    reasons: list[str]


def churn_class_name(foreseen: bool | None, good_fit: bool | None) -> str:
    """The class of a loss from whether it was foreseen and whether the customer was a good fit.

    >>> churn_class_name(None, True)
    'foresight_unknown_good_fit'
    """
    fit = {True: "good_fit", False: "bad_fit", None: "unknown_fit"}[good_fit]
    seen = {True: "foreseen", False: "unforeseen", None: "foresight_unknown"}[foreseen]
    return f"{seen}_{fit}"


def _cause(facts: ChurnFacts, anchor: date) -> tuple[CauseSide, str, list[str]]:
    since = anchor - timedelta(days=LOOKBACK_DAYS)
    if facts.success_potential_at_signing is False:
        return (
            CauseSide.acquisition_fit,
            "bad_fit_at_signing",
            ["no Success Potential at signing: a must fit criterion failed"],
        )
    events = [e for e in facts.customer_events if e in CUSTOMER_EVENTS]
    if facts.stated_reason in STATED_EVENTS:
        events.append(STATED_EVENTS[facts.stated_reason])
    if events:
        return (
            CauseSide.customer_change,
            events[0],
            [f"customer event recorded: {', '.join(events)}"],
        )
    left = [d for d in facts.champion_left_on if since <= d <= anchor]
    if left:
        return (
            CauseSide.customer_change,
            "champion_left",
            [f"champion left on {max(left)}, within {LOOKBACK_DAYS} days of the notice"],
        )
    if facts.first_value_reached is False:
        return (
            CauseSide.product_or_service,
            "no_first_value",
            ["the first-value milestone was never reached before the notice: onboarding failed"],
        )
    if facts.license_utilization is not None and facts.license_utilization < LOW_UTILIZATION:
        return (
            CauseSide.product_or_service,
            "low_adoption",
            [
                f"license utilization {percent(facts.license_utilization)} before the notice, "
                f"under {percent(LOW_UTILIZATION)}: the value never arrived"
            ],
        )
    if len(facts.failing_at_signing) >= WEAK_FIT_FAILURES:
        return (
            CauseSide.acquisition_fit,
            "weak_fit_at_signing",
            [
                f"{len(facts.failing_at_signing)} fit criteria failed at signing: "
                f"{', '.join(facts.failing_at_signing)}"
            ],
        )
    tickets = [d for d in facts.high_priority_ticket_dates if since <= d <= anchor]
    if len(tickets) >= HIGH_PRIORITY_TICKETS:
        return (
            CauseSide.product_or_service,
            "support_issues",
            [
                f"{len(tickets)} high-priority tickets in the {LOOKBACK_DAYS} days before "
                f"the notice ({HIGH_PRIORITY_TICKETS} or more count)"
            ],
        )
    if facts.last_nps is not None and facts.last_nps <= 6:
        return (
            CauseSide.product_or_service,
            "low_value",
            [f"last NPS answer {facts.last_nps} (detractor)"],
        )
    return CauseSide.unknown, "unknown", ["no evidence of a cause in the data: review with the CSM"]


def suggest(facts: ChurnFacts) -> ChurnSuggestion:
    """Suggest the class, cause side and avoidability of one churn from the data before it."""
    anchor = facts.notice_on or facts.churned_on
    cutoff = anchor - timedelta(days=FORESEEN_LEAD_DAYS)
    early = [
        d
        for d in facts.risk_flag_dates
        if anchor - timedelta(days=FORESEEN_WINDOW_DAYS) <= d <= cutoff
    ]
    foreseen: bool | None
    if facts.monitored_since is None or anchor < facts.monitored_since:
        foreseen = None
        watched = facts.monitored_since or "never"
        reasons = [
            f"foresight unknown: {anchor} came before Tenure watched this base ({watched}), "
            "so nothing could have foreseen it"
        ]
    else:
        foreseen = bool(early)
        reasons = [
            f"foreseen: risk flagged on {min(early)}, at least {FORESEEN_LEAD_DAYS} days "
            f"before {anchor}"
            if foreseen
            else f"unforeseen: no risk flagged {FORESEEN_LEAD_DAYS} days or more before {anchor}"
        ]
    good_fit = facts.success_potential_at_signing
    reasons.append(
        {
            True: "good fit: Success Potential at signing",
            False: "bad fit: no Success Potential at signing",
            None: "fit at signing unknown",
        }[good_fit]
    )
    side, code, why = _cause(facts, anchor)
    reasons += why
    avoidable = None if side is CauseSide.unknown else code not in UNAVOIDABLE
    return ChurnSuggestion(
        account_id=facts.account_id,
        kind=facts.kind,
        churned_on=facts.churned_on,
        foreseen=foreseen,
        good_fit=good_fit,
        churn_class=churn_class_name(foreseen, good_fit),
        avoidable=avoidable,
        cause_side=side,
        internal_reason=code,
        stated_reason=facts.stated_reason,
        reasons=reasons,
    )


class ClassCount(BaseModel):
    period: str
    churn_class: str
    cause_side: str
    count: int


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def report_by_class(records: Iterable[tuple[date, str, str]]) -> list[ClassCount]:
    """Counts per quarter, class and cause side from (churned_on, class, cause_side) triples."""
    counts = Counter((quarter_of(day), cls, side) for day, cls, side in records)
    return [
        ClassCount(period=p, churn_class=c, cause_side=s, count=n)
        for (p, c, s), n in sorted(counts.items())
    ]


class Agreement(BaseModel):
    compared: int
    agreed: int
    agreement: float | None
    confusion: dict[str, dict[str, int]]
    baseline_agreement: float | None
    baseline_label: str | None


def agreement(suggested: Mapping[int, str], truth: Mapping[int, str]) -> Agreement:
    """Share of accounts where the suggested cause side equals the true one, with the confusion
    table (truth → suggested) and the naive baseline of always answering the commonest truth."""
    common = sorted(set(suggested) & set(truth))
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for acc in common:
        confusion[truth[acc]][suggested[acc]] += 1
    agreed = sum(1 for acc in common if suggested[acc] == truth[acc])
    top = Counter(truth[a] for a in common).most_common(1)
    return Agreement(
        compared=len(common),
        agreed=agreed,
        agreement=agreed / len(common) if common else None,
        confusion={k: dict(v) for k, v in confusion.items()},
        baseline_agreement=top[0][1] / len(common) if top else None,
        baseline_label=top[0][0] if top else None,
    )
