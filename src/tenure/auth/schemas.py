"""Shapes the console, the API and the CLI exchange about users, tokens and the audit log."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field, field_validator

from tenure.accounts.schemas import StoredDatetime
from tenure.auth import audit_words
from tenure.auth.passwords import password_problem
from tenure.model import UserRole


def no_control_characters(value: str) -> str:
    """Text people type as a name: NUL (PostgreSQL cannot store it), line breaks, escape
    sequences and other control characters are refused, not silently dropped.

    >>> no_control_characters("Ada Lovelace")
    'Ada Lovelace'
    >>> no_control_characters("Ada\\x00")
    Traceback (most recent call last):
    ...
    ValueError: contains the control character U+0000 at position 4; names are plain text
    """
    for position, character in enumerate(value, start=1):
        if unicodedata.category(character) == "Cc":
            raise ValueError(
                f"contains the control character U+{ord(character):04X} at position "
                f"{position}; names are plain text"
            )
    return value


# A row id in a body: a PostgreSQL integer (a larger one used to end in a 500).
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]

# A person's or a thing's name as typed into a form or sent to the API.
PlainName = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(no_control_characters)
]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: UserRole
    manager_id: int | None
    is_active: bool


# Deliberately loose: one @, something on each side, a dot in the domain. Mail delivery is the
# real check; this catches typos such as a missing @ or a pasted name.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _strong_password(value: str | None) -> str | None:
    problem = None if value is None else password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    name: PlainName
    role: UserRole = UserRole.csm
    password: Annotated[
        str | None, Field(default=None, max_length=200), AfterValidator(_strong_password)
    ] = None
    manager_id: RowId | None = None

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an email address (expected name@domain.tld)")
        return value


class UserUpdate(BaseModel):
    """Fields left out keep their value; ``manager_id: null`` clears the manager."""

    name: PlainName | None = None
    role: UserRole | None = None
    manager_id: RowId | None = None
    is_active: bool | None = None

    @field_validator("name", "role", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # An explicit null reached the database as NULL in a NOT NULL column: a 500.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    token_prefix: str
    created_at: StoredDatetime
    last_used_at: StoredDatetime | None
    revoked_at: StoredDatetime | None
    expires_at: StoredDatetime


class ApiTokenCreated(ApiTokenRead):
    """Returned once, at creation: the only time the secret is shown."""

    token: str


class AuditChange(BaseModel):
    """One field of an audit entry, before and after, in the console's words."""

    field: str = Field(description="The stored field, e.g. owner_id")
    field_words: str = Field(description="The field as a label, e.g. owner")
    before_words: str = Field(description="The value before, in words (a dash: none)")
    after_words: str = Field(description="The value after, in words (a dash: none)")
    changed: bool


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: StoredDatetime
    actor_id: int | None
    actor_email: str | None = None
    via: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @computed_field(description="What was done, in words")  # type: ignore[prop-decorator]
    @property
    def action_words(self) -> str:
        return audit_words.action_text(self.action)

    @computed_field(description="The kind of record, in words")  # type: ignore[prop-decorator]
    @property
    def entity_words(self) -> str:
        return audit_words.entity_text(self.entity)

    @computed_field(description="Through which door: console, command line, API")  # type: ignore[prop-decorator]
    @property
    def via_words(self) -> str:
        return audit_words.via_text(self.via)

    @computed_field(description="Each field before and after, in words")  # type: ignore[prop-decorator]
    @property
    def changes(self) -> list[AuditChange]:
        before, after = self.before or {}, self.after or {}
        return [
            AuditChange(
                field=field,
                field_words=audit_words.field_text(field),
                before_words=audit_words.value_text(before.get(field), field),
                after_words=audit_words.value_text(after.get(field), field),
                changed=before.get(field) != after.get(field),
            )
            # The fields before, then those only after, in the order they were stored.
            for field in dict.fromkeys([*before, *after])
        ]
