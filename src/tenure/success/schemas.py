"""The views the success services return and the CLI, API and web render."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from tenure.success import (
    churn_classification,
    expansion,
    fit,
    lifecycle,
    lifecycle_variants,
    milestones,
    outcome,
)
from tenure.success.churn_classification import CauseSide
from tenure.success.maturity import Pillar, Stage


class AccountFit(BaseModel):
    account: str
    name: str
    assessment: fit.FitAssessment
    at_signing: bool


class OutcomeView(BaseModel):
    account: str
    versions: int
    status: outcome.OutcomeStatus
    success_gap: outcome.SuccessGap
    accountable_share: outcome.AccountableShare


class MilestoneRow(BaseModel):
    key: str
    name: str
    type: str
    owner: str
    due_on: date
    reached_on: date | None
    reached_by: str | None
    status: milestones.MilestoneStatus
    reason: str


class PlanView(BaseModel):
    account: str
    segment: str
    started_on: date
    milestones: list[MilestoneRow]


class RefreshResult(BaseModel):
    days: int
    checked: int
    reached: int
    reached_before_first_measure: int
    asks_opened: int


class LifecycleStageRead(BaseModel):
    key: str
    label: str
    step: int
    source: str = Field(description="pub: the published model names it; default: Tenure's choice")
    meaning: str


class LifecycleModelRead(BaseModel):
    model: lifecycle_variants.LifecycleModel
    label: str
    summary: str
    in_force: bool
    stages: list[LifecycleStageRead]


class LifecycleModelChoice(BaseModel):
    model: str = Field(max_length=32, description="laer, esg or clientsuccess")


class LifecycleView(BaseModel):
    account: str
    name: str
    # The stage in the lifecycle model in force, and its history.
    model: LifecycleModelRead
    stage: lifecycle_variants.VariantStage
    stage_history: list[lifecycle_variants.VariantChange]
    # LAER's stage and history (health profiles and the year index read them).
    current: lifecycle.StageResult
    history: list[lifecycle.StageChange]
    customer_for_life: lifecycle.CustomerForLife


class LifecycleStageCount(LifecycleStageRead):
    accounts: int


class YearCount(BaseModel):
    year_index: int
    accounts: int


class LifecycleStages(BaseModel):
    """Accounts per stage of the model in force as the daily run last saved them (fast: the
    stored judgement, like a health score), and customers by full years with us."""

    model: LifecycleModelRead
    stages: list[LifecycleStageCount]
    without_stage: int
    by_tenure_year: list[YearCount]


class LifecyclePortfolio(BaseModel):
    as_of: date
    model: LifecycleModelRead
    # Accounts per stage of the model in force, in step order (empty stages included).
    stages: list[LifecycleStageCount]
    # Accounts without an active contract (no stage).
    without_stage: int
    # LAER's counts by stage key ("none": no active contract).
    by_stage: dict[str, int]
    by_tenure_year: list[lifecycle.TenureYearRow]
    customers_with_half_features: int


class MaturityRecord(BaseModel):
    assessed_on: date
    csri: float
    band: str
    stages: dict[str, str]
    note: str | None


class ClassifyResult(BaseModel):
    classified: int
    already: int
    records: list[churn_classification.ChurnSuggestion]


class ChurnRecordView(BaseModel):
    account: str
    kind: str
    churned_on: date
    notice_on: date | None
    churn_class: str
    cause_side: str
    avoidable: bool | None
    internal_reason: str
    stated_reason: str | None
    confirmed: bool
    root_cause_review: str | None
    suggested_reasons: list[str]
    classifier_version: int | None


class PotentialView(BaseModel):
    account: str
    potential: expansion.AccountPotential
    nirvana: expansion.Nirvana


class ChurnReviewRow(BaseModel):
    id: int
    account_id: int
    account_name: str
    owner_name: str | None
    kind: str
    churned_on: date
    notice_on: date | None
    arr: float | None
    currency: str | None
    churn_class: str
    cause_side: str
    avoidable: bool | None
    # None: the notice came before Tenure watched the base.
    foreseen: bool | None
    internal_reason: str
    stated_reason: str | None
    suggested_class: str | None
    suggested_cause: str | None
    reasons: list[str]
    confirmed: bool
    confirmed_at: datetime | None
    root_cause_review: str | None


class ChurnReview(BaseModel):
    items: list[ChurnReviewRow]
    unconfirmed: int = Field(description="Unconfirmed records of the owner's accounts")
    total: int = Field(description="Records of the owner's accounts")
    matching: int = Field(default=0, description="Records the status and owner select")
    page: int = 1
    pages: int = 1


class ChurnCorrection(BaseModel):
    """What the CSM confirms or corrects about a suggested class; what is left out stays as
    suggested (the command line may confirm without naming a cause side)."""

    cause_side: CauseSide | None = None
    avoidable: bool | None = None
    foreseen: bool | None = None
    review: str | None = Field(default=None, max_length=5000)
    internal_reason: str | None = Field(default=None, max_length=64)


class ChurnConfirm(ChurnCorrection):
    """The console's confirmation: it always names the cause side."""

    cause_side: CauseSide


class PillarPrefill(BaseModel):
    stage: Stage
    reasons: list[str]


class MaturityView(BaseModel):
    """The pillars the data pre-fills (with why), and every past self-assessment."""

    prefill: dict[str, PillarPrefill]
    history: list[MaturityRecord]
    prefill_computed_on: date | None = Field(
        None, description="The day of the data the pre-filled pillars were computed on"
    )


class MaturityAnswers(BaseModel):
    """The team's stage per pillar; pillars left out keep the stage the data suggests."""

    answers: dict[Pillar, Stage] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=2000)


class GoalCheck(BaseModel):
    """How a message's goal is checked N days after it is sent: a metric reaching a target, or a
    success-plan milestone (its key) reached in that time. One of the two."""

    metric: str | None = Field(default=None, max_length=64)
    comparison: str | None = Field(default=None, description="at_least or at_most")
    target: float | None = None
    milestone: str | None = Field(default=None, max_length=64)
    after_days: int = Field(default=30, ge=1, le=365)


class MessageCreate(BaseModel):
    account: str = Field(max_length=200, description="Account id or name")
    moment: str = Field(description="milestone_reached, advocacy_ask, renewal_prep, risk_outreach")
    goal: str = Field(max_length=500)
    check: GoalCheck
    contact: str | None = Field(default=None, description="Contact external id")
    next_step: str | None = Field(default=None, max_length=500)


class EngagementRead(BaseModel):
    id: int
    account_id: int
    account_name: str
    moment: str
    # The template in words ("Renewal preparation").
    template: str
    goal: str
    # How the goal is checked, in words ("Licence utilization at least 60 % within 30 days").
    check: str
    recipient: str
    subject: str
    body: str
    status: str
    drafted_by: str | None
    approved_by: str | None
    sent_on: date | None
    delivery: str | None
    touchpoint_id: int | None
    check_on: date | None
    goal_met: bool | None
    checked: bool
    result: str | None


class TemplateOutcome(BaseModel):
    """How often one message template's goals were met."""

    moment: str
    template: str
    sent: int
    awaiting_check: int
    met: int
    not_met: int
    not_measurable: int
    # met ÷ (met + not met); None before any check with a measure
    met_share: float | None
