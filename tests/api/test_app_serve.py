"""`tenure serve` starts the app on the configured address, and the ingest API answers.

The server is killed with SIGKILL right after the acknowledgement: what was acknowledged must
already be stored (nothing buffered in the server process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.http.live import free_port


@pytest.mark.slow
def test_tenure_serve_accepts_segment_calls(data_dir: Path, database_url: str) -> None:
    env = {"TENURE_DATA_DIR": str(data_dir), "TENURE_DATABASE_URL": database_url}
    created = CliRunner().invoke(app, ["sources", "create", "web-app"], env=env)
    write_key = created.output.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "tenure"), "serve", "--port", str(port)],
        env={**os.environ, **env, "TENURE_HOST": "127.0.0.1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/v1/track",
                    json={"userId": "u1", "event": "signed_in", "messageId": "serve-1"},
                    auth=(write_key, ""),
                    # The port listens before the app has loaded: a request waits for it.
                    timeout=60,
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "tenure serve did not start listening"
                time.sleep(0.2)
        assert (response.status_code, response.json()) == (200, {"success": True})
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    status = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert '"events": 1' in status.output
