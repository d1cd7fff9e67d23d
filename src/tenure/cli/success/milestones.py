"""Success plans on the command line: create, show, mark, refresh, time to value."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, day_or_today, table
from tenure.dates import parse_day

app = typer.Typer(help="Success plans and milestones; time to first value.")


TEMPLATES = typer.Option(None, "--templates", help="Milestone templates YAML.")


@app.command("plan")
@handle_errors
def milestones_plan(
    accounts: list[str] = typer.Argument(None, help="Account ids (default all)."),
    templates: Path | None = TEMPLATES,
) -> None:
    """Create a success plan from the segment's templates for accounts without one."""
    from tenure.success import milestones_service
    from tenure.success.milestones import load_milestone_config

    with unit_of_work() as session:
        made = milestones_service.create_plans(
            session, cli_actor(session), load_milestone_config(templates), accounts or None
        )
    console.print(f"{made} success plan(s) created")


@app.command("show")
@handle_errors
def milestones_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """The account's milestones: on track, behind, stuck or reached."""
    from tenure.success import milestones_service

    with unit_of_work() as session:
        view = milestones_service.plan_show(
            session, account, as_of_day(session, as_of, quiet=as_json)
        )
    if as_json:
        print_json(view)
        return
    table(
        f"Success plan — {view.account} ({view.segment}, from {view.started_on})",
        ["milestone", "type", "owner", "due", "status", "reason"],
        [[m.name, m.type, m.owner, m.due_on, m.status.value, m.reason] for m in view.milestones],
    )


@app.command("mark")
@handle_errors
def milestones_mark(
    account: str = typer.Argument(...),
    key: str = typer.Argument(...),
    on: str | None = typer.Option(None, "--on", help="Date reached."),
    evidence: str | None = typer.Option(None, "--evidence"),
) -> None:
    """Mark a milestone reached by hand (opens its expansion/advocacy ask)."""
    from tenure.success import milestones_service

    with unit_of_work() as session:
        ask = milestones_service.mark_milestone(
            session, cli_actor(session), account, key, day_or_today(on, "--on"), evidence
        )
    console.print(f"{account}: {key} reached")
    if ask:
        console.print(f"{ask.kind.value} ask opened: {ask.reason}")


@app.command("refresh")
@handle_errors
def milestones_refresh(
    as_of: str | None = AS_OF,
    since: str | None = typer.Option(None, "--since", help="Only metric days after this one."),
) -> None:
    """Mark milestones reached on the first stored metrics day their rule passed; open asks."""
    from tenure.success import milestones_service

    with unit_of_work() as session:
        r = milestones_service.refresh_milestones(
            session, as_of_day(session, as_of), parse_day(since, "--since") if since else None
        )
    console.print(
        f"{r.days} metric day(s), {r.checked} check(s): {r.reached} reached "
        f"({r.reached_before_first_measure} already before the first measured day), "
        f"{r.asks_opened} ask(s) opened"
    )


@app.command("timing")
@handle_errors
def milestones_timing(
    key: str | None = typer.Argument(None, help="Milestone key (default: time to first value)."),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Time to first value, or to one milestone, per start-quarter cohort."""
    from tenure.success import milestones_service

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        rows = (
            milestones_service.time_to_milestone(session, key, day)
            if key
            else milestones_service.time_to_first_value(session, day)
        )
    if as_json:
        print_json(rows)
        return
    table(
        f"Time to {key or 'first value'} by cohort",
        ["cohort", "accounts", "reached", "median days", "mean days"],
        [
            [
                r.cohort,
                r.accounts,
                r.reached,
                r.median_days,
                None if r.mean_days is None else f"{r.mean_days:.1f}",
            ]
            for r in rows
        ],
    )
