"""The kinds of record a file can import, each with its row schema, key and upsert.

Adding a kind is three small steps: a pydantic ``…Create`` schema (accounts/schemas.py), an
upsert in a service that returns UpsertCounts, and one ``EntityKind`` line below; the CLI command,
the API route, validation, ``--skip-invalid`` and the import history follow from this table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from tenure.accounts import advocacy, opportunities, service
from tenure.accounts.crm_schemas import AdvocacyImport, HandoffImport, MessageImport
from tenure.accounts.growth_schemas import OpportunityCreate
from tenure.accounts.schemas import (
    AccountCreate,
    ContactCreate,
    ContractCreate,
    FeatureCreate,
    InputModel,
    SurveyResponseCreate,
    TicketCreate,
    TouchpointCreate,
    UpsertCounts,
    UserImport,
    UtcDatetime,
)
from tenure.portfolio.handoff_import import upsert_handoffs
from tenure.success.engagement_service import upsert_messages


class EventRow(InputModel):
    """One product-usage event in an imported file."""

    message_id: str = Field(min_length=1, max_length=200)
    type: Literal["track", "page", "screen"] = "track"
    # External account id (the account's external_id); attributed when metrics are computed.
    account_id: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    # Event name; for feature usage it equals the feature key.
    event: str = Field(min_length=1, max_length=200)
    timestamp: UtcDatetime
    properties: dict[str, Any] | None = None

    @field_validator("properties", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as error:
                raise ValueError(f"properties must be a JSON object: {error}") from None
        return value


def _owners(session: Session) -> list[str]:
    return service.owners_to_reassign(session)


@dataclass(frozen=True)
class EntityKind:
    name: str
    schema: type[BaseModel]
    key: str
    upsert: Callable[[Session, Any], UpsertCounts] | None
    # What the import report should add once the rows are stored (owners who left the team).
    notes: Callable[[Session], list[str]] | None = None


ENTITIES: dict[str, EntityKind] = {
    kind.name: kind
    for kind in (
        EntityKind("users", UserImport, "external_id", service.upsert_users, _owners),
        EntityKind("accounts", AccountCreate, "external_id", service.upsert_accounts, _owners),
        EntityKind("contacts", ContactCreate, "external_id", service.upsert_contacts),
        EntityKind("contracts", ContractCreate, "external_id", service.upsert_contracts),
        EntityKind("features", FeatureCreate, "key", service.upsert_features),
        EntityKind("events", EventRow, "message_id", None),
        EntityKind("surveys", SurveyResponseCreate, "external_id", service.upsert_survey_responses),
        EntityKind("tickets", TicketCreate, "external_id", service.upsert_tickets),
        EntityKind("touchpoints", TouchpointCreate, "external_id", service.upsert_touchpoints),
        EntityKind(
            "opportunities", OpportunityCreate, "external_id", opportunities.upsert_opportunities
        ),
        EntityKind("handoffs", HandoffImport, "external_id", upsert_handoffs),
        EntityKind("advocacy", AdvocacyImport, "external_id", advocacy.upsert_advocacy),
        EntityKind("messages", MessageImport, "external_id", upsert_messages),
    )
}
