"""Segment-spec messages: what is stored, what is quarantined and why, what identity calls do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tenure.errors import Conflict
from tenure.ingest import segment, segment_identities
from tenure.ingest.segment import IngestPlan, UndecodableBody, read_payload
from tenure.ingest.segment_identities import apply_identities
from tenure.ingest.sources import create_source, source_for_key
from tenure.model import Account, Contact, IdentityAlias

RECEIVED = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def plan(payload: Any, endpoint: str = "batch") -> IngestPlan:
    return read_payload(payload, endpoint, source="web", received_at=RECEIVED)


def track(message_id: str = "m1", **fields: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u1",
        "event": "report_exported",
        "timestamp": "2025-03-03T11:59:00.000+00:00",
        **fields,
    }


def test_track_becomes_an_event_with_its_account() -> None:
    result = plan(track(properties={"format": "csv"}, context={"groupId": "acme"}), "track")
    assert result.quarantined == [] and result.identities == []
    [row] = result.events
    assert row["message_id"] == "m1" and row["account_id"] == "acme"
    assert row["event"] == "report_exported" and row["type"] == "track"
    assert row["timestamp"] == datetime(2025, 3, 3, 11, 59, tzinfo=UTC)
    assert json.loads(row["properties"]) == {"format": "csv"}


def test_properties_group_id_attributes_the_event_too() -> None:
    [row] = plan({"batch": [track(properties={"groupId": 42})]}).events
    assert row["account_id"] == "42"


def test_page_and_screen_are_stored_under_their_name() -> None:
    result = plan(
        {
            "batch": [
                {
                    "type": "page",
                    "messageId": "p1",
                    "anonymousId": "a1",
                    "name": "Pricing",
                    "category": "Docs",
                    "properties": {"path": "/pricing"},
                },
                {"type": "screen", "messageId": "s1", "userId": 7, "name": "Home"},
            ]
        }
    )
    assert [(r["type"], r["event"], r["user_id"], r["anonymous_id"]) for r in result.events] == [
        ("page", "Pricing", None, "a1"),
        ("screen", "Home", "7", None),
    ]
    assert json.loads(result.events[0]["properties"]) == {
        "path": "/pricing",
        "name": "Pricing",
        "category": "Docs",
    }


def test_invalid_messages_are_quarantined_with_the_reason_and_the_rest_kept() -> None:
    result = plan(
        {
            "batch": [
                track("ok"),
                {"type": "track", "messageId": "no-event", "userId": "u1"},
                {"type": "track", "messageId": "nobody", "event": "e"},
                {"type": "hug", "userId": "u1"},
                "not an object",
                {"type": "group", "userId": "u1", "groupId": "g" * 129},
                track("bad-time", timestamp="yesterday-ish"),
            ]
        }
    )
    assert [r["message_id"] for r in result.events] == ["ok"]
    reasons = [q.reason for q in result.quarantined]
    assert reasons[0] == "batch[1] messageId 'no-event': event: Field required"
    assert reasons[1] == "batch[2] messageId 'nobody': userId or anonymousId is required"
    assert reasons[2].startswith("batch[3] type: unknown message type 'hug'")
    assert reasons[3] == "batch[4] message is not a JSON object but str"
    assert reasons[4].startswith("batch[5] groupId: String should have at most 128 characters")
    assert reasons[5].startswith("batch[6] messageId 'bad-time': timestamp: Input should be")
    assert json.loads(result.quarantined[0].raw) == {
        "type": "track",
        "messageId": "no-event",
        "userId": "u1",
    }
    assert {q.source for q in result.quarantined} == {"web"}


def test_a_body_that_is_not_a_batch_is_quarantined_whole() -> None:
    result = plan({"messages": []})
    assert [q.reason for q in result.quarantined] == [
        "batch: expected a JSON object with a list named 'batch'"
    ]


def test_quarantined_copies_are_bounded() -> None:
    huge = {"messages": ["x" * 100_000]}
    [refused] = plan(huge).quarantined
    assert len(refused.raw) < segment.QUARANTINE_RAW_CHARS + 100
    assert refused.raw.endswith("… [truncated: 100,017 characters in all]")


def test_a_message_over_32_kib_is_quarantined_one_under_is_kept() -> None:
    filler = "x" * (32 * 1024 - 200)
    fits = plan(track(properties={"note": filler}), "track")
    too_big = plan(track(properties={"note": filler + "x" * 300}), "track")
    assert len(fits.events) == 1
    [refused] = too_big.quarantined
    assert refused.reason.startswith("message is 3") and "limit is 32768 bytes" in refused.reason


def test_the_endpoint_sets_the_type() -> None:
    result = plan({"type": "identify", "messageId": "m", "userId": "u1", "event": "e"}, "track")
    assert [r["type"] for r in result.events] == ["track"]


def test_a_missing_message_id_is_derived_from_the_content() -> None:
    message = {"type": "track", "userId": "u1", "event": "e", "timestamp": "2025-03-03T10:00:00Z"}
    first = plan({"batch": [message], "sentAt": "2025-03-03T10:00:01Z"})
    again = plan({"batch": [dict(message)], "sentAt": "2025-03-03T10:05:00Z"})  # a retry
    other = plan({"batch": [{**message, "event": "f"}]})
    assert first.events[0]["message_id"].startswith("sha256:")
    assert first.events[0]["message_id"] == again.events[0]["message_id"]
    assert first.events[0]["message_id"] != other.events[0]["message_id"]


def test_event_time_corrects_the_senders_clock_when_there_is_no_timestamp() -> None:
    # The device clock is 1 hour fast: it says sent at 13:00:05 for an event at 13:00:00.
    skewed = {
        "type": "track",
        "messageId": "m",
        "userId": "u1",
        "event": "e",
        "originalTimestamp": "2025-03-03T13:00:00Z",
    }
    result = plan({"batch": [skewed], "sentAt": "2025-03-03T13:00:05Z"})
    assert result.events[0]["timestamp"] == RECEIVED - timedelta(seconds=5)
    naive = plan(track(timestamp="2025-03-03T08:00:00"), "track")
    assert naive.events[0]["timestamp"] == datetime(2025, 3, 3, 8, tzinfo=UTC)
    untimed = plan({"type": "track", "messageId": "m", "userId": "u1", "event": "e"}, "track")
    assert untimed.events[0]["timestamp"] == RECEIVED


def test_batch_context_reaches_each_message() -> None:
    result = plan(
        {
            "context": {"groupId": "acme"},
            "batch": [track("a"), track("b", context={"groupId": "globex"})],
        }
    )
    assert [r["account_id"] for r in result.events] == ["acme", "globex"]


def test_nan_and_infinity_become_null() -> None:
    payload = segment.decode_body(
        b'{"userId": "u1", "event": "e", "properties": {"x": NaN, "y": -Infinity}}'
    )
    assert payload["properties"] == {"x": None, "y": None}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"{bad",
            "body is not valid JSON: Expecting property name enclosed in double quotes at "
            "line 1 column 2",
        ),
        (b"\xff\xfe{}", "body is not UTF-8: byte 0xff at offset 0"),
        (b"", "body is not valid JSON: Expecting value at line 1 column 1"),
    ],
)
def test_undecodable_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(UndecodableBody) as error:
        segment.decode_body(body)
    assert error.value.message == reason
    assert error.value.status_code == 400


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_any_json_is_stored_or_quarantined_never_an_error(payload: Any) -> None:
    for endpoint in ("batch", "track", "identify", "group", "alias"):
        result = plan(payload, endpoint)
        assert result.received >= 1 or endpoint == "batch"


# --- identity calls on the operational database (both backends) -------------------------------


def identities(*messages: dict[str, Any]) -> IngestPlan:
    result = plan({"batch": list(messages)})
    assert result.quarantined == []
    return result


def apply(session: Session, result: IngestPlan) -> segment_identities.IdentityResult:
    return apply_identities(session, result.identities, source="web", received_at=RECEIVED)


def test_identify_and_group_upsert_contact_account_and_membership(session: Session) -> None:
    session.add(Account(external_id="seg-acme", name="ACME (from the CRM)", custom={}))
    session.flush()
    outcome = apply(
        session,
        identities(
            {
                "type": "identify",
                "userId": "seg-u1",
                "traits": {
                    "email": "ann@acme.test",
                    "firstName": "Ann",
                    "lastName": "Lee",
                    "title": "VP Ops",
                },
            },
            {
                "type": "group",
                "userId": "seg-u1",
                "groupId": "seg-acme",
                "traits": {"name": "Acme", "industry": "Retail", "employees": "250", "plan": "pro"},
            },
        ),
    )
    assert outcome == segment_identities.IdentityResult(contacts=1, accounts=1, aliases=0)
    account = session.scalars(sa.select(Account).where(Account.external_id == "seg-acme")).one()
    contact = session.scalars(sa.select(Contact).where(Contact.external_id == "seg-u1")).one()
    assert (account.name, account.industry, account.employee_count, account.custom) == (
        "Acme",
        "Retail",
        250,
        {"plan": "pro"},
    )
    assert (contact.name, contact.email, contact.title, contact.account_id) == (
        "Ann Lee",
        "ann@acme.test",
        "VP Ops",
        account.id,
    )

    # A later identify with fewer traits updates what it names and keeps the rest.
    apply(session, identities({"type": "identify", "userId": "seg-u1", "traits": {"title": "COO"}}))
    session.refresh(contact)
    assert (contact.name, contact.email, contact.title) == ("Ann Lee", "ann@acme.test", "COO")


def test_a_group_naming_no_account_creates_none_and_keeps_the_person(session: Session) -> None:
    """A groupId is often the product's workspace id: held until linked (test_held_groups.py)."""
    outcome = apply(
        session,
        identities(
            {"type": "group", "userId": "seg-u9", "groupId": "seg-new", "traits": {"name": "N"}}
        ),
    )
    assert outcome == segment_identities.IdentityResult(contacts=1, accounts=0, aliases=0)
    assert session.scalar(sa.select(Account).where(Account.external_id == "seg-new")) is None
    contact = session.scalars(sa.select(Contact).where(Contact.external_id == "seg-u9")).one()
    assert contact.account_id is None


def test_alias_is_recorded_once(session: Session) -> None:
    alias = {
        "type": "alias",
        "previousId": "anon-7",
        "userId": "seg-u7",
        "timestamp": "2025-03-01T10:00:00Z",
    }
    assert apply(session, identities(alias, dict(alias))).aliases == 1
    assert apply(session, identities(alias)).aliases == 0
    [row] = session.scalars(
        sa.select(IdentityAlias).where(IdentityAlias.previous_id == "anon-7")
    ).all()
    assert (row.user_id, row.source) == ("seg-u7", "web")
    assert row.aliased_at.replace(tzinfo=UTC) == datetime(2025, 3, 1, 10, tzinfo=UTC)


def test_identify_traits_that_do_not_fit_are_quarantined() -> None:
    result = plan(
        {
            "batch": [
                {"type": "identify", "userId": "u1", "traits": {"email": 12}},
                {"type": "group", "groupId": "g1", "traits": {"employees": "many"}},
            ]
        }
    )
    assert [q.reason for q in result.quarantined] == [
        "batch[0] traits.email: Input should be a valid string",
        "batch[1] traits.employees: Input should be a valid integer, unable to parse string as "
        "an integer",
    ]


def test_write_keys_are_stored_hashed_and_authenticate(session: Session) -> None:
    created = create_source(session, "web-test")
    assert created.write_key.startswith("tk_") and len(created.write_key) > 30
    found = source_for_key(session, created.write_key)
    assert found is not None and found.name == "web-test"
    assert found.write_key_hash != created.write_key
    assert source_for_key(session, created.write_key + "x") is None
    with pytest.raises(Conflict, match="already exists"):
        create_source(session, "web-test")
