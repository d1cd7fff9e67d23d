"""`tenure surveys create|send|nps`: NPS and CSAT surveys."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work
from tenure.dates import parse_day

surveys_app = typer.Typer(help="NPS and CSAT surveys.", no_args_is_help=True)


@surveys_app.command("create")
@handle_errors
def surveys_create(
    name: str,
    kind: str = typer.Option("nps", help="nps or csat"),
    question: str | None = typer.Option(None),
    segment: list[str] = typer.Option([], "--segment", help="Account segment (repeat)."),
    role: list[str] = typer.Option([], "--role", help="Contact role, e.g. champion (repeat)."),
    level: list[str] = typer.Option([], "--level", help="Contact level (repeat)."),
    min_interval_days: int = typer.Option(90, help="Never survey a contact more often."),
) -> None:
    """Create a campaign with its audience."""
    from tenure.errors import InvalidInput
    from tenure.model import SurveyKind
    from tenure.playbooks import surveys

    try:
        survey_kind = SurveyKind(kind)
    except ValueError as error:
        raise InvalidInput(f"--kind {kind!r}: use nps or csat") from error
    with unit_of_work() as session:
        campaign = surveys.create_campaign(
            session,
            cli_actor(session),
            name=name,
            kind=survey_kind,
            question=question,
            segments=segment,
            roles=role,
            levels=level,
            min_interval_days=min_interval_days,
        )
        console.print(f"campaign {campaign.name!r} ({campaign.kind.value}) created")


@surveys_app.command("send")
@handle_errors
def surveys_send(name: str) -> None:
    """Give each audience contact a unique signed link and queue the emails in the outbox."""
    from tenure.cli.context import settings
    from tenure.playbooks import surveys
    from tenure.playbooks.config import playbook_settings

    config = playbook_settings()
    with unit_of_work() as session:
        summary = surveys.send_campaign(
            session,
            cli_actor(session),
            name,
            secret_key=settings().signing_key,
            public_url=config.public_url,
            sender=config.mail_from,
        )
    console.print(
        f"{summary.sent} links queued; skipped {summary.skipped_recently_surveyed} "
        f"surveyed recently, {summary.skipped_already_linked} already linked. "
        "Send with `tenure outbox send`."
    )


@surveys_app.command("nps")
@handle_errors
def surveys_nps(
    by: str = typer.Option("segment", help="account, segment or period (month)"),
    start: str = typer.Option(..., "--from"),
    end: str = typer.Option(..., "--to"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """NPS (% promoters − % detractors) per account, segment or month."""
    from tenure.playbooks import surveys

    with unit_of_work() as session:
        rows = surveys.nps_report(
            session, by=by, start=parse_day(start, "--from"), end=parse_day(end, "--to")
        )
    if json:
        print_json(rows)
        return
    table = Table(by, "responses", "promoters", "passives", "detractors", "NPS")
    for r in rows:
        table.add_row(
            r.group,
            str(r.responses),
            str(r.promoters),
            str(r.passives),
            str(r.detractors),
            f"{r.nps:.0f}",
        )
    console.print(table)
