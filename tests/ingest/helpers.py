"""Write the same rows as CSV, JSON lines or Parquet, and run imports the way the CLI does."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from tenure.ingest.importer import import_records
from tenure.ingest.mappings import load_mapping
from tenure.ingest.request import ImportReport, ImportRequest

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = ("csv", "jsonl", "parquet")


def write_rows(folder: Path, name: str, fmt: str, rows: Sequence[dict[str, Any]]) -> Path:
    """Lists become ``a;b`` in CSV; JSON lines and Parquet keep real types."""
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        columns = list(dict.fromkeys(c for row in rows for c in row))
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()}
                )
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows))
    else:
        # from_pylist takes its columns from the first row: give every row every column.
        columns = list(dict.fromkeys(c for row in rows for c in row))
        pq.write_table(
            pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), path
        )
    return path


def run_import(
    session: Session, entity: str, path: Path, mapping: str | None = None
) -> ImportReport:
    request = ImportRequest(entity, path, load_mapping(mapping) if mapping else None)
    return import_records(session, request)


def counts(report: ImportReport) -> tuple[int, int, int]:
    return report.inserted, report.updated, report.unchanged
