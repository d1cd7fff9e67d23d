"""Connected systems (Salesforce and the other synced vendors) and Slack alerts: connect,
disconnect, sync now, the runs. Credentials go in and never come back out."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session
from tenure.auth.permissions import require_role
from tenure.connectors import manage, service, write_back
from tenure.connectors.schemas import ConnectionRead, SyncRunRead
from tenure.connectors.write_back import WriteBackOptions
from tenure.model import UserRole
from tenure.playbooks import alerts_service
from tenure.playbooks.alerts_service import SlackAlertRead, SlackConnectionRead, SlackOptions

router = APIRouter(tags=["connected systems"], responses=ERRORS)


class ConnectRequest(BaseModel):
    credentials: dict[str, str] = Field(
        description="The vendor's secrets (Salesforce: client_id, client_secret, refresh_token); "
        "stored sealed, never returned"
    )
    base_url: str | None = Field(
        default=None, max_length=500, description="Where the vendor answers; default its own"
    )
    objects: list[str] | None = Field(
        default=None, description="Objects to sync, parents first; default every one"
    )
    mappings: dict[str, str] = Field(
        default_factory=dict, description="A mapping instead of the shipped one, per object"
    )
    check: bool = Field(default=True, description="Try the credentials before storing them")


class Connected(BaseModel):
    connection: ConnectionRead
    answer: dict[str, Any] | None = Field(description="What the vendor answered to the check")


class SyncStarted(BaseModel):
    started: bool
    vendors: list[str]
    message: str


class SlackRequest(BaseModel):
    bot_token: str = Field(min_length=1, max_length=500, description="xoxb-…; never returned")
    options: SlackOptions
    base_url: str | None = Field(default=None, max_length=500)
    check: bool = Field(default=True, description="Call auth.test before storing the token")


def _admin(actor: Actor) -> None:
    require_role(actor.user, UserRole.admin)


@router.get("/connections", response_model=list[ConnectionRead])
def list_connections(actor: Actor = CurrentActor, db: Session = Db) -> list[ConnectionRead]:
    """Each connected system, what it syncs, where each object's next sync starts, its last run."""
    _admin(actor)
    return service.connections(db)


@router.get("/connections/runs", response_model=list[SyncRunRead])
def list_runs(
    limit: int = Query(20, ge=1, le=200), actor: Actor = CurrentActor, db: Session = Db
) -> list[SyncRunRead]:
    """Sync runs, newest first: per object read/new/changed/unchanged/refused/deleted, errors."""
    _admin(actor)
    return service.sync_runs(db, limit=limit)


@router.put("/connections/{vendor}", response_model=Connected)
def connect(
    vendor: str,
    data: ConnectRequest,
    request: Request,
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> Connected:
    """Connect (or reconnect) a system: the credentials tried, then stored sealed."""
    connected = manage.connect_checked(
        db,
        actor,
        request.app.state.settings.signing_key,
        vendor,
        secrets=data.credentials,
        base_url=data.base_url,
        objects=data.objects,
        mappings=data.mappings,
        check=data.check,
    )
    return Connected(connection=connected.connection, answer=connected.answer)


@router.delete("/connections/{vendor}", status_code=204)
def disconnect(vendor: str, actor: Actor = CurrentActor, db: Session = Db) -> Response:
    """Forget a system's credentials, cursors and runs; the records synced stay."""
    service.disconnect(db, actor, vendor)
    return Response(status_code=204)


@router.post("/connections/{vendor}/sync", response_model=SyncStarted, status_code=202)
def sync_now(vendor: str, request: Request, actor: Actor = CurrentActor) -> SyncStarted:
    """Start a sync of one system in the background; follow it in /connections/runs."""
    manage.start_sync(actor, request.app.state.settings, [vendor])
    return SyncStarted(
        started=True, vendors=[vendor], message=f"{vendor} sync started in the background"
    )


CRM = Literal["salesforce", "hubspot"]


@router.get("/connections/{vendor}/write-back", response_model=WriteBackOptions | None)
def get_write_back(
    vendor: CRM, actor: Actor = CurrentActor, db: Session = Db
) -> WriteBackOptions | None:
    """What is written back to Salesforce or HubSpot after each daily run (null: nothing)."""
    _admin(actor)
    return write_back.write_back_options(db, vendor)


@router.put("/connections/{vendor}/write-back", response_model=WriteBackOptions)
def put_write_back(
    vendor: CRM, data: WriteBackOptions, actor: Actor = CurrentActor, db: Session = Db
) -> WriteBackOptions:
    """Turn write-back on (the account or company fields named, closed CTAs as Tasks) or off
    (none)."""
    return write_back.set_write_back(db, actor, data, vendor)


@router.get("/alerts/slack", response_model=SlackConnectionRead | None)
def slack_settings(actor: Actor = CurrentActor, db: Session = Db) -> SlackConnectionRead | None:
    """Where Slack alerts go and which ones (null: Slack is not connected)."""
    _admin(actor)
    return alerts_service.slack_connection(db)


@router.put("/alerts/slack", response_model=SlackConnectionRead)
def connect_slack(
    data: SlackRequest, request: Request, actor: Actor = CurrentActor, db: Session = Db
) -> SlackConnectionRead:
    """Connect Slack: the bot token (checked with auth.test, stored sealed) and the options."""
    return alerts_service.connect_slack_checked(
        db,
        actor,
        request.app.state.settings.signing_key,
        bot_token=data.bot_token,
        options=data.options,
        base_url=data.base_url,
        check=data.check,
    )


@router.delete("/alerts/slack", status_code=204)
def disconnect_slack(actor: Actor = CurrentActor, db: Session = Db) -> Response:
    alerts_service.disconnect_slack(db, actor)
    return Response(status_code=204)


@router.get("/alerts/slack/messages", response_model=list[SlackAlertRead])
def slack_messages(
    limit: int = Query(50, ge=1, le=500), actor: Actor = CurrentActor, db: Session = Db
) -> list[SlackAlertRead]:
    """The latest alerts: where each went, queued, posted or why not."""
    _admin(actor)
    return alerts_service.recent_alerts(db, limit=limit)
