"""`tenure alerts slack|status|send|remove`: Slack alerts (risk crossing, champion left, health
turned red, a CTA assigned) to a channel or each CSM by direct message. The bot token is read from
an option, the environment or a hidden prompt, stored sealed and never printed."""

from __future__ import annotations

import typer

from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work

app = typer.Typer(
    help="Slack alerts: churn risk crossing, a champion leaving, health turned red, a CTA "
    "assigned — to a channel or the CSM by direct message.",
    no_args_is_help=True,
)


@app.command("slack")
@handle_errors
def slack(
    bot_token: str = typer.Option(
        ...,
        envvar="TENURE_SLACK_BOT_TOKEN",
        prompt=True,
        hide_input=True,
        help="The Slack app's bot token, xoxb-… (prompted when not given).",
    ),
    channel: str | None = typer.Option(
        None, "--channel", help="A channel every alert goes to: #cs-alerts or its id (C0123…)."
    ),
    direct: bool = typer.Option(
        True,
        "--dm/--no-dm",
        help="Also send each alert to the account's CSM (or the CTA's owner) by direct message.",
    ),
    alerts: list[str] | None = typer.Option(
        None,
        "--alert",
        help="health_red, risk_crossed, champion_left or cta_assigned (repeat it); default: all.",
    ),
    risk_threshold: float | None = typer.Option(
        None,
        "--risk-threshold",
        help="Churn risk (0-1) that alerts when an account rises past it; default: when it "
        "enters the churn model's alert set (the 10 % most at risk).",
    ),
    url: str | None = typer.Option(
        None, "--url", help="Slack's Web API address (default https://slack.com/api/)."
    ),
    check: bool = typer.Option(True, "--check/--no-check", help="Try the token first."),
) -> None:
    """Connect Slack: the bot token (sealed), the channel, direct messages, which alerts."""
    from pydantic import ValidationError

    from tenure.cli.context import settings
    from tenure.errors import InvalidInput
    from tenure.playbooks.alerts import KINDS
    from tenure.playbooks.alerts_service import SlackOptions, connect_slack_checked

    try:
        options = SlackOptions(
            channel=channel,
            to_owner=direct,
            alerts=alerts or list(KINDS),
            risk_threshold=risk_threshold,
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"--{first['loc'][0]}: {first['msg']}") from None
    with unit_of_work() as session:
        connected = connect_slack_checked(
            session,
            cli_actor(session),
            settings().signing_key,
            bot_token=bot_token,
            options=options,
            base_url=url,
            check=check,
        )
    _print_options(connected.options, connected.alert_names)


def _print_options(options: object, names: list[str]) -> None:
    from tenure.playbooks.alerts_service import SlackOptions

    assert isinstance(options, SlackOptions)
    where = [f"channel {options.channel}"] if options.channel else []
    if options.to_owner:
        where.append("each CSM by direct message")
    risk = (
        "churn risk: entering the model's alerts"
        if options.risk_threshold is None
        else f"churn risk over {options.risk_threshold:.0%}"
    )
    console.print(
        f"Slack connected: {', '.join(names)} ({risk}) to {' and '.join(where)}, after each "
        "daily run.",
        highlight=False,
    )


@app.command("status")
@handle_errors
def status(
    limit: int = typer.Option(20, "--limit", help="How many recent alerts to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where alerts go and the last ones queued, posted or failed."""
    from rich.table import Table

    from tenure.playbooks.alerts_service import recent_alerts, slack_connection

    with unit_of_work() as session:
        connection = slack_connection(session)
        alerts = recent_alerts(session, limit=limit)
    if as_json:
        print_json({"connection": connection, "alerts": alerts})
        return
    if connection is None:
        console.print("Slack is not connected (tenure alerts slack --help).")
    else:
        _print_options(connection.options, connection.alert_names)
    table = Table("day", "to", "alert", "status", "tries", "what went wrong")
    for alert in alerts:
        table.add_row(
            alert.as_of.isoformat(),
            alert.to,
            alert.text[:80],
            alert.status,
            str(alert.attempts),
            alert.last_error or "",
        )
    if alerts:
        console.print(table)


@app.command("send")
@handle_errors
def send(
    reclaim_after: float = typer.Option(
        600,
        help="Seconds before another sender's unfinished claim is taken over (at once if its "
        "process is gone).",
    ),
) -> None:
    """Post the alerts due now (the daily run and the worker do this themselves)."""
    from datetime import timedelta

    from tenure.cli.context import database, settings
    from tenure.playbooks.alerts_service import send_alerts, slack_client
    from tenure.playbooks.config import playbook_settings
    from tenure.store.database import session_factory, session_scope

    engine = database()
    try:
        factory = session_factory(engine)
        with session_scope(factory) as session:
            client = slack_client(session, settings().signing_key)
        if client is None:
            console.print("Slack is not connected (tenure alerts slack --help).")
            raise typer.Exit(1)
        report = send_alerts(
            factory, client, playbook_settings(), stale_after=timedelta(seconds=reclaim_after)
        )
    finally:
        engine.dispose()
    console.print(", ".join(f"{k}: {v}" for k, v in report.as_counts().items()))


@app.command("remove")
@handle_errors
def remove() -> None:
    """Disconnect Slack: the token is deleted, alerts not yet posted are dropped."""
    from tenure.playbooks.alerts_service import disconnect_slack

    with unit_of_work() as session:
        disconnect_slack(session, cli_actor(session))
    console.print("Slack disconnected; its token is deleted.")
