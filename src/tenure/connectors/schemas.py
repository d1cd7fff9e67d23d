"""What the surfaces show of connections and sync runs (credentials never leave the service)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from tenure.accounts.schemas import StoredDatetime

# An exception's class name as describe() puts it first: HubSpotRefused, SalesforceError…
_CLASS_NAME = re.compile(r"^(?:[A-Z][a-z0-9]+){1,}(?:[A-Z][A-Za-z0-9]*)*$")


class ObjectOutcome(BaseModel):
    """One object of one sync run: records read, stored (inserted/updated/unchanged), refused
    with their reasons, marked deleted, and the error that stopped it."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    batches: int = 0
    error: str | None = None
    rejects: list[str] = Field(default_factory=list)

    @property
    def error_words(self) -> str | None:
        """The error without the exception's class name in front ("HubSpotRefused: HubSpot
        answered 401: …" reads "HubSpot answered 401: …"): what the Admin page shows.

        >>> ObjectOutcome(error="SalesforceRefusedRequest: INSUFFICIENT_ACCESS: no").error_words
        'INSUFFICIENT_ACCESS: no'
        """
        if self.error is None:
            return None
        head, sep, rest = self.error.partition(": ")
        return rest if sep and _CLASS_NAME.match(head) else self.error


class SyncRunRead(BaseModel):
    id: int
    vendor: str
    status: str
    started_at: StoredDatetime
    finished_at: StoredDatetime | None
    seconds: float | None
    objects: dict[str, ObjectOutcome]
    api_usage: dict[str, int | None]


class ConnectionRead(BaseModel):
    vendor: str
    base_url: str | None
    objects: list[str]
    # A mapping chosen instead of the shipped one, per object.
    mappings: dict[str, str]
    is_active: bool
    connected_at: StoredDatetime
    updated_at: StoredDatetime
    # Where each object's next sync starts.
    cursors: dict[str, str]
    last_run: SyncRunRead | None


def seconds_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 3)
