"""What every vendor module hands the sync: the objects it reads and batches of flat records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from tenure.ingest.mappings import Mapping


@dataclass(frozen=True)
class SyncObject:
    """One object of a vendor's API and the Tenure records it becomes."""

    name: str  # the vendor's own name: Account, companies, subscriptions, tickets
    entity: str  # Tenure's kind of record (ingest.entities)
    mapping: str  # the shipped mapping that file imports of this object use
    # Whether the vendor reports deleted records of it (Salesforce users are deactivated instead).
    deletions: bool = True
    # One record in the vendor's words, for people ("deal", "company", "ticket").
    label: str = "record"
    # Tenure's fields in the vendor's words where they differ (a HubSpot deal's account is its
    # company; a Zendesk ticket's is its organization).
    words: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Deleted:
    external_id: str
    on: date


@dataclass
class Batch:
    """Records as the mapping reads them (one flat dict each, the way the vendor's export or API
    object looks), and where the next sync starts once they are stored."""

    records: list[dict[str, Any]]
    cursor: str
    deleted: list[Deleted] = field(default_factory=list)
    # Given where ``deleted`` lists every record deleted now (HubSpot's archived ones): which
    # of some ids the vendor has as live records. A record marked deleted that the vendor
    # restored without changing its modification time is read by no search: found here.
    live: Callable[[list[str]], set[str]] | None = None


class Reader(Protocol):
    """A vendor's API, read incrementally: batches after ``cursor`` (None: from the start)."""

    def batches(self, obj: SyncObject, mapping: Mapping, cursor: str | None) -> Iterator[Batch]: ...

    def api_usage(self) -> dict[str, Any]: ...

    def check(self) -> dict[str, Any]:
        """One cheap call proving the credentials work (with the API allowance if told)."""
        ...
