"""Metrics for every day of a range in one pass: peak memory and time of a 150-day daily pass.

    .venv/bin/python -m benchmarks.metrics_range [--accounts 10000] [--events 5000000]
        [--days 150] [--every 1] [--dates-per-query 4] [--memory-limit 1GB]

The path of ``tenure metrics compute --from --to --every`` (and of the churn model's dates):
the attributed activity is rolled up once (``daily_activity``, detail from the first date's
90-day window), then every metric — the registry and the catalog's usage by feature — is
computed a few dates per query (``metrics_over_dates_in_groups``), each group's frame handed on
and dropped as the CLI stores it. Runs in a child process on an in-memory DuckDB over the
seeded synthetic base of ``benchmarks.metrics`` (events over the range plus the 90 days before
it), and reports the child's peak RSS, seconds, account-days and rows per second; then one
date computed alone (``compute_metrics``) for comparison. Writes
``benchmarks/results/metrics_range.json`` (headline ``peak_rss_mb``). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.metrics import AS_OF, prepared_base

from benchmarks import record
from tenure.metrics.incremental import DATES_PER_QUERY
from tenure.store.events.embedded import DEFAULT_MEMORY_LIMIT

SMOKE = {"accounts": 100, "events": 20_000, "days": 10}
WARM_UP_DAYS = 90


def _pass(
    folder: str,
    accounts: int,
    events: int,
    days: int,
    every: int,
    per_query: int,
    memory_limit: str,
    out: Any,
) -> None:
    from tenure.metrics.compute import compute_metrics, daily_activity, default_metrics
    from tenure.metrics.inputs import DETAIL_DAYS
    from tenure.metrics.over_dates import metrics_over_dates_in_groups
    from tenure.metrics.snapshot import snapshot_from_arrow
    from tenure.store.events.embedded import duckdb_connection

    tables, files = prepared_base(Path(folder), accounts, events, days + WARM_UP_DAYS)
    first = AS_OF - timedelta(days=days - 1)
    dates = [first + timedelta(days=n) for n in range(0, days, every)]
    # The connection the product's metrics use (store.connect() on the embedded store).
    con = duckdb_connection(memory_limit)
    snapshot = snapshot_from_arrow(con, tables)
    metrics = default_metrics(snapshot)
    started = time.perf_counter()
    source = con.read_parquet(files, table_name="events")
    daily = con.create_table(
        "tenure_daily_activity",
        daily_activity(source, snapshot, dates[-1], first - timedelta(days=DETAIL_DAYS - 1)),
        temp=True,
    )
    rows = daily.count().to_pyarrow().as_py()
    account_days = 0
    for frame in metrics_over_dates_in_groups(
        con, daily, snapshot, dates, metrics, dates_per_query=per_query
    ):
        account_days += len(frame)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    alone = time.perf_counter()
    compute_metrics(con, source, snapshot, dates[-1], metrics).to_pyarrow()
    out.send(
        {
            "dates": len(dates),
            "metrics": len(metrics),
            "roll_up_rows": rows,
            "account_days": account_days,
            "one_pass_seconds": round(seconds, 1),
            "account_days_per_second": round(account_days / seconds),
            "peak_rss_mb": round(peak, 1),
            "one_date_alone_seconds": round(time.perf_counter() - alone, 1),
        }
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--dates-per-query", type=int, default=DATES_PER_QUERY)
    parser.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help="DuckDB's memory limit (Settings.analytics_memory_limit; default %(default)s).",
    )
    parser.add_argument("--base-dir", type=Path, help="Where the synthetic base is kept.")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = args.base_dir or (
        bench.scratch("base")
        if bench.smoke
        else Path(tempfile.gettempdir()) / f"tenure-range-{args.accounts}-{args.events}-{args.days}"
    )
    # Generated here, read there: the child's peak is the pass, not the generator's.
    prepared_base(folder, args.accounts, args.events, args.days + WARM_UP_DAYS)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=_pass,
        args=(
            str(folder),
            args.accounts,
            args.events,
            args.days,
            args.every,
            args.dates_per_query,
            args.memory_limit,
            sender,
        ),
    )
    child.start()
    figures: dict[str, Any] = {
        "accounts": args.accounts,
        "events": args.events,
        "days": args.days,
        "every": args.every,
        "dates_per_query": args.dates_per_query,
        "memory_limit": args.memory_limit,
        **receiver.recv(),
    }
    child.join()
    print(json.dumps(figures, indent=2))
    return bench.write(figures, headline="peak_rss_mb")


if __name__ == "__main__":
    main()
