"""`tenure connect`: live connections to Salesforce, HubSpot, Stripe (and, next, Zendesk), their
status and their sync runs. Secrets are read from options, the environment or a hidden prompt and
never printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work

if TYPE_CHECKING:
    from tenure.connectors.schemas import SyncRunRead

app = typer.Typer(
    help="Connect Salesforce, HubSpot or Stripe and keep accounts, contacts, deals and "
    "subscriptions in sync without exports.",
    no_args_is_help=True,
)

ObjectsOption = typer.Option(
    None,
    "--object",
    help="An object to sync (repeat it); default: all the connector reads.",
)
MappingOption = typer.Option(
    None,
    "--mapping",
    help="OBJECT=MAPPING: a mapping (shipped name or YAML file) instead of the shipped one.",
)


def _mappings(pairs: list[str] | None) -> dict[str, str]:
    from tenure.errors import InvalidInput

    result = {}
    for pair in pairs or []:
        name, sep, mapping = pair.partition("=")
        if not sep or not name or not mapping:
            raise InvalidInput(f"--mapping {pair!r}: expected OBJECT=MAPPING, e.g. Account=my.yaml")
        result[name] = mapping
    return result


@app.command("salesforce")
@handle_errors
def salesforce(
    url: str = typer.Option(
        "https://login.salesforce.com",
        "--url",
        help="Your My Domain URL (https://acme.my.salesforce.com), where tokens are refreshed.",
    ),
    client_id: str = typer.Option(
        ..., envvar="TENURE_SALESFORCE_CLIENT_ID", help="The connected app's consumer key."
    ),
    client_secret: str = typer.Option(
        ...,
        envvar="TENURE_SALESFORCE_CLIENT_SECRET",
        prompt=True,
        hide_input=True,
        help="The connected app's consumer secret (prompted when not given).",
    ),
    refresh_token: str = typer.Option(
        ...,
        envvar="TENURE_SALESFORCE_REFRESH_TOKEN",
        prompt=True,
        hide_input=True,
        help="A refresh token of the integration user (prompted when not given).",
    ),
    objects: list[str] | None = ObjectsOption,
    mappings: list[str] | None = MappingOption,
    check: bool = typer.Option(True, "--check/--no-check", help="Try the credentials first."),
) -> None:
    """Store Salesforce credentials (encrypted) and the objects to sync: User, Account, Contact."""
    secrets = {
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    _connect("salesforce", url, secrets, objects, mappings, check)


@app.command("hubspot")
@handle_errors
def hubspot(
    access_token: str = typer.Option(
        ...,
        envvar="TENURE_HUBSPOT_ACCESS_TOKEN",
        prompt=True,
        hide_input=True,
        help="The private app's access token (prompted when not given).",
    ),
    url: str = typer.Option(
        "https://api.hubapi.com", "--url", help="HubSpot's API address (EU portals too)."
    ),
    objects: list[str] | None = ObjectsOption,
    mappings: list[str] | None = MappingOption,
    check: bool = typer.Option(True, "--check/--no-check", help="Try the token first."),
) -> None:
    """Store a HubSpot private app token (encrypted) and the objects to sync: owners,
    companies, contacts, deals."""
    _connect("hubspot", url, {"access_token": access_token}, objects, mappings, check)


@app.command("stripe")
@handle_errors
def stripe(
    api_key: str = typer.Option(
        ...,
        envvar="TENURE_STRIPE_API_KEY",
        prompt=True,
        hide_input=True,
        help="A restricted key (rk_live_…) with read access to Customers, Subscriptions and "
        "Events (prompted when not given).",
    ),
    url: str = typer.Option("https://api.stripe.com", "--url", help="Stripe's API address."),
    objects: list[str] | None = ObjectsOption,
    mappings: list[str] | None = MappingOption,
    check: bool = typer.Option(True, "--check/--no-check", help="Try the key first."),
) -> None:
    """Store a Stripe API key (encrypted) and the objects to sync: customers, subscriptions."""
    _connect("stripe", url, {"api_key": api_key}, objects, mappings, check)


@app.command("zendesk")
@handle_errors
def zendesk(
    url: str = typer.Option(
        ..., "--url", help="Your Zendesk address: https://yourcompany.zendesk.com."
    ),
    email: str = typer.Option(
        ..., envvar="TENURE_ZENDESK_EMAIL", help="The agent whose API token it is."
    ),
    api_token: str = typer.Option(
        ...,
        envvar="TENURE_ZENDESK_API_TOKEN",
        prompt=True,
        hide_input=True,
        help="An API token (Admin Center → Apps and integrations → Zendesk API; prompted).",
    ),
    objects: list[str] | None = ObjectsOption,
    mappings: list[str] | None = MappingOption,
    check: bool = typer.Option(True, "--check/--no-check", help="Try the token first."),
) -> None:
    """Store a Zendesk API token (encrypted) and the objects to sync: tickets and satisfaction
    ratings (CSAT)."""
    _connect("zendesk", url, {"email": email, "api_token": api_token}, objects, mappings, check)


@app.command("write-back")
@handle_errors
def write_back(
    health_field: str | None = typer.Option(
        None,
        "--health-field",
        help="Account field (API name) or HubSpot company property for the health score, 0-100.",
    ),
    risk_field: str | None = typer.Option(
        None, "--risk-field", help="Account field or company property for the churn risk, 0-100."
    ),
    csm_field: str | None = typer.Option(
        None, "--csm-field", help="User field for the CSM (HubSpot: hubspot_owner_id or your own)."
    ),
    tasks: bool = typer.Option(
        False, "--tasks/--no-tasks", help="Each closed CTA as a completed Task on its account."
    ),
    to: str = typer.Option(
        "salesforce", "--to", help="The CRM written to: salesforce or hubspot (its properties)."
    ),
) -> None:
    """Write back to Salesforce or HubSpot after each daily run (opt-in): the fields named get
    the day's values, changed ones only; no option at all turns write-back off."""
    from tenure.connectors import write_back as wb

    options = wb.options_from(
        health_score_field=health_field,
        churn_risk_field=risk_field,
        csm_field=csm_field,
        closed_ctas_as_tasks=tasks,
    )
    with unit_of_work() as session:
        wb.set_write_back(session, cli_actor(session), options, to)
    label = wb.CRMS[to]
    if not options.enabled:
        console.print(f"Write-back to {label} is off.")
        return
    written = [f"{key.replace('_', ' ')} → {name}" for key, name in options.fields.items()]
    if options.closed_ctas_as_tasks:
        written.append("closed CTAs → Tasks")
    console.print(f"After each daily run {label} gets: {'; '.join(written)}.", highlight=False)


def _connect(
    vendor: str,
    url: str | None,
    secrets: dict[str, str],
    objects: list[str] | None,
    mappings: list[str] | None,
    check: bool,
) -> None:
    from tenure.cli.context import settings
    from tenure.connectors import service
    from tenure.connectors.manage import connect_checked

    with unit_of_work() as session:
        connected = connect_checked(
            session,
            cli_actor(session),
            settings().signing_key,
            vendor,
            secrets=secrets,
            base_url=url,
            objects=objects,
            mappings=_mappings(mappings),
            check=check,
        )
    connection = connected.connection
    if connected.answer is not None:
        label = service.vendor_of(vendor).label
        console.print(f"{label} answered: {_allowance(connected.answer)}", highlight=False)
    console.print(
        f"{vendor} connected ({connection.base_url}); syncs {', '.join(connection.objects)} "
        "in the daily run, or now with `tenure connect sync`.",
        highlight=False,
    )


def _allowance(allowance: dict[str, object]) -> str:
    if allowance.get("daily_api_requests_limit") is None:
        return "credentials accepted"
    return (
        f"credentials accepted; {allowance['remaining']} of "
        f"{allowance['daily_api_requests_limit']} daily API requests left"
    )


@app.command("status")
@handle_errors
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each connection, what it syncs, and its last sync run."""
    from rich.table import Table

    from tenure.connectors import service

    with unit_of_work() as session:
        rows = service.connections(session)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Nothing is connected yet (tenure connect salesforce --help).")
        return
    table = Table("system", "address", "objects", "last sync", "outcome")
    for row in rows:
        run = row.last_run
        table.add_row(
            row.vendor,
            row.base_url or "",
            ", ".join(row.objects),
            "never" if run is None else f"{run.started_at:%Y-%m-%d %H:%M} UTC",
            "" if run is None else _outcome(run),
        )
    console.print(table)


@app.command("sync")
@handle_errors
def sync(
    vendors: list[str] | None = typer.Argument(None, help="Only these (default: every one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sync now: each object from where the last sync stopped."""
    from tenure.cli.context import database, settings
    from tenure.connectors import service
    from tenure.store.database import session_factory

    config = settings()
    engine = database(config)
    try:
        with console.status("syncing") as shown:
            runs = service.sync_all(
                session_factory(engine),
                config.signing_key,
                config.data_dir,
                vendors=vendors,
                on_batch=lambda name, count: shown.update(f"syncing {name}: {count} records"),
            )
    finally:
        engine.dispose()
    if as_json:
        print_json(runs)
    else:
        for run in runs:
            _print_run(run)
    if any(run.status == "failed" for run in runs):
        raise typer.Exit(1)


@app.command("runs")
@handle_errors
def runs(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The last sync runs, newest first."""
    from tenure.connectors import service

    with unit_of_work() as session:
        found = service.sync_runs(session)
    if as_json:
        print_json(found)
        return
    for run in found:
        _print_run(run)


@app.command("remove")
@handle_errors
def remove(vendor: str = typer.Argument(..., help="salesforce, hubspot, stripe…")) -> None:
    """Forget a connection and its credentials (records already synced stay)."""
    from tenure.connectors import service

    with unit_of_work() as session:
        service.disconnect(session, cli_actor(session), vendor)
    console.print(f"{vendor} disconnected; its credentials are deleted.")


def _outcome(run: SyncRunRead) -> str:
    read = sum(o.read for o in run.objects.values())
    errors = [name for name, o in run.objects.items() if o.error]
    text = f"{run.status}: {read} records read in {run.seconds or 0:.1f} s"
    return text + (f"; failed: {', '.join(errors)}" if errors else "")


def _print_run(run: SyncRunRead) -> None:
    from rich.table import Table

    usage = run.api_usage
    title = f"{run.vendor} sync {run.id}: {_outcome(run)}"
    if usage.get("daily_api_requests_limit"):
        title += (
            f" (API requests today: {usage.get('daily_api_requests_used')} of "
            f"{usage['daily_api_requests_limit']})"
        )
    elif usage.get("api_requests") is not None:
        title += f" ({usage['api_requests']} API requests)"
    table = Table(
        "object", "read", "new", "changed", "unchanged", "refused", "deleted", "error", title=title
    )
    for name, o in run.objects.items():
        table.add_row(
            name,
            str(o.read),
            str(o.inserted),
            str(o.updated),
            str(o.unchanged),
            str(o.rejected),
            str(o.deleted),
            (o.error or "").splitlines()[0] if o.error else "",
        )
    console.print(table)
    for o in run.objects.values():
        for reject in o.rejects:
            console.print(f"  not stored: {reject}", highlight=False)
