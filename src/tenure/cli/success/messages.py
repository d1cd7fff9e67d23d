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


def _check(
    metric: str | None, target: str | None, milestone: str | None, days: int
) -> dict[str, object]:
    """``--metric license_utilization --target '>=0.6'`` or ``--milestone first_value``."""
    if target is None:
        return {"metric": metric, "milestone": milestone, "after_days": days}
    text = target.strip()
    comparison = "at_most" if text.startswith("<=") else "at_least"
    number = text.removeprefix("<=").removeprefix(">=").strip()
    try:
        value = float(number)
    except ValueError:
        raise InvalidInput(f"--target {target!r}: write >=NUMBER or <=NUMBER, e.g. >=0.6") from None
    return {
        "metric": metric,
        "comparison": comparison,
        "target": value,
        "milestone": milestone,
        "after_days": days,
    }


@app.command("create")
@handle_errors
def message_create(
    account: str = typer.Argument(...),
    moment: str = typer.Argument(
        ..., help="milestone_reached, advocacy_ask, renewal_prep, risk_outreach"
    ),
    goal: str = typer.Option(..., "--goal", help="What this message is for."),
    metric: str | None = typer.Option(None, "--metric", help="Metric that shows the goal met."),
    target: str | None = typer.Option(None, "--target", help="With --metric: >=0.6 or <=3."),
    milestone: str | None = typer.Option(None, "--milestone", help="Or: a milestone key."),
    days: int = typer.Option(30, "--days", min=1, max=365, help="Check the goal after N days."),
    contact: str | None = typer.Option(None, "--to", help="Contact external id."),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Store a draft with its goal and how the goal is checked (nothing is sent yet)."""
    from tenure.cli.context import cli_actor
    from tenure.success import engagement_service
    from tenure.success.schemas import MessageCreate

    data = MessageCreate.model_validate(
        {
            "account": account,
            "moment": moment,
            "goal": goal,
            "check": _check(metric, target, milestone, days),
            "contact": contact,
        }
    )
    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        created = engagement_service.create_draft(session, data, cli_actor(session), day)
    if as_json:
        print_json(created)
        return
    console.print(
        f"draft {created.id} to {created.recipient}: {created.subject}\n"
        f"goal: {created.goal} · checked: {created.check}"
    )


@app.command("approve")
@handle_errors
def message_approve(
    message_id: int = typer.Argument(...),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Approve a draft: queued for sending (`tenure outbox send`), logged as a touchpoint."""
    from tenure.cli.context import cli_actor
    from tenure.success import engagement_service

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        sent = engagement_service.approve(session, message_id, cli_actor(session), day)
    if as_json:
        print_json(sent)
        return
    console.print(
        f"message {sent.id} queued to {sent.recipient}, logged as touchpoint "
        f"{sent.touchpoint_id}; goal checked on {sent.check_on}"
    )


@app.command("check")
@handle_errors
def message_check(as_of: str | None = AS_OF, as_json: bool = JSON) -> None:
    """Check the goals of the messages whose check day has come (the daily run does it too)."""
    from tenure.success import engagement_service

    with unit_of_work() as session:
        checked = engagement_service.check_goals(session, as_of_day(session, as_of, quiet=as_json))
    if as_json:
        print_json(checked)
        return
    for m in checked:
        console.print(f"{m.id} {m.account_name} — {m.template}: {m.result}")
    console.print(f"{len(checked)} message goal(s) checked")


@app.command("report")
@handle_errors
def message_report(as_json: bool = JSON) -> None:
    """Per message template: sent, awaiting their check, goal met, not met, not measurable."""
    from rich.table import Table

    from tenure.success import engagement_service

    with unit_of_work() as session:
        report = engagement_service.goal_report(session)
    if as_json:
        print_json(report)
        return
    table = Table(title="Message goals by template")
    for column in ("template", "sent", "awaiting", "met", "not met", "not measurable", "met"):
        table.add_column(column, justify="left" if column == "template" else "right")
    for r in report:
        share = "—" if r.met_share is None else f"{r.met_share:.0%}"
        table.add_row(
            r.template,
            str(r.sent),
            str(r.awaiting_check),
            str(r.met),
            str(r.not_met),
            str(r.not_measurable),
            share,
        )
    console.print(table)
