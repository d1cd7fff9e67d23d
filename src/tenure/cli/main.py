"""`tenure`: the command line a CS team and its operators use.

Sub-commands live one module per domain and register here; heavy libraries are imported
inside the commands that need them so `tenure --help` stays instant.
"""

from __future__ import annotations

import typer

from tenure.cli import alerts as alerts_commands
from tenure.cli import backup as backup_commands
from tenure.cli import connect as connect_commands
from tenure.cli import contacts as contacts_commands
from tenure.cli import ctas as ctas_commands
from tenure.cli import demo as demo_command
from tenure.cli import events as events_commands
from tenure.cli import fx as fx_commands
from tenure.cli import health as health_commands
from tenure.cli import imports
from tenure.cli import metrics as metrics_commands
from tenure.cli import model as model_commands
from tenure.cli import opportunities as opportunities_commands
from tenure.cli import outbox as outbox_commands
from tenure.cli import refresh as refresh_command
from tenure.cli import renewals as renewals_command
from tenure.cli import rules as rules_commands
from tenure.cli import run as run_commands
from tenure.cli import serve as serve_command
from tenure.cli import simulate as simulate_command
from tenure.cli import sources as sources_commands
from tenure.cli import status as status_command
from tenure.cli import success as success_commands
from tenure.cli import surveys as surveys_commands
from tenure.cli import users as users_commands
from tenure.cli import webhooks as webhooks_commands

app = typer.Typer(
    name="tenure",
    help="Tenure — open-source Customer Success: health, churn risk and what to do next.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main() -> None:
    """Tenure — open-source Customer Success: health, churn risk and what to do next."""
    from tenure.cli.context import widen_off_terminal

    widen_off_terminal()


@app.command()
def version() -> None:
    """Print Tenure's version."""
    from tenure import __version__

    typer.echo(__version__)


@app.command("migrate")
def migrate() -> None:
    """Bring the operational database to the current schema (done automatically on first use)."""
    from tenure.cli.context import console, database, settings

    database(settings()).dispose()
    console.print(f"database at current schema: {settings().resolved_database_url}")


# Sub-command groups (one module per domain) register below.
app.add_typer(model_commands.app, name="model")
app.add_typer(users_commands.app, name="users")
app.add_typer(imports.app, name="import")
app.add_typer(metrics_commands.app, name="metrics")
app.add_typer(health_commands.app, name="health")
app.add_typer(sources_commands.app, name="sources")
app.add_typer(events_commands.app, name="events")
app.command("serve")(serve_command.serve)
app.command("refresh")(refresh_command.refresh)
app.command("status")(status_command.status)
app.command("renewals")(renewals_command.renewals)
app.command("backup")(backup_commands.backup)
app.command("restore")(backup_commands.restore)
app.add_typer(run_commands.run_app, name="run")
app.add_typer(rules_commands.rules_app, name="rules")
app.add_typer(ctas_commands.ctas_app, name="ctas")
app.add_typer(outbox_commands.outbox_app, name="outbox")
app.add_typer(webhooks_commands.webhooks_app, name="webhooks")
app.add_typer(surveys_commands.surveys_app, name="surveys")
app.add_typer(contacts_commands.contacts_app, name="contacts")
app.add_typer(fx_commands.fx_app, name="fx")
app.add_typer(opportunities_commands.opportunities_app, name="opportunities")
app.add_typer(opportunities_commands.advocacy_app, name="advocacy")
app.add_typer(connect_commands.app, name="connect")
app.add_typer(alerts_commands.app, name="alerts")
success_commands.register(app)
app.command("simulate")(simulate_command.command)
app.command("demo")(demo_command.command)


if __name__ == "__main__":  # python -m tenure.cli.main
    app()
