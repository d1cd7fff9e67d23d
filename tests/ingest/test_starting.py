"""After a restart the Segment endpoints answer before the console and REST API have loaded
(issue 16, item 10): senders with a short retry budget lose nothing while the rest loads."""

from __future__ import annotations

import socket
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
