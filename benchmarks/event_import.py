"""Event file imports without a mapping: events/s from Segment JSON lines and from Parquet.

    .venv/bin/python -m benchmarks.event_import [--events 1000000] [--days 150]

Writes one file of each kind holding the same ``--events`` track calls (analytics-python's
message shape, 2,000 users in 500 accounts, 20 event names, ``--days`` days in time order), then
imports each into a fresh embedded event store through ``import_events`` — the path of
``tenure import events FILE`` — in a child process pinned to one core (``os.sched_setaffinity``),
so the figure is what one core does. Reports wall seconds, CPU seconds, events per wall second
and per CPU second, and the child's peak RSS. Writes ``benchmarks/results/event_import.json``
(headline ``jsonl_events_per_second``). Figures, not pass/fail; the machine decides them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import record

SMOKE = {"events": 2_000, "days": 5}
START = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS = [f"feature_{n}.used" for n in range(20)]


def _message(n: int, total: int, days: int) -> dict[str, Any]:
    moment = START + timedelta(seconds=n * days * 86_400 / total)
    user = n * 7919 % 2_000
    return {
        "integrations": {},
        "anonymousId": None,
        "properties": {"plan": "pro", "duration_ms": n % 997, "page": f"/reports/{n % 50}"},
        "timestamp": moment.isoformat(timespec="milliseconds"),
        "context": {
            "groupId": f"acct-{user % 500}",
            "library": {"name": "analytics-python", "version": "2.4"},
        },
        "userId": f"user-{user}",
        "type": "track",
        "event": EVENTS[n % len(EVENTS)],
        "messageId": f"msg-{n:012d}",
        "sentAt": (moment + timedelta(milliseconds=26)).isoformat(),
    }


def write_files(folder: Path, total: int, days: int) -> tuple[Path, Path]:
    jsonl, parquet = folder / "segment.jsonl", folder / "events.parquet"
    columns: dict[str, list[Any]] = {
        k: [] for k in ("message_id", "account_id", "user_id", "event", "timestamp", "properties")
    }
    with open(jsonl, "wb") as handle, pq.ParquetWriter(parquet, _PARQUET_SCHEMA) as writer:
        for n in range(total):
            message = _message(n, total, days)
            handle.write(orjson.dumps(message) + b"\n")
            columns["message_id"].append(message["messageId"])
            columns["account_id"].append(message["context"]["groupId"])
            columns["user_id"].append(message["userId"])
            columns["event"].append(message["event"])
            columns["timestamp"].append(datetime.fromisoformat(message["timestamp"]))
            columns["properties"].append(orjson.dumps(message["properties"]).decode())
            if len(columns["message_id"]) == 100_000 or n == total - 1:
                writer.write_table(pa.table(columns, schema=_PARQUET_SCHEMA))
                columns = {k: [] for k in columns}
    return jsonl, parquet


_PARQUET_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("account_id", pa.string()),
        ("user_id", pa.string()),
        ("event", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("properties", pa.string()),
    ]
)


def _import(path: str, data_dir: str, out: Any) -> None:
    """In the child: one core, a fresh store, the CLI's import path; send back the figures."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from tenure.ingest.importer import import_events
    from tenure.ingest.request import ImportRequest
    from tenure.store.events import EventStore

    store = EventStore(Path(data_dir))
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_events(store, ImportRequest("events", Path(path)))
    figures = {
        "rows": report.rows,
        "inserted": report.inserted,
        "wall_seconds": round(time.perf_counter() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    out.send(figures)


def measure(path: Path, data_dir: Path) -> dict[str, Any]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=_import, args=(str(path), str(data_dir), sender)
    )
    child.start()
    figures: dict[str, Any] = receiver.recv()
    child.join()
    figures["events_per_second"] = round(figures["rows"] / figures["wall_seconds"])
    figures["events_per_cpu_second"] = round(figures["rows"] / figures["cpu_seconds"])
    return figures


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=150)
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = bench.scratch("event-import")
    started = time.perf_counter()
    jsonl, parquet = write_files(folder, args.events, args.days)
    figures: dict[str, Any] = {
        "events": args.events,
        "days": args.days,
        "files_written_seconds": round(time.perf_counter() - started, 1),
        "jsonl_mb": round(jsonl.stat().st_size / 2**20, 1),
        "parquet_mb": round(parquet.stat().st_size / 2**20, 1),
        "load_average_before": record.load_average(),
    }
    figures["jsonl"] = measure(jsonl, folder / "store-jsonl")
    figures["parquet"] = measure(parquet, folder / "store-parquet")
    figures["jsonl_events_per_second"] = figures["jsonl"]["events_per_second"]
    figures["parquet_events_per_second"] = figures["parquet"]["events_per_second"]
    print(json.dumps(figures, indent=2))
    return bench.write(figures, headline="jsonl_events_per_second")


if __name__ == "__main__":
    main()
