"""`tenure ctas …`: calls to action, the CS team's work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.options import RulesOption, ruleset_of
from tenure.dates import parse_day

if TYPE_CHECKING:
    from tenure.playbooks.schemas import CtaRead

ctas_app = typer.Typer(help="Calls to action: the CS team's work.", no_args_is_help=True)


@ctas_app.command("list")
@handle_errors
def ctas_list(
    status: str = typer.Option("open", help="open (incl. in progress, snoozed), closed, …"),
    owner: int | None = typer.Option(None, help="Owner user id."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Calls to action, soonest due first."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.list_ctas(session, status=status, owner_id=owner)
    if json:
        print_json(rows)
        return
    table = Table("id", "account", "type", "priority", "title", "due", "status", "why")
    for c in rows:
        table.add_row(
            str(c.id),
            c.account_name,
            c.type,
            c.priority,
            c.title,
            str(c.due_on),
            c.status,
            c.reason,
        )
    console.print(table)


@ctas_app.command("today")
@handle_errors
def ctas_today(
    user: str = typer.Argument(..., help="The user's email."),
    as_of: str | None = AS_OF,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """A CSM's book today: new CTAs, CTAs due, escalated to them, renewals in 30 days."""
    import sqlalchemy as sa

    from tenure.errors import NotFound
    from tenure.model import User
    from tenure.playbooks import service

    with unit_of_work() as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == user))
        if user_id is None:
            raise NotFound(f"no user with email {user!r}")
        book = service.book_today(session, user_id, as_of_day(session, as_of, quiet=json))
    if json:
        print_json(book)
    else:
        console.print(book.as_text(), highlight=False, markup=False)


@ctas_app.command("show")
@handle_errors
def ctas_show(
    cta_id: int,
    as_of: str | None = AS_OF,
    rules: Path | None = RulesOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """One CTA: its goal, why, playbook steps and history (as its console page shows it)."""
    from tenure.cli.context import cli_actor
    from tenure.playbooks.cta_detail import cta_detail

    with unit_of_work() as session:
        actor = cli_actor(session)
        day = as_of_day(session, as_of, quiet=True)
        detail = cta_detail(session, ruleset_of(rules, session), cta_id, actor.user, day)
    if json:
        print_json(detail)
        return
    c = detail.cta
    status = f"snoozed until {c.snoozed_until}" if c.snoozed_until else c.status.replace("_", " ")
    if detail.outcome_words:
        status = f"closed {c.closed_on}: {detail.outcome_words}"
        status += f" — {c.outcome_note}" if c.outcome_note else ""
    lines = [
        f"{c.title} — {c.account_name} (CTA {c.id}, {c.priority})",
        f"Status: {status} · due {c.due_on} · owner {detail.owner_name or 'unassigned'}",
        f"Goal: {detail.goal}",
        f"Why: {detail.why}",
        "Steps:",
    ]
    lines += [
        f"  [{'x' if s.done else ' '}] {s.position}. {s.title} (due {s.due_on})"
        + (f" — done {s.done_on} by {s.done_by}" if s.done and s.done_by else "")
        for s in detail.steps
    ] or ["  (none)"]
    lines.append("History:")
    lines += [f"  {h.on_date} {h.text}" + (f" — {h.by}" if h.by else "") for h in detail.history]
    console.print("\n".join(lines), highlight=False, markup=False)


@ctas_app.command("draft")
@handle_errors
def ctas_draft(
    cta_id: int,
    step: int | None = typer.Option(None, help="Step position (default: the first with a draft)."),
    rules: Path | None = RulesOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Draft the suggested message of a CTA's step from the account's data."""
    from tenure.model.base import utcnow
    from tenure.playbooks import service

    with unit_of_work() as session:
        draft = service.draft_step_message(
            session, ruleset_of(rules, session), cta_id, step, utcnow().date()
        )
    if json:
        print_json(draft)
        return
    console.print(f"[bold]Goal:[/] {draft.goal}\n[bold]To:[/] {draft.audience}\n")
    console.print(f"Subject: {draft.subject}\n\n{draft.body}", highlight=False, markup=False)


def _triage(cta_id: int, as_of: str | None, **fields: object) -> CtaRead:
    """The one CTA triage service (as the API and the console call it), as the CLI's actor."""
    from tenure.cli.context import cli_actor
    from tenure.playbooks.schemas import Triage
    from tenure.playbooks.triage import triage

    with unit_of_work() as session:
        data = Triage.model_validate(fields)
        return triage(
            session, cta_id, data, cli_actor(session), as_of_day(session, as_of, quiet=True)
        )


@ctas_app.command("ack")
@handle_errors
def ctas_ack(cta_id: int, as_of: str | None = AS_OF) -> None:
    """Acknowledge a CTA (stops its escalation; status in progress)."""
    cta = _triage(cta_id, as_of, action="acknowledge")
    console.print(f"CTA {cta.id}: {cta.status}")


@ctas_app.command("done")
@handle_errors
def ctas_done(
    cta_id: int,
    step: int = typer.Argument(..., help="Step position (1, 2, …)."),
    as_of: str | None = AS_OF,
) -> None:
    """Tick a playbook step off."""
    from tenure.cli.context import cli_actor
    from tenure.playbooks.triage import complete_step

    with unit_of_work() as session:
        actor = cli_actor(session)
        cta = complete_step(session, cta_id, step, actor, as_of_day(session, as_of, quiet=True))
    done = sum(s["done"] for s in cta.steps)
    console.print(f"CTA {cta.id}: step {step} done ({done} of {len(cta.steps)})")


@ctas_app.command("snooze")
@handle_errors
def ctas_snooze(
    cta_id: int,
    until: str | None = typer.Option(None, help="YYYY-MM-DD (default: a week after --as-of)"),
    as_of: str | None = AS_OF,
) -> None:
    """Snooze a CTA until a date; the daily run wakes it."""
    day = parse_day(until, "--until") if until else None
    cta = _triage(cta_id, as_of, action="snooze", until=day)
    console.print(f"CTA {cta.id}: snoozed until {cta.snoozed_until}")


@ctas_app.command("close")
@handle_errors
def ctas_close(
    cta_id: int,
    outcome: str = typer.Option(..., help="success, no_action_needed or failed"),
    note: str | None = typer.Option(None),
    as_of: str | None = AS_OF,
) -> None:
    """Close a CTA with an outcome and a note."""
    from tenure.errors import InvalidInput
    from tenure.model import CtaOutcome

    try:
        chosen = CtaOutcome(outcome)
    except ValueError as error:
        raise InvalidInput(
            f"--outcome {outcome!r}: use success, no_action_needed or failed"
        ) from error
    _triage(cta_id, as_of, action="close", outcome=chosen, note=note)
    console.print(f"CTA {cta_id}: closed ({chosen.value})")
