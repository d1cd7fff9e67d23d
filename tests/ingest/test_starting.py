"""After a restart the Segment endpoints answer before the console and REST API have loaded
(issue 16, item 10): senders with a short retry budget lose nothing while the rest loads."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tenure.config import Settings
from tenure.ingest.sources import create_source
from tenure.server import CONSOLE_LOADING, StartingApp, create_ingest_app, import_surfaces
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.migrate import upgrade


@pytest.fixture
def loading() -> threading.Event:
    """Set to let the console and REST API finish loading: until then they are 'importing'."""
    return threading.Event()


@pytest.fixture
def load(loading: threading.Event) -> Callable[[], None]:
    """The console's imports, held until ``loading`` is set."""

    def slow_import() -> None:
        assert loading.wait(timeout=60)
        import_surfaces()

    return slow_import


@pytest.fixture
def server(
    database_url: str, tmp_path: Path, loading: threading.Event, load: Callable[[], None]
) -> Iterator[tuple[str, str, StartingApp]]:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        write_key = create_source(session, "early").write_key
    engine.dispose()
    app = StartingApp(
        create_ingest_app(Settings(data_dir=tmp_path, database_url=database_url)), load
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", write_key, app
    finally:
        loading.set()
        uvicorn_server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def test_segment_answers_while_the_rest_loads(
    server: tuple[str, str, StartingApp], loading: threading.Event
) -> None:
    url, write_key, app = server
    batch = {"batch": [{"type": "track", "messageId": "early-1", "userId": "u", "event": "e"}]}
    response = httpx.post(f"{url}/v1/batch", json=batch, auth=(write_key, ""), timeout=30)
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert httpx.post(f"{url}/v1/batch", json=batch, timeout=30).status_code == 401
    console = httpx.get(f"{url}/login", timeout=30)
    assert console.status_code == 503
    assert console.headers["retry-after"] == "2"
    assert console.json()["code"] == "starting"
    assert not app.ready.is_set()
    # Alive, and not ready while the console loads: a load balancer keeps people away.
    assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
    readiness = httpx.get(f"{url}/readyz", timeout=30)
    assert readiness.status_code == 503
    assert readiness.json()["message"] == f"not ready: console ({CONSOLE_LOADING})"
    assert [c["name"] for c in readiness.json()["checks"] if not c["ok"]] == ["console"]

    loading.set()
    deadline = time.monotonic() + 60
    while not app.ready.is_set():
        assert time.monotonic() < deadline, "the console never loaded"
        time.sleep(0.05)
    assert httpx.get(f"{url}/login", timeout=30).status_code == 200
    assert httpx.get(f"{url}/api/openapi.json", timeout=30).json()["paths"]["/v1/batch"]
    ready = httpx.get(f"{url}/readyz", timeout=30)
    assert ready.status_code == 200
    assert all(check["ok"] for check in ready.json()["checks"])


def _broken_import() -> None:
    raise ImportError("no module named 'tenure.web.broken'")


@pytest.mark.parametrize("load", [_broken_import])
def test_a_console_that_cannot_load_keeps_readyz_at_503_and_ingest_answering(
    server: tuple[str, str, StartingApp],
) -> None:
    url, write_key, app = server
    deadline = time.monotonic() + 60
    while "could not" not in app.app.state.loading["console"]:
        assert time.monotonic() < deadline, "the load never failed"
        time.sleep(0.05)
    readiness = httpx.get(f"{url}/readyz", timeout=30)
    assert readiness.status_code == 503
    assert readiness.json()["message"] == (
        "not ready: console (the console and REST API could not be loaded: "
        "no module named 'tenure.web.broken')"
    )
    batch = {"batch": [{"type": "track", "messageId": "late-1", "userId": "u", "event": "e"}]}
    response = httpx.post(f"{url}/v1/batch", json=batch, auth=(write_key, ""), timeout=30)
    assert response.status_code == 200
    assert httpx.get(f"{url}/login", timeout=30).json()["code"] == "not_loaded"


def test_a_sender_that_gives_up_mid_body_is_logged_not_a_server_error(
    server: tuple[str, str, StartingApp], caplog: pytest.LogCaptureFixture
) -> None:
    """A sender kept waiting by a restart closes its connection at its time-out, before its
    body has arrived: that is the sender's choice (it sends the batch again), not a 500 with a
    traceback in the error log."""
    url, write_key, _ = server
    host, port = url.removeprefix("http://").split(":")
    caplog.set_level("INFO", logger="tenure.api.segment")
    with socket.create_connection((host, int(port)), timeout=10) as sender:
        sender.sendall(
            b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"batch": ['
        )
    deadline = time.monotonic() + 30
    while not any("went away" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the server never noticed the sender leave"
        time.sleep(0.05)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    # The server keeps answering.
    batch = {"batch": [{"type": "track", "messageId": "after-1", "userId": "u", "event": "e"}]}
    assert httpx.post(f"{url}/v1/batch", json=batch, auth=(write_key, ""), timeout=30).json() == {
        "success": True
    }


FIRST_ANSWER_PROBE = """
import json, sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from starlette.testclient import TestClient
from tenure.config import Settings
from tenure.server import create_ingest_app
data_dir, write_key = Path(sys.argv[1]), sys.argv[2]
with TestClient(create_ingest_app(Settings(data_dir=data_dir))) as client:
    batch = {"batch": [{"type": "track", "messageId": "m1", "userId": "u", "event": "e"}]}
    assert client.post("/v1/batch", json=batch, auth=(write_key, "")).status_code == 200
print(json.dumps(sorted(m for m in json.loads(sys.argv[3]) if m in sys.modules)))
"""


def test_the_first_answer_loads_nothing_the_console_needs(tmp_path: Path) -> None:
    """What a restarted server loads before its first ``/v1/batch`` answer is what senders wait
    for: no pandas (pyarrow imported it to build a table the inbox took apart again, 0.3 s of
    CPU), no password hashing (a 64 MiB Argon2 hash at import), no console or REST API.
    Checked in a fresh interpreter — a figure of merit, not a timing."""
    database_url = f"sqlite:///{tmp_path / 'tenure.db'}"
    engine = create_engine(database_url)
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        write_key = create_source(session, "first").write_key
    engine.dispose()
    console_only = [
        "pandas",
        "ibis",
        "duckdb",
        "tenure.auth.passwords",
        "tenure.web",
        "tenure.api.v1",
    ]
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            FIRST_ANSWER_PROBE,
            str(tmp_path),
            write_key,
            json.dumps(console_only),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(probe.stdout) == []
