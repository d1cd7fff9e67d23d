"""Back-pressure: with the writer held up, the Segment API answers 429 + Retry-After, not memory."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tenure.config import Settings
from tenure.ingest.backpressure import IngestGate, Overloaded
from tenure.ingest.sources import create_source
from tenure.server import create_app
from tenure.store.database import create_engine, session_factory, session_scope


def test_gate_admits_a_lone_request_whatever_its_size_and_refuses_beyond_the_bound() -> None:
    gate = IngestGate(max_requests=2, max_queued_events=10, retry_after=3)
    with gate.events(500):  # the queue was empty: admitted although above the bound
        with pytest.raises(Overloaded) as refused, gate.events(1):
            pass
        assert refused.value.headers == {"Retry-After": "3"}
        assert refused.value.status_code == 429
    with gate.events(4), gate.events(6):  # 10 fits exactly
        pass
    with gate.request(), gate.request(), pytest.raises(Overloaded), gate.request():
        pass
    assert gate.state.requests == gate.state.queued_events == 0
    assert gate.state.refused == 2


def batch(prefix: str, n: int) -> dict[str, Any]:
    return {
        "batch": [
            {
                "type": "track",
                "event": "report",
                "userId": "u1",
                "messageId": f"{prefix}-{i}",
                "timestamp": "2025-03-31T10:00:00Z",
            }
            for i in range(n)
        ]
    }


class Server:
    def __init__(self, app: FastAPI, write_key: str) -> None:
        self.app = app
        self.write_key = write_key
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.listener]}, daemon=True
        )

    def post(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/batch",
            auth=(self.write_key, ""),
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )

    def wait_for(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 20
        while not condition():
            assert time.monotonic() < deadline, "condition not reached"
            time.sleep(0.01)


@pytest.fixture
def serve(migrated_template, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**limits: int) -> Server:
        url = migrated_template("sqlite")
        settings = Settings(data_dir=tmp_path / "data", database_url=url, **limits)
        engine = create_engine(url)
        with session_scope(session_factory(engine)) as session:
            key = create_source(session, "web-app").write_key
        engine.dispose()
        server = Server(create_app(settings), key)
        server.thread.start()
        server.wait_for(lambda: server.server.started)
        started.append(server)
        return server

    yield start
    for server in started:
        server.server.should_exit = True
        server.thread.join(timeout=10)
        server.listener.close()


def held_writer(server: Server) -> threading.Lock:
    """The inbox's group-commit lock: holding it is a writer that has fallen behind."""
    lock: threading.Lock = server.app.state.event_store.storage.inbox._writer
    return lock


@pytest.mark.parametrize(
    ("limits", "queued_while_refused"),
    [({"ingest_max_queued_events": 1}, 3), ({"ingest_max_requests": 1}, 3)],
)
def test_a_writer_that_falls_behind_means_429_with_retry_after(
    serve: Callable[..., Server], limits: dict[str, int], queued_while_refused: int
) -> None:
    server = serve(ingest_retry_after=2, **limits)
    first: list[httpx.Response] = []
    writer = held_writer(server)
    with writer:
        sender = threading.Thread(target=lambda: first.append(server.post(batch("a", 3))))
        sender.start()
        gate = server.app.state
        server.wait_for(
            lambda: (
                hasattr(gate, "ingest_gate")
                and gate.ingest_gate.state.queued_events == queued_while_refused
            )
        )
        refused = server.post(batch("b", 2))
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["code"] == "overloaded"
        assert "retry after 2 s" in refused.json()["message"]
        assert not first  # still waiting for the writer: nothing acknowledged before durable
    sender.join(timeout=20)
    assert first[0].status_code == 200 and first[0].json() == {"success": True}
    # The sender retries after Retry-After and is accepted once the writer caught up.
    assert server.post(batch("b", 2)).status_code == 200
    assert server.app.state.event_store.stats().events == 5
