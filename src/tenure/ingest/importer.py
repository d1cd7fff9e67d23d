"""File imports: read, map, validate every row, then write — or refuse the whole file.

Validation runs over the entire file before anything is written, so a file with one bad row
stores nothing; the caller's transaction makes the write itself all-or-nothing. Operational
records are upserted by external id (re-importing a file changes nothing); events go to the event
store, deduplicated by message id.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, RejectedFile, RowError
from tenure.ingest.batches import BatchWriter, FileIndex
from tenure.ingest.event_files import (
    BadRows,
    EventBatch,
    is_segment_lines,
    parquet_event_batches,
    parquet_events_readable,
    segment_line_batches,
)
from tenure.ingest.files import FileFormat, detect_format
from tenure.ingest.identities import IdentityMatcher
from tenure.ingest.request import ImportReport, ImportRequest, NoProgress, Progress
from tenure.ingest.segment_calls import IdentityMessage
from tenure.ingest.segment_identities import apply_identities
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


def count_valid_events(request: ImportRequest, *, progress: Progress | None = None) -> int:
    """Check every row of an events file as its import would, writing nothing."""
    batches = _batch_reader(request, utcnow())
    if batches is None:
        return count_valid_rows(request, progress=progress)
    bad = BadRows()
    count = sum(batch.rows for batch in batches(bad))
    if bad:
        raise RejectedFile(request.path.name, bad.listed())
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
    other systems set (ingest/provenance.py). A file of one batch (a sync's) is read once: the
    first pass keeps its rows. Raises RejectedFile listing every bad row; nothing is written
    then.
    """
    progress = progress or NoProgress()
    kind = request.kind
    assert kind.upsert is not None, "events go through import_events"
    system = request.mapping.system if request.mapping else None
    matcher = IdentityMatcher(session, kind.name, system)
    source, validator, validated = validated_rows(request, progress)
    index = FileIndex(kind.key, matcher)
    # A file of at most one batch (every sync batch) keeps its rows from the first pass: the
    # second pass would parse and validate them again for the very same rows.
    kept: list[tuple[int, BaseModel]] | None = []
    for line, row in validated:
        index.add(line, row)
        if kept is not None:
            kept.append((line, row))
            kept = kept if len(kept) <= RECORD_BATCH else None
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
    again = (
        iter(kept)
        if kept is not None
        else validated_rows(request, progress, check_duplicates=False)[2]
    )
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
    session: Session | None = None,
    received_at: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the whole file, then stream it into the event store in batches.

    The file is parsed once: valid rows are staged in a Parquet file under the data folder while
    the rest of the file is checked, and written to the store only when every row passed.
    Events already stored (same message id on the same day) are skipped, so a re-import writes
    nothing. Events whose account is not yet known are kept: they are attributed when metrics
    are computed, as events from the ingest API are. Without a mapping, Segment-spec JSON lines
    and Parquet in the event columns are read in batches (``ingest/event_files.py``); the
    identify, group and alias calls of a Segment file are applied through ``session`` as the
    HTTP endpoint applies them.
    """
    progress = progress or NoProgress()
    received_at = received_at or utcnow()
    staging = store.data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    identities: list[IdentityMessage] = []
    with tempfile.TemporaryDirectory(dir=staging, prefix="import-") as folder:
        staged = Path(folder) / "events.parquet"
        batches = _batch_reader(request, received_at)
        if batches is None:
            count = _stage_events(request, staged, received_at, progress)
        else:
            count, identities = _stage_batches(request, batches, staged, progress)
        written = duplicates = 0
        progress.start(f"writing {count} events", count)
        for batch in pq.ParquetFile(staged).iter_batches(batch_size=EVENT_BATCH):
            result = store.write_parquet(pa.Table.from_batches([batch]), dedupe=True)
            written, duplicates = written + result.written, duplicates + result.duplicates
            progress.advance(batch.num_rows)
    if identities:
        if session is None:
            raise InvalidInput("identify, group and alias calls need the database: none was given")
        for start in range(0, len(identities), RECORD_BATCH):
            apply_identities(
                session,
                identities[start : start + RECORD_BATCH],
                source=_source_name(request),
                received_at=received_at,
            )
    return ImportReport(
        entity="events",
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        rows=count,
        inserted=written,
        updated=0,
        unchanged=duplicates,
    )


def _source_name(request: ImportRequest) -> str:
    return f"import:{request.path.name}"


BatchReader = Callable[[BadRows], Iterator[EventBatch]]


def _batch_reader(request: ImportRequest, received_at: datetime) -> BatchReader | None:
    """The batch reader for a file that needs no mapping, or None (read row by row)."""
    if request.mapping is not None:
        return None
    file_format = detect_format(request.path, request.format)
    source = _source_name(request)
    if file_format is FileFormat.jsonl and is_segment_lines(request.path):
        return functools.partial(
            segment_line_batches, request.path, source=source, received_at=received_at
        )
    if file_format is FileFormat.parquet and parquet_events_readable(request.path):
        return functools.partial(
            parquet_event_batches, request.path, source=source, received_at=received_at
        )
    return None


def _stage_batches(
    request: ImportRequest, batches: BatchReader, staged: Path, progress: Progress
) -> tuple[int, list[IdentityMessage]]:
    """Check every row, staging the batches while none is bad; RejectedFile naming the bad rows."""
    bad = BadRows()
    identities: list[IdentityMessage] = []
    count = 0
    progress.start(f"checking {request.path.name}", None)
    with pq.ParquetWriter(staged, EVENT_SCHEMA) as writer:
        for batch in batches(bad):
            count += batch.rows
            progress.advance(batch.rows)
            if not bad:
                writer.write_table(batch.events)
                identities += batch.identities
    if bad:
        raise RejectedFile(request.path.name, bad.listed())
    if not count:
        raise RejectedFile(request.path.name, [RowError(1, None, None, "the file is empty")])
    return count, identities


def _stage_events(
    request: ImportRequest, staged: Path, received_at: datetime, progress: Progress
) -> int:
    """Check every row, writing the valid ones to ``staged``; RejectedFile if any row is bad."""
    source, validator, validated = validated_rows(request, progress)
    source_name = _source_name(request)
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
