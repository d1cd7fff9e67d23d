"""The demo's base enters through the customer's doors: the simulated company's exports
(Salesforce, Stripe, Segment, with their dirt), imported through the shipped mappings with
``--skip-invalid``, and the product usage replayed through ``/v1/batch`` of a server started on
127.0.0.1 for the purpose (stopped by its PID)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tenure.cli.context import console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tenure.accounts.fx_service import FxImportReport
    from tenure.cli.demo_context import DemoContext
    from tenure.simulate.doors import DoorReport
    from tenure.store.events import EventStore

EXPORTS_DIR = "exports"
# Refused rows shown per file; the rest are in its .rejects.csv.
SHOWN_REJECTS = 3


def exports_dir(ctx: DemoContext) -> Path:
    return ctx.settings.data_dir / EXPORTS_DIR


def export_company(ctx: DemoContext) -> None:
    """Simulate the demo company and write it as its tools export it."""
    from tenure.cli.simulate import day_progress
    from tenure.simulate import load_config
    from tenure.simulate.exports import Dirt, simulate_as_exports

    config = load_config("demo", overrides=ctx.overrides)
    with day_progress(f"simulating {config.accounts} accounts over {config.months} months") as bar:
        exported = simulate_as_exports(
            config,
            exports_dir(ctx),
            Dirt.parse(ctx.dirt),
            progress=bar,
            truth_beside=ctx.settings.data_dir,
        )
    result = exported.simulation
    ctx.as_of = result.as_of
    ctx.facts["start"] = result.start
    ctx.facts["reporting_currency"] = config.reporting_currency
    console.print(
        f"{result.rows['accounts']:,} accounts, {result.rows['contacts']:,} contacts, "
        f"{result.rows['contracts']:,} contract terms, {result.events:,} events in "
        f"{result.seconds:.1f} s (config {result.config_hash}, seed {result.seed}), exported to "
        f"{exports_dir(ctx)}:",
        highlight=False,
    )
    for name, rows in exported.files.items():
        console.print(f"  {name:<28} {rows:>9,} rows", highlight=False)
    for line in exported.planted:
        console.print(f"  [yellow]planted to be refused[/] {line}", highlight=False)


def import_company(ctx: DemoContext) -> None:
    """The CS team, then every export through its door, in one transaction."""
    from tenure.cli.context import unit_of_work
    from tenure.simulate.doors import create_team, import_exports

    started = time.perf_counter()
    with console.status("importing the exports…"), unit_of_work(ctx.settings) as session:
        team = create_team(session, exports_dir(ctx))
        reports = import_exports(session, exports_dir(ctx))
        rates = _import_rates(ctx, session)
    ctx.facts["imports"] = reports
    console.print(
        f"{team} CS team members created; {len(reports)} files imported in "
        f"{time.perf_counter() - started:.1f} s:",
        highlight=False,
    )
    _show_reports(reports, exports_dir(ctx))
    if rates is not None:
        console.print(
            f"  exchange rates: {rates.rows:,} monthly rates of {', '.join(rates.currencies)} in "
            f"{rates.reporting_currency}, {rates.first_day} to {rates.last_day}",
            highlight=False,
        )


def _import_rates(ctx: DemoContext, session: Session) -> FxImportReport | None:
    """Finance's rate table through `tenure fx import`, into the company's reporting currency,
    so KPIs read one figure across currencies."""
    from tenure.accounts.fx_service import import_rates, set_reporting_currency
    from tenure.cli.context import cli_actor
    from tenure.simulate.exports.finance import RATES_FILE

    path = exports_dir(ctx) / RATES_FILE
    if not path.exists():
        return None
    actor = cli_actor(session)
    set_reporting_currency(session, ctx.facts["reporting_currency"], actor)
    return import_rates(session, path.read_text(encoding="utf-8"), actor)


def _show_reports(reports: list[DoorReport], folder: Path) -> None:
    from rich.table import Table

    table = Table(title="import reports (--skip-invalid)", title_justify="left")
    table.add_column("file, and the door it came through")
    for header in ("rows", "inserted", "updated", "unchanged", "refused", "matched", "disagree"):
        table.add_column(header, justify="right")
    for door in reports:
        r = door.report
        how = r.mapping or "Tenure's format"
        table.add_row(
            f"{door.path.relative_to(folder)}\n[dim]  {how}[/]",
            f"{r.rows:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.rejected:,}",
            f"{r.matched:,}",
            f"{r.conflict_count:,}",
        )
    console.print(table)
    console.print(
        "  matched: rows that found the record another system's export stored (by the "
        "Salesforce id a HubSpot or Stripe record carries, or the e-mail); disagree: values "
        "two systems give differently",
        highlight=False,
        soft_wrap=True,
    )
    for door in reports:
        _show_disagreements(door)
    for door in reports:
        for error in door.report.rejects[:SHOWN_REJECTS]:
            value = f" {error.value!r}" if error.value else ""
            console.print(
                f"  refused {door.path.name} line {error.line}, {error.column or 'row'}{value}: "
                f"{error.reason}",
                highlight=False,
                soft_wrap=True,
            )
        if door.rejects_file is not None:
            console.print(f"  … all in {door.rejects_file}", highlight=False, soft_wrap=True)


def _show_disagreements(door: DoorReport) -> None:
    """Per field, how many records two systems disagree on and whose value was kept."""
    from collections import Counter

    names = {"salesforce": "Salesforce", "hubspot": "HubSpot", "stripe": "Stripe"}
    names |= {"tenure": "Tenure's files", "product": "the product"}
    kept = Counter((c.field, c.given_by, c.stored_by, c.kept) for c in door.report.conflicts)
    for (field, given_by, stored_by, winner), count in sorted(kept.items()):
        console.print(
            f"  {door.path.name}: {names.get(given_by, given_by)} and "
            f"{names.get(stored_by, stored_by)} disagree on {field.replace('_', ' ')} for "
            f"{count:,} record(s); kept {names.get(winner, winner)}'s",
            highlight=False,
            soft_wrap=True,
        )
    if door.report.conflict_count > len(door.report.conflicts):
        console.print(
            f"  {door.path.name}: {door.report.conflict_count:,} disagreements in all, the "
            f"first {len(door.report.conflicts):,} counted above",
            highlight=False,
        )


def _children_cpu() -> float:
    """CPU seconds of the child processes waited for so far (the loopback server)."""
    times = os.times()
    return times.children_user + times.children_system


def replay_usage(ctx: DemoContext) -> None:
    """A Segment source, a server on loopback, the usage replayed into /v1/batch, the server
    stopped; then the inbox compacted into Parquet, as the worker would."""
    from tenure.cli.context import event_store, unit_of_work
    from tenure.http.live import served_app
    from tenure.ingest.sources import create_source
    from tenure.model.base import utcnow
    from tenure.simulate import doors

    with unit_of_work(ctx.settings) as session:
        write_key = create_source(session, "product").write_key
    env = {
        "TENURE_DATA_DIR": str(ctx.settings.data_dir),
        "TENURE_DATABASE_URL": ctx.settings.resolved_database_url,
    }
    log = ctx.settings.data_dir / "demo-serve.log"
    server_cpu = _children_cpu()
    with (
        console.status("starting a server on 127.0.0.1…") as status,
        served_app(env, log, ready_path="/healthz") as url,
    ):
        status.update(f"replaying the product usage into {url}/v1/batch…")
        replay = doors.replay_usage(exports_dir(ctx), url, write_key)
    server_cpu = _children_cpu() - server_cpu
    store = event_store(ctx.settings)
    started = time.perf_counter()
    with console.status("compacting the inbox into Parquet…"):
        store.compact(now=utcnow(), wait=True)
    compacted_in = time.perf_counter() - started
    stats = store.stats()
    ctx.facts["replay"] = replay
    console.print(
        f"{replay.messages:,} Segment track calls in {replay.requests} gzipped /v1/batch "
        f"requests ({replay.gzipped_bytes / 1e6:.1f} MB) in {replay.seconds:.1f} s: "
        f"{replay.per_second:,.0f} calls/s, every request answered 200 (the server's CPU, "
        f"start-up included: {server_cpu:.1f} s); inbox compacted into Parquet in "
        f"{compacted_in:.1f} s",
        highlight=False,
    )
    console.print(
        f"event store: {stats.events:,} events ({stats.first:%Y-%m-%d} … {stats.last:%Y-%m-%d}), "
        f"{stats.quarantined} quarantined",
        highlight=False,
    )
    for message in store.quarantined(SHOWN_REJECTS):
        console.print(f"  quarantined: {message.reason}", highlight=False, soft_wrap=True)
    _show_held(ctx, store)


def _show_held(ctx: DemoContext, store: EventStore) -> None:
    """The product sends its workspace ids as groupId: how many reach an account through the
    Salesforce custom field, and how many are held."""
    from tenure.cli.context import unit_of_work
    from tenure.ingest.held_groups import held_groups

    with unit_of_work(ctx.settings) as session:
        held = held_groups(session, store, limit=SHOWN_REJECTS)
    console.print(
        f"groupIds (the product's workspace ids): {held.attributed_events:,} events name an "
        f"account; {held.held_ids} id(s) name none, {held.held_events:,} events held "
        "(`tenure events held`)",
        highlight=False,
    )
