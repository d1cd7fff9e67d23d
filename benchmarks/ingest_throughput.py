"""Ingest figures: events/s through the Segment API, compaction and read times.

    .venv/bin/python benchmarks/ingest_throughput.py [EVENTS] [--senders N] [--postgres-url URL]

Runs a real uvicorn server on loopback (one process, embedded SQLite + Parquet unless a
PostgreSQL URL is given) and N real Segment clients in batching mode (100 per request, gzip),
all sending at once. Writes ``benchmarks/results/ingest_throughput.json`` (headline
``events_per_second``). Figures, not pass/fail; the machine and its disk decide them.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from segment.analytics import Client

from benchmarks import record
from tenure.config import Settings
from tenure.ingest.sources import create_source
from tenure.model.base import utcnow
from tenure.server import create_app
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import open_event_store
from tenure.store.migrate import upgrade

SMOKE = {"events": 300}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="?", default=20_000)
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--postgres-url")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    data_dir = (
        bench.scratch("data") if bench.smoke else Path(tempfile.mkdtemp(prefix="tenure-bench-"))
    )
    settings = Settings(data_dir=data_dir, database_url=args.postgres_url)
    engine = create_engine(settings.resolved_database_url)
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        key = create_source(session, f"bench-{time.time_ns()}").write_key
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    clients = [
        Client(key, host=url, upload_size=100, gzip=True, max_queue_size=args.events + 1)
        for _ in range(args.senders)
    ]
    started = time.perf_counter()
    for i in range(args.events):
        clients[i % args.senders].track(
            f"user-{i % 500}", "report_exported", {"i": i}, context={"groupId": f"acct-{i % 50}"}
        )
    for client in clients:
        client.flush()
    ingest = time.perf_counter() - started
    for client in clients:
        client.join()

    store = open_event_store(settings)
    started = time.perf_counter()
    stats = store.stats()
    read_fresh = time.perf_counter() - started
    started = time.perf_counter()
    compaction = store.compact(now=utcnow())
    compact = time.perf_counter() - started
    started = time.perf_counter()
    after = store.stats()
    read_compacted = time.perf_counter() - started
    server.should_exit = True
    thread.join()

    print(f"store: {store.location}")
    print(
        f"ingest: {args.events:,} events in {ingest:.2f}s = {args.events / ingest:,.0f} events/s "
        f"({args.senders} Segment client(s), 100 per request, gzip, acknowledged after fsync)"
    )
    print(
        f"read with {stats.pending:,} pending inbox rows: count={stats.events:,} in "
        f"{read_fresh:.2f}s"
    )
    print(f"compaction: {compaction.moved:,} rows in {compact:.2f}s")
    print(f"read after compaction: count={after.events:,} in {read_compacted:.2f}s")
    figures = {
        "events": args.events,
        "senders": args.senders,
        "store": "postgresql" if args.postgres_url else "embedded",
        "ingest_seconds": round(ingest, 2),
        "events_per_second": round(args.events / ingest),
        "pending_inbox_rows": stats.pending,
        "read_pending_seconds": round(read_fresh, 2),
        "events_counted_before_compaction": stats.events,
        "compacted_rows": compaction.moved,
        "compaction_seconds": round(compact, 2),
        "events_counted_after_compaction": after.events,
        "read_compacted_seconds": round(read_compacted, 2),
    }
    return bench.write(figures, headline="events_per_second")


if __name__ == "__main__":
    main()
