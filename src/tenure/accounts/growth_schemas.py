"""The shapes of the growth side: opportunities (new business, expansion, renewal) as CRMs export
them and as people open, change and close them, and the advocacy a customer gives (stories,
references, referrals). Amounts are in major units of their currency, probabilities in percent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tenure.accounts.schemas import (
    Currency,
    ExternalId,
    InputModel,
    IsoDate,
    Output,
    UserEmail,
)
from tenure.auth.schemas import RowId
from tenure.model import AdvocacyKind, ForecastCategory, OpportunityKind, OpportunityStatus

# An amount in major units of its currency; a probability in percent, as CRMs write it.
Amount = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Stage = Annotated[str, Field(min_length=1, max_length=64)]
# Fields an empty cell leaves at their default (or, on update, as stored) instead of clearing.
_DEFAULTED = ("kind", "status", "currency")


class OpportunityCreate(InputModel):
    """An opportunity row of a CRM export (Salesforce Opportunity, HubSpot deal)."""

    external_id: ExternalId
    account_external_id: ExternalId
    name: str | None = Field(default=None, max_length=255)
    kind: OpportunityKind = OpportunityKind.new_business
    status: OpportunityStatus = OpportunityStatus.open
    stage: Stage | None = None
    amount: Amount | None = None
    currency: Currency = "USD"
    probability: Probability | None = None
    forecast_category: ForecastCategory | None = None
    opened_on: IsoDate
    close_on: IsoDate | None = None
    close_reason: str | None = Field(default=None, max_length=2000)
    owner_email: UserEmail | None = None
    # The owner by the CRM's user id (Salesforce OwnerId), once users are imported.
    owner_external_id: ExternalId | None = None
    description: str | None = Field(default=None, max_length=20_000)

    @model_validator(mode="after")
    def _one_owner(self) -> OpportunityCreate:
        if self.owner_email and self.owner_external_id:
            raise ValueError("owner_email: give the owner by e-mail or by external id, not both")
        return self

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, values: Any) -> Any:
        if isinstance(values, dict) and any(values.get(k, "") is None for k in _DEFAULTED):
            return {k: v for k, v in values.items() if not (k in _DEFAULTED and v is None)}
        return values


class OpportunityOpen(BaseModel):
    """An opportunity created from the console, the API or the CLI."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    kind: OpportunityKind
    stage: Stage | None = None
    amount: Amount | None = None
    currency: Currency = "USD"
    probability: Probability | None = None
    forecast_category: ForecastCategory | None = None
    close_on: date | None = Field(default=None, description="Expected close date")
    owner_id: RowId | None = Field(default=None, description="Default: whoever creates it")
    description: str | None = Field(default=None, max_length=20_000)


class OpportunityChange(BaseModel):
    """Fields to change on an open opportunity; the ones left out stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=255)
    kind: OpportunityKind | None = None
    stage: Stage | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    probability: Probability | None = None
    forecast_category: ForecastCategory | None = None
    close_on: date | None = None
    owner_id: RowId | None = None
    description: str | None = Field(default=None, max_length=20_000)


class OpportunityClose(BaseModel):
    """Winning or losing an opportunity: the day (default: today) and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    on: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class OpportunityRead(Output):
    id: int
    external_id: str | None
    account_id: int
    account_external_id: str
    account_name: str
    name: str | None
    kind: OpportunityKind
    status: OpportunityStatus
    stage: str | None
    amount: float | None
    currency: str
    probability: float | None
    forecast_category: ForecastCategory | None
    opened_on: date
    close_on: date | None
    closed_on: date | None
    close_reason: str | None
    owner_id: int | None
    owner_name: str | None
    description: str | None
    # Deleted in the CRM it was synced from on this day (kept here, out of the open pipeline).
    deleted_in_crm_on: date | None = None


class AdvocacyRecord(BaseModel):
    """A success story, case study, reference, speaker slot or referral a customer gave."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: AdvocacyKind
    occurred_on: date | None = Field(default=None, description="Default: today")
    title: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, max_length=20_000)
    contact_id: RowId | None = Field(default=None, description="Who at the customer gave it")
    referred_account_id: RowId | None = Field(
        default=None, description="Referrals: the customer it brought in, once signed"
    )


class AdvocacyRead(Output):
    id: int
    account_id: int
    account_external_id: str
    account_name: str
    kind: AdvocacyKind
    occurred_on: date
    title: str | None
    note: str | None
    contact_id: int | None
    contact_name: str | None
    referred_account_id: int | None
    recorded_by_id: int | None
