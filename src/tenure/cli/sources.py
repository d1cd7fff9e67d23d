"""`tenure sources`: the senders allowed to post events, each with its own write key."""

from __future__ import annotations

import typer

from tenure.cli.context import console, handle_errors, print_json, unit_of_work

app = typer.Typer(help="Event sources and their Segment write keys.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(name: str = typer.Argument(..., help="A name for the sender, e.g. 'web-app'.")) -> None:
    """Create a source and print its write key (shown only this once)."""
    from tenure.ingest.sources import create_source

    with unit_of_work() as session:
        created = create_source(session, name)
    console.print(
        f"source [bold]{created.name}[/] created; its write key (store it now, it is "
        "not shown again):",
        highlight=False,
    )
    typer.echo(created.write_key)


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List sources (name, key prefix, active, created)."""
    from rich.table import Table

    from tenure.ingest.sources import list_sources

    with unit_of_work() as session:
        sources = list_sources(session)
    if as_json:
        print_json(sources)
        return
    table = Table("name", "write key", "active", "created")
    for source in sources:
        table.add_row(
            source.name,
            f"{source.write_key_prefix}…",
            "yes" if source.is_active else "no",
            f"{source.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
