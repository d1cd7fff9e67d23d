"""Connections: stored (credentials sealed), listed with their last run, synced.

``connect``/``disconnect`` change configuration: admins only, audited without the credentials.
``sync_all`` runs in its own transactions (one per batch, see sync.py): the daily run, the worker
and ``tenure connect sync`` call it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.connectors import credentials as sealing
from tenure.connectors import hubspot, salesforce, stripe, zendesk
from tenure.connectors.records import Reader, SyncObject
from tenure.connectors.schemas import ConnectionRead, ObjectOutcome, SyncRunRead, seconds_between
from tenure.connectors.sync import sync_objects
from tenure.errors import Conflict, InvalidInput, NotFound, TenureError
from tenure.ingest.mappings import load_mapping
from tenure.jobs.background import exclusive
from tenure.model import Connection, SyncCursor, SyncRun, UserRole
from tenure.model.base import utcnow
from tenure.store.database import session_scope


@dataclass(frozen=True)
class Vendor:
    name: str
    label: str
    objects: dict[str, SyncObject]
    credentials: tuple[str, ...]
    default_url: str
    reader: Callable[[str, dict[str, str]], Reader]


def _salesforce_reader(url: str, secrets: dict[str, str]) -> Reader:
    return salesforce.SalesforceReader(url, secrets)


def _hubspot_reader(url: str, secrets: dict[str, str]) -> Reader:
    return hubspot.HubSpotReader(url, secrets)


def _stripe_reader(url: str, secrets: dict[str, str]) -> Reader:
    return stripe.StripeReader(url, secrets)


def _zendesk_reader(url: str, secrets: dict[str, str]) -> Reader:
    return zendesk.ZendeskReader(url, secrets)


VENDORS: dict[str, Vendor] = {
    vendor.name: vendor
    for vendor in (
        Vendor(
            "salesforce",
            "Salesforce",
            salesforce.OBJECTS,
            salesforce.CREDENTIALS,
            salesforce.LOGIN_URL,
            _salesforce_reader,
        ),
        Vendor(
            "hubspot",
            "HubSpot",
            hubspot.OBJECTS,
            hubspot.CREDENTIALS,
            hubspot.API_URL,
            _hubspot_reader,
        ),
        Vendor(
            "stripe",
            "Stripe",
            stripe.OBJECTS,
            stripe.CREDENTIALS,
            stripe.API_URL,
            _stripe_reader,
        ),
        Vendor(
            "zendesk",
            "Zendesk",
            zendesk.OBJECTS,
            zendesk.CREDENTIALS,
            zendesk.DEFAULT_URL,
            _zendesk_reader,
        ),
    )
}


def vendor_of(name: str) -> Vendor:
    try:
        return VENDORS[name]
    except KeyError:
        raise NotFound(f"no connector for {name!r}; there are: {', '.join(VENDORS)}") from None


def connect(
    session: Session,
    actor: Actor,
    secret_key: str,
    vendor_name: str,
    *,
    secrets: dict[str, str],
    base_url: str | None = None,
    objects: Sequence[str] | None = None,
    mappings: dict[str, str] | None = None,
) -> ConnectionRead:
    """Store (or replace) a vendor's connection. Objects sync in the vendor's order (parents
    first); a mapping may replace an object's shipped one (a copy with the org's own fields)."""
    require_role(actor.user, UserRole.admin)
    vendor = vendor_of(vendor_name)
    missing = [name for name in vendor.credentials if not secrets.get(name)]
    if missing:
        raise InvalidInput(f"{vendor.label} needs {', '.join(missing)} to connect")
    chosen = _objects(vendor, objects)
    chosen_mappings = _mappings(vendor, mappings or {})
    connection = session.scalar(sa.select(Connection).where(Connection.vendor == vendor.name))
    before = None if connection is None else _public(connection)
    if connection is None:
        connection = Connection(vendor=vendor.name, credentials="")
        session.add(connection)
    connection.base_url = (base_url or vendor.default_url).rstrip("/")
    connection.credentials = sealing.seal(
        secret_key, {name: secrets[name] for name in vendor.credentials}
    )
    connection.options = {"objects": chosen, "mappings": chosen_mappings}
    connection.is_active = True
    session.flush()
    # The audit entry says what changed, never the credentials.
    audit.record(
        session,
        actor,
        "connect",
        "connection",
        vendor.name,
        before=before,
        after=_public(connection),
    )
    return _read(session, connection)


def disconnect(session: Session, actor: Actor, vendor_name: str) -> None:
    """Forget a connection, its credentials and cursors (records already synced stay)."""
    require_role(actor.user, UserRole.admin)
    connection = _connection(session, vendor_of(vendor_name).name)
    before = _public(connection)
    session.execute(sa.delete(SyncCursor).where(SyncCursor.connection_id == connection.id))
    session.execute(sa.delete(SyncRun).where(SyncRun.connection_id == connection.id))
    session.delete(connection)
    session.flush()
    audit.record(session, actor, "disconnect", "connection", vendor_name, before=before)


def connections(session: Session) -> list[ConnectionRead]:
    """The systems synced (Slack, which Tenure only posts to, is configured with the alerts)."""
    rows = session.scalars(
        sa.select(Connection).where(Connection.vendor.in_(VENDORS)).order_by(Connection.vendor)
    )
    return [_read(session, connection) for connection in rows]


def sync_runs(session: Session, *, limit: int = 20) -> list[SyncRunRead]:
    rows = session.execute(
        sa.select(SyncRun, Connection.vendor)
        .join(Connection, Connection.id == SyncRun.connection_id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    return [_run(run, vendor) for run, vendor in rows]


def credentials_of(session: Session, secret_key: str, vendor_name: str) -> dict[str, str]:
    connection = _connection(session, vendor_name)
    return sealing.unseal(secret_key, connection.credentials, vendor_name)


def sync_all(
    factory: sessionmaker[Session],
    secret_key: str,
    data_dir: Path,
    *,
    vendors: Sequence[str] | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> list[SyncRunRead]:
    """Sync every active connection (or those named), each object from its cursor. One sync
    at a time per data folder; a run still marked running then died with its process."""
    with exclusive(data_dir / "sync.lock") as held:
        if not held:
            raise Conflict(f"another sync is running on {data_dir}; try again when it ends")
        _mark_interrupted(factory)
        # What is alive now (modules, classes, mappings) lives as long as the process: frozen,
        # it is not walked by each of the collector's full passes, which the thousands of
        # objects every batch makes trigger again and again (a third of a sync's CPU).
        gc.collect()
        gc.freeze()
        try:
            return _sync_all(factory, secret_key, data_dir, vendors, on_batch)
        finally:
            gc.unfreeze()


def _mark_interrupted(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        session.execute(
            sa.update(SyncRun)
            .where(SyncRun.status == "running")
            .values(status="interrupted", finished_at=utcnow())
        )


def _sync_all(
    factory: sessionmaker[Session],
    secret_key: str,
    data_dir: Path,
    vendors: Sequence[str] | None,
    on_batch: Callable[[str, int], None] | None,
) -> list[SyncRunRead]:
    with session_scope(factory) as session:
        query = sa.select(Connection).where(
            Connection.is_active.is_(True), Connection.vendor.in_(VENDORS)
        )
        if vendors:
            query = query.where(Connection.vendor.in_([vendor_of(v).name for v in vendors]))
        plans = [
            (
                c.id,
                c.vendor,
                c.base_url,
                c.options,
                sealing.unseal(secret_key, c.credentials, c.vendor),
            )
            for c in session.scalars(query.order_by(Connection.vendor))
        ]
    run_ids = []
    for connection_id, name, base_url, options, secrets in plans:
        vendor = VENDORS[name]
        reader = vendor.reader(base_url or vendor.default_url, secrets)
        objects = [vendor.objects[o] for o in options.get("objects", [])]
        run_ids.append(
            sync_objects(
                factory,
                connection_id,
                name,
                reader,
                objects,
                data_dir / "staging",
                mappings=options.get("mappings"),
                on_batch=on_batch,
            )
        )
    with session_scope(factory) as session:
        return [run for run in sync_runs(session, limit=100) if run.id in run_ids][::-1]


def has_connections(factory: sessionmaker[Session]) -> bool:
    with session_scope(factory) as session:
        active = (
            sa.select(Connection.id)
            .where(Connection.is_active.is_(True), Connection.vendor.in_(VENDORS))
            .limit(1)
        )
        return session.scalar(active) is not None


def sync_for_daily_run(factory: sessionmaker[Session], data_dir: Path) -> dict[str, Any]:
    """The daily run's first step: every connection synced; counts per system. A system whose
    every object failed fails the step (recorded on the run; the later steps still run)."""
    from tenure.config import get_settings

    runs = sync_all(factory, get_settings().signing_key, data_dir)
    counts: dict[str, Any] = {}
    for run in runs:
        counts[f"{run.vendor}_read"] = sum(o.read for o in run.objects.values())
        counts[f"{run.vendor}_refused"] = sum(o.rejected for o in run.objects.values())
        counts[f"{run.vendor}_failed_objects"] = sum(1 for o in run.objects.values() if o.error)
    failed = [run for run in runs if run.status == "failed"]
    if failed:
        errors = "; ".join(
            f"{run.vendor} {name}: {o.error}"
            for run in failed
            for name, o in run.objects.items()
            if o.error
        )
        raise SyncFailed(f"sync failed: {errors}")
    return counts


class SyncFailed(TenureError):
    status_code = 502
    code = "sync_failed"


def _objects(vendor: Vendor, objects: Sequence[str] | None) -> list[str]:
    if not objects:
        return list(vendor.objects)
    known = {name.lower(): name for name in vendor.objects}
    unknown = [o for o in objects if o.lower() not in known]
    if unknown:
        raise InvalidInput(
            f"{vendor.label} has no object {', '.join(map(repr, unknown))} to sync; "
            f"choose from {', '.join(vendor.objects)}"
        )
    wanted = {known[o.lower()] for o in objects}
    return [name for name in vendor.objects if name in wanted]  # parents first


def _mappings(vendor: Vendor, mappings: dict[str, str]) -> dict[str, str]:
    chosen = {}
    for name, mapping_name in mappings.items():
        obj = vendor.objects.get(_objects(vendor, [name])[0])
        assert obj is not None
        mapping = load_mapping(mapping_name)
        if mapping.entity != obj.entity:
            raise InvalidInput(
                f"mapping {mapping.name!r} is for {mapping.entity}; {vendor.label} {obj.name} "
                f"records become {obj.entity}"
            )
        chosen[obj.name] = mapping_name
    return chosen


def _connection(session: Session, vendor_name: str) -> Connection:
    connection = session.scalar(sa.select(Connection).where(Connection.vendor == vendor_name))
    if connection is None:
        raise NotFound(f"{vendor_name} is not connected (tenure connect {vendor_name} …)")
    return connection


def _public(connection: Connection) -> dict[str, Any]:
    return {
        "vendor": connection.vendor,
        "base_url": connection.base_url,
        "objects": connection.options.get("objects", []),
        "mappings": connection.options.get("mappings", {}),
        "is_active": connection.is_active,
    }


def _read(session: Session, connection: Connection) -> ConnectionRead:
    cursors = {
        name: cursor
        for name, cursor in session.execute(
            sa.select(SyncCursor.object, SyncCursor.cursor).where(
                SyncCursor.connection_id == connection.id
            )
        )
    }
    last = session.scalar(
        sa.select(SyncRun)
        .where(SyncRun.connection_id == connection.id)
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    return ConnectionRead(
        vendor=connection.vendor,
        base_url=connection.base_url,
        objects=connection.options.get("objects", []),
        mappings=connection.options.get("mappings", {}),
        is_active=connection.is_active,
        connected_at=connection.created_at,
        updated_at=connection.updated_at,
        cursors=cursors,
        last_run=None if last is None else _run(last, connection.vendor),
    )


def _run(run: SyncRun, vendor: str) -> SyncRunRead:
    read = SyncRunRead(
        id=run.id,
        vendor=vendor,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        seconds=None,
        objects={name: ObjectOutcome(**outcome) for name, outcome in run.objects.items()},
        api_usage=run.api_usage,
    )
    read.seconds = seconds_between(read.started_at, read.finished_at)
    return read
