"""POST /api/v1/imports/{entity}: a file as another system exported it, through a shipped or
given mapping — the same import as `tenure import ENTITY FILE` (admins)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile
from pydantic import BaseModel, Field

from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store
from tenure.errors import InvalidInput, NotFound, RejectedFile
from tenure.ingest.entities import ENTITIES
from tenure.ingest.files import FileFormat
from tenure.ingest.mappings import load_mapping, shipped_mappings
from tenure.ingest.preview import RowProblem
from tenure.ingest.request import ImportReport, ImportRequest
from tenure.ingest.runs import record_rejection
from tenure.ingest.service import check_importer, import_file, uploaded
from tenure.model.base import utcnow
from tenure.store.events import EventStore

router = APIRouter(tags=["imports"], responses=ERRORS)


class ImportResult(ImportReport):
    """What the import did; with ``skip_invalid``, the rows left out and why."""

    left_out: list[RowProblem] = Field(default_factory=list)


@router.post(
    "/imports/{entity}",
    response_model=ImportResult,
    summary="Import a file (admins): CSV, JSON lines or Parquet, all rows or none",
)
def import_upload(
    entity: str = Path(description=f"What the file holds: {', '.join(ENTITIES)}"),
    file: UploadFile = File(description="The export, named with its extension (.csv, .jsonl…)"),
    mapping: str | None = Query(
        None,
        max_length=64,
        description="A shipped mapping (GET /api/v1/imports/mappings); without one the columns "
        "must be Tenure's fields, else the refusal names the shipped mapping that fits",
    ),
    file_format: Literal["csv", "jsonl", "parquet"] | None = Query(
        None, alias="format", description="Default: from the file name's extension"
    ),
    encoding: str | None = Query(
        None, max_length=32, description="Default: told from the file (BOM, UTF-8, cp1252…)"
    ),
    skip_invalid: bool = Query(
        False, description="Store the good rows and list the others instead of refusing the file"
    ),
    actor: Actor = CurrentActor,
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> ImportResult:
    """A bad row refuses the whole file (422, every problem in ``details`` with its line,
    column, value and reason) and is logged in the import history; nothing is written."""
    check_importer(actor)
    if entity not in ENTITIES:
        raise NotFound(f"no such import {entity!r}: one of {', '.join(ENTITIES)}")
    if skip_invalid and entity == "events":
        raise InvalidInput("skip_invalid is for records; an events file is all or nothing")
    if mapping is not None and mapping not in shipped_mappings():
        raise NotFound(
            f"no shipped mapping {mapping!r}: one of {', '.join(sorted(shipped_mappings()))}"
        )
    chosen = load_mapping(mapping) if mapping else None
    started_at = utcnow()
    with uploaded(store.data_dir, file.filename or "", file.file) as path:
        request = ImportRequest(
            entity,
            path,
            chosen,
            FileFormat(file_format) if file_format else None,
            encoding,
            skip_invalid,
        )
        try:
            report = import_file(db, request, actor, store=store, started_at=started_at)
        except RejectedFile as refused:
            db.rollback()
            record_rejection(db, request, refused, started_at=started_at)
            db.commit()
            raise RejectedFile(path.name, refused.errors) from None
    problems = [RowProblem(**error.__dict__) for error in report.rejects]
    return ImportResult(**report.model_dump(), left_out=problems)


class MappingRead(BaseModel):
    name: str
    entity: str
    description: str
    columns: list[str] = Field(description="The file columns it reads")


@router.get(
    "/imports/mappings", response_model=list[MappingRead], summary="The shipped column mappings"
)
def mappings(actor: Actor = CurrentActor) -> list[MappingRead]:
    loaded = [load_mapping(name) for name in sorted(shipped_mappings())]
    return [
        MappingRead(
            name=m.name,
            entity=m.entity,
            description=m.description,
            columns=list(m.read_columns()),
        )
        for m in loaded
    ]
