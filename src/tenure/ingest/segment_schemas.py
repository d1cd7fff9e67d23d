"""The Segment spec's messages, as far as Tenure uses them; unknown fields are ignored.

https://segment.com/docs/connections/spec/ — track, identify, group, page, screen, alias. Ids may
be sent as numbers (some libraries do) and are kept as strings. Limits that the operational
columns impose (an external id of 128 characters, an email of 320) are checked here, so a message
that cannot be stored is quarantined with its reason instead of failing the whole batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from tenure.dates import utc


def id_text(value: Any) -> Any:
    """Numbers become strings; empty strings mean 'absent' (analytics.js sends them)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if value == "":
        return None
    return value


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return utc(value)
    except OverflowError:  # 9999-12-31T23:59:59-05:30 is past the last representable moment
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


def _check_traits(model: type[BaseModel], traits: dict[str, Any]) -> None:
    """Name the trait that does not fit (``traits.email: …``), not the whole message."""
    try:
        model.model_validate(traits)
    except ValidationError as error:
        raise ValueError(
            "; ".join(
                f"traits.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
        ) from None


SegmentId = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), BeforeValidator(id_text)
]
# An id that becomes an operational external id (Contact, Account): the column is 128 wide.
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=128), BeforeValidator(id_text)
]
# Alias ids are stored in columns 256 wide.
AliasId = Annotated[str, StringConstraints(min_length=1, max_length=256), BeforeValidator(id_text)]
Moment = Annotated[datetime | None, AfterValidator(_as_utc)]
# Optional ids: the empty string is read as absent before the union is tried (inside it, both
# ``str`` with min_length=1 and ``None`` refused it, quarantining the whole message).
MaybeSegmentId = Annotated[SegmentId | None, BeforeValidator(id_text)]
MaybeExternalId = Annotated[ExternalId | None, BeforeValidator(id_text)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_id: MaybeSegmentId = Field(None, alias="messageId")
    user_id: MaybeSegmentId = Field(None, alias="userId")
    anonymous_id: MaybeSegmentId = Field(None, alias="anonymousId")
    timestamp: Moment = None
    original_timestamp: Moment = Field(None, alias="originalTimestamp")
    sent_at: Moment = Field(None, alias="sentAt")
    context: dict[str, Any] = Field(default_factory=dict)

    def _require_someone(self) -> None:
        if self.user_id is None and self.anonymous_id is None:
            raise ValueError("userId or anonymousId is required")

    def context_group_id(self) -> str | None:
        """The account a call belongs to when the sender says so (``context.groupId``)."""
        value = id_text(self.context.get("groupId"))
        return value if isinstance(value, str) else None


class TrackMessage(_Message):
    type: Literal["track"] = "track"
    event: Annotated[str, Field(min_length=1, max_length=1024)]
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> TrackMessage:
        self._require_someone()
        return self


class PageMessage(_Message):
    """A page (web) or screen (mobile) view; ``name`` becomes the event name."""

    type: Literal["page", "screen"] = "page"
    name: str | None = Field(None, max_length=1024)
    category: str | None = Field(None, max_length=1024)
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> PageMessage:
        self._require_someone()
        return self


class ContactTraits(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    email: str | None = Field(None, max_length=320)
    name: str | None = Field(None, max_length=300)
    first_name: str | None = Field(None, alias="firstName", max_length=150)
    last_name: str | None = Field(None, alias="lastName", max_length=150)
    title: str | None = Field(None, max_length=200)

    def full_name(self) -> str | None:
        if self.name:
            return self.name
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None


class IdentifyMessage(_Message):
    type: Literal["identify"] = "identify"
    user_id: MaybeExternalId = Field(None, alias="userId")
    traits: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> IdentifyMessage:
        self._require_someone()
        # RudderStack's SDKs send identify traits only in context.traits; top-level ones win.
        context_traits = self.context.get("traits")
        if isinstance(context_traits, dict) and context_traits:
            self.traits = {**context_traits, **self.traits}
        _check_traits(ContactTraits, self.traits)
        return self

    def contact_traits(self) -> ContactTraits:
        return ContactTraits.model_validate(self.traits)


class AccountTraits(BaseModel):
    """Group traits that have a column; the others are kept in ``Account.custom``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str | None = Field(None, max_length=300)
    industry: str | None = Field(None, max_length=128)
    # The column is a 32-bit integer on PostgreSQL.
    employees: int | None = Field(None, ge=0, le=2**31 - 1)
    segment: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=64)


class GroupMessage(_Message):
    type: Literal["group"] = "group"
    user_id: MaybeExternalId = Field(None, alias="userId")
    group_id: ExternalId = Field(alias="groupId")
    traits: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _traits(self) -> GroupMessage:
        _check_traits(AccountTraits, self.traits)
        return self

    def account_traits(self) -> AccountTraits:
        return AccountTraits.model_validate(self.traits)


class AliasMessage(_Message):
    type: Literal["alias"] = "alias"
    previous_id: AliasId = Field(alias="previousId")
    user_id: AliasId = Field(alias="userId")


SegmentMessage = TrackMessage | PageMessage | IdentifyMessage | GroupMessage | AliasMessage

MESSAGE_MODELS: dict[str, type[SegmentMessage]] = {
    "track": TrackMessage,
    "page": PageMessage,
    "screen": PageMessage,
    "identify": IdentifyMessage,
    "group": GroupMessage,
    "alias": AliasMessage,
}
