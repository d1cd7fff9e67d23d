"""`tenure serve`: the web console, the REST API and the Segment-spec ingest API."""

from __future__ import annotations

import http.client
import socket
import threading
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

import typer

from tenure.cli.context import database, handle_errors, settings

if TYPE_CHECKING:
    import uvicorn

    from tenure.config import Settings

WORKER_HEALTHCHECK_SECONDS = 60


@handle_errors
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default: TENURE_HOST)."),
    port: int | None = typer.Option(None, help="Port to bind (default: TENURE_PORT)."),
    workers: int | None = typer.Option(
        None, min=1, help="Worker processes (default: TENURE_WEB_WORKERS)."
    ),
) -> None:
    """Serve Tenure over HTTP (uvicorn), with two background processes: the intraday refresh
    (TENURE_REFRESH_EVERY) and the worker — the daily run at TENURE_DAILY_AT UTC, email and
    webhooks every TENURE_WORKER_EVERY seconds."""
    config = settings()
    host, port = host or config.host, port or config.port
    # Listening first: from here a restarted server's senders connect and wait for their
    # answer instead of being refused (short retry budgets give a batch up after ~1.5 s).
    listener = socket.create_server(
        (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET, backlog=2048
    )
    import uvicorn

    from tenure.http.nodelay import HTTP_PROTOCOL
    from tenure.logs import logging_config

    # Migrated once here, before the workers start: each worker's lifespan checks the schema
    # too, and two workers upgrading one database at the same moment would collide.
    database(config).dispose()
    # Never in a request: each job in its own process, stopped with the server — and started
    # only once the port answers, so their imports do not delay the first answer to senders.
    background: list[BaseProcess] = []
    stop = threading.Event()
    threading.Thread(
        target=_start_background_when_listening,
        args=(config, host, port, background, stop),
        daemon=True,
    ).start()
    try:
        uvicorn_config = uvicorn.Config(
            # The Segment endpoints answer first; the console and REST API load after.
            "tenure.server:create_starting_app",
            factory=True,
            host=host,
            port=port,
            workers=workers or config.web_workers,
            # The app believes X-Forwarded-* from TENURE_TRUSTED_PROXIES only; uvicorn's own
            # handling would trust any local client, and a local guesser could then claim
            # a fresh address for every sign-in attempt.
            proxy_headers=False,
            http=HTTP_PROTOCOL,  # TCP_NODELAY with any number of workers (see nodelay.py)
            # uvicorn kills a worker that does not answer its ping within 5 s, and a spawned
            # worker first imports the CLI: on a busy machine that takes longer, and the
            # workers were killed and respawned for ever. A busy worker must not be killed
            # mid-request either.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            # JSON lines with the request id (or text on a terminal): TENURE_LOG_FORMAT. The
            # app writes the access log itself (tenure.access, with route, status, duration
            # and request id), so uvicorn's would only repeat it.
            log_config=logging_config(config.log_format),
            access_log=False,
        )
        _run(uvicorn_config, listener)
    finally:
        stop.set()
        for process in background:
            process.terminate()
        for process in background:
            process.join(timeout=10)


def _run(config: uvicorn.Config, listener: socket.socket) -> None:
    """What ``uvicorn.run`` does, on a socket bound beforehand."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if config.workers > 1:
        Multiprocess(config, sockets=[listener]).run()
    else:
        uvicorn.Server(config).run(sockets=[listener])


def _start_background_when_listening(
    config: Settings, host: str, port: int, started: list[BaseProcess], stop: threading.Event
) -> None:
    address = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    while not stop.is_set():  # the socket accepts at once: wait for the app's first answer
        connection = http.client.HTTPConnection(address, port, timeout=5)
        try:
            connection.request("GET", "/v1/batch")
            connection.getresponse().read()
            break
        except (OSError, http.client.HTTPException):
            stop.wait(0.2)
        finally:
            connection.close()
    from tenure.jobs.intraday import start_refresher
    from tenure.jobs.worker import start_worker

    for start in (start_refresher, start_worker):
        if stop.is_set():
            return
        process = start(config)
        if process is not None:
            started.append(process)
