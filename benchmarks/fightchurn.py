"""Tenure against fightchurn's metric SQL on PostgreSQL, at every one of its observation dates.

    .venv/bin/python -m benchmarks.fightchurn [--size 10M] [--repeat 3] [--fightchurn-repeat 1]

fightchurn (PyPI ``fightchurn``, the code of *Fighting Churn with Data*) computes each metric
with a SQL listing over a series of weekly metric dates (``generate_series(from, to, '7 day')``)
on PostgreSQL, for churn datasets. This benchmark runs that workload both ways on the same
simulated events (``benchmarks/scale.py``'s run for the size, under ``.data/scale/``):

- **fightchurn**: installed into the venv (not a Tenure dependency), a throwaway PostgreSQL server
  with the settings in ``POSTGRES_SETTINGS`` gets the events in fightchurn's schema — its own
  DDL and indexes, loaded, then ``VACUUM ANALYZE`` as autovacuum would — and its listings run
  unmodified but for their template parameters: 7.9 (distinct active users over an observation
  period, 28 days) and 3.2 (events of one type in the 28 days before the metric date, run once
  per event type and summed per account), each over all weekly dates in one statement.
- **Tenure**: ``compute_metrics_over_dates`` on an in-memory DuckDB over the Parquet files, for
  the same dates and the same two metrics (``active_users_28d``, ``events_28d``): the events are
  read once into the per-day roll-up (its time counted) and both windows computed for all dates.

Loading PostgreSQL is not timed (a fightchurn deployment keeps its event table loaded and
indexed); reading the Parquet and building the roll-up is timed for Tenure. Every (account,
date) value is compared; dates are Tenure's as-of days (listing 3.2's metric date is the
cutoff, listing 7.9's the last microsecond before it, which makes both windows Tenure's).

Writes ``benchmarks/results/fightchurn.json`` (one entry per size, the latest run of each, with
the record of the run that measured it; headline ``runs.N.speedup`` of the size just run).
Simulated runs are made under ``--data-root`` (default ``.data/scale``; a smoke run: the 20k size
in its temporary folder). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from benchmarks.scale import DATA, SIZES, as_of_for, meta_of, simulated_folder

from benchmarks import record
from tenure.dates import end_of

METRICS = ("active_users_28d", "events_28d")
WINDOW_DAYS = 28
# A PostgreSQL configured as one would for a dedicated analytics database on this machine
# (24 GiB, shared): a quarter of a 8 GiB share for buffers, generous per-sort memory,
# SSD costs; parallel workers as PostgreSQL's defaults.
POSTGRES_SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "8GB",
    "random_page_cost": "1.1",
    "max_parallel_workers_per_gather": "2",
}


def observation_dates(first_day: date, last_day: date, every: int = 7) -> list[date]:
    """Weekly as-of days ending on ``last_day``, the earliest with a full window of data."""
    earliest = first_day + timedelta(days=WINDOW_DAYS - 1)
    count = (last_day - earliest).days // every + 1
    return sorted(last_day - timedelta(days=every * n) for n in range(count))


# --- fightchurn on PostgreSQL -------------------------------------------------------------------


def install_fightchurn() -> Path:
    """fightchurn's package folder (installed into this venv without its dependencies: only its
    SQL listings and schema are used)."""
    try:
        import fightchurn
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "fightchurn"], check=True
        )
        import fightchurn
    return Path(fightchurn.__file__).parent


def listing(package: Path, relative: str, **parameters: str) -> str:
    """A fightchurn listing with its ``%name`` template parameters filled in, nothing else."""
    sql = (package / "listings" / relative).read_text()
    for key, value in parameters.items():
        sql = sql.replace(f"%{key}", value)
    return sql


def events_csv(folder: Path, out: Path) -> list[str]:
    """The events in fightchurn's shape as CSV at ``out``: attributed to internal account ids by
    Tenure's rule (own account id, else the contact's account), user and event names as integers
    (ordered). Returns the event names in id order."""
    import duckdb
    from benchmarks.metrics import simulated_base

    tables, files = simulated_base(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("accounts", tables["accounts"])
    con.register("contacts", tables["contacts"])
    con.execute(
        f"""CREATE TEMP TABLE ev AS
        SELECT coalesce(a.id, c.account_id) AS account_id, e.timestamp, e.user_id, e.event
        FROM read_parquet({files!r}) e
        LEFT JOIN accounts a ON a.external_id = e.account_id
        LEFT JOIN (SELECT external_id, account_id FROM contacts WHERE account_id IS NOT NULL) c
          ON c.external_id = e.user_id"""
    )
    types = [r[0] for r in con.execute("SELECT DISTINCT event FROM ev ORDER BY 1").fetchall()]
    con.execute(
        f"""COPY (
           WITH u AS (SELECT user_id, row_number() OVER (ORDER BY user_id) AS uid
                      FROM (SELECT DISTINCT user_id FROM ev WHERE user_id IS NOT NULL)),
                t AS (SELECT event, row_number() OVER (ORDER BY event) AS tid
                      FROM (SELECT DISTINCT event FROM ev))
           SELECT ev.account_id, strftime(ev.timestamp, '%Y-%m-%d %H:%M:%S.%f') AS event_time,
                  t.tid AS event_type_id, u.uid AS user_id
           FROM ev JOIN t USING (event) LEFT JOIN u USING (user_id)
           WHERE ev.account_id IS NOT NULL
        ) TO '{out}' (FORMAT csv, HEADER false)"""
    )
    con.close()
    return types


def _chunks(path: Path, size: int = 1 << 22) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def load_postgres(conn: Any, package: Path, csv: Path, types: list[str]) -> int:
    """fightchurn's schema (its DDL and indexes) in schema ``fc``, loaded; the event count."""
    schema_dir = package / "churnsim" / "schema"
    conn.execute("CREATE SCHEMA fc")
    for name in ("create_event_type.sql", "create_event.sql"):
        conn.execute((schema_dir / name).read_text().replace("x.", "fc."))
    conn.execute("SET search_path TO fc")
    with conn.cursor().copy("COPY event_type FROM STDIN") as copy:
        for i, name in enumerate(types, start=1):
            copy.write_row((i, name))
    with conn.cursor().copy(
        "COPY event (account_id, event_time, event_type_id, user_id) FROM STDIN (FORMAT csv)"
    ) as copy:
        for chunk in _chunks(csv):
            copy.write(chunk)
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False
    return int(conn.execute("SELECT count(*) FROM event").fetchone()[0])


def run_listings(
    conn: Any, package: Path, types: list[str], dates: list[date]
) -> tuple[dict[str, float], dict[str, dict[tuple[int, date], int]]]:
    """Both listings over all ``dates``; their times and values by (account, as-of day)."""
    first, last = (
        end_of(dates[0]).replace(tzinfo=None),
        end_of(dates[-1]).replace(tzinfo=None),
    )
    seconds: dict[str, float] = {}
    # Listing 7.9 counts events with metric_date - period < time <= metric_date: one microsecond
    # before the cutoff makes that Tenure's [cutoff - 28 d, cutoff).
    tick = timedelta(microseconds=1)
    timer = time.perf_counter()
    users = conn.execute(
        listing(
            package,
            "chap7/listing_7_9_count_active_users.sql",
            **{"from_yyyy-mm-dd": str(first - tick), "to_yyyy-mm-dd": str(last - tick)},
            obs_period=str(WINDOW_DAYS),
        )
    ).fetchall()
    seconds["chap7/listing_7_9_count_active_users.sql"] = time.perf_counter() - timer
    timer = time.perf_counter()
    counts: dict[tuple[int, date], int] = {}
    for name in types:
        rows = conn.execute(
            listing(
                package,
                "chap3/listing_3_2_multi_date_count.sql",
                **{"from_yyyy-mm-dd": str(first), "to_yyyy-mm-dd": str(last)},
                event2measure=name,
            )
        ).fetchall()
        for account_id, metric_date, n in rows:
            key = (int(account_id), metric_date.date() - timedelta(days=1))
            counts[key] = counts.get(key, 0) + int(n)
    seconds[f"chap3/listing_3_2_multi_date_count.sql × {len(types)} event types"] = (
        time.perf_counter() - timer
    )
    values = {
        "active_users_28d": {(int(a), d.date()): int(n) for a, d, n in users},
        "events_28d": counts,
    }
    return seconds, values


def _cpu_of(pid: int) -> tuple[int, float, float]:
    """(parent pid, own CPU seconds, CPU seconds of its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    return int(fields[1]), own, (int(fields[13]) + int(fields[14])) / tick


def server_cpu_seconds(backend_pid: int) -> float:
    """CPU seconds the PostgreSQL server has used so far: its postmaster, the children it has
    reaped (parallel workers end with their query) and those alive (backends, background
    workers). A difference of two readings is the server's CPU in between, whatever the load."""
    postmaster = _cpu_of(backend_pid)[0]
    _, own, reaped = _cpu_of(postmaster)
    total = own + reaped
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent, child, _ = _cpu_of(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # ended while being read: its CPU is in the postmaster's reaped share
        if parent == postmaster:
            total += child
    return total


def postgres_settings(conn: Any) -> dict[str, str]:
    names = [*POSTGRES_SETTINGS, "jit", "max_parallel_workers", "server_version"]
    return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}


def fightchurn_side(
    folder: Path, dates: list[date], repeat: int
) -> tuple[dict[str, Any], dict[str, dict[tuple[int, date], int]]]:
    import psycopg
    from tests import pg

    package = install_fightchurn()
    bin_dir = pg.server_binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
    csv = folder.parent / f"fightchurn-{folder.name}.csv"
    started = time.perf_counter()
    names = events_csv(folder, csv)
    # Its listings put the event type into a column alias: names must be identifiers.
    types = [re.sub(r"\W", "_", name) for name in names]
    with (
        pg.running_server(bin_dir, POSTGRES_SETTINGS) as (sock, port),
        psycopg.connect(host=sock, port=port, user="postgres", dbname="postgres") as conn,
    ):
        events = load_postgres(conn, package, csv, types)
        loaded = time.perf_counter() - started
        settings = postgres_settings(conn)
        backend = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
        runs, cpu = [], []
        for _ in range(repeat):
            # The server's CPU and this process's (reading the rows back), per run.
            before = server_cpu_seconds(backend) + time.process_time()
            runs.append(run_listings(conn, package, types, dates))
            cpu.append(server_cpu_seconds(backend) + time.process_time() - before)
    csv.unlink()
    totals = [sum(seconds.values()) for seconds, _ in runs]
    figures = {
        "fightchurn_version": _version("fightchurn"),
        "postgresql": settings,
        "events_in_postgresql": events,
        "load_seconds_not_timed": round(loaded, 1),
        "listings_seconds": [{k: round(v, 2) for k, v in s.items()} for s, _ in runs],
        "seconds_runs": [round(t, 2) for t in totals],
        "seconds": round(statistics.median(totals), 2),
        "cpu_seconds_runs": [round(c, 2) for c in cpu],
        "cpu_seconds": round(statistics.median(cpu), 2),
    }
    return figures, runs[-1][1]


# --- Tenure -------------------------------------------------------------------------------------


def tenure_side(
    folder: Path, dates: list[date], slugs: tuple[str, ...]
) -> tuple[float, float, Any]:
    """Seconds and CPU seconds (every DuckDB thread) for Tenure to read the events and compute
    ``slugs`` at every date; the frame."""
    import ibis
    from benchmarks.metrics import simulated_base

    from tenure.metrics.over_dates import compute_metrics_over_dates
    from tenure.metrics.registry import get_metric
    from tenure.metrics.snapshot import snapshot_from_arrow

    tables, files = simulated_base(folder)
    con = ibis.duckdb.connect()
    snapshot = snapshot_from_arrow(con, tables)
    chosen = [get_metric(slug) for slug in slugs]
    started, cpu = time.perf_counter(), time.process_time()
    events = con.read_parquet(files, table_name="events")
    frame = compute_metrics_over_dates(con, events, snapshot, dates, chosen)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    con.disconnect()
    return seconds, cpu, frame


def compare(
    ours: pd.DataFrame, theirs: dict[str, dict[tuple[int, date], int]]
) -> dict[str, dict[str, Any]]:
    """Per metric: (account, date) rows on either side, and those whose values differ (a row
    missing on one side counts as 0 there: both metrics are counts)."""
    compared: dict[str, dict[str, Any]] = {}
    keys = list(zip(ours["account_id"].astype(int), ours["as_of"], strict=True))
    for slug, values in theirs.items():
        mine = {k: int(v) for k, v in zip(keys, ours[slug], strict=True)}
        rows = sorted(set(mine) | set(values))
        differ = [k for k in rows if mine.get(k, 0) != values.get(k, 0)]
        compared[slug] = {
            "rows_compared": len(rows),
            "nonzero_rows": sum(1 for k in rows if values.get(k, 0)),
            "differences": len(differ),
            "first_differences": [[a, d.isoformat()] for a, d in differ[:5]],
        }
    return compared


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def measure_size(
    label: str,
    repeat: int = 3,
    fightchurn_repeat: int = 1,
    root: Path = DATA,
    last_dates: int | None = None,
) -> dict[str, Any]:
    """Both sides on the simulated run of size ``label`` (made under ``root`` on first use), at
    every weekly date or the ``last_dates`` latest (issue 21 asks for 15); the figures (see the
    module text)."""
    folder = simulated_folder(label, root)
    meta = meta_of(folder)
    days = sorted(p.name.split("=")[1] for p in (folder / "events").glob("event_date=*"))
    dates = observation_dates(date.fromisoformat(days[0]), as_of_for(folder))
    dates = dates[-last_dates:] if last_dates else dates
    load = {"start": os.getloadavg()}
    tenure_runs = [tenure_side(folder, dates, METRICS) for _ in range(repeat)]
    load["after_tenure"] = os.getloadavg()
    theirs, values = fightchurn_side(folder, dates, fightchurn_repeat)
    load["after_fightchurn"] = os.getloadavg()
    tenure_seconds = statistics.median(seconds for seconds, _, _ in tenure_runs)
    tenure_cpu = statistics.median(cpu for _, cpu, _ in tenure_runs)
    compared = compare(tenure_runs[-1][2], values)
    return {
        "benchmark": "fightchurn's metric SQL on PostgreSQL vs Tenure, same metrics and dates",
        "size": label,
        "events": meta["events"],
        "accounts": meta["accounts"],
        "config_hash": meta["config_hash"],
        "observation_dates": {
            "count": len(dates),
            "first": dates[0].isoformat(),
            "last": dates[-1].isoformat(),
            "every_days": 7,
        },
        "metrics": {
            "active_users_28d": "chap7/listing_7_9_count_active_users.sql (obs_period 28)",
            "events_28d": "chap3/listing_3_2_multi_date_count.sql, per event type, summed",
        },
        "fightchurn": theirs,
        "tenure": {
            "how": "compute_metrics_over_dates on in-memory DuckDB over the Parquet files "
            "(events read once into the per-day roll-up, both windows for all dates)",
            "seconds_runs": [round(s, 2) for s, _, _ in tenure_runs],
            "seconds": round(tenure_seconds, 2),
            "cpu_seconds_runs": [round(c, 2) for _, c, _ in tenure_runs],
            "cpu_seconds": round(tenure_cpu, 2),
        },
        "speedup": round(theirs["seconds"] / tenure_seconds, 1),
        # The same ratio in CPU seconds: what each side cost, whatever else the machine ran.
        "cpu_speedup": round(theirs["cpu_seconds"] / tenure_cpu, 1),
        "goal_speedup": 10,
        "same_values": all(c["differences"] == 0 for c in compared.values()),
        "compared": compared,
        "load_average": load,
    }


SMOKE = {"size": "20k", "repeat": 1, "data_root": None}


def _key(run: dict[str, Any]) -> tuple[str, int]:
    """A run is the latest of its size and number of dates."""
    return run["size"], run["observation_dates"]["count"]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10M", choices=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of Tenure")
    parser.add_argument(
        "--fightchurn-repeat", type=int, default=1, help="timed runs of fightchurn's listings"
    )
    parser.add_argument(
        "--data-root", type=Path, default=DATA, help="where simulated runs are made and reused"
    )
    parser.add_argument(
        "--dates", type=int, help="only the latest N weekly dates (default: every one, 101 at 10M)"
    )
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    root = args.data_root or bench.scratch("data")
    figures = measure_size(args.size, args.repeat, args.fightchurn_repeat, root, args.dates)
    figures["run"] = bench.provenance()
    print(json.dumps(figures, indent=2))
    path = bench.results_dir / "fightchurn.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs = sorted(
        [run for run in runs if _key(run) != _key(figures)] + [figures],
        key=lambda r: (r["events"], _key(r)),
    )
    return bench.write({"runs": runs}, headline=f"runs.{runs.index(figures)}.speedup")


if __name__ == "__main__":
    main()
