"""The Segment-spec API through a real HTTP server on loopback, on both backends.

The unmodified ``segment-analytics-python`` client sends identify/group/track/page; raw payloads
(bad JSON, wrong keys, gzip, oversize, invalid messages, repeats) go through httpx.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from tenure.config import Settings
from tenure.ingest.sources import create_source
from tenure.model import Account, Contact
from tenure.server import create_app
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import open_event_store

MIB = 1024 * 1024


@dataclass(frozen=True)
class Live:
    url: str
    write_key: str
    settings: Settings
    engine: sa.Engine

    def post(
        self,
        endpoint: str,
        body: Any = None,
        *,
        key: str | None = "default",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        auth = (self.write_key if key == "default" else key, "") if key is not None else None
        return httpx.post(
            f"{self.url}/v1/{endpoint}",
            auth=auth,
            timeout=30,
            content=content if content is not None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def events(self, user_id: str) -> list[dict[str, Any]]:
        store = open_event_store(self.settings)
        con = store.connect()
        try:
            t = store.table(con)
            t = t.filter(t.user_id == user_id).order_by(t.timestamp, t.message_id)
            return t.to_pyarrow().to_pylist()
        finally:
            con.disconnect()
            store.close()

    def quarantined_reasons(self) -> list[str]:
        store = open_event_store(self.settings)
        try:
            return [q.reason for q in store.quarantined(limit=100)]
        finally:
            store.close()


@pytest.fixture(scope="module")
def live(
    backend: str, migrated_template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    url = migrated_template(backend)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), database_url=url)
    engine = create_engine(url)
    with session_scope(session_factory(engine)) as session:
        write_key = create_source(session, "web-app").write_key
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{listener.getsockname()[1]}", write_key, settings, engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        engine.dispose()


SUCCESS = {"success": True}


@pytest.mark.slow
def test_the_segment_client_fills_contacts_accounts_and_events(live: Live) -> None:
    from segment.analytics import Client

    with session_scope(session_factory(live.engine)) as session:
        session.add(Account(external_id="c-acme", name="Acme (CRM)", custom={}))
    errors: list[Exception] = []
    client = Client(
        live.write_key,
        host=live.url,
        sync_mode=True,
        gzip=True,
        on_error=lambda error, _batch: errors.append(error),
    )
    client.identify("c-ann", {"email": "ann@acme.test", "name": "Ann Lee", "title": "VP Ops"})
    client.group("c-ann", "c-acme", {"name": "Acme Corp", "industry": "Retail", "employees": 250})
    client.track("c-ann", "report_exported", {"format": "csv"}, context={"groupId": "c-acme"})
    client.page("c-ann", "Docs", "Pricing", {"path": "/pricing"})
    client.alias("anon-ann", "c-ann")
    assert errors == []

    with session_scope(session_factory(live.engine)) as session:
        account = session.scalars(sa.select(Account).where(Account.external_id == "c-acme")).one()
        contact = session.scalars(sa.select(Contact).where(Contact.external_id == "c-ann")).one()
        assert (account.name, account.industry, account.employee_count) == (
            "Acme Corp",
            "Retail",
            250,
        )
        assert (contact.name, contact.email, contact.title, contact.account_id) == (
            "Ann Lee",
            "ann@acme.test",
            "VP Ops",
            account.id,
        )
    events = live.events("c-ann")
    assert [(e["type"], e["event"], e["account_id"], e["source"]) for e in events] == [
        ("track", "report_exported", "c-acme", "web-app"),
        ("page", "Pricing", None, "web-app"),
    ]
    assert json.loads(events[0]["properties"]) == {"format": "csv"}


def test_the_batching_client_delivers_every_event(live: Live) -> None:
    from segment.analytics import Client

    client = Client(live.write_key, host=live.url, upload_size=40, max_retries=0)
    for i in range(100):
        client.track("c-batcher", "search", {"i": i}, context={"groupId": "c-acme"})
    client.flush()
    client.join()
    events = live.events("c-batcher")
    assert sorted(json.loads(e["properties"])["i"] for e in events) == list(range(100))


def test_undecodable_json_is_400_with_the_reason(live: Live) -> None:
    response = live.post("track", content=b'{"event": ')
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_body",
        "message": "body is not valid JSON: Expecting value at line 1 column 11",
    }


def test_a_wrong_or_missing_write_key_is_401(live: Live) -> None:
    wrong = live.post("track", {"userId": "x", "event": "e"}, key="tk_not-a-key")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "unauthorized"
    assert "unknown or inactive write key 'tk_not-a-key'" in wrong.json()["message"]
    missing = live.post("track", {"userId": "x", "event": "e"}, key=None)
    assert missing.status_code == 401
    assert missing.json()["message"].startswith("no write key")


def test_the_write_key_may_come_in_the_body(live: Live) -> None:
    body = {
        "writeKey": live.write_key,
        "batch": [{"type": "track", "messageId": "body-key-1", "userId": "c-body", "event": "e"}],
    }
    response = live.post("batch", body, key=None)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("c-body")] == ["body-key-1"]


def test_gzip_is_inflated_whatever_the_content_type(live: Live) -> None:
    body = {"batch": [{"type": "track", "messageId": "gz-1", "userId": "c-gzip", "event": "e"}]}
    response = live.post(
        "import",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
    )
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("c-gzip")] == ["gz-1"]
    broken = live.post(
        "batch", content=b"\x1f\x8b not really gzip", headers={"Content-Encoding": "gzip"}
    )
    assert broken.status_code == 400
    assert broken.json()["message"].startswith("body is not valid gzip")


def test_eight_mib_is_accepted_and_more_is_413(live: Live) -> None:
    filler = "x" * (31 * 1024)
    batch = [
        {
            "type": "track",
            "messageId": f"big-{i}",
            "userId": "c-big",
            "event": "e",
            "properties": {"note": filler},
        }
        for i in range(255)
    ]
    body = json.dumps({"batch": batch}).encode()
    assert 7.5 * MIB < len(body) <= 8 * MIB
    accepted = live.post("batch", content=body)
    assert (accepted.status_code, accepted.json()) == (200, SUCCESS)
    assert len(live.events("c-big")) == 255

    too_big = live.post("batch", content=body + b" " * (8 * MIB - len(body) + 1))
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "too_large"
    # A small gzip body that inflates past the limit is refused without inflating it all.
    bomb = live.post(
        "batch", content=gzip.compress(b" " * (9 * MIB)), headers={"Content-Encoding": "gzip"}
    )
    assert bomb.status_code == 413


def test_one_invalid_message_is_quarantined_and_the_rest_stored(live: Live) -> None:
    body = {
        "batch": [
            {"type": "track", "messageId": "q-1", "userId": "c-quar", "event": "signed_in"},
            {"type": "track", "messageId": "q-2", "userId": "c-quar"},
            {"type": "track", "messageId": "q-3", "userId": "c-quar", "event": "search"},
        ]
    }
    response = live.post("batch", body)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("c-quar")] == ["q-1", "q-3"]
    assert "batch[1] messageId 'q-2': event: Field required" in live.quarantined_reasons()


def test_a_repeated_message_id_is_stored_once(live: Live) -> None:
    body = {
        "batch": [
            {
                "type": "track",
                "messageId": "dup-1",
                "userId": "c-dup",
                "event": "e",
                "timestamp": "2025-03-03T10:00:00Z",
            },
            {
                "type": "track",
                "messageId": "dup-1",
                "userId": "c-dup",
                "event": "e",
                "timestamp": "2025-03-03T10:00:00Z",
            },
        ]
    }
    for _ in range(3):  # a sender retrying after a lost acknowledgement
        assert live.post("batch", body).json() == SUCCESS
    assert [e["message_id"] for e in live.events("c-dup")] == ["dup-1"]


def test_concurrent_senders_joining_the_same_account_all_succeed(live: Live) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(i: int) -> httpx.Response:
        return live.post(
            "batch",
            {
                "batch": [
                    {
                        "type": "identify",
                        "userId": f"c-racer-{i}",
                        "traits": {"email": f"r{i}@x.test"},
                    },
                    {
                        "type": "group",
                        "userId": f"c-racer-{i}",
                        "groupId": "c-race",
                        "traits": {"name": "Race Inc"},
                    },
                ]
            },
        )

    with session_scope(session_factory(live.engine)) as session:
        session.add(Account(external_id="c-race", name="Race (CRM)", custom={}))
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    with session_scope(session_factory(live.engine)) as session:
        [account] = session.scalars(sa.select(Account).where(Account.external_id == "c-race"))
        members = session.scalars(
            sa.select(Contact.external_id).where(Contact.account_id == account.id)
        ).all()
    assert sorted(members) == [f"c-racer-{i}" for i in range(8)]


def test_deflate_and_unsupported_encodings(live: Live) -> None:
    import zlib

    body = {"batch": [{"type": "track", "messageId": "df-1", "userId": "c-deflate", "event": "e"}]}
    deflated = live.post(
        "batch",
        content=zlib.compress(json.dumps(body).encode()),
        headers={"Content-Encoding": "deflate"},
    )
    assert (deflated.status_code, deflated.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("c-deflate")] == ["df-1"]
    brotli = live.post("batch", content=b"...", headers={"Content-Encoding": "br"})
    assert brotli.status_code == 400
    assert brotli.json()["message"] == "Content-Encoding 'br' is not supported; use gzip"
