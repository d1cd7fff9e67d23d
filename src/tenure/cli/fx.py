"""`tenure fx`: the reporting currency and the dated exchange rates figures are converted with."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.context import console, handle_errors, print_json

fx_app = typer.Typer(
    help="The reporting currency and dated exchange rates (date,currency,rate).",
    no_args_is_help=True,
)


@fx_app.command("import")
@handle_errors
def import_rates(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A date,currency,rate CSV"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import rates into the reporting currency (`tenure fx import rates.csv`).

    One row per currency and date: `2026-11-30,EUR,1.0842` says one euro was worth 1.0842 units
    of the reporting currency that day. A bad row refuses the whole file, naming its line.
    """
    from tenure.accounts.fx_service import import_rates as run
    from tenure.cli.context import cli_actor, unit_of_work

    text = path.read_bytes().decode("utf-8-sig")
    with unit_of_work() as session:
        report = run(session, text, cli_actor(session))
    if as_json:
        print_json(report)
        return
    span = f"{report.first_day} to {report.last_day}" if report.rows else "no dates"
    console.print(
        f"{report.rows} rate(s) into {report.reporting_currency} for "
        f"{', '.join(report.currencies) or 'no currency'} ({span}): {report.added} added, "
        f"{report.changed} changed, {report.unchanged} unchanged"
    )


@fx_app.command("rates")
@handle_errors
def rates(
    currency: str | None = typer.Option(None, "--currency", help="Only this currency"),
    as_json: bool = typer.Option(False, "--json", help="Print the rates as JSON"),
) -> None:
    """The rates on file into the reporting currency."""
    from rich.table import Table

    from tenure.accounts.fx_service import list_rates
    from tenure.cli.context import unit_of_work

    with unit_of_work() as session:
        found = list_rates(session, currency)
    if as_json:
        print_json(found)
        return
    if not found.rates:
        console.print(f"No rates into {found.reporting_currency} yet.")
        return
    table = Table(title=f"Rates into {found.reporting_currency}")
    for column in ("Date", "Currency", "Rate"):
        table.add_column(column, justify="right" if column == "Rate" else "left")
    for rate in found.rates:
        table.add_row(rate.rate_on.isoformat(), rate.currency, f"{rate.rate:.6g}")
    console.print(table)


@fx_app.command("currency")
@handle_errors
def currency(
    code: str | None = typer.Argument(None, help="Set the reporting currency (ISO 4217, admins)"),
) -> None:
    """Show the reporting currency, or set it (`tenure fx currency EUR`)."""
    from tenure.accounts.fx_service import reporting_currency, set_reporting_currency
    from tenure.cli.context import cli_actor, unit_of_work

    with unit_of_work() as session:
        if code is None:
            console.print(f"Reporting currency: {reporting_currency(session)}")
            return
        chosen = set_reporting_currency(session, code, cli_actor(session))
    console.print(f"Reporting currency: {chosen} (rates into it are needed for other currencies)")
