"""`tenure webhooks …`: outgoing webhooks and their delivery log."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.cli.context import console, handle_errors, print_json, unit_of_work

webhooks_app = typer.Typer(help="Outgoing webhooks.", no_args_is_help=True)


@webhooks_app.command("add")
@handle_errors
def webhooks_add(
    url: str,
    event: list[str] = typer.Option(["*"], "--event", help="Event type (repeat), or * for all."),
    slack: bool = typer.Option(False, "--slack", help='Send Slack-compatible {"text": …}.'),
) -> None:
    """Register an endpoint; prints its signing secret once."""
    from tenure.model import WebhookFormat
    from tenure.playbooks import webhooks

    with unit_of_work() as session:
        endpoint = webhooks.create_endpoint(
            session, url, event, format=WebhookFormat.slack if slack else WebhookFormat.json
        )
        console.print(f"endpoint {endpoint.id}: {url} events={endpoint.events}")
        console.print(f"signing secret (shown once): {endpoint.secret}")


@webhooks_app.command("list")
@handle_errors
def webhooks_list(json: bool = typer.Option(False, "--json")) -> None:
    """Registered endpoints (secrets are not shown again)."""
    import sqlalchemy as sa

    from tenure.model import WebhookEndpoint

    with unit_of_work() as session:
        rows = [
            {
                "id": e.id,
                "url": e.url,
                "events": e.events,
                "format": e.format.value,
                "active": e.is_active,
            }
            for e in session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
        ]
    if json:
        print_json(rows)
        return
    table = Table("id", "url", "events", "format", "active")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["url"]),
            ", ".join(r["events"]),  # type: ignore[arg-type]
            str(r["format"]),
            str(r["active"]),
        )
    console.print(table)


@webhooks_app.command("deliver")
@handle_errors
def webhooks_deliver() -> None:
    """POST every due delivery (retries back off exponentially)."""
    from tenure.playbooks import webhooks
    from tenure.playbooks.config import playbook_settings

    with unit_of_work() as session:
        report = webhooks.deliver_pending(session, webhooks.HttpPoster(), playbook_settings())
    console.print(", ".join(f"{k}: {v}" for k, v in report.as_counts().items()))


@webhooks_app.command("log")
@handle_errors
def webhooks_log(
    status: str | None = typer.Option(None, help="pending, delivered or failed"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Deliveries with their status, attempts and last answer."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.webhook_deliveries(session, status=status)
    if json:
        print_json(rows)
        return
    table = Table("id", "endpoint", "event id", "type", "status", "attempts", "last")
    for d in rows:
        last = d.last_error or (str(d.last_status_code) if d.last_status_code else "")
        table.add_row(
            str(d.id), str(d.endpoint_id), d.event_id, d.event_type, d.status, str(d.attempts), last
        )
    console.print(table)


@webhooks_app.command("redeliver")
@handle_errors
def webhooks_redeliver(delivery_id: int) -> None:
    """Queue a delivery again with the same event id."""
    from tenure.playbooks import webhooks

    with unit_of_work() as session:
        webhooks.redeliver(session, delivery_id)
    console.print(f"delivery {delivery_id} queued; run `tenure webhooks deliver`")
