"""Shapes of the portfolio read models, shared by pages, /api/v1 and the CLI."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tenure.accounts.fx import Converted
from tenure.accounts.words import CustomField
from tenure.auth.schemas import RowId
from tenure.dates import utc
from tenure.health.schemas import AccountScore
from tenure.model import ContactLevel, TouchpointKind, UserRole
from tenure.playbooks.schemas import CtaRead
from tenure.portfolio.forecast import CategorizedRenewal, ForecastPeriod
from tenure.portfolio.risk_story import RiskStory
from tenure.risk.schemas import ChurnRiskRead
from tenure.success.schemas import OutcomeView, PlanView

# A moment in an answer: aware UTC whatever the backend handed back, so an OpenAPI client reading
# a date-time (which needs an offset) can parse it; SQLite's naive values were not.
UtcDateTime = Annotated[datetime, AfterValidator(utc)]


class SortKey(enum.StrEnum):
    name = "name"
    arr = "arr"
    renewal_on = "renewal_on"
    segment = "segment"
    owner = "owner"
    health = "health"
    risk = "risk"
    arr_at_risk = "arr_at_risk"
    utilization = "utilization"


class UtilizationBand(enum.StrEnum):
    """License utilization bands [default]: under half the seats in use is low, 80 % or more
    is high (the health scorecard's top step); ``unknown`` = no utilization measured."""

    low = "low"
    medium = "medium"
    high = "high"
    unknown = "unknown"


# [lower, upper) of each measured band, as ratios of seats in use.
UTILIZATION_BANDS: dict[UtilizationBand, tuple[float | None, float | None]] = {
    UtilizationBand.low: (None, 0.5),
    UtilizationBand.medium: (0.5, 0.8),
    UtilizationBand.high: (0.8, None),
}


class SortDirection(enum.StrEnum):
    asc = "asc"
    desc = "desc"


class PortfolioQuery(BaseModel):
    """Filters and sort of the portfolio table; the page's query string and the API's parameters."""

    q: str | None = Field(default=None, max_length=200, description="Text in name or external id")
    segment: str | None = Field(default=None, max_length=64)
    owner: str | None = Field(
        default=None,
        max_length=32,
        description="A user id, 'me', 'team' (you and your reports) or 'none' (unassigned)",
        pattern=r"^(\d{1,9}|me|team|none)$",  # 9 digits at most: an integer user id
    )
    band: str | None = Field(default=None, max_length=16, description="Health band: red, yellow…")
    stage: str | None = Field(
        default=None,
        max_length=32,
        description="Lifecycle stage key of the model in force (LAER: land, adopt, expand, renew)",
    )
    renewal_within_days: int | None = Field(
        default=None, ge=0, le=3650, description="Renewing between today and this many days ahead"
    )
    renewal_from: date | None = None
    renewal_to: date | None = None
    utilization: UtilizationBand | None = Field(
        default=None, description="License utilization band: low (< 50 %), medium, high (≥ 80 %)"
    )
    utilization_min: float | None = Field(
        default=None, ge=0, le=100, description="Utilization at least this (ratio: 0.4 = 40 %)"
    )
    utilization_max: float | None = Field(
        default=None, ge=0, le=100, description="Utilization at most this (ratio)"
    )
    churned: bool = Field(
        default=False,
        description="Include churned accounts (every contract ended or cancelled); by default "
        "the portfolio lists customers and prospects only",
    )
    sort: SortKey = SortKey.name
    direction: SortDirection = SortDirection.asc
    limit: int = Field(default=50, ge=1, le=500)
    page: int = Field(default=1, ge=1, le=100_000)
    cursor: str | None = Field(default=None, max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # An HTML form submits an untouched filter as "": that means "no filter".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    def params(self) -> dict[str, Any]:
        """The query as URL parameters, defaults left out (for links and saved views)."""
        return self.model_dump(mode="json", exclude_defaults=True, exclude={"cursor"})


class RiskQuery(PortfolioQuery):
    """The portfolio's filters, sorted by churn risk, highest first; ``owner=all`` for everyone."""

    sort: SortKey = SortKey.risk
    direction: SortDirection = SortDirection.desc
    owner: str | None = Field(
        default=None,
        max_length=32,
        description="A user id, 'me', 'team', 'none' or 'all'; default: yours (CSM) or your team's",
        pattern=r"^(\d+|me|team|none|all)$",
    )

    def for_user(self, user: Any) -> PortfolioQuery:
        owner = self.owner
        if owner is None:
            owner = {"csm": "me", "manager": "team"}.get(str(user.role.value))
        elif owner == "all":
            owner = None
        return PortfolioQuery.model_validate({**self.model_dump(), "owner": owner})


class ArrByCurrency(BaseModel):
    currency: str
    arr: float


class AccountRow(BaseModel):
    """One account in the portfolio table."""

    id: int
    external_id: str
    name: str
    segment: str | None
    owner_id: int | None
    owner_name: str | None
    # The owner is inactive (left the team; e.g. IsActive false in the CRM's users): the account
    # keeps them and needs a new owner.
    owner_left: bool = False
    # The ARR in `currency`; null when the account pays in several ('multiple'): two figures
    # are not one — see arr_by_currency, and arr_converted for a total at dated rates.
    arr: float | None
    currency: str | None
    renewal_on: date | None
    days_to_renewal: int | None
    licensed_seats: int | None
    # Judgements stored by other domains; None until their jobs have run.
    health_score: int | None = None
    health_band: str | None = None
    health_trend: str | None = None
    churn_probability: float | None = None
    arr_at_risk: float | None = None
    laer_stage: str | None = None
    license_utilization: float | None = None
    arr_by_currency: list[ArrByCurrency] = Field(
        default_factory=list, description="The ARR in each currency the account pays in"
    )
    arr_converted: Converted | None = Field(
        default=None, description="The ARR in the reporting currency, with its rate dates"
    )
    arr_at_risk_converted: Converted | None = Field(
        default=None, description="The ARR at risk in the reporting currency, with its rate date"
    )


class PortfolioPage(BaseModel):
    items: list[AccountRow]
    total: int
    page: int
    limit: int
    next_cursor: str | None
    as_of: date


class Freshness(BaseModel):
    """How fresh the data behind a page is: shown on every page as "data as of"."""

    last_import_at: UtcDateTime | None
    last_import_file: str | None
    events_through: date | None
    last_touchpoint_at: UtcDateTime | None
    # The latest daily run (metrics → health → rules → CTAs): its day, status and end.
    last_daily_run_on: date | None = None
    last_daily_run_status: str | None = None
    last_daily_run_at: UtcDateTime | None = None


class RiskRow(AccountRow):
    # What churn_probability is about, in words (tenure.risk.figures.churn_window).
    churn_window: str | None
    in_alert_set: bool
    reasons: list[dict[str, Any]]


class RiskPage(BaseModel):
    """Accounts ranked by churn risk with the reasons; ``model_version`` None before scoring."""

    items: list[RiskRow]
    total: int
    page: int
    limit: int
    next_cursor: str | None
    as_of: date
    model_version: str | None
    scored_on: date | None


class RenewalRow(CategorizedRenewal):
    """One contract term up for renewal as the Renewals page lists it."""

    owner_name: str | None
    segment: str | None
    days_to_renewal: int
    health_score: int | None
    last_touchpoint_at: UtcDateTime | None
    # The renewal's ARR in the reporting currency at the rates of the as-of day, saying their
    # date (or which rate is missing): what lets a euro renewal be weighed beside a dollar one.
    arr_converted: Converted | None = None
    # The renewal comes before value was realized: no value shown in the last year (the
    # lifecycle stage 'Renewal due before value was realized'), whichever model is in force.
    before_value_realized: bool = False


class RenewalMonth(BaseModel):
    month: str  # YYYY-MM
    first_day: date
    last_day: date
    accounts: int  # renewals (contract terms) due in the month
    arr: list[ArrByCurrency]
    # The month's forecast, one row per currency (tenure.portfolio.forecast).
    forecast: list[ForecastPeriod]
    # The largest renewals of the month (all of them when they are few), soonest first.
    renewals: list[RenewalRow]


class RenewalsReport(BaseModel):
    as_of: date
    months: list[RenewalMonth]
    quarters: list[ForecastPeriod]
    at_risk_probability: float
    commit_probability: float
    freshness: Freshness


class TodayRenewal(AccountRow):
    last_touchpoint_at: UtcDateTime | None


class MeasureChange(BaseModel):
    name: str
    before: str
    after: str
    points: int  # the change in points


class ScoreChange(BaseModel):
    account_id: int
    account_name: str
    as_of: date
    previous_as_of: date | None
    score: int
    previous_score: int | None
    band: str
    measures: list[MeasureChange]


class TodayReport(BaseModel):
    as_of: date
    user_id: int
    scope: str  # "mine" | "team" | "all"
    window_days: int
    # The soonest renewals in the window (today.TODAY_RENEWALS_SHOWN at most), of how many in
    # all, and the ARR at stake of them all per currency.
    renewals: list[TodayRenewal]
    renewals_total: int
    renewal_arr: list[ArrByCurrency]
    untouched_accounts: list[AccountRow]
    # Open CTAs ranked by ARR at risk and priority; health scores that moved and why.
    ctas: list[CtaRead] = Field(default_factory=list)
    # The ids of those CTAs the reader may acknowledge, snooze or close (the others get no buttons).
    triageable: list[int] = Field(default_factory=list)
    # The days a snooze may pick (after as_of, up to the triage service's limit) and the default.
    snooze_from: date | None = None
    snooze_default: date | None = None
    snooze_to: date | None = None
    score_changes: list[ScoreChange] = Field(default_factory=list)
    freshness: Freshness


class ContactCard(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    email: str | None
    title: str | None
    level: ContactLevel | None
    roles: list[str]
    joined_on: date | None
    left_on: date | None
    phone: str | None = None
    description: str | None = None
    email_opt_out: bool = False
    # Whom they report to (a line on the relationship map): their name, or e-mail, or "contact N".
    reports_to_id: int | None = None
    reports_to: str | None = None


class ContractLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    plan: str | None
    billing_period: str
    starts_on: date
    ends_on: date
    arr: float
    currency: str
    licensed_seats: int | None
    status: str
    renewal_outcome: str | None
    arr_delta: float | None
    notice_on: date | None


class TimelineItem(BaseModel):
    at: UtcDateTime
    kind: str  # touchpoint | ticket | survey (and more as frameworks land)
    title: str
    detail: str | None = None
    by: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class OwnershipSpan(BaseModel):
    user_id: int
    user_name: str | None
    started_at: UtcDateTime
    ended_at: UtcDateTime | None


class TeamSeat(BaseModel):
    id: int
    user_id: int
    user_name: str
    role: str


class ArrPoint(BaseModel):
    on: date
    arr: float


class SavedViewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    query: str


class Point(BaseModel):
    on: date
    value: float


class HealthView(BaseModel):
    score: AccountScore
    history: list[Point]


class StageRead(BaseModel):
    stage: str | None
    since: date
    reasons: list[str]
    # The stage and the lifecycle model in force, in words.
    label: str | None = None
    model: str | None = None


class KnownAs(BaseModel):
    """One of the account's ids in another system, and which system's export gave it."""

    system: str
    value: str
    given_by: str | None
    recorded_on: date


class FamilyMember(BaseModel):
    id: int
    name: str
    external_id: str
    renewal_on: date | None
    health_score: int | None
    health_band: str | None
    arr_by_currency: list[ArrByCurrency]


class FamilyRollup(BaseModel):
    """An account with every account below it (children, their children…), rolled up: ARR and
    risk-weighted ARR per currency (and converted, saying its rate dates), the renewals in
    date order and the worst health among them."""

    accounts: int = Field(description="The account and all its descendants")
    members: list[FamilyMember] = Field(description="Renewal order, soonest first")
    arr_by_currency: list[ArrByCurrency]
    arr_converted: Converted | None
    arr_at_risk_by_currency: list[ArrByCurrency] = Field(
        description="Σ ARR × P(churn at the next renewal) of the scored accounts, per currency"
    )
    arr_at_risk_converted: Converted | None
    worst_health: FamilyMember | None


class FamilyRow(BaseModel):
    """A top parent (an account with no parent) and the accounts of its family the portfolio's
    filters select, rolled up."""

    id: int
    name: str
    external_id: str
    rollup: FamilyRollup


class TopParents(BaseModel):
    """The portfolio rolled up to top parents (tenure.portfolio.families.top_parents)."""

    as_of: date
    reporting_currency: str
    accounts: int = Field(description="Accounts the filters select, in all families")
    families: list[FamilyRow] = Field(
        description="This page's families: largest ARR in the reporting currency first; those "
        "without a rate last"
    )
    families_total: int = Field(description="Families on every page")
    page: int
    pages: int
    limit: int = Field(description="Families a page")


class Account360(BaseModel):
    account: AccountRow
    industry: str | None
    region: str | None
    country: str | None
    employee_count: int | None
    created_on: date | None
    onboarded_on: date | None
    contacts_by_level: dict[str, list[ContactCard]]
    contracts: list[ContractLine]
    # ARR in force over time, in the currency of the account's latest contract.
    arr_history: list[ArrPoint]
    arr_history_currency: str | None
    timeline: list[TimelineItem]
    ownership: list[OwnershipSpan]
    team: list[TeamSeat]
    can_edit: bool
    # Judgements of other domains, when their jobs have run (None / empty before).
    health: AccountScore | None = None
    health_history: list[Point] = Field(default_factory=list)
    churn_risk: ChurnRiskRead | None = None
    # Health, churn probability and renewal outlook told as one story (portfolio/risk_story).
    risk_story: RiskStory | None = None
    usage_history: dict[str, list[Point]] = Field(default_factory=dict)
    stage: StageRead | None = None
    open_ctas: list[CtaRead] = Field(default_factory=list)
    success_plan: PlanView | None = None
    desired_outcome: OutcomeView | None = None
    # Who the account is in each system it was imported from (Salesforce, HubSpot, Stripe…).
    known_as: list[KnownAs] = Field(default_factory=list)
    # Its fields from those systems in words (tenure.accounts.words): deleted there first.
    fields: list[CustomField] = Field(default_factory=list)
    # The account's family below it rolled up (None when it has no child account).
    rollup: FamilyRollup | None = None
    parent: FamilyMember | None = None


class TouchpointLog(BaseModel):
    """A touchpoint or note logged from the console or the API (Tenure makes the external id)."""

    kind: TouchpointKind = TouchpointKind.meeting
    occurred_at: datetime | None = Field(default=None, description="Default: now")
    subject: str = Field(min_length=1, max_length=500)
    notes: str | None = Field(default=None, max_length=20_000)
    attendee_ids: list[RowId] = Field(default_factory=list, max_length=100)


class ReassignRequest(BaseModel):
    # Ids that fit an id column: 2^70 is a 422, not the database's overflow as a 500.
    account_ids: list[RowId] = Field(min_length=1, max_length=1000)
    owner_id: RowId


class ReassignResult(BaseModel):
    reassigned: list[int]
    unchanged: list[int]
    owner_id: int


class ReassignLine(BaseModel):
    account_id: int
    account_name: str
    owner_name: str | None  # the owner now (None: unassigned)
    unchanged: bool  # already owned by the new owner


class ReassignPreview(BaseModel):
    """A reassignment to confirm: the accounts, their owners now, the new owner."""

    owner_id: int
    owner_name: str
    accounts: list[ReassignLine]


class OwnerChoice(BaseModel):
    id: int
    name: str
    role: UserRole


class PaletteEntry(BaseModel):
    label: str
    url: str
    kind: str  # page | account
    hint: str | None = None
