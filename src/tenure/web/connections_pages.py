"""Admin → Connected systems: connect or disconnect a system and choose what it syncs, sync now,
the recent syncs; Slack alerts (token, channel, direct messages, which alerts). The services are
the CLI's and the API's; a secret typed here is never shown again, not even after a mistake."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, require_role
from tenure.connectors import manage, service, write_back
from tenure.errors import InvalidInput, TenureError
from tenure.model import UserRole
from tenure.playbooks import alerts_service
from tenure.playbooks.alerts import KINDS
from tenure.playbooks.alerts_service import SlackOptions
from tenure.playbooks.wording import without_commands
from tenure.web.render import render

router = APIRouter(prefix="/admin", include_in_schema=False)
PAGE = "/admin/connections"


def admin_actor(actor: Actor = Depends(page_actor)) -> Actor:
    require_role(actor.user, UserRole.admin)
    return actor


AdminActor = Depends(admin_actor)
Db = DbSession


# Credentials whose plain name is not their key's (the vendor's own words).
CREDENTIAL_LABELS = {
    "api_key": "API key (a restricted key)",
    "access_token": "Access token (of a private app)",
}


def _label(name: str) -> str:
    """A credential's name as the form shows it: client_secret → Client secret, api_token →
    API token; some in the vendor's own words."""
    words = name.replace("_", " ").capitalize()
    return CREDENTIAL_LABELS.get(name) or words.replace("Api ", "API ")


def _page(
    request: Request,
    db: Session,
    *,
    error: str | None = None,
    notice: str | None = None,
    failed_vendor: str | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    connected = {c.vendor: c for c in service.connections(db)}
    vendors = [
        {
            "name": vendor.name,
            "label": vendor.label,
            "default_url": vendor.default_url,
            "objects": list(vendor.objects),
            "credentials": [(name, _label(name)) for name in vendor.credentials],
            "connection": connected.get(vendor.name),
        }
        for vendor in service.VENDORS.values()
    ]
    return render(
        request,
        "connections.html",
        {
            "vendors": vendors,
            "vendor_labels": {v["name"]: v["label"] for v in vendors},
            "sync_runs": service.sync_runs(db, limit=20),
            "slack": alerts_service.slack_connection(db),
            "write_back": {crm: write_back.write_back_options(db, crm) for crm in write_back.CRMS},
            "slack_alerts": alerts_service.recent_alerts(db, limit=30),
            "alert_kinds": KINDS,
            "error": error,
            "failed_vendor": failed_vendor,
            # What was typed into the form that failed, secrets left out: typed again by nobody.
            "typed": typed or {},
            "notice": notice,
        },
        db=db,
        json_url="/api/v1/connections",
        status_code=status_code,
    )


@router.get("/connections")
def connections_page(
    request: Request, notice: str | None = None, actor: Actor = AdminActor, db: Session = Db
) -> Response:
    return _page(request, db, notice=_NOTICES.get(notice or ""))


_NOTICES = {
    "connected": "Connected. It syncs in the daily run, or now with Sync now.",
    "disconnected": "Disconnected: its credentials are deleted; the records it brought stay.",
    "sync": "The sync started; reload this page to follow it in Recent syncs.",
    "slack": "Slack alerts are set up: they go out after each daily run.",
    "slack_removed": "Slack is disconnected: its token is deleted.",
    "write_back_salesforce": "Saved: Salesforce gets what you chose after each daily run.",
    "write_back_hubspot": "Saved: HubSpot gets what you chose after each daily run.",
}


def _failed(
    request: Request,
    db: Session,
    error: TenureError,
    vendor: str | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    db.rollback()
    return _page(
        request,
        db,
        error=without_commands(error.message),
        failed_vendor=vendor,
        typed=typed,
        status_code=error.status_code,
    )


@router.post("/connections/{vendor}")
async def connect(
    vendor: str,
    request: Request,
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    form = await request.form()
    definition = service.vendor_of(vendor)
    secrets = {
        name: str(form.get(f"secret_{name}") or "").strip() for name in definition.credentials
    }
    objects = [str(o) for o in form.getlist("objects")]
    base_url = str(form.get("base_url") or "").strip() or None
    try:
        if not objects:
            raise InvalidInput(f"choose at least one {definition.label} object to sync")
        manage.connect_checked(
            db,
            actor,
            request.app.state.settings.signing_key,
            vendor,
            secrets=secrets,
            base_url=base_url,
            objects=objects,
            check=form.get("check") == "on",
        )
    except TenureError as error:
        typed = {"base_url": base_url, "objects": objects}
        return _failed(request, db, error, vendor, typed)
    return RedirectResponse(f"{PAGE}?notice=connected#{vendor}", status_code=303)


@router.post("/connections/{vendor}/remove")
def disconnect(
    vendor: str, request: Request, actor: Actor = AdminActor, db: Session = Db
) -> Response:
    try:
        service.disconnect(db, actor, vendor)
    except TenureError as error:
        return _failed(request, db, error, vendor)
    return RedirectResponse(f"{PAGE}?notice=disconnected", status_code=303)


@router.post("/connections/{vendor}/sync")
def sync_now(
    vendor: str, request: Request, actor: Actor = AdminActor, db: Session = Db
) -> Response:
    try:
        manage.start_sync(actor, request.app.state.settings, [vendor])
    except TenureError as error:
        return _failed(request, db, error, vendor)
    return RedirectResponse(f"{PAGE}?notice=sync#runs", status_code=303)


@router.post("/connections/{vendor}/write-back")
async def set_write_back(
    vendor: Literal["salesforce", "hubspot"],
    request: Request,
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    form = await request.form()
    try:
        options = write_back.options_from(
            health_score_field=str(form.get("health_score_field") or ""),
            churn_risk_field=str(form.get("churn_risk_field") or ""),
            csm_field=str(form.get("csm_field") or ""),
            closed_ctas_as_tasks=form.get("closed_ctas_as_tasks") == "on",
        )
        write_back.set_write_back(db, actor, options, vendor)
    except TenureError as error:
        return _failed(request, db, error, vendor)
    return RedirectResponse(
        f"{PAGE}?notice=write_back_{vendor}#write-back-{vendor}", status_code=303
    )


@router.post("/slack")
async def connect_slack(
    request: Request,
    risk_threshold: str = Form("", max_length=8),
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    form = await request.form()
    try:
        options = _slack_options(form, risk_threshold)
        alerts_service.connect_slack_checked(
            db,
            actor,
            request.app.state.settings.signing_key,
            bot_token=str(form.get("bot_token") or ""),
            options=options,
            base_url=str(form.get("base_url") or "").strip() or None,
            check=form.get("check") == "on",
        )
    except TenureError as error:
        typed = {key: form.get(key) for key in ("channel", "to_owner", "base_url")}
        return _failed(request, db, error, "slack", typed)
    return RedirectResponse(f"{PAGE}?notice=slack#slack", status_code=303)


def _slack_options(form: Any, risk_threshold: str) -> SlackOptions:
    try:
        return SlackOptions(
            channel=str(form.get("channel") or ""),
            to_owner=form.get("to_owner") == "on",
            alerts=[str(a) for a in form.getlist("alerts")],
            risk_threshold=_percent(risk_threshold),
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"{first['loc'][0]}: {first['msg']}") from None


def _percent(text: str) -> float | None:
    """A percent typed in the form as a share: "40" → 0.4; empty → None."""
    text = text.strip().rstrip("%").strip()
    if not text:
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise InvalidInput(f"churn risk threshold {text!r}: a percent from 1 to 99") from None


@router.post("/slack/remove")
def disconnect_slack(request: Request, actor: Actor = AdminActor, db: Session = Db) -> Response:
    try:
        alerts_service.disconnect_slack(db, actor)
    except TenureError as error:
        return _failed(request, db, error, "slack")
    return RedirectResponse(f"{PAGE}?notice=slack_removed#slack", status_code=303)
