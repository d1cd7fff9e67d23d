"""`tenure run daily|history|worker`: the scheduled jobs, by hand."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tenure.cli.context import console, database, handle_errors, print_json, unit_of_work
from tenure.cli.options import RulesOption, parse_day, ruleset_of

run_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)


@run_app.command("daily")
@handle_errors
def run_daily(
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="The day the run produces, YYYY-MM-DD (default: today, UTC, as the worker runs it).",
    ),
    rules: Path | None = RulesOption,
    force: bool = typer.Option(False, "--force", help="Re-run a date that already succeeded."),
    send: bool = typer.Option(True, "--send/--no-send", help="Send the outbox when SMTP is set."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Metrics → health → milestones → facts → rules → CTAs → follow-ups → outbox → webhooks,
    recorded and idempotent per as-of date."""
    from tenure.cli.context import event_store
    from tenure.cli.context import settings as settings_of_cli
    from tenure.jobs.daily import run_daily as run
    from tenure.jobs.words import count_words, step_words
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.outbox import SmtpMailer
    from tenure.playbooks.webhooks import HttpPoster

    day = parse_day(as_of)
    ruleset = ruleset_of(rules)
    settings = playbook_settings()
    mailer = SmtpMailer(settings) if send and settings.smtp_host else None
    engine = database()
    try:
        with console.status(f"daily run {day}") as status:
            result = run(
                engine,
                day,
                ruleset,
                settings,
                mailer=mailer,
                poster=HttpPoster() if send else None,
                store=event_store(),
                data_dir=settings_of_cli().data_dir,
                force=force,
                on_step=lambda name: status.update(f"daily run {day}: {step_words(name)}…"),
            )
    finally:
        engine.dispose()
    if json:
        print_json(result.run)
    elif result.skipped:
        console.print(
            f"daily run {day} already succeeded (run {result.run.id}); nothing changed. "
            "Use --force to re-run it."
        )
    else:
        table = Table(
            "step",
            "seconds",
            "counts",
            "skipped or error",
            title=f"daily run {day}: {result.run.status}",
        )
        for step in result.run.steps:
            counts = count_words(step["name"], step["counts"])
            error = (step["error"] or "").splitlines()[0] if step["error"] else ""
            if step.get("skipped"):
                error = f"[yellow]skipped:[/] {step['skipped']}"
            table.add_row(step_words(step["name"]), f"{step['seconds']:.2f}", counts, error)
        console.print(table)
    if result.run.status == "failed":
        raise typer.Exit(1)


@run_app.command("history")
@handle_errors
def run_history(json: bool = typer.Option(False, "--json")) -> None:
    """The last daily runs."""
    from tenure.jobs.daily import last_runs

    with unit_of_work() as session:
        runs = last_runs(session)
    if json:
        print_json(runs)
        return
    table = Table("as of", "status", "started", "finished", "attempts", "errors", "skipped")
    for r in runs:
        table.add_row(
            str(r.as_of),
            r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{r.finished_at:%H:%M:%S}" if r.finished_at else "",
            str(r.attempts),
            str(len(r.errors)),
            ", ".join(s["step"] for s in r.skipped),
        )
    console.print(table)


@run_app.command("worker")
@handle_errors
def run_worker(
    daily_at: str | None = typer.Option(
        None, help="UTC time of day the daily run starts, HH:MM or off (default: TENURE_DAILY_AT)."
    ),
    interval: float | None = typer.Option(
        None, min=1, help="Seconds between ticks (default: TENURE_WORKER_EVERY)."
    ),
    rules: Path | None = RulesOption,
    once: bool = typer.Option(False, "--once", help="One tick, then exit."),
) -> None:
    """The daily run once a day, email and webhooks every tick — what `tenure serve` runs in the
    background; run it alone when serve's worker is off (TENURE_WORKER_EVERY=0)."""
    import threading

    from pydantic import ValidationError

    from tenure.cli.context import settings as settings_of_cli
    from tenure.errors import InvalidInput
    from tenure.jobs.worker import work_forever
    from tenure.playbooks.config import PlaybookSettings, playbook_settings

    overrides: dict[str, object] = {
        "rules_file": rules,
        "daily_at": daily_at,
        "worker_every": interval,
    }
    try:  # validated as the environment variables are
        playbook = PlaybookSettings(
            **{
                **playbook_settings().model_dump(),
                **{k: v for k, v in overrides.items() if v is not None},
            }
        )
    except ValidationError as error:
        raise InvalidInput(
            f"--daily-at {daily_at!r}: expected HH:MM (e.g. 06:00) or off"
        ) from error
    config = settings_of_cli()
    database(config).dispose()  # migrated before the first tick
    work_forever(
        config,
        playbook,
        stop=threading.Event(),
        log=lambda line: console.print(line, highlight=False),
        once=once,
    )
