"""`tenure events`: operate the event store."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tenure.cli.context import console, event_store, handle_errors, print_json
from tenure.dates import utc
from tenure.errors import Conflict

if TYPE_CHECKING:
    from tenure.ingest.held_groups import GroupLink

app = typer.Typer(help="Operate the product-usage event store.", no_args_is_help=True)


@app.command("compact")
@handle_errors
def compact(
    wait: bool = typer.Option(False, "--wait", help="Wait for a running compaction to finish."),
    every: float | None = typer.Option(
        None,
        "--every",
        min=1,
        help="Keep running, compacting every SECONDS (for a worker without a scheduler).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Move ingested events from the inbox into date-partitioned Parquet (one job at a time)."""
    from dataclasses import asdict

    from tenure.model.base import utcnow

    store = event_store()
    if store.is_postgres:
        store.compact(now=utcnow())  # purges old quarantined messages
        console.print("events are written to PostgreSQL directly; nothing to compact")
        return
    while True:
        try:
            result = store.compact(now=utcnow(), wait=wait)
        except Conflict as busy:
            if every is None:
                raise
            console.print(f"skipped: {busy.message}", highlight=False)
        else:
            if as_json:
                print_json(asdict(result))
            else:
                console.print(
                    f"compacted {result.moved:,} inbox rows in {result.runs} run(s): "
                    f"{result.written:,} events written, {result.duplicates:,} duplicates dropped"
                    + (
                        f", {result.orphans_removed} unfinished file(s) removed"
                        if result.orphans_removed
                        else ""
                    )
                    + (
                        f", {result.merged_partitions} partition(s) merged into one file"
                        if result.merged_partitions
                        else ""
                    )
                )
        if every is None:
            return
        time.sleep(every)


@app.command("quarantined")
@handle_errors
def quarantined(
    limit: int = typer.Option(20, min=1, help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the raw messages)."),
) -> None:
    """Messages the ingest API refused, with the reason and the raw JSON."""
    from tenure.store.status import QuarantinedRead

    items = [QuarantinedRead(**q.__dict__) for q in event_store().quarantined(limit)]
    if as_json:
        print_json(items)
        return
    for item in items:
        console.print(
            f"[bold]{item.received_at:%Y-%m-%d %H:%M:%S}[/] {item.source}: {item.reason}",
            highlight=False,
        )
        console.print(f"  {item.raw[:300]}", highlight=False, markup=False)
    if not items:
        console.print("nothing quarantined")


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or time; use 2025-03-01 or 2025-03-01T12:00:00Z",
            param_hint=option,
        ) from None
    return utc(moment)


@app.command("export")
@handle_errors
def export(
    since: str = typer.Option(
        ..., "--since", help="First moment (UTC date or ISO time), included."
    ),
    until: str = typer.Option(..., "--until", help="Last moment (UTC date or ISO time), excluded."),
    fmt: str = typer.Option(
        "jsonl", "--format", help="jsonl (one Segment message per line) or parquet."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write; jsonl goes to standard output without it."
    ),
) -> None:
    """Write the stored messages (track, page, screen, identify, group) as Segment messages."""
    import sys

    from tenure.ingest.export import stored_rows, write_jsonl, write_parquet

    if fmt not in ("jsonl", "parquet"):
        raise typer.BadParameter(f"{fmt!r}: use jsonl or parquet", param_hint="--format")
    rows = stored_rows(event_store(), _moment(since, "--since"), _moment(until, "--until"))
    if fmt == "parquet":
        if output is None:
            raise typer.BadParameter(
                "parquet needs a file: add --output PATH", param_hint="--output"
            )
        count = write_parquet(rows, output)
    elif output is None:
        count = write_jsonl(rows, sys.stdout)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            count = write_jsonl(rows, handle)
    if output is not None:
        console.print(f"{count:,} message(s) written to {output}", highlight=False)


@app.command("held")
@handle_errors
def held(
    limit: int = typer.Option(50, min=1, max=1000, help="How many, most events first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Group ids the product sends that name no account yet: their events wait, uncounted."""
    from tenure.cli.context import unit_of_work
    from tenure.ingest.held_groups import held_groups

    with unit_of_work() as session:
        report = held_groups(session, event_store(), limit=limit)
    if as_json:
        print_json(report)
        return
    console.print(
        f"{report.held_ids:,} group id(s) name no account: {report.held_events:,} usage event(s) "
        f"wait on them ({report.attributed_events:,} name an account)",
        highlight=False,
    )
    for group in report.groups:
        said = ", ".join(x for x in (group.name, group.website) if x) or "no name sent"
        likely = (
            f" — likely {group.likely_account.name} ({group.likely_account.external_id}): "
            f"{group.likely_because}"
            if group.likely_account
            else ""
        )
        console.print(
            f"  {group.group_id} ({said}): {group.events:,} event(s) from {group.users:,} "
            f"user(s), {group.first_seen:%Y-%m-%d} to {group.last_seen:%Y-%m-%d}{likely}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if report.groups:
        console.print(
            "Link one to its account with `tenure events link GROUP_ID ACCOUNT`, or make it an "
            "account of its own with `tenure events new-account GROUP_ID`.",
            highlight=False,
            soft_wrap=True,
        )


@app.command("link")
@handle_errors
def link(
    group_id: str = typer.Argument(..., help="The id the product sends (groupId)."),
    account: str = typer.Argument(..., help="The account: its external id or name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Record a product's group id (its workspace id) as an account's: its events and members
    count for the account from the next metrics computation on."""
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.ingest.held_groups import link_group_id

    with unit_of_work() as session:
        result = link_group_id(session, event_store(), account, group_id, cli_actor(session))
    if as_json:
        print_json(result)
        return
    _print_joined(result)


@app.command("new-account")
@handle_errors
def new_account(
    group_id: str = typer.Argument(..., help="The id the product sends (groupId)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Make a held group id an account of its own (customers that exist only in the product),
    named as its latest group call says."""
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.ingest.held_groups import open_account_for_group_id

    with unit_of_work() as session:
        result = open_account_for_group_id(session, event_store(), group_id, cli_actor(session))
    if as_json:
        print_json(result)
        return
    _print_joined(result)


def _print_joined(result: GroupLink) -> None:
    console.print(
        f"{result.group_id} is now {result.account.name} ({result.account.external_id}): "
        f"{result.events:,} stored event(s) count for it from the next metrics run, "
        f"{result.members_joined:,} user(s) joined it",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
