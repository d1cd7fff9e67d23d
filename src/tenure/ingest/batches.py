"""Importing records in bounded memory: what the first pass over a file keeps (keys and
references, not rows), and the second pass's batch writer.

A 200,000-row file never has its rows in memory at once: the first pass validates every row and
keeps each row's key and the values it references, enough to refuse a file whose rows name a
record that does not exist; the second pass writes RECORD_BATCH rows at a time. A reference to a
row of a later batch (a parent, whom one reports to) is linked once every batch is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts import hierarchy, service
from tenure.accounts.schemas import UpsertCounts
from tenure.accounts.service import FIRST, REFERENCES, Reference, ids_by_key
from tenure.errors import RowError
from tenure.ingest.identities import TENURE, IdentityMatcher, IdentityProblem, field_of, key_of
from tenure.ingest.provenance import FieldConflict, Provenance, load_precedence
from tenure.ingest.request import ImportRequest
from tenure.ingest.validation import RowValidator
from tenure.model import Account, Contact

# Conflicts and identity problems kept per import (the rest are counted): enough to act on.
KEPT = 10_000


class FileIndex:
    """Per reference, the lines naming each value; ``keys`` (each key's line) is the
    validator's, set once the first pass is done (one copy of a million keys, not two)."""

    def __init__(self, key: str, matcher: IdentityMatcher) -> None:
        self.key = key
        self.matcher = matcher
        self.count = 0
        self.keys: dict[str, int] = {}
        self.references: dict[str, dict[str, list[int]]] = {}
        self._schema: type[BaseModel] | None = None

    def add(self, line: int, row: BaseModel) -> None:
        self.count += 1
        self._schema = type(row)
        for reference in REFERENCES.get(type(row), ()):
            values = service.referenced_values(row, reference)
            named = self.references.setdefault(reference.field, {})
            for value in values:
                named.setdefault(str(value), []).append(line)

    def check_references(self, validator: RowValidator, *, skip_invalid: bool) -> set[int]:
        """Add an error for every reference to no stored record (nor a row of this file); with
        ``skip_invalid``, also leave out rows naming a left-out row. The lines left out."""
        if self._schema is None:
            return set()
        missing: list[RowError] = []
        self_references: list[Reference] = []
        for reference in REFERENCES.get(self._schema, ()):
            named = self.references.get(reference.field, {})
            known = self._known(reference, set(named))
            if reference.in_batch:
                self_references.append(reference)
            for value in sorted(set(named) - known):
                missing.extend(
                    RowError(
                        line,
                        validator.column_of(reference.field),
                        value,
                        _message(reference, value),
                    )
                    for line in named[value]
                )
        left_out = {error.line for error in missing}
        while skip_invalid and left_out:  # a row naming a left-out row is left out too
            gone = {key for key, line in self.keys.items() if line in left_out}
            more = [
                RowError(line, validator.column_of(r.field), value, _message(r, value, left=True))
                for r in self_references
                for value, lines in self.references.get(r.field, {}).items()
                if value in gone
                for line in lines
                if line not in left_out
            ]
            if not more:
                break
            missing.extend(more)
            left_out |= {error.line for error in more}
        validator.errors.extend(missing)
        return left_out

    def _known(self, reference: Reference, values: set[str]) -> set[str]:
        known = set(ids_by_key(self.matcher.session, reference.model, reference.key, values))
        if reference.model in (Account, Contact):
            known |= self.matcher.known_elsewhere(reference.model, values - known)
        if reference.in_batch:
            known |= values & set(self.keys)
        return known


def _message(reference: Reference, value: str, *, left: bool = False) -> str:
    if left:
        return f"names the {reference.noun} {value!r}, whose row is left out"
    return f"no {reference.noun} with {reference.key.replace('_', ' ')} {value!r}" + (
        FIRST.get(reference.noun, "")
    )


@dataclass(frozen=True)
class _Deferred:
    key: str
    field: str
    value: str


class BatchWriter:
    """Writes one import's rows batch after batch: matched, reconciled, upserted, identities and
    field sources kept; totals for the report."""

    def __init__(
        self, session: Session, request: ImportRequest, matcher: IdentityMatcher, index: FileIndex
    ) -> None:
        self.session = session
        self.kind = request.kind
        self.matcher = matcher
        self.index = index
        self.given_by = (request.mapping.system if request.mapping else None) or TENURE
        precedence = request.precedence or load_precedence()
        self.provenance = Provenance(session, self.kind.name, self.given_by, precedence)
        self.rows = 0
        self.counts = UpsertCounts()
        self.matched = self.linked_by_domain = self.without_account = self.conflict_count = 0
        self.conflicts: list[FieldConflict] = []
        self.problems: list[IdentityProblem] = []
        self.identity_ids: list[int] = []
        self._deferred: list[_Deferred] = []

    def write(self, batch: list[BaseModel]) -> None:
        if not batch:
            return
        assert self.kind.upsert is not None
        rows, matching = self.matcher.match(batch)
        rows = self._defer_later_references(rows)
        rows, conflicts = self.provenance.reconcile(rows)
        counts = self.kind.upsert(self.session, rows)
        self.identity_ids += self.matcher.record(rows, matching, self.given_by)
        self.provenance.record_sources(rows)
        self.rows += len(rows)
        self.counts = UpsertCounts(
            inserted=self.counts.inserted + counts.inserted,
            updated=self.counts.updated + counts.updated,
            unchanged=self.counts.unchanged + counts.unchanged,
        )
        self.matched += matching.matched
        self.linked_by_domain += matching.linked_by_domain
        if self.kind.name == "contacts":
            self.without_account += sum(field_of(r, "account_external_id") is None for r in rows)
        self.conflict_count += len(conflicts)
        self.conflicts += conflicts[: KEPT - len(self.conflicts)]
        self.problems += matching.problems[: KEPT - len(self.problems)]

    def _defer_later_references(self, rows: list[BaseModel]) -> list[BaseModel]:
        """A parent (or whom one reports to) that is neither stored nor in this batch is in a
        later one: left out of the row now, linked in ``finish``."""
        fields = [r for r in REFERENCES.get(type(rows[0]), ()) if r.in_batch]
        if not fields:
            return rows
        in_batch = {key_of(row) for row in rows}
        result = []
        for reference in fields:
            values = {v for r in rows if (v := getattr(r, reference.field)) is not None}
            stored = set(ids_by_key(self.session, reference.model, "external_id", values))
            for row in rows:
                value = getattr(row, reference.field)
                if value is not None and value not in stored and value not in in_batch:
                    key = key_of(row)
                    self._deferred.append(_Deferred(key, reference.field, value))
                    row = row.model_copy(update={reference.field: None})
                    row.__pydantic_fields_set__.discard(reference.field)
                result.append(row)
            rows, result = result, []
        return rows

    def finish(self) -> None:
        """Link the references deferred to rows of later batches."""
        if not self._deferred:
            return
        references = {r.field: r for r in REFERENCES[self.kind.schema] if r.in_batch}
        for field in sorted({d.field for d in self._deferred}):
            reference = references[field]
            model: Any = reference.model
            deferred = [d for d in self._deferred if d.field == field]
            wanted = {self.matcher.renamed.get(d.value, d.value) for d in deferred}
            ids = ids_by_key(self.session, model, "external_id", wanted)
            records = {
                r.external_id: r
                for chunk in _chunks(sorted({d.key for d in deferred}))
                for r in self.session.query(model).filter(model.external_id.in_(chunk))
            }
            for item in deferred:
                value = self.matcher.renamed.get(item.value, item.value)
                setattr(records[item.key], reference.target, ids.get(value))
            if model is Account:
                hierarchy.refuse_cycles(self.session, [records[d.key].id for d in deferred])
        self.session.flush()


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]
