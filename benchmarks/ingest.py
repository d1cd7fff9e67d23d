"""HTTP ingest capacity: events/s into /v1/batch, acknowledged only after fsync, zero loss.

    .venv/bin/python benchmarks/ingest.py [--requests 200] [--connections 8] [--client-events N]

1. **Capture.** The real ``segment-analytics-python`` client (``upload_size=500``, once with
   ``gzip=True``, once without) sends tracks to a capturing HTTP server here; its request bodies
   are the templates.
2. **Replay** in *another process* (a load generator started with ``multiprocessing`` spawn):
   ``--requests`` requests of 500 events over ``--connections`` keep-alive connections into a
   real ``tenure serve`` (``--workers`` uvicorn processes, embedded SQLite inbox with
   ``synchronous=FULL``, intraday refresh and background worker off), each request's messageIds
   rewritten to be unique and the body re-encoded the way the client did (gzip or plain). A
   200 means the events were fsync'd (group commit); 429s
   are retried after Retry-After. Events/s = acknowledged events ÷ wall time; request latency
   p50/p99; the server's CPU time ÷ wall time from ``/proc``.
3. **Unmodified client** end to end on the same server (settings printed): events/s, losses
   and duplicates by messageId.
4. **kill -9.** The same load (``--kill-requests``, enough to outlast the timer), and the server
   is killed with SIGKILL mid-run; every messageId of an acknowledged request must then be in
   the inbox (losses = acknowledged − stored).
5. **Restart to first answer**: seconds from starting ``tenure serve`` on an existing data dir
   to the first ``200`` from ``/v1/batch`` (``--restarts`` times).
6. **kill -9 and restart under a short retry budget**: a sender posts small batches
   continuously and gives a batch up after ``--retry-budget`` seconds of failed attempts (as
   RudderStack's Node SDK does after ~1.4 s); the server is killed with SIGKILL and started
   again at once. Events lost = given up by the sender + acknowledged but not stored.

``--startup-only`` runs 5 and 6 alone and writes ``ingest_startup.json``.

Figures, not pass/fail. Prints and writes ``benchmarks/results/ingest.json`` (headline
``phases.0.events_per_second``: the gzip replay).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import record
from tenure.http.live import free_port

PER_REQUEST = 500
REQUEST_TIMEOUT = 10.0  # seconds: analytics-node's default request timeout
CLIENT_SETTINGS = {"upload_size": 500, "gzip": True, "thread": 1, "max_queue_size": 200_000}


# --- 1. capture ----------------------------------------------------------------------------


def capture(use_gzip: bool, requests: int) -> list[dict[str, Any]]:
    """Request bodies (decoded JSON) the real Segment client sends for ``requests`` × 500 tracks."""
    from segment.analytics import Client

    bodies: list[dict[str, Any]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            bodies.append(json.loads(raw))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"success": true}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = Client(
        "capture",
        host=f"http://127.0.0.1:{server.server_address[1]}",
        upload_size=PER_REQUEST,
        gzip=use_gzip,
        max_queue_size=PER_REQUEST * requests + 1,
    )
    for n in range(PER_REQUEST * requests):
        client.track(
            user_id=f"user-{n % 400}",
            event=("report_viewed", "export_created", "alert_set")[n % 3],
            properties={"plan": "pro", "duration_ms": n % 977, "page": f"/reports/{n % 50}"},
            context={"groupId": f"acct-{n % 40}"},
        )
    client.flush()
    client.join()
    server.shutdown()
    sizes = [len(b["batch"]) for b in bodies]
    assert sum(sizes) == PER_REQUEST * requests, sizes
    return bodies


# --- 2. the load generator (another process) ------------------------------------------------


def build_bodies(
    templates: list[dict[str, Any]], use_gzip: bool, prefix: str, requests: int
) -> list[bytes]:
    bodies = []
    for r in range(requests):
        template = templates[r % len(templates)]
        for i, message in enumerate(template["batch"]):
            message["messageId"] = f"{prefix}-{r}-{i}"
        raw = json.dumps(template).encode()
        bodies.append(gzip.compress(raw) if use_gzip else raw)
    return bodies


def generate(config: dict[str, Any], out: str, ready: Any) -> None:
    """Send every body once (retrying 429s); write what was acknowledged and the latencies.

    ``ready`` is set once the bodies are built, when sending starts.
    """
    bodies = build_bodies(config["templates"], config["gzip"], config["prefix"], config["requests"])
    auth = base64.b64encode(f"{config['write_key']}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {auth}"}
    if config["gzip"]:
        headers["Content-Encoding"] = "gzip"
    next_request = iter(range(len(bodies)))
    lock = threading.Lock()
    acked: list[int] = []
    latencies: list[float] = []
    refused = errors = 0

    def sender() -> None:
        nonlocal refused, errors
        connection = http.client.HTTPConnection("127.0.0.1", config["port"], timeout=60)
        while True:
            with lock:
                r = next(next_request, None)
            if r is None:
                return
            while True:
                started = time.perf_counter()
                try:
                    connection.request("POST", "/v1/batch", bodies[r], headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):  # IncompleteRead is no OSError
                    with lock:
                        errors += 1
                    return  # the server is gone (the kill -9 phase)
                if response.status == 429:
                    with lock:
                        refused += 1
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                with lock:
                    if response.status == 200:
                        acked.append(r)
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors += 1
                break

    threads = [threading.Thread(target=sender) for _ in range(config["connections"])]
    ready.set()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    Path(out).write_text(
        json.dumps(
            {
                "acked": sorted(acked),
                "latencies": latencies,
                "wall": wall,
                "refused_429": refused,
                "errors": errors,
            }
        )
    )


# --- the server ------------------------------------------------------------------------------


def cpu_seconds(group: int) -> float:
    """CPU seconds used so far by the server's processes (uvicorn and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # process group: the server started its own session
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_serve(
    data_dir: Path, port: int, workers: int, refresh_every: int = 0
) -> subprocess.Popen[bytes]:
    """``tenure serve`` on the embedded store in ``data_dir``.

    The intraday refresh runs every ``refresh_every`` seconds (0: off); the background worker
    (daily run, email, webhooks) is off: it is no part of what these benchmarks measure."""
    env = {
        **os.environ,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_REFRESH_EVERY": str(refresh_every),
        "TENURE_WORKER_EVERY": "0",
    }
    env.pop("TENURE_DATABASE_URL", None)
    tenure = Path(sys.executable).parent / "tenure"
    return subprocess.Popen(
        [str(tenure), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # one process group: kill -9 reaches every worker
    )


def stop_serve(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@contextmanager
def tenure_serve(
    data_dir: Path, port: int, workers: int, refresh_every: int = 0
) -> Iterator[subprocess.Popen[bytes]]:
    """``start_serve``, once it accepts connections; stopped (with its workers) after."""
    server = start_serve(data_dir, port, workers, refresh_every)
    try:  # a server that never answers is stopped too, with all its workers
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.1)
        yield server
    finally:
        stop_serve(server)


def run_load(config: dict[str, Any], kill_after: float | None = None, server: Any = None) -> dict:
    out = tempfile.mktemp(suffix=".json")
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=generate, args=(config, out, ready))
    process.start()
    ready.wait()  # bodies built: the load starts now
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    if kill_after is not None:
        time.sleep(kill_after)
        os.killpg(server.pid, signal.SIGKILL)
    process.join()
    cpu = cpu_seconds(server.pid) if server.poll() is None else None
    result: dict[str, Any] = json.loads(Path(out).read_text())
    os.unlink(out)
    result["server_cpu_seconds"] = None if cpu is None else cpu - cpu_before
    result["outer_wall"] = time.perf_counter() - started
    return result


def stored_ids(data_dir: Path) -> list[str]:
    from tenure.store.events.inbox import Inbox

    ids: list[str] = Inbox(data_dir / "inbox.db").pending().events["message_id"].to_pylist()
    return ids


def summary(name: str, result: dict[str, Any]) -> dict[str, Any]:
    events = len(result["acked"]) * PER_REQUEST
    latencies = np.array(result["latencies"]) * 1000
    cpu = result["server_cpu_seconds"]
    return {
        "phase": name,
        "events_acknowledged": events,
        "seconds": round(result["wall"], 2),
        "events_per_second": round(events / result["wall"]),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if events else None,
        "latency_ms_p99": round(float(np.percentile(latencies, 99)), 1) if events else None,
        "refused_429": result["refused_429"],
        "errors": result["errors"],
        "server_cpu_cores": None if cpu is None else round(cpu / result["wall"], 2),
        # Capacity independent of what else runs on the machine: events per server CPU second.
        "events_per_server_cpu_second": None if not cpu else round(events / cpu),
    }


# --- 4. the unmodified client ------------------------------------------------------------------


def client_end_to_end(port: int, write_key: str, events: int) -> dict[str, Any]:
    from segment.analytics import Client

    client = Client(write_key, host=f"http://127.0.0.1:{port}", **CLIENT_SETTINGS)  # type: ignore[arg-type]
    started = time.perf_counter()
    for n in range(events):
        client.track(
            user_id=f"user-{n % 400}",
            event="report_viewed",
            properties={"n": n},
            message_id=f"client-{n}",
        )
    client.flush()
    client.join()
    return {"events": events, "seconds": time.perf_counter() - started}


# --- 5 and 6. restarts -------------------------------------------------------------------------


def post_batch(port: int, write_key: str, messages: list[dict[str, Any]], timeout: float) -> int:
    """One POST /v1/batch; the status, or 0 when no answer came (refused, reset, timed out)."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "POST",
            "/v1/batch",
            json.dumps({"batch": messages}),
            {"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def restart_to_first_answer(data_dir: Path, port: int, workers: int, write_key: str) -> float:
    """Seconds from starting the server to its first 200 on /v1/batch."""
    message = {"type": "track", "userId": "restart", "event": "restarted"}
    started = time.perf_counter()
    server = start_serve(data_dir, port, workers)
    try:
        n = 0
        while post_batch(port, write_key, [{**message, "messageId": f"r-{started}-{n}"}], 5) != 200:
            assert server.poll() is None and time.perf_counter() - started < 120, "no server"
            n += 1
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        stop_serve(server)


def short_budget_sender(
    port: int, write_key: str, budget: float, stop: threading.Event, out: dict[str, list[str]]
) -> None:
    """Batches of 20 every 50 ms; a batch is retried (100 ms, doubling) until ``budget`` seconds
    have passed since its first attempt, then given up — what short-budget SDKs do. Each
    attempt waits up to ``REQUEST_TIMEOUT`` for its answer, as the SDKs' HTTP clients do: the
    budget limits retries after failures (refused, reset, 5xx), not a slow answer."""
    batch_number = 0
    while not stop.is_set():
        ids = [f"budget-{batch_number}-{i}" for i in range(20)]
        messages = [
            {"type": "track", "messageId": m, "userId": "budget", "event": "e"} for m in ids
        ]
        first, wait = time.perf_counter(), 0.1
        while True:
            if post_batch(port, write_key, messages, REQUEST_TIMEOUT) == 200:
                out["acked"] += ids
                break
            if time.perf_counter() - first + wait > budget:
                out["given_up"] += ids
                break
            time.sleep(wait)
            wait *= 2
        batch_number += 1
        time.sleep(0.05)


def kill_and_restart(
    data_dir: Path, port: int, workers: int, write_key: str, budget: float, after: float
) -> dict[str, Any]:
    out: dict[str, list[str]] = {"acked": [], "given_up": []}
    stop = threading.Event()
    with tenure_serve(data_dir, port, workers) as server:
        sender = threading.Thread(
            target=short_budget_sender, args=(port, write_key, budget, stop, out)
        )
        sender.start()
        time.sleep(3)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        restarted = start_serve(data_dir, port, workers)
        try:
            time.sleep(after)
            stop.set()
            sender.join()
        finally:
            stop_serve(restarted)
    stored = {s for s in stored_ids(data_dir) if s.startswith("budget-")}
    acked = set(out["acked"])
    return {
        "phase": f"kill -9 and restart, sender retry budget {budget} s",
        "events_sent": len(acked) + len(out["given_up"]),
        "events_acknowledged": len(acked),
        "given_up_by_sender": len(out["given_up"]),
        "acknowledged_but_lost": len(acked - stored),
        "events_lost": len(out["given_up"]) + len(acked - stored),
    }


def startup_phases(
    data_dir: Path, port: int, args: argparse.Namespace, write_key: str
) -> dict[str, Any]:
    seconds = [
        round(restart_to_first_answer(data_dir, port, args.workers, write_key), 2)
        for _ in range(args.restarts)
    ]
    print(f"restart to first /v1/batch answer: {seconds} s")
    killed = kill_and_restart(
        data_dir, port, args.workers, write_key, args.retry_budget, args.after_restart
    )
    print(
        f"{killed['phase']}: {killed['events_sent']:,} sent, "
        f"{killed['events_acknowledged']:,} acknowledged, {killed['given_up_by_sender']:,} given "
        f"up by the sender, {killed['acknowledged_but_lost']} acknowledged but lost: "
        f"events lost {killed['events_lost']:,}"
    )
    return {"restart_to_first_answer_seconds": seconds, "kill_and_restart": killed}


SMOKE = {
    "requests": 4,
    "connections": 2,
    "kill_after": 1.0,
    "kill_requests": 80,
    "client_events": 500,
    "restarts": 1,
    "after_restart": 5.0,
}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="500-event requests per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--kill-after", type=float, default=3.0, help="seconds into the kill run")
    parser.add_argument(
        "--kill-requests",
        type=int,
        default=1000,
        help="requests the kill run would send: enough to outlast --kill-after",
    )
    parser.add_argument("--client-events", type=int, default=50_000)
    parser.add_argument("--restarts", type=int, default=3, help="restart-to-answer samples")
    parser.add_argument("--retry-budget", type=float, default=1.5, help="seconds (phase 6)")
    parser.add_argument(
        "--after-restart", type=float, default=10.0, help="seconds sent after the restart (6)"
    )
    parser.add_argument("--startup-only", action="store_true", help="phases 5 and 6 only")
    args, bench = record.begin(__file__, parser, argv, SMOKE)

    from tenure.ingest.sources import create_source
    from tenure.store.database import create_engine, session_factory, session_scope
    from tenure.store.migrate import upgrade

    data_dir = (
        bench.scratch("data") if bench.smoke else Path(tempfile.mkdtemp(prefix="tenure-ingest-"))
    )
    engine = create_engine(f"sqlite:///{data_dir / 'tenure.db'}")
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        write_key = create_source(session, "bench").write_key
    engine.dispose()
    if args.startup_only:
        startup = startup_phases(data_dir, free_port(), args, write_key)
        return bench.write(
            startup,
            headline="kill_and_restart.events_lost",
            filename="ingest_startup.json",
        )
    # Four captured requests per mode, replayed in turn (fewer when fewer are sent).
    templates = {mode: capture(mode == "gzip", min(4, args.requests)) for mode in ("gzip", "plain")}
    port = free_port()
    phases: list[dict[str, Any]] = []

    def config(mode: str, prefix: str, requests: int = args.requests) -> dict[str, Any]:
        return {
            "templates": templates[mode],
            "gzip": mode == "gzip",
            "prefix": prefix,
            "requests": requests,
            "connections": args.connections,
            "write_key": write_key,
            "port": port,
        }

    with tenure_serve(data_dir, port, args.workers) as server:
        for mode in ("gzip", "plain"):
            phases.append(summary(f"replay {mode}", run_load(config(mode, mode), server=server)))
        client = client_end_to_end(port, write_key, args.client_events)
    ids = [s for s in stored_ids(data_dir) if s.startswith("client-")]
    client_result = {
        "phase": "unmodified segment-analytics-python client",
        "settings": {**CLIENT_SETTINGS, "sync_mode": False, "one process": True},
        "events_sent": client["events"],
        "events_per_second": round(client["events"] / client["seconds"]),
        "lost": client["events"] - len(set(ids)),
        "duplicates": len(ids) - len(set(ids)),
    }
    with tenure_serve(data_dir, port, args.workers) as server:
        killed = run_load(
            config("gzip", "kill", args.kill_requests), kill_after=args.kill_after, server=server
        )
    stored = set(stored_ids(data_dir))
    acked_ids = {f"kill-{r}-{i}" for r in killed["acked"] for i in range(PER_REQUEST)}
    kill = {
        "phase": "kill -9 mid-run (gzip)",
        "killed_after_seconds": args.kill_after,
        # False when every request was answered before the kill: then nothing was tested.
        "killed_mid_run": len(killed["acked"]) < args.kill_requests,
        "events_acknowledged": len(acked_ids),
        "acknowledged_but_lost": len(acked_ids - stored),
        "stored_not_acknowledged": len({s for s in stored if s.startswith("kill-")} - acked_ids),
    }
    startup = startup_phases(data_dir, port, args, write_key)
    print(f"server workers {args.workers}")
    for phase in phases:
        print(
            f"{phase['phase']:<14} {phase['events_per_second']:>7,} events/s  "
            f"p50 {phase['latency_ms_p50']} ms  p99 {phase['latency_ms_p99']} ms  "
            f"server CPU {phase['server_cpu_cores']} cores "
            f"({phase['events_per_server_cpu_second']:,} events per CPU s)  "
            f"429s {phase['refused_429']}  ({phase['events_acknowledged']:,} events)"
        )
    print(
        f"kill -9 after {args.kill_after} s: {kill['events_acknowledged']:,} acknowledged, "
        f"{kill['acknowledged_but_lost']} lost, {kill['stored_not_acknowledged']} stored but "
        "not acknowledged (in flight at the kill)"
        + ("" if kill["killed_mid_run"] else " — NOT mid-run: raise --kill-requests")
    )
    print(
        f"unmodified client ({json.dumps(client_result['settings'])}): "
        f"{client_result['events_per_second']:,} events/s, {client_result['lost']} lost, "
        f"{client_result['duplicates']} duplicates"
    )
    result = {
        "per_request": PER_REQUEST,
        "connections": args.connections,
        "server_workers": args.workers,
        "phases": phases,
        "kill": kill,
        "client": client_result,
        **startup,
    }
    return bench.write(result, headline="phases.0.events_per_second")


if __name__ == "__main__":
    main()
