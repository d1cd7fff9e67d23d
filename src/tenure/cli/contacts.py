"""`tenure contacts`: the people at customers — erasing one on request."""

from __future__ import annotations

import typer

from tenure.cli.context import console, handle_errors, print_json

contacts_app = typer.Typer(help="People at customer accounts.", no_args_is_help=True)


@contacts_app.command("erase")
@handle_errors
def erase(
    person: str = typer.Argument(..., help="Their e-mail, contact id or external id"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON"),
) -> None:
    """Remove a person everywhere, keeping aggregates (`tenure contacts erase ann@acme.com`).

    Their contact row, survey links and comments, touchpoint attendance and e-mails go; their
    events stay under a random id and their scores stay unlinked. It cannot be undone.
    """
    from tenure.accounts.erasure import erase_person
    from tenure.cli.context import cli_actor, event_store, unit_of_work

    if not yes:
        typer.confirm(f"Erase {person} everywhere? This cannot be undone", abort=True)
    store = event_store()
    try:
        with unit_of_work() as session:
            report = erase_person(session, store, person, cli_actor(session))
    finally:
        store.close()
    if as_json:
        print_json(report)
        return
    console.print(
        f"erased: {report.contacts} contact(s), {report.events} events pseudonymised, "
        f"{report.survey_answers} survey answers unlinked, {report.survey_links} survey links, "
        f"{report.touchpoints} touchpoint attendances, {report.outbox_messages} e-mails, "
        f"{report.aliases} aliases, {report.quarantined} quarantined messages, "
        f"{report.mentions} mentions scrubbed"
    )
