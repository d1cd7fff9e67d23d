"""Engagement message drafts on the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON
from tenure.errors import InvalidInput

app = typer.Typer(help="Engagement message drafts (every message needs a goal).")


@app.command("draft")
@handle_errors
def message_draft(
    account: str = typer.Argument(...),
    moment: str = typer.Argument(
        ..., help="milestone_reached, advocacy_ask, renewal_prep, risk_outreach"
    ),
    goal: str | None = typer.Option(None, "--goal", help="Required: what this message is for."),
    contact: str | None = typer.Option(None, "--to", help="Contact external id."),
    channel: str = typer.Option("email", "--channel"),
    templates: Path | None = typer.Option(None, "--templates", help="Template directory."),
    next_step: str | None = typer.Option(None, "--next-step"),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Draft a message from the account's data on the communication model."""
    from tenure.success import messages, messages_service

    try:
        chosen, via = messages.Moment(moment), messages.Channel(channel)
    except ValueError:
        raise InvalidInput(
            f"unknown moment {moment!r} or channel {channel!r}; moments: "
            f"{', '.join(m.value for m in messages.Moment)}"
        ) from None
    with unit_of_work() as session:
        d = messages_service.draft(
            session,
            account,
            chosen,
            goal,
            as_of_day(session, as_of, quiet=as_json),
            contact_external_id=contact,
            channel=via,
            template_dir=templates,
            next_step=next_step,
        )
    if as_json:
        print_json(d)
        return
    console.print(
        f"[bold]Goal:[/] {d.goal}\n[bold]From:[/] {d.sender}\n"
        f"[bold]To:[/] {d.audience} via {d.channel.value}\n"
        f"[bold]Trigger:[/] {d.trigger}\n[bold]Feedback:[/] {d.feedback}\n"
    )
    console.print(f"Subject: {d.subject}\n\n{d.body}", highlight=False, markup=False)
