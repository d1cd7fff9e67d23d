"""Issue 16's ingest reproductions, through a real HTTP server on loopback, on both backends:
nothing is lost to bad input and nothing is silently dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.config import Settings
from tenure.model import Contact
from tenure.store.database import session_factory, session_scope
from tenure.store.events import open_event_store
from tests.api.test_app_segment import SUCCESS, Live, live

__all__ = ["live"]  # the module-scoped server, shared with the API's Segment tests


def now() -> str:
    return datetime.now(UTC).isoformat()


def track(message_id: str, user_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": user_id,
        "event": "report_exported",
        "timestamp": now(),
        **fields,
    }


def messages(live: Live, user_id: str) -> list[dict[str, Any]]:
    """Every stored message of a user (usage events, identify and group), oldest first."""
    store = open_event_store(live.settings)
    con = store.connect()
    try:
        t = store.messages(con)
        t = t.filter(t.user_id == user_id).order_by(t.message_id)
        return t.to_pyarrow().to_pylist()
    finally:
        con.disconnect()
        store.close()


def strict_json(text: str) -> Any:
    """JSON as the spec has it: Infinity and NaN are refused."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_lone_surrogate_quarantines_its_message_and_the_rest_are_stored(live: Live) -> None:
    """@segment/analytics-node sends an emoji cut by .slice() as a "\\ud83d" escape: the whole
    batch used to be lost to a plain-text 500."""
    cut = "Quarterly review \ud83d"
    body = {
        "batch": [
            track("sur-1", "sur-user"),
            track("sur-2", "sur-user", properties={"title": cut}),
            track("sur-3", "sur-user", event=cut),
            {**track("sur-4", "sur-user"), "userId": "sur-\udc00"},
            track("sur-5", "sur-user"),
        ]
    }
    content = json.dumps(body).encode()  # ensure_ascii: the surrogates go as \\ud83d escapes
    assert b"\\ud83d" in content
    response = live.post("batch", content=content)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("sur-user")] == ["sur-1", "sur-5"]
    reasons = live.quarantined_reasons()
    assert (
        "batch[1] properties.title: a lone UTF-16 surrogate \\ud83d at character 17 "
        "(half of an emoji cut in two?), which UTF-8 cannot store"
    ) in reasons
    assert any(r.startswith("batch[2] event: a lone UTF-16 surrogate \\ud83d") for r in reasons)
    assert any(r.startswith("batch[3] userId: a lone UTF-16 surrogate \\udc00") for r in reasons)


def test_the_python_client_loses_nothing_to_a_cut_emoji(live: Live) -> None:
    """segment-analytics-python batched 15 messages, one with a cut emoji, and dropped all."""
    from segment.analytics import Client

    errors: list[Exception] = []
    client = Client(
        live.write_key,
        host=live.url,
        upload_size=15,
        upload_interval=60,
        on_error=lambda error, _batch: errors.append(error),
    )
    for n in range(15):
        # The client escapes the half emoji as "\ud83d" in the JSON it sends (ensure_ascii).
        properties = {"title": "launch \ud83d" if n == 7 else "launch 🎉"}
        client.track("py-cut", "report_exported", properties, message_id=f"py-cut-{n}")
    client.flush()
    client.join()
    assert errors == []
    assert sorted(e["message_id"] for e in live.events("py-cut")) == sorted(
        f"py-cut-{n}" for n in range(15) if n != 7
    )
    assert any(
        r.startswith("batch[7] properties.title: a lone UTF-16 surrogate")
        for r in live.quarantined_reasons()
    )


def test_nul_in_text_is_quarantined_on_every_backend(live: Live) -> None:
    """PostgreSQL text has no NUL: one such message must not fail the batch."""
    body = {"batch": [track("nul-1", "nul-user"), track("nul-2", "nul-user", event="a\u0000b")]}
    response = live.post("batch", body)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("nul-user")] == ["nul-1"]
    assert "batch[1] event: NUL (\\u0000) at character 1, which text cannot hold" in (
        live.quarantined_reasons()
    )


def test_rudderstack_identify_traits_in_context_fill_the_contact(live: Live) -> None:
    """RudderStack's SDKs put identify traits only in context.traits (issue 16, item 9)."""
    identify = {
        "type": "identify",
        "messageId": "rs-identify-1",
        "userId": "rs-ann",
        "channel": "server",
        "timestamp": now(),
        "context": {
            "library": {"name": "rudder-analytics-python", "version": "2.1.0"},
            "traits": {"email": "ann@rudder.test", "name": "Ann Rudd", "title": "CTO"},
        },
        "traits": {"title": "Chief Technology Officer"},  # a top-level trait wins
    }
    response = live.post("batch", {"batch": [identify]})
    assert (response.status_code, response.json()) == (200, SUCCESS)
    with session_scope(session_factory(live.engine)) as session:
        contact = session.scalars(sa.select(Contact).where(Contact.external_id == "rs-ann")).one()
        assert (contact.email, contact.name, contact.title) == (
            "ann@rudder.test",
            "Ann Rudd",
            "Chief Technology Officer",
        )


@pytest.mark.parametrize(
    ("moment", "kept"),
    [
        ("0001-01-01T00:00:00Z", False),
        ("1900-06-01T00:00:00Z", False),
        ("1999-12-31T23:59:59Z", False),
        ("2000-01-01T00:00:00Z", True),
        ("3000-01-01T00:00:00Z", False),
    ],
)
def test_event_times_outside_the_accepted_window_are_quarantined(
    live: Live, moment: str, kept: bool
) -> None:
    """Years 1, 1900 and 3000 were stored as sent, each in a partition of its own (item 12)."""
    user = f"window-{moment[:4]}"
    response = live.post("batch", {"batch": [track(f"w-{moment}", user, timestamp=moment)]})
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert len(live.events(user)) == int(kept)
    refused = [r for r in live.quarantined_reasons() if f"event time {moment[:4]}" in r]
    assert len(refused) == int(not kept)
    if refused:
        assert (
            "is outside the accepted window: from 2000-01-01T00:00:00+00:00 to 24 hour(s)"
            in (refused[0])
        )


def test_stored_properties_are_always_valid_json(live: Live) -> None:
    """Integers beyond 64 bits stay exact; 1e400 and NaN (not numbers JSON can hold) become
    null — they were stored as Infinity (item 12)."""
    content = (
        b'{"batch": [{"type": "track", "messageId": "big-1", "userId": "big-user", '
        b'"event": "e", "properties": {"huge": 123456789012345678901234567890, '
        b'"overflow": 1e400, "negative": -1e400, "nan": NaN, "tiny": 1e-400}}]}'
    )
    response = live.post("batch", content=content)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    [stored] = live.events("big-user")
    assert strict_json(stored["properties"]) == {
        "huge": 123456789012345678901234567890,
        "overflow": None,
        "negative": None,
        "nan": None,
        "tiny": 0.0,
    }


def test_a_trailing_slash_is_the_same_endpoint_not_a_redirect(live: Live) -> None:
    response = live.post("batch/", {"batch": [track("slash-1", "slash-user")]})
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert [e["message_id"] for e in live.events("slash-user")] == ["slash-1"]


def test_identify_and_group_are_kept_as_messages_once(live: Live) -> None:
    """Traits history and replay need the calls themselves (item 13); repeats are dropped."""
    body = {
        "batch": [
            {
                "type": "identify",
                "messageId": "kept-identify",
                "userId": "kept-user",
                "traits": {"email": "kept@acme.test"},
                "timestamp": "2025-03-03T10:00:00Z",
            },
            {
                "type": "group",
                "messageId": "kept-group",
                "userId": "kept-user",
                "groupId": "kept-acme",
                "traits": {"name": "Kept Acme", "plan": "pro"},
                "timestamp": "2025-03-03T10:01:00Z",
            },
        ]
    }
    for _ in range(2):  # a sender's retry
        response = live.post("batch", body)
        assert (response.status_code, response.json()) == (200, SUCCESS)
    stored = messages(live, "kept-user")
    assert [(m["message_id"], m["type"], m["account_id"]) for m in stored] == [
        ("kept-group", "group", "kept-acme"),
        ("kept-identify", "identify", None),
    ]
    assert [strict_json(m["properties"]) for m in stored] == [
        {"name": "Kept Acme", "plan": "pro"},
        {"email": "kept@acme.test"},
    ]
    assert live.events("kept-user") == []  # not usage: metrics never count them


def test_a_store_that_fails_answers_a_json_500(tmp_path: Path, migrated_template) -> None:
    """Nothing stored, nothing acknowledged: the sender retries a 500, whose body is JSON."""
    import asyncio

    import httpx

    from tenure.ingest.sources import create_source
    from tenure.server import create_app
    from tenure.store.database import create_engine

    url = migrated_template("sqlite")
    engine = create_engine(url)
    with session_scope(session_factory(engine)) as session:
        write_key = create_source(session, "broken").write_key
    engine.dispose()
    (tmp_path / "inbox.db").mkdir()  # SQLite cannot open a folder: every append fails
    app = create_app(Settings(data_dir=tmp_path, database_url=url))

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://tenure") as client,
        ):
            return await client.post(
                "/v1/batch", json={"batch": [track("broken-1", "u")]}, auth=(write_key, "")
            )

    response = asyncio.run(post())
    assert response.status_code == 500
    assert response.json() == {
        "code": "not_stored",
        "message": "the messages could not be stored; retry",
    }
