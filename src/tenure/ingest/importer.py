"""File imports: read, map, validate every row, then write — or refuse the whole file.

Validation runs over the entire file before anything is written, so a file with one bad row
stores nothing; the caller's transaction makes the write itself all-or-nothing. Operational
records are upserted by external id (re-importing a file changes nothing); events go to the event
store, deduplicated by message id.
"""

from __future__ import annotations

import codecs
import csv
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.schemas import (
    AccountCreate,
    ContactCreate,
    ContractCreate,
    FeatureCreate,
    InputModel,
    StoredDatetime,
    SurveyResponseCreate,
    TicketCreate,
    TouchpointCreate,
    UpsertCounts,
    UtcDatetime,
    nul_in,
)
from tenure.errors import InvalidInput, RejectedFile, RowError
from tenure.ingest.files import FileFormat, Record, SourceFile, detect_format, has_column
from tenure.ingest.mappings import CUSTOM_PREFIX, Mapping, MappingProblem, fitting_mappings
from tenure.model import ImportRun
from tenure.model.base import utcnow
from tenure.store.events import EVENT_SCHEMA, EventStore, events_table_from_rows


class Progress(Protocol):
    """Where long work reports how far it got (the CLI draws a rich progress bar)."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, amount: int) -> None: ...


class _NoProgress:
    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, amount: int) -> None:
        return None


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


@dataclass(frozen=True)
class EntityKind:
    name: str
    schema: type[BaseModel]
    key: str
    upsert: Callable[[Session, Any], UpsertCounts] | None


ENTITIES: dict[str, EntityKind] = {
    kind.name: kind
    for kind in (
        EntityKind("accounts", AccountCreate, "external_id", service.upsert_accounts),
        EntityKind("contacts", ContactCreate, "external_id", service.upsert_contacts),
        EntityKind("contracts", ContractCreate, "external_id", service.upsert_contracts),
        EntityKind("features", FeatureCreate, "key", service.upsert_features),
        EntityKind("events", EventRow, "message_id", None),
        EntityKind("surveys", SurveyResponseCreate, "external_id", service.upsert_survey_responses),
        EntityKind("tickets", TicketCreate, "external_id", service.upsert_tickets),
        EntityKind("touchpoints", TouchpointCreate, "external_id", service.upsert_touchpoints),
    )
}


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
        ]
        if unknown:
            raise InvalidInput(
                f"mapping {mapping.name!r} names fields {self.entity} do not have: "
                f"{', '.join(unknown)} (fields: {', '.join(fields)})"
            )


# --- validation ------------------------------------------------------------------------------


class _Validator:
    """Turns records into validated rows, collecting every problem with its line and column."""

    def __init__(self, request: ImportRequest, source: SourceFile) -> None:
        self.request = request
        self.source = source
        self.schema = request.kind.schema
        self.errors: list[RowError] = []
        self._first_line: dict[str, int] = {}
        self._has_custom = "custom" in self.schema.model_fields
        # File header → the mapping's spelling, where they differ only in case (Data Loader's
        # older exports write NAME, PARENTID for the API names Name, ParentId).
        self._renamed: dict[str, str] = {}

    def column_of(self, field: str) -> str:
        return self.request.mapping.source_of(field) if self.request.mapping else field

    def check_header(self, first: Record | None = None) -> None:
        """Refuse a header lacking a required column, or (without a mapping) with unknown ones —
        then naming the shipped mapping that fits the file, if one does. JSON lines have no
        header: their first record's keys stand in for it to suggest a mapping."""
        columns = self.source.columns
        if columns is None:
            keys = list(first.values) if first is not None else []
            if self.request.mapping is None and self._unknown(keys):
                self.errors.append(self._mapping_hint(keys))  # besides each row's own errors
            return
        mapping = self.request.mapping
        errors = self._match_mapping_columns(columns) if mapping else []
        if mapping is not None:
            columns = [self._renamed.get(column, column) for column in columns]
        for name, info in self.schema.model_fields.items():
            wanted = mapping.source_columns(name) if mapping else [name]
            if info.is_required() and wanted and not any(has_column(columns, c) for c in wanted):
                errors.append(RowError(1, " or ".join(wanted), None, "required column is missing"))
        if mapping is None:
            unknown = self._unknown(columns)
            errors.extend(
                RowError(
                    1,
                    column,
                    None,
                    f"unknown column; {self.request.entity} take: "
                    f"{', '.join(self.schema.model_fields)}",
                )
                for column in unknown
            )
            if unknown:
                errors.append(self._mapping_hint(columns))
        if errors:
            raise self.source.reject(errors)

    def _unknown(self, columns: list[str]) -> list[str]:
        return [c for c in columns if c not in self.schema.model_fields and not self._custom(c)]

    def _mapping_hint(self, columns: list[str]) -> RowError:
        """Which shipped mapping fits a file imported without one (or that none does)."""
        fitting = fitting_mappings(columns)
        same = [m for m in fitting if m.entity == self.request.entity]
        if same:
            reason = f"the columns fit the shipped mapping {same[0].name!r}: pass -m {same[0].name}"
        elif fitting:
            other = fitting[0]
            reason = (
                f"the columns fit the shipped mapping {other.name!r}, which is for "
                f"{other.entity}: run `tenure import {other.entity} FILE -m {other.name}`"
            )
        else:
            reason = (
                "no shipped mapping fits these columns (`tenure import mappings`); name Tenure's "
                "fields in the header, or write a mapping (docs/imports.md, Column mappings)"
            )
        return RowError(1, None, None, reason)

    def _match_mapping_columns(self, columns: list[str]) -> list[RowError]:
        """Every column the mapping reads must be in the header (ignoring case): a missing one
        would otherwise read as empty and wipe that field on every record."""
        mapping = self.request.mapping
        assert mapping is not None
        by_lower: dict[str, str] = {}
        for column in columns:
            by_lower.setdefault(column.lower(), column)
        errors = []
        for wanted, field in mapping.read_columns().items():
            if has_column(columns, wanted):
                continue
            found = by_lower.get(wanted.lower()) or by_lower.get(wanted.split(".")[0].lower())
            if found is not None and not has_column(list(self._renamed.values()), wanted):
                root = wanted if found.lower() == wanted.lower() else wanted.split(".")[0]
                self._renamed[found] = root
                continue
            if self.schema.model_fields.get(field.split(".")[0], None) is not None and (
                self.schema.model_fields[field.split(".")[0]].is_required()
            ):
                continue  # reported below as a missing required column
            errors.append(
                RowError(
                    1,
                    wanted,
                    None,
                    f"mapping {mapping.name!r} reads this column (for {field}) but the file "
                    "has no such column; add it to the export or remove it from a copy of "
                    "the mapping",
                )
            )
        return errors

    def _custom(self, column: str) -> bool:
        return self._has_custom and column.startswith(CUSTOM_PREFIX)

    def fields(self, record: Record) -> dict[str, Any] | None:
        # CSV lines were checked for NUL as they were read; JSON and Parquet values are checked
        # here so the error names the column.
        bad = None
        if self.source.format is not FileFormat.csv:
            bad = next((column for column, value in record.values.items() if nul_in(value)), None)
        if bad is not None:
            reason = "contains a NUL character (0x00)"
            self.errors.append(RowError(record.line, bad, None, reason))
            return None
        if self.request.mapping is not None:
            values = record.values
            if self._renamed:
                values = {self._renamed.get(k, k): v for k, v in values.items()}
            try:
                return self.request.mapping.apply(values)
            except MappingProblem as problem:
                self.errors.append(
                    RowError(record.line, problem.column, _shown(problem.value), problem.reason)
                )
                return None
        if not self._has_custom:
            return record.values
        values = dict(record.values)
        for column in [c for c in values if c.startswith(CUSTOM_PREFIX)]:
            value = values.pop(column)
            if value is not None:
                values.setdefault("custom", {})[column.removeprefix(CUSTOM_PREFIX)] = value
        return values

    def validate(self, record: Record) -> BaseModel | None:
        values = self.fields(record)
        if values is None:
            return None
        try:
            row = self.schema.model_validate(values)
        except ValidationError as error:
            self.errors.extend(self._row_errors(record, error))
            return None
        key = str(getattr(row, self.request.kind.key))
        first = self._first_line.setdefault(key, record.line)
        if first != record.line:
            self.errors.append(
                RowError(
                    record.line,
                    self.column_of(self.request.kind.key),
                    key,
                    f"duplicate {self.request.kind.key}: already on line {first}",
                )
            )
            return None
        return row

    def _row_errors(self, record: Record, error: ValidationError) -> Iterator[RowError]:
        for problem in error.errors(include_url=False):
            loc = problem["loc"]
            field = str(loc[0]) if loc else _blamed_field(problem["msg"], self.schema)
            column = self.column_of(field) if field else None
            if field == "custom" and len(loc) > 1:
                column = f"{CUSTOM_PREFIX}{loc[1]}"
            # An empty cell reaches a required field as None: say so, not "not a string".
            missing = problem["type"] == "missing" or (
                problem["input"] is None and problem["type"].endswith("_type")
            )
            value = None if missing or not loc else _shown(problem["input"])
            reason = "required value is missing" if missing else problem["msg"]
            yield RowError(record.line, column, value, reason.removeprefix("Value error, "))


def _blamed_field(message: str, schema: type[BaseModel]) -> str | None:
    """Cross-field rules name the field they blame first ("ends_on is before starts_on")."""
    words = message.removeprefix("Value error, ").split(maxsplit=1)
    first = words[0].rstrip(":") if words else ""
    return first if first in schema.model_fields else None


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _validated_rows(
    request: ImportRequest, progress: Progress
) -> tuple[SourceFile, _Validator, Iterator[tuple[int, BaseModel]]]:
    source = request.open()
    validator = _Validator(request, source)
    progress.start(f"checking {request.path.name}", source.size)

    def rows() -> Iterator[tuple[int, BaseModel]]:
        records = source.records(progress.advance)
        first = next(records, None)  # reads the header, so it can be checked first
        validator.check_header(first)
        for record in [first] if first else []:
            row = validator.validate(record)
            if row is not None:
                yield record.line, row
        for record in records:
            row = validator.validate(record)
            if row is not None:
                yield record.line, row

    return source, validator, rows()


def _sorted_errors(source: SourceFile, validator: _Validator) -> list[RowError]:
    return sorted(source.errors + validator.errors, key=lambda e: (e.line, e.column or ""))


def _reject_if_errors(source: SourceFile, validator: _Validator, row_count: int) -> None:
    errors = _sorted_errors(source, validator)
    if errors:
        raise source.reject(errors)
    if row_count == 0:
        raise source.reject(
            [
                RowError(
                    2 if source.columns else 1,
                    None,
                    None,
                    "the file has no rows (a truncated export?)",
                )
            ]
        )


# --- operational records ---------------------------------------------------------------------


def read_valid_rows(
    request: ImportRequest, *, progress: Progress | None = None
) -> list[tuple[int, BaseModel]]:
    """Every row of the file, validated, with its line; RejectedFile if any row is bad.

    References to other records are not checked here (that needs the database).
    """
    source, validator, validated = _validated_rows(request, progress or _NoProgress())
    rows = list(validated)
    _reject_if_errors(source, validator, len(rows))
    return rows


def count_valid_rows(request: ImportRequest, *, progress: Progress | None = None) -> int:
    """Check every row without keeping them (any file size); RejectedFile if any row is bad.

    References to other records are not checked here (that needs the database).
    """
    source, validator, validated = _validated_rows(request, progress or _NoProgress())
    count = sum(1 for _ in validated)
    _reject_if_errors(source, validator, count)
    return count


def import_records(
    session: Session, request: ImportRequest, *, progress: Progress | None = None
) -> ImportReport:
    """Validate the whole file, check references, then upsert it (flush only, no commit).

    Raises RejectedFile listing every bad row; nothing is written then.
    """
    progress = progress or _NoProgress()
    kind = request.kind
    assert kind.upsert is not None, "events go through import_events"
    source, validator, validated = _validated_rows(request, progress)
    lines: list[int] = []
    rows: list[BaseModel] = []
    for line, row in validated:
        lines.append(line)
        rows.append(row)
    rejects: list[RowError] = []
    while True:  # leaving a row out can leave another (its child) without its reference
        missing = [
            RowError(lines[m.index], validator.column_of(m.field), m.value, m.message)
            for m in service.missing_references(session, rows)
        ]
        validator.errors.extend(missing)
        if not (request.skip_invalid and missing):
            break
        bad = {error.line for error in missing}
        kept = [(line, row) for line, row in zip(lines, rows, strict=True) if line not in bad]
        lines, rows = [line for line, _ in kept], [row for _, row in kept]
    if request.skip_invalid:
        rejects = _sorted_errors(source, validator)
        if not rows and rejects:
            raise source.reject(rejects)  # not one good row: the file is refused after all
        source.errors, validator.errors = [], []
    _reject_if_errors(source, validator, len(rows))
    progress.start(f"writing {len(rows)} {kind.name}", None)
    counts = kind.upsert(session, rows)
    progress.advance(len(rows))
    return ImportReport(
        entity=kind.name,
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        rows=len(rows),
        rejected=len({error.line for error in rejects}),
        rejects=rejects,
        **counts.model_dump(),
    )


# --- events ----------------------------------------------------------------------------------

EVENT_BATCH = 50_000


def import_events(
    store: EventStore,
    request: ImportRequest,
    *,
    received_at: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the whole file, then stream it into the event store in batches.

    The file is parsed once: valid rows are staged in a Parquet file under the data folder while
    the rest of the file is checked, and written to the store only when every row passed.
    Events already stored (same message id on the same day) are skipped, so a re-import writes
    nothing. Events whose account is not yet known are kept: they are attributed when metrics
    are computed, as events from the ingest API are.
    """
    progress = progress or _NoProgress()
    staging = store.data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging, prefix="import-") as folder:
        staged = Path(folder) / "events.parquet"
        count = _stage_events(request, staged, received_at or utcnow(), progress)
        written = duplicates = 0
        progress.start(f"writing {count} events", count)
        for batch in pq.ParquetFile(staged).iter_batches(batch_size=EVENT_BATCH):
            result = store.write_parquet(pa.Table.from_batches([batch]), dedupe=True)
            written, duplicates = written + result.written, duplicates + result.duplicates
            progress.advance(batch.num_rows)
    return ImportReport(
        entity="events",
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        rows=count,
        inserted=written,
        updated=0,
        unchanged=duplicates,
    )


def _stage_events(
    request: ImportRequest, staged: Path, received_at: datetime, progress: Progress
) -> int:
    """Check every row, writing the valid ones to ``staged``; RejectedFile if any row is bad."""
    source, validator, validated = _validated_rows(request, progress)
    source_name = f"import:{request.path.name}"
    count = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(staged, EVENT_SCHEMA) as writer:
        for _, row in validated:
            count += 1
            if validator.errors or source.errors:
                continue  # the file will be refused: keep checking, stop staging
            batch.append(_event_values(row, source_name, received_at))
            if len(batch) == EVENT_BATCH:
                writer.write_table(events_table_from_rows(batch))
                batch = []
        if batch:
            writer.write_table(events_table_from_rows(batch))
    _reject_if_errors(source, validator, count)
    return count


def _event_values(row: BaseModel, source_name: str, received_at: datetime) -> dict[str, Any]:
    values = row.model_dump()
    properties = values.pop("properties")
    return {
        **values,
        "source": source_name,
        "received_at": received_at,
        "properties": None if properties is None else json.dumps(properties, sort_keys=True),
    }


# --- the import history ----------------------------------------------------------------------


def record_run(session: Session, report: ImportReport, *, started_at: datetime) -> ImportRun:
    """Log a succeeded import; in the same transaction as its rows, so the log never lies."""
    run = ImportRun(
        entity=report.entity,
        file_name=report.file_name,
        mapping=report.mapping,
        status="succeeded",
        rows=report.rows,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        errors=_stored_errors(report.rejects),
        started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def record_rejection(
    session: Session,
    request: ImportRequest,
    rejected: RejectedFile,
    *,
    started_at: datetime,
) -> ImportRun:
    """Log a refused file with its row errors. Call it in a transaction of its own, after the
    import's transaction has rolled back."""
    run = ImportRun(
        entity=request.entity,
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        status="rejected",
        errors=_stored_errors(rejected.errors),
        started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


# Errors kept in the import history per run: enough to fix a file, bounded for the database.
STORED_ERRORS = 10_000


def write_rejects(path: Path, rejects: Sequence[RowError]) -> None:
    """The rows ``skip_invalid`` left out, one problem per line: line, column, value, reason."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "column", "value", "reason"])
        writer.writerows([e.line, e.column or "", e.value or "", e.reason] for e in rejects)


def _stored_errors(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    stored = [error.__dict__ for error in errors[:STORED_ERRORS]]
    if len(errors) > STORED_ERRORS:
        more = len(errors) - STORED_ERRORS
        stored.append(
            RowError(
                errors[STORED_ERRORS].line, None, None, f"… and {more} more errors, not stored"
            ).__dict__
        )
    return stored


class ImportRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    file_name: str
    mapping: str | None
    status: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]]
    started_at: StoredDatetime
    finished_at: StoredDatetime | None


def list_runs(session: Session, *, limit: int = 20) -> list[ImportRun]:
    """The most recent imports first."""
    query = sa.select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
    return list(session.scalars(query.limit(limit)))
