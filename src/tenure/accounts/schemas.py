"""The shapes surfaces exchange for operational records: what a file row, a form or an API body
must contain to create a record, and what a read returns.

References between records use external ids (the id in the CRM, billing or support system), never
Tenure's database ids, so a file exported from another system imports as it is.
Dates and datetimes are ISO 8601, parsed strictly; a datetime without a zone is UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from tenure.dates import utc
from tenure.model import (
    BillingPeriod,
    ContactLevel,
    ContactRole,
    ContractStatus,
    IdentitySystem,
    RenewalOutcome,
    SurveyKind,
    TicketPriority,
    TouchpointKind,
)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date, then a time (hh:mm at least), optional fraction, optional zone: RFC 3339 / ISO 8601.
_ISO_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(\d{0,3})(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
LIST_SEPARATOR = ";"


def parse_iso_date(value: Any) -> Any:
    """``YYYY-MM-DD`` or a date object; anything else (timestamps, 03/04/2024) is refused."""
    if isinstance(value, datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError("expected an ISO 8601 date YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise ValueError(f"not a calendar date: {error}") from None


def parse_iso_datetime(value: Any) -> Any:
    """An ISO 8601 date and time; without a zone it is UTC. Always returned in UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and (match := _ISO_DATETIME.fullmatch(value.strip())):
        moment, extra_digits, zone = match.groups()
        if extra_digits and "." not in moment[-7:]:
            raise ValueError("expected an ISO 8601 date and time, e.g. 2024-03-01T09:30:00Z")
        # Nanoseconds (extra_digits) are cut to the microseconds Python keeps.
        try:
            parsed = datetime.fromisoformat(moment + (zone or "").upper())
        except ValueError as error:
            raise ValueError(f"not a valid date and time: {error}") from None
    else:
        raise ValueError("expected an ISO 8601 date and time, e.g. 2024-03-01T09:30:00Z")
    return utc(parsed)


def split_list(value: Any) -> Any:
    """A list cell in a flat file is ``a;b;c``; JSON and Parquet give real lists."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    if value is None:
        return []
    return value


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _in_role_order(roles: list[ContactRole]) -> list[ContactRole]:
    order = list(ContactRole)
    return sorted(set(roles), key=order.index)


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
# What reads return: always an aware UTC datetime, whatever the backend.
StoredDatetime = Annotated[datetime, AfterValidator(utc)]
UtcDatetime = Annotated[datetime, BeforeValidator(parse_iso_datetime)]
ExternalId = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$"),
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
]
# A Tenure user by e-mail; users' e-mails are stored lower-cased.
UserEmail = Annotated[
    str,
    Field(max_length=320),
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
]
ExternalIdList = Annotated[list[ExternalId], BeforeValidator(split_list), AfterValidator(_unique)]
# The record's ids in other systems ({"salesforce": "001…", "domain": "acme.com"}): an import
# matches a stored record on any of them (tenure.ingest.identities).
Identities = Annotated[
    dict[IdentitySystem, Annotated[str, Field(min_length=1, max_length=256)]],
    BeforeValidator(
        lambda v: {k: x for k, x in v.items() if x not in (None, "")} if isinstance(v, dict) else v
    ),
]


def nul_in(value: Any) -> bool:
    """Whether text holds a NUL character, nested values included: PostgreSQL cannot store it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(nul_in(key) or nul_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(nul_in(item) for item in value)
    return False


class InputModel(BaseModel):
    """Rows from files and forms: strings trimmed, numeric ids become strings, unknown keys and
    NUL characters refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for name, value in values.items():
                # Plain text first: this runs for every row of every import.
                if (type(value) is str and "\x00" in value) or (
                    isinstance(value, dict | list) and nul_in(value)
                ):
                    raise ValueError(f"{name}: contains a NUL character (0x00)")
        return values


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- accounts --------------------------------------------------------------------------------


class AccountCreate(InputModel):
    external_id: ExternalId
    name: Name
    parent_external_id: ExternalId | None = None
    segment: str | None = Field(default=None, max_length=64)
    experience_segment: str | None = Field(default=None, max_length=64)
    industry: str | None = Field(default=None, max_length=128)
    employee_count: int | None = Field(default=None, ge=0)
    # The sales region (emea…); a CRM's billing country goes to ``country``.
    region: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    # The owning CSM, by the e-mail of a Tenure user, or by their id in the CRM (Salesforce
    # OwnerId) once `tenure import users` has brought the CRM's users in.
    owner_email: UserEmail | None = None
    owner_external_id: ExternalId | None = None
    created_on: IsoDate | None = None
    onboarded_on: IsoDate | None = None
    # Custom attributes merge into the stored ones: a key absent here is kept.
    custom: dict[str, Any] = Field(default_factory=dict)
    identities: Identities = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_own_parent(self) -> AccountCreate:
        if self.parent_external_id == self.external_id:
            raise ValueError("parent_external_id: an account cannot be its own parent")
        if self.owner_email and self.owner_external_id:
            raise ValueError("owner_email: give the owner by e-mail or by external id, not both")
        return self


# --- users (account owners) ------------------------------------------------------------------


class UserImport(InputModel):
    """A member of the team as the CRM knows them (a Salesforce User): their id is what the
    CRM's OwnerId holds. New users are CSMs who cannot sign in until given a password; one
    inactive in the CRM keeps their accounts, which then need a new owner."""

    external_id: ExternalId
    email: UserEmail
    name: Name
    is_active: bool = True
    manager_external_id: ExternalId | None = None

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError("not an e-mail address")
        return value

    @model_validator(mode="after")
    def _not_own_manager(self) -> UserImport:
        if self.manager_external_id == self.external_id:
            raise ValueError("manager_external_id: a user cannot be their own manager")
        return self


# --- contacts --------------------------------------------------------------------------------


class ContactCreate(InputModel):
    external_id: ExternalId
    account_external_id: ExternalId | None = None
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    title: str | None = Field(default=None, max_length=200)
    level: ContactLevel | None = None
    # Kept in the enumeration's order, so a re-export listing them differently changes nothing.
    roles: Annotated[
        list[ContactRole], BeforeValidator(split_list), AfterValidator(_in_role_order)
    ] = Field(default_factory=list)
    joined_on: IsoDate | None = None
    left_on: IsoDate | None = None
    phone: str | None = Field(default=None, max_length=64)
    description: str | None = None
    # Whom they report to, by the contact's external id (Salesforce ReportsToId): may be later in
    # the same file.
    reports_to_external_id: ExternalId | None = None
    # They asked for no e-mail (Salesforce HasOptedOutOfEmail, HubSpot unsubscribed); an empty
    # cell is no opt-out.
    email_opt_out: Annotated[bool, BeforeValidator(lambda v: False if v in (None, "") else v)] = (
        False
    )
    # Custom attributes merge into the stored ones: a key absent here is kept.
    custom: dict[str, Any] = Field(default_factory=dict)
    identities: Identities = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError("not an e-mail address")
        return value

    @model_validator(mode="after")
    def _left_after_joined(self) -> ContactCreate:
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            raise ValueError("left_on is before joined_on")
        if self.reports_to_external_id == self.external_id:
            raise ValueError("reports_to_external_id: a contact cannot report to themselves")
        return self


class ContactRead(Output):
    id: int
    external_id: str
    account_id: int | None
    name: str | None
    email: str | None
    title: str | None
    level: ContactLevel | None
    roles: list[str]
    joined_on: date | None
    left_on: date | None
    phone: str | None = None
    description: str | None = None
    reports_to_id: int | None = None
    email_opt_out: bool = False


# --- contracts -------------------------------------------------------------------------------


class ContractCreate(InputModel):
    external_id: ExternalId
    account_external_id: ExternalId
    plan: str | None = Field(default=None, max_length=128)
    billing_period: BillingPeriod = BillingPeriod.annual
    starts_on: IsoDate
    ends_on: IsoDate
    arr: float = Field(ge=0, allow_inf_nan=False)
    currency: Currency = "USD"
    licensed_seats: int | None = Field(default=None, ge=0)
    discount: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    status: ContractStatus = ContractStatus.active
    renewal_outcome: RenewalOutcome | None = None
    outcome_on: IsoDate | None = None
    notice_on: IsoDate | None = None
    arr_delta: float | None = Field(default=None, allow_inf_nan=False)
    auto_renews: bool = False
    payment_overdue: bool = False

    @model_validator(mode="after")
    def _ends_after_start(self) -> ContractCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class ContractRead(Output):
    id: int
    external_id: str
    account_id: int
    plan: str | None
    billing_period: BillingPeriod
    starts_on: date
    ends_on: date
    arr: float
    currency: str
    licensed_seats: int | None
    discount: float | None
    status: ContractStatus
    renewal_outcome: RenewalOutcome | None
    outcome_on: date | None
    notice_on: date | None
    arr_delta: float | None
    auto_renews: bool
    payment_overdue: bool


# --- the feature catalog ---------------------------------------------------------------------


class FeatureCreate(InputModel):
    # The event name that shows the feature was used; the catalog's external id.
    key: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    strategic: bool = False
    released_on: IsoDate | None = None
    description: str | None = None


class FeatureRead(Output):
    id: int
    key: str
    name: str
    strategic: bool
    released_on: date | None
    description: str | None


# --- surveys, tickets, touchpoints -----------------------------------------------------------

_SCALES = {SurveyKind.nps: (0, 10), SurveyKind.csat: (1, 5)}


class SurveyResponseCreate(InputModel):
    external_id: ExternalId
    account_external_id: ExternalId
    contact_external_id: ExternalId | None = None
    kind: SurveyKind = SurveyKind.nps
    score: int
    comment: str | None = None
    responded_at: UtcDatetime

    @model_validator(mode="after")
    def _score_in_scale(self) -> SurveyResponseCreate:
        low, high = _SCALES[self.kind]
        if not low <= self.score <= high:
            raise ValueError(f"score {self.score} is outside the {self.kind} scale {low}–{high}")
        return self


class SurveyResponseRead(Output):
    id: int
    external_id: str
    account_id: int
    contact_id: int | None
    kind: SurveyKind
    score: int
    comment: str | None
    responded_at: StoredDatetime


class TicketCreate(InputModel):
    external_id: ExternalId
    account_external_id: ExternalId
    contact_external_id: ExternalId | None = None
    subject: str | None = Field(default=None, max_length=500)
    priority: TicketPriority = TicketPriority.normal
    category: str | None = Field(default=None, max_length=128)
    opened_at: UtcDatetime
    closed_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _closed_after_opened(self) -> TicketCreate:
        if self.closed_at and self.closed_at < self.opened_at:
            raise ValueError("closed_at is before opened_at")
        return self


class TicketRead(Output):
    id: int
    external_id: str
    account_id: int
    contact_id: int | None
    subject: str | None
    priority: TicketPriority
    category: str | None
    opened_at: StoredDatetime
    closed_at: StoredDatetime | None


class TouchpointCreate(InputModel):
    external_id: ExternalId
    account_external_id: ExternalId
    kind: TouchpointKind = TouchpointKind.meeting
    occurred_at: UtcDatetime
    subject: str | None = Field(default=None, max_length=500)
    notes: str | None = None
    # The CSM who held it, by the e-mail of a Tenure user or their id in the CRM (OwnerId).
    user_email: UserEmail | None = None
    user_external_id: ExternalId | None = None
    # Attending contacts by external id (``a;b`` in a flat file).
    attendee_external_ids: ExternalIdList = Field(default_factory=list)


class TouchpointRead(Output):
    id: int
    external_id: str
    account_id: int
    kind: TouchpointKind
    occurred_at: StoredDatetime
    subject: str | None
    notes: str | None
    user_id: int | None
    attendee_ids: list[int]


class UpsertCounts(BaseModel):
    """What an upsert did: rows inserted, rows whose values changed, rows already as given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class ErasureReport(BaseModel):
    """What erasing a person did: counts only, never who it was."""

    contacts: int = Field(description="Contact rows deleted (one person may be several)")
    events: int = Field(description="Stored events whose ids were pseudonymised or scrubbed")
    quarantined: int = Field(description="Quarantined raw messages of theirs deleted")
    survey_answers: int = Field(description="Answers kept for NPS/CSAT, unlinked, comment gone")
    survey_links: int = Field(description="Survey links deleted")
    touchpoints: int = Field(description="Touchpoints they attended (attendance removed)")
    outbox_messages: int = Field(description="Queued or sent e-mails to them deleted")
    aliases: int = Field(description="Product identity aliases deleted")
    mentions: int = Field(description="Import errors, audit entries, webhooks scrubbed of them")
