"""The app served by uvicorn in a process of its own, for work that must cross processes.

Browser and HTTP tests need committed data seen by another process, and the latency benchmark
must time requests from outside the server (client and server in one process share a GIL and
an event loop, which hides the cost of both). Both start the server the same way, through
``served_app``; it lives in the package because a benchmark must not import the tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tenure.http.nodelay import HTTP_PROTOCOL

START_TIMEOUT_SECONDS = 60  # a loaded 2-core machine migrates and imports slowly


def free_port() -> int:
    """A loopback TCP port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_app(
    env: Mapping[str, str], log: Path, ready_path: str = "/login", workers: int = 1
) -> Iterator[str]:
    """Serve ``create_app`` on a free loopback port with ``env`` added; yields the base URL.

    ``ready_path`` is fetched until it answers, so the first request the caller makes meets a
    migrated, listening server; uvicorn's output goes to ``log`` and is shown if it fails to
    start. ``workers`` > 1 serves from that many processes, as ``tenure serve`` can.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "tenure.server:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--workers", str(workers), "--http", HTTP_PROTOCOL]
    with open(log, "wb") as output:
        server = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(server, f"{url}{ready_path}", log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_ready(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{log.read_text()}") from None
            time.sleep(0.1)
