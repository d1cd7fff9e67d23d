"""Metric computation as events grow: DuckDB and Spark against hand-written SQL, and fightchurn.

    .venv/bin/python -m benchmarks.scale [--sizes 10M,100M] [--no-spark [WHY]]
        [--sql-variants one_pass,rolled_up] [--fightchurn with|without|only]

For each size, a simulator run (the medium preset with as many accounts as the size needs, 24
months) is generated once into the git-ignored ``.data/scale/<config hash>/`` and reused. On it,
each in a process of its own so that its peak memory (the whole process tree, JVM included,
sampled every 0.25 s; also the sum of each process's kernel high-water mark) is its own, with
the load average before and after:

- ``sql``: the hand-written DuckDB SQL of ``benchmarks/metrics.py`` (the faster of its one-pass
  and rolled-up statements) — the yardstick;
- ``duckdb``: the Ibis metric registry on an in-memory DuckDB (the default engine);
- ``spark``: the same registry on the Spark event store's backend (what
  ``TENURE_EVENTS_ENGINE=spark`` uses) on ``local[2]``; Spark's start-up is timed apart.

Each engine's time is given as a ratio to the SQL pass (goal ≤ 2× on DuckDB), and every engine's
result is compared with the SQL's value by value. Both DuckDB engines get ``duckdb_settings``
(a 10 GiB memory cap, spilling under the data root), Spark ``SPARK_DRIVER_MEMORY``. 1B events
is only attempted with ``--sizes 1B`` (simulated: 36 min at load 3–5 here) or ``--sizes
1B-replicated`` (the 100M run copied ten times with prefixed ids, marked as replicated in the
JSON), and only if free disk is at least 3× its projected Parquet size; the JSON records that
check either way.

With ``--fightchurn`` (on the sizes in ``FIGHTCHURN_SIZES``), a size also gets
``benchmarks/fightchurn.py``'s comparison: fightchurn's metric SQL on PostgreSQL against
Tenure's ``compute_metrics_over_dates`` at all its weekly observation dates, row for row.

``--data-root`` (default ``.data/scale``) holds the simulated runs; a smoke run simulates the
20k size (60 accounts × 3 months) into its temporary folder and runs every engine, Spark
included, on six metrics (``--metrics``; the SQL engine computes all, six are compared).

Writes ``benchmarks/results/scale.json`` (headline ``runs.N.engines.duckdb.ratio_to_sql`` of the
first size run; each size entry has the record of the run that measured it). Figures, not
pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks import record

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "scale"
# Accounts of the medium preset (24 months) that give about this many events: the medium run
# measured 2,574 events per account.
SIZES = {"20k": 60, "1M": 390, "3M": 1_170, "10M": 3_900, "100M": 39_000, "1B": 390_000}
# Months of a size's run when not the preset's 24: the smoke size (few day partitions, so that
# Spark, which pays per file, finishes in seconds).
MONTHS = {"20k": 3}
DISK_FACTOR = 3
# Sizes made by copying a smaller simulated run, for when simulating the size itself does not fit
# the time there is (a billion events: 2,177 s at load 3–5 here, 4 min per 30 days at load 10).
# Each copy's account, contact, user and record ids get a prefix of their own (``r0-`` …), so the
# accounts are distinct but each behaves exactly as its original. The JSON says so
# (``replicated_from``).
REPLICATED = {"1B-replicated": ("100M", 10)}
# The columns holding ids, per file of a simulated run (``tenure simulate --out``).
ID_COLUMNS = {
    "accounts": ["external_id"],
    "account_ownership": ["account_external_id"],
    "contacts": ["external_id", "account_external_id"],
    "contracts": ["external_id", "account_external_id"],
    "surveys": ["external_id", "account_external_id", "contact_external_id"],
    "tickets": ["external_id", "account_external_id", "contact_external_id"],
    "touchpoints": ["external_id", "account_external_id", "attendee_external_ids"],
    "features": [],
    "users": [],
}
LIST_ID_COLUMNS = {"attendee_external_ids"}
EVENT_ID_COLUMNS = ["message_id", "account_id", "user_id", "anonymous_id"]
# DuckDB may take 80% of the machine's memory by default; this machine (24 GiB) is shared, so both
# DuckDB engines get the same cap and spill the rest to disk. Spark in local mode runs everything in
# the driver's JVM, whose default heap (1 GiB) is sized for a client, not for the work itself.
DUCKDB_MEMORY_LIMIT = "10GiB"
SPARK_DRIVER_MEMORY = "6g"
SQL_VARIANTS = ("one_pass", "rolled_up")
# fightchurn runs on PostgreSQL up to 10M events; beyond that we do not wait for it.
FIGHTCHURN_SIZES = ("1M", "10M")


# --- data ------------------------------------------------------------------------------------


def simulation_config(label: str) -> Any:
    from tenure.simulate import load_config

    return load_config("medium", overrides={"accounts": SIZES[label], "months": MONTHS.get(label)})


def duckdb_settings(root: Path) -> dict[str, Any]:
    """Both DuckDB engines' settings: the memory cap, spilling under the data root."""
    return {"memory_limit": DUCKDB_MEMORY_LIMIT, "temp_directory": str(root / "duckdb-spill")}


def simulated_folder(label: str, root: Path = DATA) -> Path:
    """The run of size ``label``, generated on first use (``<root>/<config hash>``)."""
    from tenure.simulate.service import simulate_to_files

    config = simulation_config(label)
    folder = root / config.hash()
    if not (folder / "simulation.json").exists():
        partial = folder.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"simulating {config.accounts:,} accounts into {folder} …", flush=True)
        simulate_to_files(config, partial, _progress_every(30))
        partial.rename(folder)
    return folder


def replicated_folder(label: str, root: Path = DATA) -> Path:
    """``REPLICATED[label]``: its source run copied (``<root>/<source hash>-x<copies>``),
    made on first use."""
    source_label, copies = REPLICATED[label]
    source = simulated_folder(source_label, root)
    folder = root / f"{meta_of(source)['config_hash']}-x{copies}"
    if not (folder / "simulation.json").exists():
        partial = folder.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"copying {source} {copies} times into {folder} …", flush=True)
        replicate(source, partial, copies, source_label)
        partial.rename(folder)
    return folder


def replicate(source: Path, out: Path, copies: int, source_label: str) -> None:
    """Write ``copies`` copies of the simulated run in ``source`` into ``out`` as one run: each
    copy's ids prefixed ``r<copy>-`` (``ID_COLUMNS``, ``EVENT_ID_COLUMNS``), features and users
    once, and a ``simulation.json`` that says it is replicated and from what."""
    import duckdb

    meta = meta_of(source)
    (out / "events").mkdir(parents=True)
    con = duckdb.connect(config=duckdb_settings(out.parent))
    for name, columns in ID_COLUMNS.items():
        copied = " UNION ALL ".join(
            _prefixed(f"read_parquet('{source}/{name}.parquet')", columns, copy)
            for copy in range(copies if columns else 1)
        )
        con.execute(f"COPY ({copied}) TO '{out}/{name}.parquet' (FORMAT parquet)")
    events = f"read_parquet('{source}/events/*/*.parquet', hive_partitioning = true)"
    for copy in range(copies):
        con.execute(
            f"COPY ({_prefixed(events, EVENT_ID_COLUMNS, copy)}) TO '{out}/events' "
            f"(FORMAT parquet, PARTITION_BY (event_date), FILENAME_PATTERN 'part-r{copy}-{{i}}', "
            "OVERWRITE_OR_IGNORE true)"
        )
        print(f"  copy {copy + 1}/{copies} of the events written", flush=True)
    counted = con.execute(f"SELECT count(*) FROM '{out}/events/*/*.parquet'").fetchone()
    con.close()
    replicated = meta | {
        "accounts": meta["accounts"] * copies,
        "events": int(counted[0]) if counted else 0,
        "config_hash": f"{meta['config_hash']}-x{copies}",
        "replicated_from": {
            "size": source_label,
            "config_hash": meta["config_hash"],
            "events": meta["events"],
            "copies": copies,
            "ids": f"prefixed r0- … r{copies - 1}- per copy: {', '.join(EVENT_ID_COLUMNS)} "
            "in events and the id columns of the operational files",
        },
    }
    (out / "simulation.json").write_text(json.dumps(replicated, indent=2, sort_keys=True))


def _prefixed(relation: str, columns: list[str], copy: int) -> str:
    """``SELECT *`` from ``relation`` with ``columns`` (strings or lists of them) prefixed."""
    if not columns:
        return f"SELECT * FROM {relation}"
    prefix = f"'r{copy}-'"
    replaced = ", ".join(
        f"list_transform({c}, lambda x: {prefix} || x) AS {c}"
        if c in LIST_ID_COLUMNS
        else f"{prefix} || {c} AS {c}"
        for c in columns
    )
    return f"SELECT * REPLACE ({replaced}) FROM {relation}"


def _progress_every(days: int) -> Callable[[int, int], None]:
    """Prints the simulated day every ``days`` days with the time taken so far: a billion events
    take an hour or more here, and whether it will finish in time is worth knowing early."""
    started = time.perf_counter()

    def progress(day: int, total: int) -> None:
        if day % days == 0 or day == total:
            elapsed = time.perf_counter() - started
            print(f"  day {day}/{total} after {elapsed:,.0f} s", flush=True)

    return progress


def parquet_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in (folder / "events").rglob("*.parquet"))


def meta_of(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "simulation.json").read_text()))


def as_of_for(folder: Path) -> date:
    return date.fromisoformat(meta_of(folder)["as_of"]) - timedelta(days=1)


# --- one engine, in a process of its own -------------------------------------------------------


@dataclass(frozen=True)
class EngineChoices:
    """What every engine's process is told: the hand-written statements to time, Spark settings
    (``KEY=VALUE``, set before Spark starts) and the metrics (None: the whole registry)."""

    sql_variants: list[str]
    spark_conf: list[str] = field(default_factory=list)
    metrics: list[str] | None = None

    def flags(self) -> list[str]:
        """The same choices as ``--measure`` flags."""
        flags = ["--sql-variants", ",".join(self.sql_variants)]
        flags += [f"--spark-conf={setting}" for setting in self.spark_conf]
        return flags + ([f"--metrics={','.join(self.metrics)}"] if self.metrics else [])

    def chosen(self) -> list[Any] | None:
        from tenure.metrics.registry import get_metric

        return None if self.metrics is None else [get_metric(slug) for slug in self.metrics]


def measure(
    engine: str, folder: Path, out: Path, choices: EngineChoices, memory: str | None = None
) -> None:
    """Compute the metrics on ``engine``; write the frame (Parquet) and timings (JSON).

    The SQL engine computes every metric (only the chosen ones are compared). ``memory``
    replaces the DuckDB ``memory_limit`` (and drops insertion order, which the comparison does
    not need) or Spark's driver memory: for a run too big for the defaults (``--measure ENGINE
    FOLDER OUT --memory 18GiB``, as the 1B figures in docs/scaling.md)."""
    from benchmarks.metrics import run_ibis, run_sql, simulated_base

    settings = duckdb_settings(folder.parent)
    if memory is not None:
        settings |= {"memory_limit": memory, "preserve_insertion_order": False}
    driver_memory = memory or SPARK_DRIVER_MEMORY
    tables, files = simulated_base(folder)
    as_of = as_of_for(folder)
    timings: dict[str, Any] = {}
    if engine == "sql":
        frames = {}
        for variant in choices.sql_variants:
            timings[variant], frames[variant] = run_sql(
                files, tables, as_of, rolled_up=variant == "rolled_up", settings=settings
            )
        fastest = min(choices.sql_variants, key=lambda variant: timings[variant])
        frame, timings["seconds"], timings["fastest"] = frames[fastest], timings[fastest], fastest
        timings["duckdb_settings"] = settings
    elif engine == "duckdb":
        timings["seconds"], frame = run_ibis(files, tables, as_of, settings, choices.chosen())
        timings["duckdb_settings"] = settings
    elif engine == "spark":
        from tenure.metrics.compute import compute_metrics
        from tenure.metrics.snapshot import snapshot_from_arrow
        from tenure.store.events.spark import (
            DEFAULT_MASTER,
            connect_spark,
            spark_config,
            spark_session,
        )

        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {driver_memory} pyspark-shell"
        timings["spark_driver_memory"] = driver_memory
        timings["spark_conf"] = choices.spark_conf
        started = time.perf_counter()
        if choices.spark_conf:  # the session spark_session() returns: as tests/conftest.py does
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.master(DEFAULT_MASTER)
            extra = dict(setting.partition("=")[::2] for setting in choices.spark_conf)
            for key, value in {**spark_config(DEFAULT_MASTER), **extra}.items():
                builder = builder.config(key, value)
            builder.getOrCreate()
        spark_session()
        timings["startup_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        # As run_ibis reads them on DuckDB: the run's files (import-shaped, without the
        # store's bookkeeping columns), through the Spark store's backend.
        con = connect_spark()
        snapshot = snapshot_from_arrow(con, tables)
        events = con.read_parquet(files, table_name="events")
        frame = compute_metrics(con, events, snapshot, as_of, choices.chosen()).to_pandas()
        timings["seconds"] = time.perf_counter() - started
        con.disconnect()
    else:
        raise ValueError(f"unknown engine {engine!r}")
    frame.to_parquet(out.with_suffix(".parquet"))
    out.write_text(json.dumps(timings))


def _tree_memory(pid: int) -> dict[int, tuple[int, int]]:
    """Per process of ``pid``'s tree (itself and all descendants): resident bytes now and the
    kernel's high-water mark of its resident bytes (``VmRSS``, ``VmHWM`` of Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    memory: dict[int, tuple[int, int]] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text().splitlines()
        except OSError:
            continue
        kib = {
            line.split(":")[0]: int(line.split()[1]) * 1024
            for line in status
            if line.startswith(("VmRSS:", "VmHWM:"))
        }
        if "VmRSS" in kib:  # kernel threads and zombies have none
            memory[current] = (kib["VmRSS"], kib.get("VmHWM", kib["VmRSS"]))
    return memory


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_engine(
    engine: str, folder: Path, choices: EngineChoices
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run ``measure`` in a child process, sampling its tree's memory; returns figures, frame.

    Peak memory is the largest sum of the tree's resident sizes seen at one sample (every
    0.25 s: Python and, on Spark, the JVM it starts); the sum of each process's own high-water
    mark bounds it from above (those peaks need not coincide) and catches what falls between
    samples."""
    out = folder.parent / f"measure-{engine}-{folder.name}.json"
    command = [sys.executable, "-m", "benchmarks.scale", "--measure", engine, str(folder), str(out)]
    load_before = _load()
    command += choices.flags()
    process = subprocess.Popen(command, cwd=ROOT)
    peak = 0
    high_water: dict[int, int] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            tree = _tree_memory(process.pid)
            peak = max(peak, sum(rss for rss, _ in tree.values()))
            for child, (_, hwm) in tree.items():
                high_water[child] = max(high_water.get(child, 0), hwm)
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    code = process.wait()
    stop.set()
    sampler.join()
    if code != 0:
        raise RuntimeError(f"{engine} on {folder} failed with exit code {code}")
    figures = json.loads(out.read_text())
    figures["wall_seconds"] = time.perf_counter() - started
    figures["peak_rss_mb"] = round(peak / 2**20)
    figures["sum_of_process_peaks_mb"] = round(sum(high_water.values()) / 2**20)
    figures["load_average_before"], figures["load_average_after"] = load_before, _load()
    return figures, pd.read_parquet(out.with_suffix(".parquet"))


# --- the run ------------------------------------------------------------------------------------


def _agreement(
    reference: pd.DataFrame, frame: pd.DataFrame, metrics: list[Any] | None
) -> dict[str, int]:
    from benchmarks.metrics import disagreements

    return disagreements(
        reference.sort_values("account_id").reset_index(drop=True),
        frame.sort_values("account_id").reset_index(drop=True),
        metrics,
    )


def billion_check(per_event_bytes: float, root: Path) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    projected = per_event_bytes * 1e9
    free = shutil.disk_usage(root).free
    return {
        "projected_parquet_gb": round(projected / 1e9, 1),
        "free_disk_gb": round(free / 1e9, 1),
        "required_gb": round(DISK_FACTOR * projected / 1e9, 1),
        "enough_disk": free >= DISK_FACTOR * projected,
    }


def run_size(
    label: str, engines: list[str], not_run: dict[str, str], root: Path, choices: EngineChoices
) -> dict[str, Any]:
    """Every engine on the size's data under ``root``; ``not_run``: engines left out, and why."""
    folder = (
        replicated_folder(label, root) if label in REPLICATED else simulated_folder(label, root)
    )
    meta = meta_of(folder)
    size: dict[str, Any] = {
        "size": label,
        "data": "replicated" if "replicated_from" in meta else "simulated",
        "replicated_from": meta.get("replicated_from"),
        "events": meta["events"],
        "accounts": meta["accounts"],
        "config_hash": meta["config_hash"],
        "parquet_mb": round(parquet_bytes(folder) / 2**20),
        "as_of": as_of_for(folder).isoformat(),
        "engines": {},
        "engines_not_run": not_run,
        "metrics": choices.metrics or "all",
    }
    frames: dict[str, pd.DataFrame] = {}
    for engine in ["sql", *engines]:
        figures, frames[engine] = run_engine(engine, folder, choices)
        size["engines"][engine] = figures
        print(f"{label} {engine}: {json.dumps(figures)}", flush=True)
    baseline = size["engines"]["sql"]["seconds"]
    for engine in engines:
        figures = size["engines"][engine]
        figures["ratio_to_sql"] = round(figures["seconds"] / baseline, 2)
        figures["disagreements_with_sql"] = _agreement(
            frames["sql"], frames[engine], choices.chosen()
        )
    return size


def add_fightchurn(size: dict[str, Any], root: Path) -> None:
    """fightchurn's SQL on PostgreSQL vs Tenure at its dates (benchmarks/fightchurn.py)."""
    from benchmarks.fightchurn import measure_size

    size["fightchurn"] = measure_size(size["size"], root=root)
    print(f"{size['size']} fightchurn: {json.dumps(size['fightchurn'])}", flush=True)


def growth(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each size against the previous one: how many times the events, and each engine's time and
    peak memory, grew."""
    steps = []
    for smaller, larger in pairwise(runs):
        step: dict[str, Any] = {
            "from": smaller["size"],
            "to": larger["size"],
            "events_x": round(larger["events"] / smaller["events"], 2),
        }
        for engine, figures in larger["engines"].items():
            before = smaller["engines"].get(engine)
            if before is not None:
                step[engine] = {
                    "seconds_x": round(figures["seconds"] / before["seconds"], 2),
                    "peak_rss_x": round(figures["peak_rss_mb"] / before["peak_rss_mb"], 2),
                }
        steps.append(step)
    return steps


def _previous_runs(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return {run["size"]: run for run in json.loads(path.read_text())["runs"]}


# Tiny data: one shuffle partition, no adaptive re-planning (as the test suite's Spark).
SMOKE = {
    "sizes": "20k",
    "data_root": None,
    "spark_conf": ["spark.sql.shuffle.partitions=1", "spark.sql.adaptive.enabled=false"],
    "metrics": "active_users_28d,events_28d,license_utilization,arr,open_tickets,nps_latest",
}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1M,3M,10M", help=f"Comma-separated, of {', '.join(SIZES)}."
    )
    parser.add_argument(
        "--no-spark",
        nargs="?",
        const="not requested (--no-spark)",
        metavar="WHY",
        help="Leave Spark out; the reason given is recorded with the sizes run.",
    )
    parser.add_argument(
        "--sql-variants",
        default=",".join(SQL_VARIANTS),
        help="Hand-written statements to time (the faster is the yardstick): "
        f"{', '.join(SQL_VARIANTS)}.",
    )
    parser.add_argument(
        "--fightchurn",
        choices=["with", "without", "only"],
        default="with",
        help=f"fightchurn on the sizes among {', '.join(FIGHTCHURN_SIZES)}; 'only' adds it to "
        "sizes measured before.",
    )
    parser.add_argument(
        "--measure",
        nargs=3,
        metavar=("ENGINE", "FOLDER", "OUT"),
        help="One engine on one simulated run, in this process (run_engine calls it; also by "
        "hand under /usr/bin/time -v for runs the defaults do not fit).",
    )
    parser.add_argument(
        "--memory",
        help="With --measure: DuckDB memory_limit (e.g. 18GiB) or Spark driver memory (e.g. 10g).",
    )
    parser.add_argument(
        "--data-root", type=Path, default=DATA, help="where simulated runs are made and reused"
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting on top of Tenure's (smoke: tests/conftest.py's, for tiny data)",
    )
    parser.add_argument(
        "--metrics", help="comma-separated metrics the engines compute (default: every one)"
    )
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    root = args.data_root or bench.scratch("data")
    sql_variants = [v.strip() for v in args.sql_variants.split(",") if v.strip()]
    if not sql_variants or set(sql_variants) - set(SQL_VARIANTS):
        parser.error(f"--sql-variants: choose from {', '.join(SQL_VARIANTS)}")
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    choices = EngineChoices(sql_variants, args.spark_conf, metrics)
    if args.measure:
        engine, folder, out = args.measure
        measure(engine, Path(folder), Path(out), choices, args.memory)
        return Path(out)
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = set(labels) - set(SIZES) - set(REPLICATED)
    if unknown:
        choices = ", ".join([*SIZES, *REPLICATED])
        parser.error(f"unknown sizes {sorted(unknown)}; choose from {choices}")
    engines = ["duckdb"] + ([] if args.no_spark else ["spark"])
    not_run = {"spark": args.no_spark} if args.no_spark else {}
    path = bench.results_dir / "scale.json"
    runs = _previous_runs(path)
    touched: set[str] = set()
    for label in labels:
        if label.startswith("1B"):
            if "10M" not in runs:
                parser.error("1B projects its Parquet size from a measured 10M run first")
            check = billion_check(runs["10M"]["parquet_mb"] * 2**20 / runs["10M"]["events"], root)
            if not check["enough_disk"]:
                print(f"1B not run: {json.dumps(check)}", flush=True)
                continue
        if args.fightchurn != "only":
            runs[label] = run_size(label, engines, not_run, root, choices)
        if args.fightchurn != "without" and label in FIGHTCHURN_SIZES:
            add_fightchurn(runs[label], root)
        runs[label]["run"] = bench.provenance()
        touched.add(label)
    # Other sizes as the file holds them now: another run may have finished meanwhile.
    runs = _previous_runs(path) | {label: runs[label] for label in touched}
    measured = sorted(runs.values(), key=lambda run: int(run["events"]))
    reference = next((r for r in measured if r["size"] == "10M"), measured[0] if measured else None)
    billion: dict[str, Any] = {"run": "1B" in runs}
    if reference is not None:
        billion |= billion_check(reference["parquet_mb"] * 2**20 / reference["events"], root)
        billion["projected_from"] = reference["size"]
    if not billion["run"]:
        billion["why"] = (
            "not requested (--sizes …,1B): simulating a billion events takes 35+ minutes here"
            if billion.get("enough_disk", True)
            else "not enough free disk"
        )
        if "1B-replicated" in runs:
            billion["instead"] = "1B-replicated: the 100M simulated run copied 10 times"
    figures = {
        "benchmark": "metric computation vs events: DuckDB and Spark against hand-written SQL",
        "spark_master": "local[2]",
        "runs": measured,
        "growth": [
            {"events": r["events"], **{e: f["seconds"] for e, f in r["engines"].items()}}
            for r in measured
        ],
        "growth_per_step": growth(measured),
        "not_run": [label for label in SIZES if label not in runs],
        "billion_events_check": billion,
    }
    print(json.dumps(figures, indent=2))
    first = next(i for i, run in enumerate(measured) if run["size"] in touched)
    return bench.write(figures, headline=f"runs.{first}.engines.duckdb.ratio_to_sql")


if __name__ == "__main__":
    main()
