"""Read CSV, JSON-lines and Parquet files as a stream of records, each with the line it came from.

Every problem is located for people: CSV lines count from 1 with the header on line 1, JSON lines
count from 1, Parquet rows count from 1. A byte that is not valid in the file's encoding is
reported on its line; an empty file, a bad header or an unreadable file refuse the file at once.
"""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from tenure.errors import RejectedFile, RowError

REPLACEMENT = "\ufffd"
NUL = "\x00"
# Whole-cell size limit: a field larger than this is a broken quote, not data.
csv.field_size_limit(16 * 1024 * 1024)


class FileFormat(enum.StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


EXTENSIONS = {
    ".csv": FileFormat.csv,
    ".jsonl": FileFormat.jsonl,
    ".ndjson": FileFormat.jsonl,
    ".parquet": FileFormat.parquet,
    ".pq": FileFormat.parquet,
}

# Called with how much more of the file has been read (bytes for CSV/JSON lines, rows for Parquet).
Advance = Callable[[int], None]


def detect_format(path: Path, given: FileFormat | str | None = None) -> FileFormat:
    if given:
        return FileFormat(given)
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise RejectedFile(
            str(path),
            [
                RowError(
                    1,
                    None,
                    path.suffix or None,
                    "cannot tell the format from the file name; "
                    "name it .csv, .jsonl or .parquet, or pass --format",
                )
            ],
        ) from None


@dataclass(frozen=True)
class Record:
    line: int
    values: dict[str, Any]


@dataclass
class SourceFile:
    """One file being read. ``columns`` is the header (None for JSON lines, which have none);
    ``errors`` collects bad bytes and bad lines found while reading, so one pass finds them all."""

    path: Path
    format: FileFormat
    encoding: str = "utf-8"
    columns: list[str] | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Progress total: bytes for text files, rows for Parquet."""
        if self.format is FileFormat.parquet:
            return _parquet_file(self.path).metadata.num_rows
        return self.path.stat().st_size

    def reject(self, errors: list[RowError]) -> RejectedFile:
        return RejectedFile(str(self.path), errors)

    def records(self, advance: Advance | None = None) -> Iterator[Record]:
        """Stream the file's records. Raises RejectedFile for a file that cannot be read at all."""
        self.errors = []
        advance = advance or (lambda _n: None)
        if self.format is FileFormat.parquet:
            yield from self._parquet_records(advance)
            return
        if self.path.stat().st_size == 0:
            raise self.reject([RowError(1, None, None, "the file is empty")])
        with open(self.path, "rb") as handle:
            lines = self._decoded_lines(handle, advance)
            if self.format is FileFormat.csv:
                yield from self._csv_records(lines)
            else:
                yield from self._json_records(lines)

    # --- text -------------------------------------------------------------------------------

    def _decoded_lines(
        self, handle: BinaryIO, advance: Advance
    ) -> Iterator[tuple[int, str, str | None]]:
        """(line number, text, problem) per physical line; a bad byte becomes U+FFFD + a problem."""
        for number, raw in enumerate(handle, start=1):
            advance(len(raw))
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError as error:
                bad = raw[error.start : error.end]
                problem = (
                    f"byte {bad.hex(' ')} at position {error.start + 1} of the line is not valid "
                    f"{self.encoding}{self._encoding_hint()}"
                )
                yield number, raw.decode(self.encoding, errors="replace"), problem
                continue
            if NUL in text:
                # PostgreSQL cannot store it, and it usually means a UTF-16 or binary file.
                position = text.index(NUL) + 1
                yield (
                    number,
                    text,
                    f"a NUL character at position {position} (a UTF-16 or binary file?)",
                )
            else:
                yield number, text, None

    def _encoding_hint(self) -> str:
        if self.encoding.replace("-", "").replace("_", "").lower() not in {"utf8", "utf8sig"}:
            return ""
        # Exports saved by Excel on Windows are the usual cause.
        return "; save the file as UTF-8, or pass --encoding cp1252 if it is a Windows/Excel export"

    def _csv_records(self, lines: Iterator[tuple[int, str, str | None]]) -> Iterator[Record]:
        problems: dict[int, str] = {}
        last = [0]  # the last physical line handed to the CSV reader

        def text() -> Iterator[str]:
            for number, line, problem in lines:
                last[0] = number
                if problem:
                    problems[number] = problem
                yield line

        reader = csv.reader(text(), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise self.reject([RowError(1, None, None, "the file is empty")]) from None
        except csv.Error as error:
            raise self.reject([RowError(1, None, None, f"unreadable header: {error}")]) from None
        self.columns = [name.strip() for name in header]
        self._check_header(problems.get(1))
        end = last[0]
        while True:
            start = end + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self.errors.append(RowError(start, None, None, f"not valid CSV: {error}"))
                end = last[0]
                continue
            end = last[0]
            if not cells or cells == [""]:
                continue
            bad = [n for n in range(start, end + 1) if n in problems]
            if bad:
                # A broken row may also have the wrong number of fields: name what matches.
                pairs = zip(self.columns, cells, strict=False)
                column = next((c for c, v in pairs if REPLACEMENT in v or NUL in v), None)
                self.errors.append(RowError(bad[0], column, None, problems[bad[0]]))
            elif len(cells) != len(self.columns):
                self.errors.append(
                    RowError(
                        start,
                        None,
                        None,
                        f"the row has {len(cells)} fields but the header has {len(self.columns)}",
                    )
                )
            else:
                yield Record(
                    start,
                    {c: (v if v != "" else None) for c, v in zip(self.columns, cells, strict=True)},
                )

    def _check_header(self, problem: str | None) -> None:
        assert self.columns is not None
        if problem:
            raise self.reject([RowError(1, None, None, problem)])
        errors = [
            RowError(1, None, None, f"column {position} of the header has no name")
            for position, name in enumerate(self.columns, start=1)
            if not name
        ]
        seen: set[str] = set()
        for name in self.columns:
            if name and name in seen:
                errors.append(RowError(1, name, None, "the header names this column twice"))
            seen.add(name)
        if errors:
            raise self.reject(errors)

    def _json_records(self, lines: Iterator[tuple[int, str, str | None]]) -> Iterator[Record]:
        any_line = False
        for number, line, problem in lines:
            if not line.strip():
                continue
            any_line = True
            if problem:
                self.errors.append(RowError(number, None, None, problem))
                continue
            try:
                value = json.loads(line, parse_constant=_refuse_constant)
            except RecursionError:
                self.errors.append(RowError(number, None, None, "JSON nested too deeply"))
                continue
            except ValueError as error:
                self.errors.append(RowError(number, None, _clip(line), f"not valid JSON: {error}"))
                continue
            if not isinstance(value, dict):
                self.errors.append(
                    RowError(number, None, _clip(line), "each line must be a JSON object {…}")
                )
                continue
            yield Record(number, value)
        if not any_line:
            raise self.reject([RowError(1, None, None, "the file is empty")])

    # --- Parquet ----------------------------------------------------------------------------

    def _parquet_records(self, advance: Advance) -> Iterator[Record]:
        parquet = _parquet_file(self.path)
        self.columns = list(parquet.schema_arrow.names)
        self._check_header(None)
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=10_000):
                for values in batch.to_pylist():
                    number += 1
                    yield Record(number, values)
                advance(batch.num_rows)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise self.reject(
                [RowError(number + 1, None, None, f"unreadable Parquet data: {error}")]
            ) from None


def _parquet_file(path: Path) -> Any:
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise RejectedFile(str(path), [RowError(1, None, None, "the file is empty")])
    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as error:
        raise RejectedFile(
            str(path), [RowError(1, None, None, f"not a readable Parquet file: {error}")]
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _clip(text: str, limit: int = 80) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lookup(values: dict[str, Any], path: str) -> Any:
    """A column's value: the flat key if present (``plan.nickname`` in a CSV header), else the
    nested path (``plan`` → ``nickname``; ``items.data.0.price`` indexes lists)."""
    if path in values:
        return values[path]
    current: Any = values
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def has_column(columns: list[str], path: str) -> bool:
    """Whether a header provides ``path``, directly or as a nested (struct) column's root."""
    return path in columns or path.split(".")[0] in columns
