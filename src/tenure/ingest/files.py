"""Read CSV, JSON-lines and Parquet files as a stream of records, each with the line it came from.

Every problem is located for people: CSV lines count from 1 with the header on line 1, JSON lines
count from 1, Parquet rows count from 1. A byte that is not valid in the file's encoding is
reported on its line; an empty file, a bad header or an unreadable file refuse the file at once.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import json
import re
from collections.abc import Callable, Collection, Iterator
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

# How much of a text file is looked at to tell its encoding.
SAMPLE_BYTES = 1 << 16
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

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
    # None: told from the file (a byte-order mark, else UTF-8 if it decodes, else the best
    # guess of charset-normalizer, usually cp1252 for Windows/Excel exports).
    encoding: str | None = None
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
            self.encoding = self._resolve_encoding(handle.read(SAMPLE_BYTES))
            handle.seek(0)
            if _wide(self.encoding):
                lines = self._wide_lines(handle, advance)
            else:
                lines = self._decoded_lines(handle, advance)
            if self.format is FileFormat.csv:
                yield from self._csv_records(lines)
            else:
                yield from self._json_records(lines)

    # --- text -------------------------------------------------------------------------------

    def _resolve_encoding(self, sample: bytes) -> str:
        """The encoding to read with; refuses one that would turn the file into mojibake."""
        marked = next((name for bom, name in BOMS if sample.startswith(bom)), None)
        given = self.encoding
        if given is None:
            return marked or _guess(sample)
        if marked is not None and _wide(marked) != _wide(given):
            raise self.reject(
                [
                    RowError(
                        1,
                        None,
                        given,
                        f"the file starts with a {marked.upper()} byte-order mark, so it is not "
                        f"{given}; leave out --encoding (or pass --encoding {marked})",
                    )
                ]
            )
        if not _utf8(given) and not _wide(given) and _is_utf8(sample) and not sample.isascii():
            raise self.reject([_mojibake(sample, given)])
        return given

    def _decoded_lines(
        self, handle: BinaryIO, advance: Advance
    ) -> Iterator[tuple[int, str, str | None]]:
        """(line number, text, problem) per physical line; a bad byte becomes U+FFFD + a problem."""
        encoding = self.encoding or "utf-8"
        for number, raw in enumerate(handle, start=1):
            advance(len(raw))
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                bad = raw[error.start : error.end]
                problem = (
                    f"byte {bad.hex(' ')} at position {error.start + 1} of the line is not valid "
                    f"{encoding}{self._encoding_hint()}"
                )
                yield number, raw.decode(encoding, errors="replace"), problem
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

    def _wide_lines(
        self, handle: BinaryIO, advance: Advance
    ) -> Iterator[tuple[int, str, str | None]]:
        """UTF-16/32 lines: newlines are several bytes, so decode first, then split."""
        assert self.encoding is not None
        text = io.TextIOWrapper(handle, self.encoding, errors="replace", newline="")
        width = 4 if "32" in self.encoding else 2
        for number, line in enumerate(text, start=1):
            advance(len(line) * width)
            if number == 1:
                line = line.removeprefix("\ufeff")
            if REPLACEMENT in line:
                position = line.index(REPLACEMENT) + 1
                problem = f"character {position} of the line is not valid {self.encoding}"
                yield number, line, problem
            elif NUL in line:
                yield number, line, f"a NUL character at position {line.index(NUL) + 1}"
            else:
                yield number, line, None

    def _encoding_hint(self) -> str:
        if not _utf8(self.encoding or ""):
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


def _utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in {"utf-8", "utf-8-sig"}


def _wide(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _is_utf8(sample: bytes) -> bool:
    """Whether the sample is UTF-8 (a character cut at the sample's end is allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


# What Western text read as cp1252 looks like: accented letters and typographic punctuation in
# short runs between ASCII (Köln, “quoted”, –). A CJK file read as cp1252 gives long runs.
_WESTERN = re.compile(r"[\u00a0-\u024f\u2013-\u2026\u20ac\u2122]{1,3}")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _guess(sample: bytes) -> str:
    """UTF-8 if it decodes (or is broken UTF-8); cp1252 for Western 8-bit text — the Windows and
    Excel default, which charset-normalizer cannot tell from its neighbours on a few accented
    names; else charset-normalizer's best guess (cp932, gb18030 …)."""
    if _is_utf8(sample) or _mostly_utf8(sample):
        return "utf-8"
    try:
        western = sample.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and all(
        _WESTERN.fullmatch(run) for run in _NON_ASCII_RUN.findall(western)
    ):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return best.encoding if best is not None else "cp1252"


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few bad bytes (reported on their lines), rather than another encoding."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count(REPLACEMENT)
    good = sum(1 for char in text if char > "\x7f" and char != REPLACEMENT)
    return good >= bad


def _mojibake(sample: bytes, given: str) -> RowError:
    """The refusal of an 8-bit encoding for a UTF-8 file, showing what it would have stored."""
    lines = sample.split(b"\n")
    number, raw = next((n, line) for n, line in enumerate(lines, start=1) if not line.isascii())
    words = re.findall(rb"[^\s,;\"']*[\x80-\xff][^\s,;\"']*", raw)
    word = words[0] if words else raw
    right = word.decode("utf-8", errors="ignore")
    wrong = word.decode(given, errors="replace")
    return RowError(
        number,
        None,
        right,
        f"the file is valid UTF-8: read as {given}, {right!r} would be stored as {wrong!r}; "
        "leave out --encoding",
    )


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


def has_column(columns: Collection[str], path: str) -> bool:
    """Whether a header provides ``path``, directly or as a nested (struct) column's root."""
    return path in columns or path.split(".")[0] in columns
