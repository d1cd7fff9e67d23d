"""Turning a file's records into validated rows, every problem located by line and column.

Validation runs over the entire file before anything is written, so a file with one bad row
stores nothing (unless the request skips invalid rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from tenure.accounts.schemas import nul_in
from tenure.errors import RowError
from tenure.ingest.files import FileFormat, Record, SourceFile, has_column
from tenure.ingest.mappings import CUSTOM_PREFIX, MappingProblem, fitting_mappings
from tenure.ingest.request import ImportRequest, Progress


class RowValidator:
    """Turns records into validated rows, collecting every problem with its line and column."""

    def __init__(self, request: ImportRequest, source: SourceFile) -> None:
        self.request = request
        self.source = source
        self.schema = request.kind.schema
        self.errors: list[RowError] = []
        # Each key's line (duplicates are refused); kept by the import as the file's keys.
        self.first_lines: dict[str, int] = {}
        # False on a second pass over a file whose keys were checked on the first.
        self.check_duplicates = True
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
        optional = set(mapping.read_columns()) - set(mapping.read_columns(optional=False))
        for wanted, field in mapping.read_columns().items():
            if has_column(columns, wanted):
                continue
            found = by_lower.get(wanted.lower()) or by_lower.get(wanted.split(".")[0].lower())
            if found is not None and not has_column(list(self._renamed.values()), wanted):
                root = wanted if found.lower() == wanted.lower() else wanted.split(".")[0]
                self._renamed[found] = root
                continue
            if wanted in optional:
                continue
            if self.schema.model_fields.get(field.split(".")[0], None) is not None and (
                self.schema.model_fields[field.split(".")[0]].is_required()
            ):
                continue  # reported below as a missing required column
            if wanted in optional:
                continue  # the export may lack it: the field is left as stored
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
        if not self.check_duplicates:
            return row
        key = str(getattr(row, self.request.kind.key))
        first = self.first_lines.setdefault(key, record.line)
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


def validated_rows(
    request: ImportRequest, progress: Progress, *, check_duplicates: bool = True
) -> tuple[SourceFile, RowValidator, Iterator[tuple[int, BaseModel]]]:
    source = request.open()
    validator = RowValidator(request, source)
    validator.check_duplicates = check_duplicates
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


def sorted_errors(source: SourceFile, validator: RowValidator) -> list[RowError]:
    return sorted(source.errors + validator.errors, key=lambda e: (e.line, e.column or ""))


def reject_if_errors(source: SourceFile, validator: RowValidator, row_count: int) -> None:
    errors = sorted_errors(source, validator)
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
