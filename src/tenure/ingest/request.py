"""What an import is asked to do (ImportRequest) and what it did (ImportReport)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from tenure.errors import InvalidInput, RowError
from tenure.ingest.entities import ENTITIES, EntityKind
from tenure.ingest.files import FileFormat, SourceFile, detect_format
from tenure.ingest.identities import IdentityProblem
from tenure.ingest.mappings import CUSTOM_PREFIX, IDENTITY_PREFIX, Mapping
from tenure.ingest.provenance import FieldConflict, Precedence


class Progress(Protocol):
    """Where long work reports how far it got (the CLI draws a rich progress bar)."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, amount: int) -> None: ...


class NoProgress:
    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, amount: int) -> None:
        return None


class ImportReport(BaseModel):
    """What one import did. For events, ``inserted`` are events written and ``unchanged`` are
    events already stored (same message id). With ``skip_invalid``, ``rejected`` rows were left
    out, each problem in ``rejects``."""

    entity: str
    file_name: str
    mapping: str | None
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int = 0
    rejects: list[RowError] = Field(default_factory=list, exclude=True)
    # Things to do now that the rows are stored (accounts whose owner left the team).
    notes: list[str] = Field(default_factory=list)
    # Rows that updated a record first imported from another system, found by an identity.
    matched: int = 0
    # Contacts the file gave no account, joined to the account of their e-mail domain.
    linked_by_domain: int = 0
    # Contacts stored without an account (none named, none found by e-mail domain).
    without_account: int = 0
    # Fields two systems disagree on, and which system's value was kept (the first KEPT).
    conflict_count: int = 0
    conflicts: list[FieldConflict] = Field(default_factory=list)
    identity_problems: list[IdentityProblem] = Field(default_factory=list)
    # The identities this import recorded, to link them to its history entry.
    identity_ids: list[int] = Field(default_factory=list, exclude=True)


@dataclass(frozen=True)
class ImportRequest:
    entity: str
    path: Path
    mapping: Mapping | None = None
    format: FileFormat | None = None
    # None: told from the file (see SourceFile).
    encoding: str | None = None
    # Store the good rows and report the bad ones, instead of refusing the whole file.
    skip_invalid: bool = False
    # Which system's value wins when two disagree; None: the shipped precedence.yaml.
    precedence: Precedence | None = None

    @property
    def kind(self) -> EntityKind:
        return ENTITIES[self.entity]

    def open(self) -> SourceFile:
        try:
            if self.encoding is not None:
                codecs.lookup(self.encoding)
        except LookupError:
            raise InvalidInput(
                f"unknown text encoding {self.encoding!r} (try utf-8 or cp1252)"
            ) from None
        if self.mapping is not None:
            self._check_mapping(self.mapping)
        return SourceFile(self.path, detect_format(self.path, self.format), self.encoding)

    def _check_mapping(self, mapping: Mapping) -> None:
        if mapping.entity != self.entity:
            raise InvalidInput(
                f"mapping {mapping.name!r} is for {mapping.entity}, not {self.entity}: "
                f"run `tenure import {mapping.entity} FILE --mapping {mapping.name}`"
            )
        fields = self.kind.schema.model_fields
        unknown = [
            target
            for target in mapping.columns
            if target not in fields
            and not (target.startswith(CUSTOM_PREFIX) and "custom" in fields)
            and not (target.startswith(IDENTITY_PREFIX) and "identities" in fields)
        ]
        if unknown:
            raise InvalidInput(
                f"mapping {mapping.name!r} names fields {self.entity} do not have: "
                f"{', '.join(unknown)} (fields: {', '.join(fields)})"
            )
