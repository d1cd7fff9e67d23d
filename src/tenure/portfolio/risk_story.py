"""One risk story per account: the health band, the churn probability for its stated window and
the renewal outlook on one panel, reconciled in words.

Three figures answer three questions and can disagree: health says how the customer uses and
feels about the product *now* (the scorecard); the churn probability is the model's estimate of
losing the customer *in a stated window* (at the next renewal, or 30–120 days ahead); the
renewal outlook is the forecast's category for the next renewal (commit / upside / at risk).
A red account can have a low churn probability — its renewal lies outside the window, is
already booked, or what turned it red has seldom come before a loss in this book — and the
story says which, so a CSM never reads "health 28, churn risk 0 %" without the reason.

The model's reasons are split: **actionable** ones (usage, tickets, NPS, contacts…) are ranked
first, each with the direction it pushes and how strongly in words; **context** (days to the
renewal, tenure, ARR, discount) is shown as facts about the customer, never as reasons — no CSM
can move a calendar. No model id and no log-odds reach a CSM.

>>> story = risk_story(
...     RiskInputs(health_score=28, health_band="red", probability=0.004,
...                window="30–120 days ahead", horizon_days=120, renewal_on=date(2027, 5, 1),
...                days_to_renewal=200, outlook="at_risk", outlook_reason="health is red",
...                reasons=[{"feature": "days_to_renewal", "value": 200, "contribution": -0.8},
...                         {"feature": "billing_tickets_90d", "value": 3, "contribution": 0.4}]))
>>> story.headline
'Health is red, yet the churn model sees little risk 30–120 days ahead (under 1 %).'
>>> story.why[:50]
'The renewal on 2027-05-01 is 200 days away, outsid'
>>> [r.text for r in story.raising], [c.text for c in story.context]
(['Billing tickets (90 days): 3'], ['Days to renewal: 200 days'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from tenure.portfolio.forecast import AT_RISK_PROBABILITY, CATEGORY_WORDS, ForecastCategory
from tenure.risk.reasons import CHANGE_FEATURE, reason_text
from tenure.words import chance

# Facts about the contract and the calendar: context, not reasons (a CSM cannot act on them).
CONTEXT_FEATURES = frozenset(
    {"days_to_renewal", "renewal_booked", "tenure_days", "arr", "discount"}
)
# |log-odds| at or above which a reason pushes "strongly", below which "slightly".
STRONG, SLIGHT = 0.5, 0.15


class StoryReason(BaseModel):
    text: str  # "Billing tickets (90 days): 3"
    strength: str  # strongly | "" | slightly
    raises: bool


class RiskStory(BaseModel):
    headline: str
    # Why the three figures read as they do together (empty when they agree plainly).
    why: str
    health: str | None  # "red (28)"
    churn: str | None  # "under 1 % chance of churn 30–120 days ahead"
    outlook: str | None  # "At risk — health is red"
    outlook_category: str | None
    # Actionable reasons, the strongest first: what raises the risk, then what lowers it.
    raising: list[StoryReason]
    lowering: list[StoryReason]
    # Calendar and contract facts the model read, shown as context.
    context: list[StoryReason]
    # The health measures furthest below their maximum: what pulls health down.
    health_drags: list[str] = []


@dataclass(frozen=True)
class RiskInputs:
    health_score: int | None = None
    health_band: str | None = None
    probability: float | None = None  # the account's one churn probability
    window: str | None = None  # what it is about, in words ("at the renewal on …")
    horizon_days: int | None = None  # how far ahead the model looks (None: at the renewal)
    in_alert_set: bool = False
    renewal_on: date | None = None
    days_to_renewal: int | None = None
    booked: bool = False
    outlook: str | None = None  # forecast category value
    outlook_reason: str | None = None
    reasons: Sequence[Mapping[str, Any]] = ()
    health_drags: Sequence[str] = field(default_factory=tuple)


def _feature_of(reason: Mapping[str, Any]) -> str:
    feature = str(reason.get("feature"))
    change = CHANGE_FEATURE.fullmatch(feature)
    return change["slug"] if change else feature


def _strength(contribution: float) -> str:
    size = abs(contribution)
    return "strongly" if size >= STRONG else ("slightly" if size < SLIGHT else "")


def split_reasons(
    reasons: Sequence[Mapping[str, Any]],
) -> tuple[list[StoryReason], list[StoryReason], list[StoryReason]]:
    """(raising, lowering, context): actionable reasons strongest first, calendar facts apart."""
    raising, lowering, context = [], [], []
    ordered = sorted(reasons, key=lambda r: -abs(float(r.get("contribution") or 0.0)))
    for reason in ordered:
        contribution = float(reason.get("contribution") or 0.0)
        item = StoryReason(
            text=reason_text(reason), strength=_strength(contribution), raises=contribution > 0
        )
        if _feature_of(reason) in CONTEXT_FEATURES:
            context.append(item)
        elif contribution > 0:
            raising.append(item)
        elif contribution < 0:
            lowering.append(item)
    return raising, lowering, context


def actionable_reasons(reasons: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The reasons without the calendar and contract facts, strongest first."""
    kept = [r for r in reasons if _feature_of(r) not in CONTEXT_FEATURES]
    return sorted(kept, key=lambda r: -abs(float(r.get("contribution") or 0.0)))


def _high(inputs: RiskInputs) -> bool:
    p = inputs.probability
    return inputs.in_alert_set or (p is not None and p >= AT_RISK_PROBABILITY)


def _why_low_despite_health(inputs: RiskInputs) -> str:
    """Why a red or yellow account reads a low churn probability, the first reason that holds."""
    if inputs.booked:
        return "Its renewal is already booked, so a loss is unlikely whatever the health says."
    days, horizon = inputs.days_to_renewal, inputs.horizon_days
    if inputs.renewal_on and days is not None and horizon is not None and days > horizon:
        return (
            f"The renewal on {inputs.renewal_on} is {days} days away, outside the {horizon} days "
            "the model looks ahead, and customers seldom leave before their renewal. Health "
            "shows trouble now: fix it before the renewal comes into view."
        )
    if inputs.renewal_on is None:
        return (
            "No renewal is on file, and customers seldom leave between renewals. Health shows "
            "trouble now: find out what is wrong before a renewal comes up."
        )
    return (
        "What pulls the health down has seldom come before a loss in this book, so the model "
        "weighs it lightly. Treat the health as the early warning: it can still turn into risk."
    )


def risk_story(inputs: RiskInputs) -> RiskStory:
    """The account's health, churn probability and renewal outlook told as one story."""
    raising, lowering, context = split_reasons(inputs.reasons)
    band, p = inputs.health_band, inputs.probability
    health = f"{band} ({inputs.health_score})" if band else None
    churn = (
        f"{chance(p)} chance of churn {inputs.window}".strip()
        if p is not None and inputs.window
        else None
    )
    outlook = None
    if inputs.outlook:
        words = CATEGORY_WORDS.get(ForecastCategory(inputs.outlook), inputs.outlook)
        outlook = f"{words} — {inputs.outlook_reason}" if inputs.outlook_reason else words
    why = ""
    if band is None and p is None:
        headline = "Not scored yet: no health score and no churn probability stored."
    elif p is None:
        headline = f"Health is {band}; the churn model has not scored this account yet."
    elif band is None:
        level = "high" if _high(inputs) else "low"
        headline = f"Churn risk is {level}: {chance(p)} {inputs.window}; no health score yet."
    elif _high(inputs) and band in ("red", "yellow"):
        headline = (
            f"At risk: health is {band} and the churn model sees {chance(p)} {inputs.window}."
        )
    elif _high(inputs):
        headline = (
            f"Health is green, yet the churn model sees {chance(p)} {inputs.window}: it weighs "
            "signals the health score does not."
        )
        if raising:
            why = "What raises it: " + "; ".join(r.text for r in raising[:3]) + "."
    elif band in ("red", "yellow"):
        headline = (
            f"Health is {band}, yet the churn model sees little risk {inputs.window} ({chance(p)})."
        )
        why = _why_low_despite_health(inputs)
    else:
        headline = f"No sign of churn: health is {band} and {chance(p)} {inputs.window}."
    return RiskStory(
        headline=headline,
        why=why,
        health=health,
        churn=churn,
        outlook=outlook,
        outlook_category=inputs.outlook,
        raising=raising,
        lowering=lowering,
        context=context,
        health_drags=list(inputs.health_drags),
    )
