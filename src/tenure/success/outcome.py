"""The Desired Outcome (Lincoln Murphy): Required Outcome + Appropriate Experience.

[pub] Desired Outcome = Required Outcome (RO: what the customer must achieve — not the functional
use of the product) + Appropriate Experience (AX: how they need to achieve it, "a quantifiable list
of requirements around the experience"). Segment customers by AX, not by what they pay. The
Desired Outcome evolves, so each version carries ``effective_from``.

Computable form [pub → FRAMEWORKS.md]: RO = text + measurable target (a rule over a fact, e.g.
``outcome.onboarding_days lte 14``); AX = a touch model plus requirement checks, met when all pass.

[inf] **Success gap**: the product's functional milestones are all reached but the Required
Outcome is not met. "Usage is not success": nothing here calls a usage score "success".
[default] **Accountable share** = share of the account's milestones owned by the customer
("the other 165 hours").

>>> ro = RequiredOutcome(text="Halve onboarding time",
...     target=Rule(field="outcome.onboarding_days", op="lte", value=14))
>>> evaluate_required(ro, {"outcome.onboarding_days": 12}).outcome
<Outcome.passed: 'pass'>
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenure.errors import InvalidInput
from tenure.success.rules import Outcome, Rule, RuleResult, combine, evaluate, load_yaml_model


class TouchModel(enum.StrEnum):
    high_touch = "high_touch"
    # The experience between: pooled CSMs, scheduled reviews (the simulator's and many CRMs'
    # "mid touch" segment) — settable like the others.
    mid_touch = "mid_touch"
    low_touch = "low_touch"
    tech_touch = "tech_touch"


class RequiredOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    target: Rule

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the Required Outcome needs a text")
        return text.strip()


class Requirement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    description: str = ""
    rule: Rule


class AppropriateExperience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    touch_model: TouchModel
    requirements: list[Requirement] = Field(default_factory=list)


class ExperienceCatalog(BaseModel):
    """What each touch model promises when a Desired Outcome lists no requirements of its own
    (``experience.yaml``, a [default])."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    touch_models: dict[TouchModel, list[Requirement]]

    def requirements(self, touch_model: TouchModel) -> list[Requirement]:
        return list(self.touch_models.get(touch_model, []))


def load_experience_catalog(path: Path | None = None) -> ExperienceCatalog:
    """The catalog at ``path``, or the shipped ``experience.yaml``."""
    return load_yaml_model(ExperienceCatalog, path, "experience.yaml", "appropriate experience")


def with_promised_requirements(
    experience: AppropriateExperience, catalog: ExperienceCatalog
) -> AppropriateExperience:
    """The experience as recorded; one without requirements gets its touch model's promises,
    so "met" always rests on checks that can fail."""
    if experience.requirements:
        return experience
    return experience.model_copy(
        update={"requirements": catalog.requirements(experience.touch_model)}
    )


class DesiredOutcomeVersion(BaseModel):
    effective_from: date
    required_outcome: RequiredOutcome
    appropriate_experience: AppropriateExperience


def current_version(
    versions: Sequence[DesiredOutcomeVersion], as_of: date
) -> DesiredOutcomeVersion | None:
    """The version in force on ``as_of``: the latest ``effective_from`` not after it; none
    when every version starts later (an outcome agreed today for next quarter), which every
    caller reads as "no Desired Outcome yet" on that day."""
    live = [v for v in versions if v.effective_from <= as_of]
    return max(live, key=lambda v: v.effective_from) if live else None


def evaluate_required(ro: RequiredOutcome, facts: Mapping[str, Any]) -> RuleResult:
    return evaluate(ro.target, facts)


class ExperienceCheck(BaseModel):
    key: str
    outcome: Outcome
    reason: str


class OutcomeStatus(BaseModel):
    effective_from: date
    required_outcome: str
    required_met: Outcome
    required_reason: str
    touch_model: TouchModel
    experience_met: Outcome
    experience_checks: list[ExperienceCheck]


def evaluate_outcome(version: DesiredOutcomeVersion, facts: Mapping[str, Any]) -> OutcomeStatus:
    """RO against its target and every AX requirement, each with the value that decided it."""
    ro = evaluate_required(version.required_outcome, facts)
    checks = []
    for req in version.appropriate_experience.requirements:
        result = evaluate(req.rule, facts)
        checks.append(ExperienceCheck(key=req.key, outcome=result.outcome, reason=result.reason))
    ax = combine(c.outcome for c in checks)
    return OutcomeStatus(
        effective_from=version.effective_from,
        required_outcome=version.required_outcome.text,
        required_met=ro.outcome,
        required_reason=ro.reason,
        touch_model=version.appropriate_experience.touch_model,
        experience_met=ax,
        experience_checks=checks,
    )


class SuccessGap(BaseModel):
    status: str  # "gap", "achieved", "in_progress", "unknown"
    functional_reached: int
    functional_total: int
    reasons: list[str]


def success_gap(
    functional_reached: int, functional_total: int, required_met: Outcome
) -> SuccessGap:
    """A gap is functional completion without the outcome.

    >>> success_gap(3, 3, Outcome.failed).status
    'gap'
    """
    if functional_reached > functional_total:
        raise InvalidInput(
            f"{functional_reached} functional milestones reached out of {functional_total}"
        )
    complete = functional_total > 0 and functional_reached == functional_total
    progress = f"{functional_reached} of {functional_total} functional milestones reached"
    if required_met is Outcome.passed:
        return SuccessGap(
            status="achieved",
            functional_reached=functional_reached,
            functional_total=functional_total,
            reasons=[progress, "Required Outcome met"],
        )
    if required_met is Outcome.unknown:
        status, why = "unknown", "Required Outcome not measured"
    elif complete:
        status, why = (
            "gap",
            "product functionally complete, Required Outcome not met: close it with "
            "training, content, services or partners",
        )
    else:
        status, why = "in_progress", "Required Outcome not met yet"
    return SuccessGap(
        status=status,
        functional_reached=functional_reached,
        functional_total=functional_total,
        reasons=[progress, why],
    )


class AccountableShare(BaseModel):
    customer_owned: int
    total: int
    share: float | None


def accountable_share(owners: Iterable[str]) -> AccountableShare:
    """Share of milestones owned by the customer. ``["customer", "vendor"]`` → 0.5."""
    listed = list(owners)
    customer = sum(1 for o in listed if o == "customer")
    return AccountableShare(
        customer_owned=customer, total=len(listed), share=customer / len(listed) if listed else None
    )
