"""Daily incremental run vs full recompute: the time to add one new day, on 12 and 24 months.

    .venv/bin/python benchmarks/daily_incremental.py [--accounts N] [--events-per-day N]
        [--months 12 24] [--data-root .data/daily-incremental]

For each history length an event store of generated usage (fixed seed; ``--accounts`` accounts
with ``--users`` users each, ``--events-per-day`` events a day over ``--features`` features, one
event in ten without an account id so attribution goes through the contact) is written once under
``--data-root`` (git-ignored, reused) and its roll-up built (the one-off backlog, timed). Then one
new day of events is appended to the inbox and compacted, as ingest does, and the metrics of that
day are computed twice: incrementally (refresh the roll-up + read ≤ 90 days of it) and by the full
recomputation over every event. The two results are compared (floats relative 1e-9, the rest
exactly). Growth = incremental time at 24 months ÷ at 12 (goal ≤ 1.3). Prints and writes JSON to
``benchmarks/results/daily_incremental.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tenure.metrics.compute import compute_metrics, metrics_from_activity
from tenure.metrics.rollup import ActivityRollup, attribute_rollup
from tenure.metrics.snapshot import Snapshot, snapshot_from_rows
from tenure.store.events import EVENT_SCHEMA, EventStore
from tenure.store.events.embedded import EmbeddedEvents

RESULTS = Path(__file__).parent / "results" / "daily_incremental.json"
AS_OF = date(2026, 6, 30)
SEED = 20260630


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


def same_metrics(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return False
    for column in left.columns:
        a, b = left[column], right[column]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            ok = ~np.isnan(x)
            if (np.isnan(x) != np.isnan(y)).any() or not np.allclose(
                x[ok], y[ok], rtol=1e-9, atol=0
            ):
                return False
        elif (
            a.astype(object).where(a.notna(), None).tolist()
            != b.astype(object).where(b.notna(), None).tolist()
        ):
            return False
    return True


def one_history(months: int, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(args.data_root) / f"{months}m-{args.accounts}a-{args.events_per_day}e"
    store = EventStore(data_dir)
    assert isinstance(store.storage, EmbeddedEvents)
    started = time.perf_counter()
    history = build_history(store, months, args)
    generate_s = time.perf_counter() - started
    # A previous run's new day is removed, so every run adds the same day to the same history.
    shutil.rmtree(store.storage.partition_dir(AS_OF), ignore_errors=True)
    rollup = ActivityRollup(store.storage)
    started = time.perf_counter()
    backlog = rollup.refresh()
    backlog_s = time.perf_counter() - started

    new_day = generated_day_events(
        np.random.default_rng(SEED), AS_OF, 1, args, id_base=10**12 + months * 10**9
    )
    store.append(new_day)
    started = time.perf_counter()
    store.compact(now=datetime.now(UTC))
    compact_s = time.perf_counter() - started

    con = store.connect()
    try:
        snapshot = snapshot_for(con, args)
        started = time.perf_counter()
        read = rollup.read(AS_OF)
        rows = con.create_table("rollup_rows", read.rows, temp=True, overwrite=True)
        activity = attribute_rollup(rows, snapshot, AS_OF)
        incremental = metrics_from_activity(con, activity, snapshot, AS_OF).to_pandas()
        incremental_s = time.perf_counter() - started
        started = time.perf_counter()
        full = compute_metrics(con, store.table(con), snapshot, AS_OF).to_pandas()
        full_s = time.perf_counter() - started
    finally:
        con.disconnect()
    return {
        "months": months,
        "history_events": history,
        "new_day_events": new_day.num_rows,
        "generate_seconds": round(generate_s, 2),
        "rollup_backlog_seconds": round(backlog_s, 2),
        "rollup_backlog_days": backlog.days_rolled,
        "compact_new_day_seconds": round(compact_s, 2),
        "incremental_seconds": round(incremental_s, 2),
        "incremental_days_rolled": read.refresh.days_rolled,
        "incremental_files_read": read.files_read,
        "incremental_rows_read": read.rows.num_rows,
        "full_seconds": round(full_s, 2),
        "speedup": round(full_s / incremental_s, 2),
        "identical_metrics": same_metrics(full, incremental),
        "accounts": len(full),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--users", type=int, default=8, help="users per account")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--events-per-day", type=int, default=10_000)
    parser.add_argument("--months", type=int, nargs="+", default=[12, 24])
    parser.add_argument("--data-root", default=".data/daily-incremental")
    args = parser.parse_args(argv)
    runs = [one_history(months, args) for months in args.months]
    print(
        f"{'months':>6} {'events':>11} {'incremental s':>14} {'full s':>8} {'speedup':>8} "
        f"{'files':>6} {'rows read':>10} {'identical':>9}"
    )
    for run in runs:
        print(
            f"{run['months']:>6} {run['history_events']:>11,} {run['incremental_seconds']:>14} "
            f"{run['full_seconds']:>8} {run['speedup']:>7}× {run['incremental_files_read']:>6} "
            f"{run['incremental_rows_read']:>10,} {run['identical_metrics']!s:>9}"
        )
    result: dict[str, Any] = {"as_of": AS_OF.isoformat(), "seed": SEED, "runs": runs}
    if len(runs) >= 2:
        growth = runs[-1]["incremental_seconds"] / runs[0]["incremental_seconds"]
        full_growth = runs[-1]["full_seconds"] / runs[0]["full_seconds"]
        result["incremental_growth"] = round(growth, 2)
        result["full_growth"] = round(full_growth, 2)
        print(
            f"one new day, {runs[0]['months']} → {runs[-1]['months']} months: incremental "
            f"×{growth:.2f} (goal ≤ 1.3), full recompute ×{full_growth:.2f}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
