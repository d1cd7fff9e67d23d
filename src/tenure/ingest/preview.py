"""Before an import writes anything: a file staged for the console, the shipped mapping its header
fits, the first rows as Tenure will read them and every bad row with its line, column, value and
reason — read in one streaming pass, nothing written (the import itself reads the file again).

The console's upload is kept under the data folder's staging area between the preview and the
import (a token names it), so a 200k-row export is uploaded once and never held in memory."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import NotFound, RejectedFile, RowError
from tenure.ingest.batches import FileIndex
from tenure.ingest.files import Record
from tenure.ingest.identities import IdentityMatcher
from tenure.ingest.mappings import CUSTOM_PREFIX, Mapping, fitting_mappings
from tenure.ingest.request import ImportRequest, NoProgress, Progress
from tenure.ingest.service import check_importer
from tenure.ingest.validation import sorted_errors, validated_rows

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A staged upload nobody imported is removed the next time someone stages one after this long.
STAGED_FOR_SECONDS = 24 * 3600
REJECTS_NAME = "rows-left-out.csv"


class RowProblem(BaseModel):
    line: int = Field(description="Line of the file (the header is line 1)")
    column: str | None = Field(description="The file's column, as its header names it")
    value: str | None
    reason: str


class PreviewRow(BaseModel):
    line: int
    values: dict[str, str]


class ImportPreview(BaseModel):
    """What an import of the file would read: the mapping (found from the header when none was
    chosen), the first rows as Tenure's fields, the count of good and bad rows, the problems."""

    entity: str
    file_name: str
    mapping: str | None
    mapping_description: str | None
    # True when the mapping was found from the header, not chosen.
    detected: bool
    # A shipped mapping of another kind the header fits (the file was picked as the wrong kind).
    other_kind: str | None = None
    fields: list[str]
    rows: list[PreviewRow]
    good_rows: int
    bad_rows: int
    problems: list[RowProblem]
    problem_count: int
    # The whole file is refused whatever is chosen (header, encoding, empty file).
    refused: bool = False


def stage_upload(data_dir: Path, file_name: str, body: BinaryIO) -> str:
    """Save an upload under ``data_dir/staging`` and return the token that names it."""
    staging = data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    _remove_stale(staging)
    token = secrets.token_urlsafe(18)
    folder = staging / f"console-{token}"
    folder.mkdir()
    name = _UNSAFE.sub("_", Path(file_name or "").name).strip("._") or "upload"
    with open(folder / name, "wb") as handle:
        shutil.copyfileobj(body, handle, length=1 << 20)
    return token


def _remove_stale(staging: Path) -> None:
    cutoff = time.time() - STAGED_FOR_SECONDS
    for folder in staging.glob("console-*"):
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def staged_folder(data_dir: Path, token: str) -> Path:
    folder = data_dir / "staging" / f"console-{token}"
    if not _TOKEN.match(token) or not folder.is_dir():
        raise NotFound("that upload is no longer here (uploads are kept for a day): upload again")
    return folder


def staged_file(data_dir: Path, token: str) -> Path:
    """The uploaded file itself (not the rows-left-out file written beside it)."""
    folder = staged_folder(data_dir, token)
    files = [p for p in folder.iterdir() if p.is_file() and p.name != REJECTS_NAME]
    if not files:
        raise NotFound("the uploaded file was already imported: upload it again to re-import")
    return files[0]


def rejects_file(data_dir: Path, token: str) -> Path:
    path = staged_folder(data_dir, token) / REJECTS_NAME
    if not path.is_file():
        raise NotFound("this import left no rows out")
    return path


def _header(request: ImportRequest) -> list[str]:
    """The file's columns (JSON lines: the first record's keys), from its first record only."""
    source = request.open()
    first: Record | None = next(source.records(), None)
    if source.columns is not None:
        return source.columns
    return list(first.values) if first is not None else []


def detect_mapping(entity: str, columns: list[str]) -> tuple[Mapping | None, str | None]:
    """The shipped mapping of this kind the header fits best, and (when none of this kind fits)
    the kind whose shipped mapping it fits — the same search the CLI's refusal names."""
    fitting = fitting_mappings(columns)
    same = [m for m in fitting if m.entity == entity]
    if same:
        return same[0], None
    return None, fitting[0].entity if fitting else None


def preview_import(
    session: Session,
    request: ImportRequest,
    actor: Actor | None,
    *,
    rows_shown: int = 10,
    problems_shown: int = 200,
    progress: Progress | None = None,
) -> ImportPreview:
    """Read the file once as the import would and report it; nothing is written. With no mapping
    in the request, the shipped mapping the header fits is used (and named as found). References
    to other records (an owner, an account) are checked against the database as the import's
    first pass checks them, so the rows counted good are the rows an import would store."""
    check_importer(actor)
    detected = False
    other_kind = None
    base = {"entity": request.entity, "file_name": request.path.name}
    try:
        if request.mapping is None:
            columns = _header(request)
            found, other_kind = detect_mapping(request.entity, columns)
            known = request.kind.schema.model_fields
            foreign = [c for c in columns if c not in known and not c.startswith(CUSTOM_PREFIX)]
            if found is not None and foreign:
                request = ImportRequest(
                    request.entity,
                    request.path,
                    found,
                    request.format,
                    request.encoding,
                    request.skip_invalid,
                    request.precedence,
                )
                detected = True
        source, validator, rows = validated_rows(request, progress or NoProgress())
        index = None
        if request.kind.upsert is not None:
            system = request.mapping.system if request.mapping else None
            matcher = IdentityMatcher(session, request.kind.name, system)
            index = FileIndex(request.kind.key, matcher)
        shown: list[PreviewRow] = []
        read = 0
        for line, row in rows:
            read += 1
            if index is not None:
                index.add(line, row)
            if len(shown) < rows_shown:
                shown.append(PreviewRow(line=line, values=_cells(row)))
        unreadable = {e.line for e in source.errors + validator.errors}
        if index is not None:
            index.keys = index.matcher.file_keys = validator.first_lines
            index.check_references(validator, skip_invalid=True)
        errors = sorted_errors(source, validator)
        bad = {e.line for e in errors if e.line > 1}
        # Rows that read well but name a record that is nowhere (an owner, an account).
        good = read - len(bad - unreadable)
        shown = [r for r in shown if r.line not in bad]
    except RejectedFile as refused:
        return ImportPreview(
            **base,
            mapping=request.mapping.name if request.mapping else None,
            mapping_description=request.mapping.description if request.mapping else None,
            detected=detected,
            other_kind=other_kind,
            fields=[],
            rows=[],
            good_rows=0,
            bad_rows=0,
            problems=[_problem(e) for e in refused.errors[:problems_shown]],
            problem_count=len(refused.errors),
            refused=True,
        )
    mapping = request.mapping
    fields = list(mapping.specs()) if mapping else list(shown[0].values) if shown else []
    return ImportPreview(
        **base,
        mapping=mapping.name if mapping else None,
        mapping_description=mapping.description if mapping else None,
        detected=detected,
        other_kind=other_kind,
        fields=[f for f in fields if any(f in r.values for r in shown)] or fields,
        rows=shown,
        good_rows=good,
        bad_rows=len(bad),
        problems=[_problem(e) for e in errors[:problems_shown]],
        problem_count=len(errors),
        refused=any(e.line == 1 for e in errors) or (read == 0 and not bad),
    )


def _problem(error: RowError) -> RowProblem:
    return RowProblem(line=error.line, column=error.column, value=error.value, reason=error.reason)


def _cells(row: BaseModel) -> dict[str, str]:
    """A validated row as the preview shows it: the fields the file set, as text."""
    cells = {}
    for name, value in row.model_dump(exclude_none=True, exclude_defaults=True).items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        cells[name] = str(value)
    return cells
