"""The Executive Business Review pack on the command line (a top-level command)."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON


@handle_errors
def ebr_command(
    account: str = typer.Argument(..., help="Account external id."),
    as_of: str | None = AS_OF,
    html: Path | None = typer.Option(None, "--html", help="Write the pack as HTML here."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Write the pack as PDF here."),
    as_json: bool = JSON,
) -> None:
    """The Executive Business Review pack: six sections, HTML and/or PDF."""
    from tenure.cli.context import event_store
    from tenure.success import value, value_service

    with unit_of_work() as session:
        pack = value_service.ebr_pack(
            session, account, as_of_day(session, as_of, quiet=as_json), event_store()
        )
    if html:
        html.write_text(value.render_html(pack))
        console.print(f"HTML written to {html}")
    if pdf:
        pdf.write_bytes(value.render_pdf(pack))
        console.print(f"PDF written to {pdf}")
    if as_json:
        print_json(pack)
    elif not (html or pdf):
        console.print(
            f"[bold]EBR — {pack.account_name}[/], Value stage "
            f"{pack.value_stage.stage.value}; peers: {pack.peer_cohort} ({pack.peers})"
        )
        for m in pack.productivity:
            console.print(
                f"  {m.name}: {value.format_value(m.value, m.unit)} "
                f"(peers {value.format_value(m.benchmark, m.unit)})"
            )
        console.print("Use --html/--pdf to render the pack.")
