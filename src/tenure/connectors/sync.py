"""A sync run: each object's batches stored through the file importer, its cursor moved only in
the batch's own transaction, every object's outcome recorded.

A batch is written as JSON lines and imported with the object's shipped mapping and
``skip_invalid`` — the very code path of ``tenure import … --mapping … --skip-invalid`` — so a
synced record and an imported one are the same record. The cursor is saved in the transaction that
stores the batch: a crash loses at most the batch in flight, which the next run reads again, and
upserts by external id make reading it again change nothing. One object failing (an API error, a
field the org lacks) is recorded and the next object is synced.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.connectors.records import Batch, Deleted, Reader, SyncObject
from tenure.connectors.schemas import ObjectOutcome
from tenure.errors import RejectedFile, RowError
from tenure.ingest.files import FileFormat, lookup
from tenure.ingest.importer import import_records
from tenure.ingest.mappings import Mapping, load_mapping
from tenure.ingest.request import ImportRequest
from tenure.model import Account, Contact, Opportunity, SyncCursor, SyncRun
from tenure.model.base import utcnow
from tenure.store.database import session_scope

log = logging.getLogger(__name__)

# Row problems kept per object in the run record (the count is always whole).
KEPT_REJECTS = 20


def sync_objects(
    factory: sessionmaker[Session],
    connection_id: int,
    vendor: str,
    reader: Reader,
    objects: Sequence[SyncObject],
    staging: Path,
    *,
    mappings: dict[str, str] | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> int:
    """Sync ``objects`` in order (parents first); returns the sync run's id."""
    with session_scope(factory) as session:
        run = SyncRun(
            connection_id=connection_id, status="running", started_at=utcnow(), objects={}
        )
        session.add(run)
        session.flush()
        run_id = run.id
    staging.mkdir(parents=True, exist_ok=True)
    tallies: dict[str, ObjectOutcome] = {}
    for obj in objects:
        tally = tallies[obj.name] = ObjectOutcome()
        try:
            mapping = load_mapping((mappings or {}).get(obj.name, obj.mapping))
            cursor = _cursor(factory, connection_id, obj.name)
            refused: list[dict[str, Any]] = []
            for batch in reader.batches(obj, mapping, cursor):
                with session_scope(factory) as session:
                    refused += _store(session, obj, mapping, batch, staging, tally, vendor)
                    _save_cursor(session, connection_id, obj.name, batch.cursor)
                cursor = batch.cursor
                if on_batch is not None:
                    on_batch(obj.name, len(batch.records))
            if refused:
                again = Batch(refused, cursor or "")
                _store_again(factory, obj, mapping, again, staging, tally, vendor)
        except Exception as error:  # one object's failure must not stop the others
            log.warning("sync of %s %s failed", vendor, obj.name, exc_info=True)
            tally.error = describe(error)
        _progress(factory, run_id, tallies, reader)
    return _finish(factory, run_id, tallies, reader)


def describe(error: Exception) -> str:
    """An API error as people read it. Salesforce's libraries keep the API's own errors in
    ``content`` (``[{"errorCode": …, "message": …}]``): those say what is wrong."""
    content = getattr(error, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        text = "; ".join(
            f"{item.get('errorCode', '')}: {' '.join(str(item.get('message', '')).split())}"
            for item in content
        )
    else:
        text = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:2000]


def _cursor(factory: sessionmaker[Session], connection_id: int, name: str) -> str | None:
    with session_scope(factory) as session:
        return session.scalar(
            sa.select(SyncCursor.cursor).where(
                SyncCursor.connection_id == connection_id, SyncCursor.object == name
            )
        )


def _save_cursor(session: Session, connection_id: int, name: str, cursor: str) -> None:
    row = session.scalar(
        sa.select(SyncCursor).where(
            SyncCursor.connection_id == connection_id, SyncCursor.object == name
        )
    )
    if row is None:
        row = SyncCursor(connection_id=connection_id, object=name, cursor=cursor)
        session.add(row)
    row.cursor, row.updated_at = cursor, utcnow()
    session.flush()


def _store_again(
    factory: sessionmaker[Session],
    obj: SyncObject,
    mapping: Mapping,
    refused: Batch,
    staging: Path,
    tally: ObjectOutcome,
    vendor: str,
) -> None:
    """The object's refused records once more, after its last page: the vendor's order (by
    modification time) may bring a child before its parent (an account's ParentId, a HubSpot
    subsidiary), and the cursor has moved past it. Those refused again are counted once."""
    tally.read -= len(refused.records)
    tally.rejected -= len(refused.records)
    tally.rejects = []
    with session_scope(factory) as session:
        _store(session, obj, mapping, refused, staging, tally, vendor)


def _store(
    session: Session,
    obj: SyncObject,
    mapping: Mapping,
    batch: Batch,
    staging: Path,
    tally: ObjectOutcome,
    vendor: str,
) -> list[dict[str, Any]]:
    """Stores a batch; returns the records refused."""
    tally.batches += 1
    tally.read += len(batch.records)
    rejects: list[RowError] = []
    if batch.records:
        with tempfile.TemporaryDirectory(dir=staging, prefix="sync-") as folder:
            path = Path(folder) / f"{vendor}-{obj.name}.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for record in batch.records:
                    handle.write(json.dumps(record, default=str) + "\n")
            request = ImportRequest(
                obj.entity, path, mapping=mapping, format=FileFormat.jsonl, skip_invalid=True
            )
            try:
                report = import_records(session, request)
                rejects = report.rejects
                tally.inserted += report.inserted
                tally.updated += report.updated
                tally.unchanged += report.unchanged
            except RejectedFile as refused:  # not one good row in the batch
                rejects = refused.errors
        tally.rejected += len({error.line for error in rejects})
        room = KEPT_REJECTS - len(tally.rejects)
        tally.rejects += [_reject_text(obj, mapping, batch, e) for e in rejects[: max(room, 0)]]
    lines = sorted({error.line for error in rejects if 0 < error.line <= len(batch.records)})
    if obj.entity == "opportunities" and batch.records:
        stored = [r for line, r in enumerate(batch.records, 1) if line not in set(lines)]
        _restored(session, mapping, stored)
    tally.deleted += mark_deleted(session, obj.entity, batch.deleted, vendor)
    if batch.live is not None and obj.entity == "opportunities":
        _restored_quietly(session, batch.deleted, batch.live)
    return [batch.records[line - 1] for line in lines]


# How long HubSpot keeps a deleted record restorable (then it is purged).
RESTORABLE_DAYS = 90


def _restored_quietly(
    session: Session, deleted: list[Deleted], live: Callable[[list[str]], set[str]]
) -> None:
    """Deals marked deleted that the CRM lists as deleted no more and has live: restored by a
    restore that left their modification time as it was, so no search read them again. One
    purged for good is neither deleted nor live: it stays marked."""
    since = utcnow().date() - timedelta(days=RESTORABLE_DAYS)
    marked = session.scalars(
        sa.select(Opportunity.external_id).where(Opportunity.deleted_in_crm_on >= since)
    )
    candidates = sorted({key for key in marked if key} - {item.external_id for item in deleted})
    restored = live(candidates) if candidates else set()
    if restored:
        session.execute(
            sa.update(Opportunity)
            .where(Opportunity.external_id.in_(sorted(restored)))
            .values(deleted_in_crm_on=None)
        )


def _restored(session: Session, mapping: Mapping, records: list[dict[str, Any]]) -> None:
    """Deals the CRM lists as live again (HubSpot restores a deleted deal within 90 days) are
    no longer marked deleted."""
    key = (mapping.source_columns("external_id") or ["id"])[0]
    ids = [str(lookup(record, key)) for record in records]
    session.execute(
        sa.update(Opportunity)
        .where(Opportunity.external_id.in_(ids), Opportunity.deleted_in_crm_on.is_not(None))
        .values(deleted_in_crm_on=None)
    )


def _reject_text(obj: SyncObject, mapping: Mapping, batch: Batch, error: RowError) -> str:
    record = batch.records[error.line - 1] if 0 < error.line <= len(batch.records) else {}
    return refusal_text(obj, mapping, record, error)


# Tenure's fields as people say them (the rest: underscores become spaces).
FIELD_WORDS = {
    "external_id": "id",
    "account_external_id": "account",
    "owner_external_id": "owner",
    "parent_external_id": "parent account",
    "reports_to_external_id": "manager",
    "manager_external_id": "manager",
    "email": "e-mail",
    "kind": "type",
    "opened_on": "created date",
    "close_on": "expected close date",
    "closed_on": "close date",
    "arr": "ARR",
}
# What names a record for people, first found first.
NAME_FIELDS = ("name", "subject", "title", "email")


def refusal_text(obj: SyncObject, mapping: Mapping, record: dict[str, Any], error: RowError) -> str:
    """A refused record in plain words: the record by its name and id, the field by what it
    means (never the mapping's column path), the value and the reason.

    >>> from tenure.ingest.mappings import load_mapping
    >>> deals = SyncObject("deals", "opportunities", "hubspot-deals", label="deal",
    ...                    words=(("account_external_id", "company"),))
    >>> refusal_text(deals, load_mapping("hubspot-deals"),
    ...              {"id": "1827", "properties": {"dealname": "Acme renewal"}},
    ...              RowError(1, "associations.companies.results.0.id", None,
    ...                       "required value is missing"))
    'Deal "Acme renewal" (1827): no company'
    """
    key = (mapping.source_columns("external_id") or ["id"])[0]
    record_id = lookup(record, key)
    name = _record_name(mapping, record)
    who = obj.label[:1].upper() + obj.label[1:]
    if name and str(name) != str(record_id):
        who += f' "{name}"'
    if record_id not in (None, ""):
        who += f" ({record_id})" if name else f" {record_id}"
    field = _field_of(mapping, error.column)
    if not field:
        return f"{who}: {error.reason}"
    words = dict(obj.words).get(field) or field_words(field)
    # A required value that is absent, or absent where a list of values is expected.
    if error.value is None and error.reason.startswith(("required value", "Input should be")):
        return f"{who}: no {words}"
    if error.value is not None and error.reason.startswith("no "):  # a record it names
        return f"{who}: its {words} {error.value} is not in Tenure (not synced yet, or refused)"
    if error.value is not None and error.reason.endswith("whose row is left out"):
        return f"{who}: its {words} {error.value} was refused too"
    shown = "" if error.value is None else f" {error.value!r}"
    return f"{who}: {words}{shown}: {error.reason}"


def _field_of(mapping: Mapping, column: str | None) -> str | None:
    """The Tenure field a source column feeds: the one reading it alone first (plan.interval
    is the billing period; ARR reads it too, among others)."""
    if not column:
        return None
    specs = mapping.specs().items()
    alone = [field for field, spec in specs if spec.column == column]
    reading = alone or [field for field, spec in specs if column in spec.read_columns()]
    return reading[0] if reading else None


def field_words(field: str) -> str:
    """A field as people say it.

    >>> field_words("custom.lifecycle_stage"), field_words("licensed_seats")
    ('lifecycle stage', 'licensed seats')
    """
    field = field.removeprefix("custom.")
    return FIELD_WORDS.get(field) or field.removesuffix("_external_id").replace("_", " ")


def _record_name(mapping: Mapping, record: dict[str, Any]) -> str | None:
    specs = mapping.specs()
    for target in NAME_FIELDS:
        if target in specs:
            try:
                value = specs[target].extract(record)
            except Exception:  # the name itself may be what is wrong
                continue
            if value not in (None, ""):
                return str(value)[:80]
    return None


def mark_deleted(session: Session, entity: str, deleted: list[Deleted], vendor: str) -> int:
    """Records deleted in the vendor's system: nothing stored is lost. A contact has left (its
    left_on set, which is what 'champion left' reads); an account keeps everything and is marked
    ``custom.deleted_in_<vendor>_on`` for its CSM to see; an opportunity keeps its history, is
    marked ``deleted_in_crm_on`` and leaves the open pipeline. Returns how many changed."""
    if not deleted:
        return 0
    on = {item.external_id: item.on for item in deleted}
    changed = 0
    if entity == "contacts":
        for contact in session.scalars(sa.select(Contact).where(Contact.external_id.in_(on))):
            if contact.left_on is None:
                contact.left_on = on[contact.external_id]
                changed += 1
    elif entity == "accounts":
        key = f"deleted_in_{vendor}_on"
        for account in session.scalars(sa.select(Account).where(Account.external_id.in_(on))):
            if key not in account.custom:
                account.custom = {**account.custom, key: on[account.external_id].isoformat()}
                changed += 1
    elif entity == "opportunities":
        for deal in session.scalars(sa.select(Opportunity).where(Opportunity.external_id.in_(on))):
            if deal.deleted_in_crm_on is None and deal.external_id:
                deal.deleted_in_crm_on = on[deal.external_id]
                changed += 1
    session.flush()
    return changed


def _progress(
    factory: sessionmaker[Session], run_id: int, tallies: dict[str, ObjectOutcome], reader: Reader
) -> None:
    with session_scope(factory) as session:
        run = session.get_one(SyncRun, run_id)
        run.objects = {name: tally.model_dump() for name, tally in tallies.items()}
        run.api_usage = reader.api_usage()


def _finish(
    factory: sessionmaker[Session], run_id: int, tallies: dict[str, ObjectOutcome], reader: Reader
) -> int:
    errors = sum(1 for tally in tallies.values() if tally.error)
    rejected = sum(tally.rejected for tally in tallies.values())
    if tallies and errors == len(tallies):
        status = "failed"
    elif errors or rejected:
        status = "partial"
    else:
        status = "succeeded"
    with session_scope(factory) as session:
        run = session.get_one(SyncRun, run_id)
        run.status, run.finished_at = status, utcnow()
        run.objects = {name: tally.model_dump() for name, tally in tallies.items()}
        run.api_usage = reader.api_usage()
    return run_id
