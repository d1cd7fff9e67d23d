"""Where a page's time goes: SQL statements and SQL time per request, and a profile of one.

    .venv/bin/python -m benchmarks.web_profile [DIR] [--requests 10] [--only TEXT] [--profile TEXT]
        [--each]

Runs the app in this process (Starlette's TestClient) on the book ``benchmarks.web --keep DIR``
built (without DIR, a book of ``--accounts`` is built first, as ``benchmarks.web`` does), signs
in the same people and opens the same paths, counting the statements each request sends to the
database and the time they take (means per request). Writes
``benchmarks/results/web_profile.json`` (headline ``most_statements_per_request``).
``--profile TEXT`` samples the endpoints whose name contains TEXT with py-spy (the handlers run
in worker threads, which cProfile does not follow) and prints the functions with the most
samples, inclusive and self.
In-process figures leave out the HTTP round trip; ``benchmarks.web`` gives the latencies people
see.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from benchmarks.web import SECRET_KEY, load_book, signed_in_endpoints

from benchmarks import record
from tenure.config import Settings
from tenure.server import create_app

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient should move to httpx2; httpx works as before.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class StatementCounter:
    """Counts the statements an engine executes and the time they take."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements = 0
        self.seconds = 0.0
        self._started: list[float] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_: Any) -> None:
        self.statements += 1
        self.seconds += time.perf_counter() - self._started.pop()

    def reset(self) -> None:
        self.statements, self.seconds = 0, 0.0


def measure(
    client: httpx.Client, paths: list[str], counter: StatementCounter, *, each: bool = False
) -> tuple[float, float, float, float]:
    """Mean wall ms, CPU ms, statements and SQL ms per request (after one warm-up request);
    with ``each``, every request's own figures are printed too (which one makes a p95 spike).

    CPU time (client and server together, both in this process) moves less than wall time
    when other work loads the machine."""
    client.get(paths[0]).raise_for_status()
    counter.reset()
    started, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        one = (time.perf_counter(), time.process_time(), counter.statements, counter.seconds)
        client.get(path).raise_for_status()
        if each:
            print(
                f"  {path[:64]:64s} {(time.perf_counter() - one[0]) * 1000:7.1f} "
                f"{(time.process_time() - one[1]) * 1000:7.1f} {counter.statements - one[2]:6d} "
                f"{(counter.seconds - one[3]) * 1000:7.1f}",
                flush=True,
            )
    n = len(paths)
    wall = (time.perf_counter() - started) * 1000 / n
    cpu = (time.process_time() - cpu) * 1000 / n
    return wall, cpu, counter.statements / n, counter.seconds * 1000 / n


class Sampler:
    """py-spy sampling this process (every thread) from outside, as collapsed stacks."""

    def __init__(self) -> None:
        spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if spy is None:
            raise SystemExit("--profile needs py-spy (pip install py-spy)")
        self.output = Path(tempfile.mkstemp(suffix=".txt")[1])
        self.process = subprocess.Popen(
            [
                *(spy, "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw"),
                *("--output", str(self.output), "--nonblocking"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches

    def stacks(self) -> list[tuple[list[str], int]]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        found = []
        for line in self.output.read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            found.append((frames.split(";"), int(count)))
        self.output.unlink()
        return found


def print_profile(stacks: list[tuple[list[str], int]], top: int) -> None:
    """Functions by samples including callees, then by their own samples; idle waits left out."""
    busy = [(f, n) for f, n in stacks if not any(w in f[-1] for w in IDLE_FRAMES)]
    total = sum(n for _, n in busy) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in busy:
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    for title, counts in (("including callees", inclusive), ("own time", own)):
        print(f"\n--- {title} ({total} busy samples) ---")
        for frame, count in counts.most_common(top):
            print(f"{100 * count / total:5.1f}%  {frame[:150]}")


# Leaf frames of threads waiting for work or for the client (not the request's cost).
IDLE_FRAMES = ("wait (threading.py", "select (selectors.py", "_worker (concurrent", "acquire")


SMOKE = {"accounts": 40, "requests": 2}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder", type=Path, nargs="?", help="the --keep folder of benchmarks.web (default: new)"
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--profile", help="profile the endpoints whose name contains this")
    parser.add_argument("--only", help="measure only the endpoints whose name contains this")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--each", action="store_true", help="print every request's figures")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = args.folder or bench.scratch("book")
    database = f"sqlite:///{folder / 'tenure.db'}"
    if args.folder is None:
        print(f"book: {load_book(database, args.accounts, months=12, every=7)}", flush=True)
    settings = Settings(
        database_url=database,
        data_dir=folder,
        secret_key=SECRET_KEY,
        refresh_every=0,
    )
    app = create_app(settings)
    endpoints: dict[str, dict[str, float]] = {}
    with TestClient(app):  # runs the lifespan: the engine, migrated
        counter = StatementCounter(app.state.engine)

        def new_client() -> httpx.Client:
            return TestClient(app)

        print(f"{'endpoint':66s} {'ms':>7s} {'cpu ms':>7s} {'stmts':>6s} {'sql ms':>7s}")
        for name, (client, paths) in signed_in_endpoints(
            new_client, database, args.accounts, args.requests
        ).items():
            if args.only and args.only.lower() not in name.lower():
                continue
            sampler = Sampler() if args.profile and args.profile in name else None
            wall, cpu, statements, sql = measure(client, paths, counter, each=args.each)
            print(f"{name:66s} {wall:7.1f} {cpu:7.1f} {statements:6.1f} {sql:7.1f}", flush=True)
            endpoints[name] = {
                "wall_ms": round(wall, 1),
                "cpu_ms": round(cpu, 1),
                "statements": round(statements, 1),
                "sql_ms": round(sql, 1),
            }
            if sampler is not None:
                print_profile(sampler.stacks(), args.top)
    figures = {
        "book": str(folder),
        "accounts": args.accounts,
        "requests": args.requests,
        "endpoints": endpoints,
        "most_statements_per_request": max(e["statements"] for e in endpoints.values()),
    }
    return bench.write(figures, headline="most_statements_per_request")


if __name__ == "__main__":
    main()
