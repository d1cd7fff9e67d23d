"""File imports: read, map, validate every row, then write — or refuse the whole file.

Validation runs over the entire file before anything is written, so a file with one bad row
stores nothing; the caller's transaction makes the write itself all-or-nothing. Operational
records are upserted by external id (re-importing a file changes nothing); events go to the event
store, deduplicated by message id.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.errors import RowError
from tenure.ingest.batches import BatchWriter, FileIndex
from tenure.ingest.identities import IdentityMatcher
from tenure.ingest.request import ImportReport, ImportRequest, NoProgress, Progress
from tenure.ingest.validation import reject_if_errors, sorted_errors, validated_rows
from tenure.model.base import utcnow
from tenure.store.events import EVENT_SCHEMA, EventStore, events_table_from_rows


def read_valid_rows(
    request: ImportRequest, *, progress: Progress | None = None
) -> list[tuple[int, BaseModel]]:
    """Every row of the file, validated, with its line; RejectedFile if any row is bad.

    References to other records are not checked here (that needs the database).
    """
    source, validator, validated = validated_rows(request, progress or NoProgress())
    rows = list(validated)
    reject_if_errors(source, validator, len(rows))
    return rows


def count_valid_rows(request: ImportRequest, *, progress: Progress | None = None) -> int:
    """Check every row without keeping them (any file size); RejectedFile if any row is bad.

    References to other records are not checked here (that needs the database).
    """
    source, validator, validated = validated_rows(request, progress or NoProgress())
    count = sum(1 for _ in validated)
    reject_if_errors(source, validator, count)
    return count


# Rows written per batch: a file of any length imports in bounded memory.
RECORD_BATCH = 2_000


def import_records(
    session: Session, request: ImportRequest, *, progress: Progress | None = None
) -> ImportReport:
    """Validate the whole file, check references, then upsert it (flush only, no commit).

    Two passes over the file, neither holding its rows: the first validates every row and keeps
    only keys and references (so a bad row or a missing reference refuses the file before
    anything is written); the second writes the rows in batches of RECORD_BATCH, each matched to
    stored records on any of its identities (ingest/identities.py) and reconciled with what
    other systems set (ingest/provenance.py). Raises RejectedFile listing every bad row; nothing
    is written then.
    """
    progress = progress or NoProgress()
    kind = request.kind
    assert kind.upsert is not None, "events go through import_events"
    system = request.mapping.system if request.mapping else None
    matcher = IdentityMatcher(session, kind.name, system)
    source, validator, validated = validated_rows(request, progress)
    index = FileIndex(kind.key, matcher)
    for line, row in validated:
        index.add(line, row)
    index.keys = matcher.file_keys = validator.first_lines
    rejects: list[RowError] = []
    left_out = index.check_references(validator, skip_invalid=request.skip_invalid)
    # The valid rows (those indexed) less those naming a missing or left-out record; the invalid
    # rows were never indexed, so their lines must not be subtracted again.
    good = index.count - len(left_out)
    if request.skip_invalid:
        rejects = sorted_errors(source, validator)
        if not good and rejects:
            raise source.reject(rejects)  # not one good row: the file is refused after all
        source.errors, validator.errors = [], []
        left_out |= {error.line for error in rejects}
    reject_if_errors(source, validator, good)
    writer = BatchWriter(session, request, matcher, index)
    _, _, again = validated_rows(request, progress, check_duplicates=False)
    progress.start(f"writing {good} {kind.name}", index.count)
    batch: list[BaseModel] = []
    for line, row in again:
        progress.advance(1)
        if line in left_out:
            continue
        batch.append(row)
        if len(batch) == RECORD_BATCH:
            writer.write(batch)
            batch = []
    writer.write(batch)
    writer.finish()
    return ImportReport(
        notes=kind.notes(session) if kind.notes else [],
        entity=kind.name,
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        rows=writer.rows,
        rejected=len({error.line for error in rejects}),
        rejects=rejects,
        inserted=writer.counts.inserted,
        updated=writer.counts.updated,
        unchanged=writer.counts.unchanged,
        matched=writer.matched,
        linked_by_domain=writer.linked_by_domain,
        without_account=writer.without_account,
        conflict_count=writer.conflict_count,
        conflicts=writer.conflicts,
        identity_problems=writer.problems,
        identity_ids=writer.identity_ids,
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
    progress = progress or NoProgress()
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
    source, validator, validated = validated_rows(request, progress)
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
    reject_if_errors(source, validator, count)
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
