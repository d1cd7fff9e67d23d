"""Daily incremental run vs full recompute: the time to add one new day, on 12 and 24 months.

    .venv/bin/python -m benchmarks.daily_incremental [--accounts N] [--events-per-day N]
        [--months 12 24] [--data-root .data/daily-incremental]
    .venv/bin/python -m benchmarks.daily_incremental --base .data/large-seed1 [--months 12 24]

For each history length an event store is made once under ``--data-root`` (git-ignored, reused)
and its roll-up built (the one-off backlog, timed). Then one new day of events is appended to the
inbox and compacted, as ingest does, and the metrics of that day are computed twice:
incrementally (refresh the roll-up + read ≤ 90 days of it) and by the full recomputation over
every event. The two results are compared (floats relative 1e-9, the rest exactly). Growth =
incremental time at the longest history ÷ at the shortest (goal ≤ 1.3). DuckDB gets
``--memory-limit``. Prints and writes JSON to ``benchmarks/results/daily_incremental.json``
(``daily_incremental-<run name>.json`` with ``--base``), with the load average at each step;
headline ``incremental_growth``.

Generated (default): usage with a fixed seed — ``--accounts`` accounts with ``--users`` users
each, ``--events-per-day`` events a day over ``--features`` features, one event in ten without an
account id so attribution goes through the contact.

``--base DIR``: a ``tenure simulate --out DIR`` run. Its last day is the new day; the days before
it are the history. The run's event files leave out the store's ``source`` and ``received_at``
columns, so the store cannot read them in place: they are written once into
``<data-root>/<run>-all`` as the simulator writes into a store (``source`` "simulator";
``received_at`` = the event's timestamp, the delivery latency not being in the files; no metric
reads either). Each history length is then a store of hard links to that store's files for the
last N months, with its own inbox and roll-up. The snapshot comes from the run's operational
files as ``benchmarks/metrics.py`` reads them (``simulated_base``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks import record
from tenure.metrics.compute import compute_metrics, metrics_from_activity
from tenure.metrics.registry import all_metrics
from tenure.metrics.rollup import ActivityRollup, attribute_rollup
from tenure.metrics.snapshot import Snapshot, snapshot_from_arrow, snapshot_from_rows
from tenure.store.events import EVENT_SCHEMA, EventStore
from tenure.store.events.embedded import PARTITION_KEY, EmbeddedEvents

SMOKE = {
    "accounts": 20,
    "users": 2,
    "features": 5,
    "events_per_day": 200,
    "months": [1, 2],
    "data_root": None,
}
AS_OF = date(2026, 6, 30)
SEED = 20260630


@dataclass(frozen=True)
class History:
    """One history to add a day to: the store holding it, the new day and who the accounts are."""

    store: EventStore
    events: int
    prepare_seconds: float
    new_day: pa.Table
    as_of: date
    snapshot: Callable[[Any], Snapshot]


def generated_day_events(
    rng: np.random.Generator, first: date, days: int, args: argparse.Namespace, id_base: int
) -> pa.Table:
    n = days * args.events_per_day
    account = rng.integers(0, args.accounts, n)
    user = rng.integers(0, args.users, n)
    seconds = rng.integers(0, 86_400, n) + rng.integers(0, days, n) * 86_400
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    start_us = int(start.timestamp()) * 1_000_000
    stamps = pa.array(start_us + seconds * 1_000_000, pa.int64()).cast(
        EVENT_SCHEMA.field("timestamp").type
    )
    account_ids = pa.array([f"acct-{a:05d}" for a in range(args.accounts)]).take(pa.array(account))
    user_ids = pc.binary_join_element_wise(account_ids, pa.array(user.astype(str)), "-u")
    # One event in ten carries no account id: it is attributed through its user's contact.
    no_account = rng.random(n) < 0.1
    account_ids = pc.if_else(pa.array(no_account), pa.scalar(None, pa.string()), account_ids)
    features = pa.array([f"feature_{f:02d}" for f in range(args.features)]).take(
        pa.array(rng.zipf(1.6, n) % args.features)
    )
    ids = pc.cast(pa.array(np.arange(id_base, id_base + n)), pa.string())
    return pa.table(
        {
            "message_id": ids,
            "source": pa.array(["bench"] * n),
            "type": pa.array(["track"] * n),
            "account_id": account_ids,
            "user_id": user_ids,
            "anonymous_id": pa.nulls(n, pa.string()),
            "event": features,
            "timestamp": stamps,
            "received_at": stamps,
            "properties": pa.nulls(n, pa.string()),
        }
    ).cast(EVENT_SCHEMA)


def snapshot_for(con: Any, args: argparse.Namespace) -> Snapshot:
    accounts = [
        {"id": a + 1, "external_id": f"acct-{a:05d}", "name": f"Account {a}", "segment": "smb"}
        for a in range(args.accounts)
    ]
    contacts = [
        {"id": a * args.users + u + 1, "external_id": f"acct-{a:05d}-u{u}", "account_id": a + 1}
        for a in range(args.accounts)
        for u in range(args.users)
    ]
    features = [
        {"key": f"feature_{f:02d}", "strategic": f % 4 == 0, "released_on": date(2024, 1, 1)}
        for f in range(args.features)
    ]
    contracts = [
        {
            "id": a + 1,
            "account_id": a + 1,
            "starts_on": date(2024, 1, 1),
            "ends_on": date(2027, 1, 1),
            "arr": 12_000.0,
            "currency": "USD",
            "licensed_seats": args.users,
            "status": "active",
        }
        for a in range(args.accounts)
    ]
    return snapshot_from_rows(
        con, accounts=accounts, contacts=contacts, features=features, contracts=contracts
    )


def build_history(store: EventStore, months: int, args: argparse.Namespace) -> int:
    """Write ``months`` × 30 days of history ending the day before AS_OF (reused when present)."""
    marker = store.data_dir / "history.json"
    if marker.exists():
        return int(json.loads(marker.read_text())["events"])
    rng = np.random.default_rng(SEED + months)
    first = AS_OF - timedelta(days=months * 30)
    written = 0
    day = first
    while day < AS_OF:
        days = min(30, (AS_OF - day).days)
        table = generated_day_events(rng, day, days, args, id_base=written)
        store.write_parquet(table, dedupe=False)
        written += table.num_rows
        day += timedelta(days=days)
    marker.write_text(json.dumps({"events": written}))
    return written


def generated_history(months: int, args: argparse.Namespace) -> History:
    store = EventStore(Path(args.data_root) / f"{months}m-{args.accounts}a-{args.events_per_day}e")
    started = time.perf_counter()
    events = build_history(store, months, args)
    new_day = generated_day_events(
        np.random.default_rng(SEED), AS_OF, 1, args, id_base=10**12 + months * 10**9
    )
    return History(
        store,
        events,
        time.perf_counter() - started,
        new_day,
        AS_OF,
        lambda con: snapshot_for(con, args),
    )


# --- a simulated run as the history -----------------------------------------------------------


def partition_day(folder: Path) -> date:
    return date.fromisoformat(folder.name.removeprefix(f"{PARTITION_KEY}="))


def simulated_events(partition: Path) -> pa.Table:
    """One day of a ``--out`` run in the store's schema (the columns the files leave out added)."""
    table = pa.concat_tables(pq.read_table(f) for f in sorted(partition.glob("*.parquet")))
    table = table.select([c for c in EVENT_SCHEMA.names if c in table.column_names])
    table = table.append_column("source", pa.array(["simulator"] * table.num_rows))
    table = table.append_column("received_at", table["timestamp"])
    return table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)


def made_once(data_dir: Path, fill: Callable[[Path], int]) -> int:
    """Events in the store at ``data_dir``, which ``fill`` makes (in a ``.partial`` folder,
    renamed when done) unless an earlier run did."""
    marker = data_dir / "history.json"
    if not marker.exists():
        partial = data_dir.with_name(data_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        events = fill(partial)
        (partial / "history.json").write_text(json.dumps({"events": events}))
        partial.rename(data_dir)
    return int(json.loads(marker.read_text())["events"])


def stored_run(base: Path, new_day: date) -> Callable[[Path], int]:
    """Every day of the run before ``new_day``, written into a store."""

    def fill(data_dir: Path) -> int:
        store = EventStore(data_dir)
        return sum(
            store.write_parquet(simulated_events(partition), dedupe=False).written
            for partition in sorted((base / "events").glob(f"{PARTITION_KEY}=*"))
            if partition_day(partition) < new_day
        )

    return fill


def linked_history(source: Path, first: date) -> Callable[[Path], int]:
    """Hard links to the event files of the store at ``source`` from ``first`` on."""

    def fill(data_dir: Path) -> int:
        events = 0
        for file in sorted((source / "events").glob(f"{PARTITION_KEY}=*/*.parquet")):
            if partition_day(file.parent) >= first:
                target = data_dir / "events" / file.parent.name / file.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(file, target)
                events += pq.read_metadata(file).num_rows
        return events

    return fill


def simulated_history(months: int, args: argparse.Namespace) -> History:
    from benchmarks.metrics import simulated_base

    base = Path(args.base)
    new_day = date.fromisoformat(json.loads((base / "simulation.json").read_text())["as_of"])
    new_day -= timedelta(days=1)
    first = (pd.Timestamp(new_day) - pd.DateOffset(months=months)).date()
    root = Path(args.data_root)
    started = time.perf_counter()
    made_once(root / f"{base.name}-all", stored_run(base, new_day))
    events = made_once(
        root / f"{base.name}-{months}m", linked_history(root / f"{base.name}-all", first)
    )
    prepared = time.perf_counter() - started
    tables, _ = simulated_base(base)
    return History(
        EventStore(root / f"{base.name}-{months}m"),
        events,
        prepared,
        simulated_events(base / "events" / f"{PARTITION_KEY}={new_day.isoformat()}"),
        new_day,
        lambda con: snapshot_from_arrow(con, tables),
    )


# --- one new day, both ways -------------------------------------------------------------------


def same_metrics(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """Same rows and columns, account columns exactly, every metric within rel 1e-9."""
    from benchmarks.metrics import disagreements

    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return False
    metrics = {m.slug for m in all_metrics()}
    accounts = [c for c in left.columns if c not in metrics]
    return left[accounts].astype(object).equals(right[accounts].astype(object)) and not (
        disagreements(left, right)
    )


def load() -> float:
    return round(os.getloadavg()[0], 2)


def one_history(months: int, args: argparse.Namespace) -> dict[str, Any]:
    history = simulated_history(months, args) if args.base else generated_history(months, args)
    store = history.store
    assert isinstance(store.storage, EmbeddedEvents)
    # A previous run's new day is removed, with the inbox that still knows its message ids, so
    # every run adds the same day to the same history.
    shutil.rmtree(store.storage.partition_dir(history.as_of), ignore_errors=True)
    for name in ("inbox.db", "inbox.db-wal", "inbox.db-shm"):
        (store.data_dir / name).unlink(missing_ok=True)
    rollup = ActivityRollup(store.storage)
    loads = {"backlog": load()}
    started = time.perf_counter()
    backlog = rollup.refresh()
    backlog_s = time.perf_counter() - started

    appended = store.append(history.new_day.to_pylist())
    started = time.perf_counter()
    store.compact(now=datetime.now(UTC))
    compact_s = time.perf_counter() - started

    con = store.connect()
    try:
        con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
        con.raw_sql(f"SET temp_directory = '{Path(args.data_root) / 'duckdb-spill'}'")
        snapshot = history.snapshot(con)
        loads["incremental"] = load()
        started = time.perf_counter()
        read = rollup.read(history.as_of)
        read_s = time.perf_counter() - started
        rows = con.create_table("rollup_rows", read.rows, temp=True, overwrite=True)
        activity = attribute_rollup(rows, snapshot, history.as_of)
        incremental = metrics_from_activity(con, activity, snapshot, history.as_of).to_pandas()
        incremental_s = time.perf_counter() - started
        loads["full"] = load()
        started = time.perf_counter()
        full = compute_metrics(con, store.table(con), snapshot, history.as_of).to_pandas()
        full_s = time.perf_counter() - started
        loads["end"] = load()
    finally:
        con.disconnect()
    return {
        "months": months,
        "history_events": history.events,
        "new_day": history.as_of.isoformat(),
        "new_day_events": appended.stored,
        "prepare_seconds": round(history.prepare_seconds, 2),
        "rollup_backlog_seconds": round(backlog_s, 2),
        "rollup_backlog_days": backlog.days_rolled,
        "compact_new_day_seconds": round(compact_s, 2),
        "incremental_seconds": round(incremental_s, 2),
        # Of which: refreshing and reading the roll-up files (the rest is computing metrics).
        "incremental_read_seconds": round(read_s, 2),
        "incremental_days_rolled": read.refresh.days_rolled,
        "incremental_files_read": read.files_read,
        "incremental_rows_read": read.rows.num_rows,
        "full_seconds": round(full_s, 2),
        "speedup": round(full_s / incremental_s, 2),
        "identical_metrics": same_metrics(full, incremental),
        "accounts": len(full),
        "load_average_1min": loads,
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a `tenure simulate --out DIR` run as the history")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--users", type=int, default=8, help="users per account")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--events-per-day", type=int, default=10_000)
    parser.add_argument("--months", type=int, nargs="+", default=[12, 24])
    parser.add_argument("--data-root", default=".data/daily-incremental")
    parser.add_argument("--memory-limit", default="4GiB", help="DuckDB's, for the metrics")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    # A smoke run's stores go with its JSON; a full run's are kept and reused.
    args.data_root = args.data_root or str(bench.scratch("data"))
    runs = []
    for months in args.months:
        runs.append(one_history(months, args))
        print(json.dumps(runs[-1]), flush=True)
    print(
        f"{'months':>6} {'events':>11} {'backlog s':>9} {'incremental s':>14} {'full s':>8} "
        f"{'speedup':>8} {'files':>6} {'rows read':>10} {'identical':>9} {'load':>5}"
    )
    for run in runs:
        print(
            f"{run['months']:>6} {run['history_events']:>11,} "
            f"{run['rollup_backlog_seconds']:>9} {run['incremental_seconds']:>14} "
            f"{run['full_seconds']:>8} {run['speedup']:>7}× {run['incremental_files_read']:>6} "
            f"{run['incremental_rows_read']:>10,} {run['identical_metrics']!s:>9} "
            f"{run['load_average_1min']['incremental']:>5}"
        )
    result: dict[str, Any] = {
        "data": f"simulator run {args.base}" if args.base else f"generated, seed {SEED}",
        "memory_limit": args.memory_limit,
        "runs": runs,
    }
    if args.base:
        meta = json.loads((Path(args.base) / "simulation.json").read_text())
        result["config_hash"] = meta["config_hash"]
    else:
        result |= {"as_of": AS_OF.isoformat(), "seed": SEED}
    if len(runs) >= 2:
        growth = runs[-1]["incremental_seconds"] / runs[0]["incremental_seconds"]
        full_growth = runs[-1]["full_seconds"] / runs[0]["full_seconds"]
        result["incremental_growth"] = round(growth, 2)
        result["full_growth"] = round(full_growth, 2)
        print(
            f"one new day, {runs[0]['months']} → {runs[-1]['months']} months: incremental "
            f"×{growth:.2f} (goal ≤ 1.3), full recompute ×{full_growth:.2f}"
        )
    name = f"daily_incremental-{Path(args.base).name}" if args.base else "daily_incremental"
    return bench.write(result, headline="incremental_growth", filename=f"{name}.json")


if __name__ == "__main__":
    main()
