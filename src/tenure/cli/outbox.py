"""`tenure outbox send|list`: the email outbox."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.cli.context import console, database, handle_errors, print_json, unit_of_work

outbox_app = typer.Typer(help="The email outbox.", no_args_is_help=True)


@outbox_app.command("send")
@handle_errors
def outbox_send(
    reclaim_after: float = typer.Option(
        600,
        help="Seconds before another sender's unfinished "
        "claim is taken over (at once if its process is gone).",
    ),
) -> None:
    """Send every due message over SMTP (TENURE_SMTP_HOST, _PORT, _SECURITY, _USERNAME…)."""
    from datetime import timedelta

    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.outbox import SmtpMailer, send_pending

    settings = playbook_settings()
    engine = database()
    try:
        report = send_pending(
            engine, SmtpMailer(settings), settings, stale_after=timedelta(seconds=reclaim_after)
        )
    finally:
        engine.dispose()
    console.print(", ".join(f"{k}: {v}" for k, v in report.as_counts().items()))


@outbox_app.command("list")
@handle_errors
def outbox_list(
    status: str | None = typer.Option(None, help="pending, sending, sent or failed"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Every message with its status, attempts and last error."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.outbox_messages(session, status=status)
    if json:
        print_json(rows)
        return
    table = Table("id", "kind", "to", "subject", "status", "attempts", "last error")
    for m in rows:
        table.add_row(
            str(m.id), m.kind, m.recipient, m.subject, m.status, str(m.attempts), m.last_error or ""
        )
    console.print(table)
