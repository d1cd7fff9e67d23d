"""The plain path reads track/page/screen calls without pydantic; it must decide as the models do.

Ingest's CPU goes per message, so the calls real clients send (string ids, ISO-8601 times) are read
by ``_plain_event_call``; anything it is unsure of goes to the models. These tests hold it to
that: over messages mixing valid and invalid fields, it either steps aside or gives exactly the
models' event, so what is stored and what is quarantined (and why) never depends on the path.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenure.ingest import segment, segment_calls
from tenure.ingest.segment_schemas import MESSAGE_MODELS

RECEIVED = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)

# Each field has a plain form (what clients usually send) and odd ones (valid or not); a message
# mixes them, so both paths and both outcomes are common.
plain_ids = st.none() | st.text(min_size=1, max_size=12)
odd_ids = (
    st.just("")
    | st.text(min_size=1020, max_size=1030)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.lists(st.integers(), max_size=1)
)
plain_moments = st.builds(
    lambda day, clock, fraction, offset: f"{day}T{clock}{fraction}{offset}",
    st.sampled_from(["2025-03-03", "2024-02-29", "9999-12-31"]),
    st.sampled_from(["11:59:00", "00:00:00", "23:59:59"]),
    st.sampled_from(["", ".1", ".720", ".123456"]),
    st.sampled_from(["", "Z", "+00:00", "-05:30", "+23:59"]),
)
odd_moments = (
    st.builds(
        lambda day, clock, fraction, offset: f"{day}T{clock}{fraction}{offset}",
        st.sampled_from(["2025-03-03", "2025-02-30", "0000-01-01", "2025-3-3"]),
        st.sampled_from(["11:59:00", "23:59:60", "24:00:00", "7:05:00", "11:59"]),
        st.sampled_from(["", ".1234567", "."]),
        st.sampled_from(["", "Z", "+24:00", "+0530", "z", "+05"]),
    )
    | st.sampled_from(["2025-03-03", "2025-03-03 11:59:00Z", "yesterday", ""])
    | st.integers(min_value=0, max_value=2_000_000_000)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
plain_objects = st.dictionaries(
    st.sampled_from(["groupId", "plan", "name", "x"]), plain_ids | odd_ids | json_values, max_size=3
)
odd_objects = st.none() | st.lists(st.integers(), max_size=2) | st.text(max_size=4)
plain_names = st.text(min_size=1, max_size=10)
odd_names = st.none() | st.just("") | st.text(min_size=1024, max_size=1026) | st.integers()
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "messageId": (plain_ids, odd_ids),
    "userId": (plain_ids, odd_ids),
    "anonymousId": (plain_ids, odd_ids),
    "timestamp": (plain_moments, odd_moments),
    "originalTimestamp": (plain_moments, odd_moments),
    "sentAt": (plain_moments, odd_moments),
    "context": (plain_objects, odd_objects),
    "properties": (plain_objects, odd_objects),
    "event": (plain_names, odd_names),
    "name": (plain_names, odd_names),
    "category": (plain_names, odd_names),
    "integrations": (json_values, json_values),
}


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A track, page or screen call whose every field may be absent, plain, odd or invalid."""
    kind = draw(st.sampled_from(["track", "page", "screen"]))
    raw = {}
    for field, (plain, odd) in FIELDS.items():
        form = draw(st.sampled_from(["absent", "plain", "plain", "plain", "plain", "odd"]))
        if form != "absent":
            raw[field] = draw(plain if form == "plain" else odd)
    return kind, raw


@settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(messages())
def test_the_plain_path_steps_aside_or_agrees_with_the_models(drawn: Any) -> None:
    kind, raw = drawn
    by_model = segment_calls._validate_with_model(raw, kind, MESSAGE_MODELS[kind])
    plain = segment_calls._plain_event_call(raw, kind)
    if plain is not None:
        assert by_model == plain
    # What the ingest API does with the message: stored or quarantined exactly as by the models,
    # unless its text cannot be stored at all (NUL, a lone surrogate).
    assert segment_calls.validate_message(raw, kind) == (
        segment_calls.unstorable_text(raw) or by_model
    )


def captured_client_message(**fields: Any) -> dict[str, Any]:
    """A track as segment-analytics-python 2.x sends it (the benchmark's captured payloads)."""
    return {
        "integrations": {},
        "anonymousId": None,
        "properties": {"plan": "pro", "duration_ms": 0, "page": "/reports/0"},
        "timestamp": "2026-11-26T23:04:34.720+00:00",
        "context": {"groupId": "acct-0", "library": {"name": "analytics-python", "version": "2.4"}},
        "userId": "user-0",
        "type": "track",
        "event": "report_viewed",
        "messageId": "6dfa629e-39a4-4ee6-bf3a-e8265398f6f7",
        "sentAt": "2026-11-26T23:04:34.746109+00:00",
        **fields,
    }


def test_what_real_clients_send_takes_the_plain_path() -> None:
    for raw in (
        captured_client_message(),
        # analytics.js: anonymous, Z times, a page with its name and category
        captured_client_message(
            type="page",
            userId=None,
            anonymousId="a-1",
            name="Pricing",
            category="Docs",
            timestamp="2026-11-26T23:04:34.720Z",
        ),
    ):
        call = segment_calls._plain_event_call(raw, raw["type"])
        assert call is not None
        assert call == segment_calls._validate_with_model(
            raw, raw["type"], MESSAGE_MODELS[raw["type"]]
        )
    assert call.event == "Pricing" and call.properties["category"] == "Docs"


def test_numeric_ids_and_unusual_times_go_to_the_models() -> None:
    assert segment_calls._plain_event_call(captured_client_message(userId=42), "track") is None
    assert (
        segment_calls._plain_event_call(captured_client_message(timestamp=1_700_000_000), "track")
        is None
    )
    # Read by the models all the same: the id becomes a string, the epoch seconds a time.
    call = segment_calls.validate_message(
        captured_client_message(userId=42, timestamp=1_700_000_000), None
    )
    assert isinstance(call, segment_calls.EventCall)
    assert call.user_id == "42" and call.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(json_values)
def test_bodies_decode_as_the_standard_library_reads_them(value: Any) -> None:
    body = json.dumps({"batch": [value]}).encode()
    # NaN and ±Infinity are not JSON: both readings make them null.
    assert segment.decode_body(body) == json.loads(body, parse_constant=lambda _: None)


def test_integers_beyond_64_bits_stay_exact() -> None:
    """orjson would read them as floats; such a body is read by the standard library instead."""
    body = b'{"userId": 123456789012345678901234567890, "properties": {"n": 18446744073709551616}}'
    payload = segment.decode_body(body)
    assert payload == {
        "userId": 123456789012345678901234567890,
        "properties": {"n": 18446744073709551616},
    }


def test_a_byte_order_mark_is_skipped() -> None:
    assert segment.decode_body(b'\xef\xbb\xbf{"batch": []}') == {"batch": []}


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(max_size=8), json_values.filter(lambda v: not _has_float(v))))
def test_the_size_limit_counts_compact_utf8_json(raw: dict[str, Any]) -> None:
    """The 32 KiB limit counts the bytes of the compact UTF-8 serialisation (floats aside, whose
    digits orjson may write one character shorter than ``json``, e.g. 1e-07 as 1e-7)."""
    expected = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
    assert segment_calls._encoded_size(raw, segment_calls._encoded(raw)) == expected


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def test_a_lone_surrogate_is_a_reason_not_an_error() -> None:
    """UTF-8 cannot store it: the message is quarantined saying where, before it is measured."""
    raw = {"type": "track", "userId": "u", "event": "e", "properties": {"x": "ab\ud800"}}
    assert segment_calls.validate_message(raw, "track") == (
        "properties.x: a lone UTF-16 surrogate \\ud800 at character 2 "
        "(half of an emoji cut in two?), which UTF-8 cannot store"
    )


def test_times_beyond_the_calendar_are_quarantined_or_kept_never_an_error() -> None:
    """Found by the property test: both paths used to raise OverflowError (a 500 for the batch).

    The accepted window is opened to year 1 here, as a setting may; by default the skewed
    message is quarantined for its time too.
    """
    late = "9999-12-31T23:59:59-05:30"  # after 9999-12-31 in UTC
    payload = {
        "batch": [
            captured_client_message(messageId="late", timestamp=late),
            captured_client_message(
                messageId="skewed",
                timestamp=None,
                originalTimestamp="0001-01-01T00:00:00Z",
                sentAt="9999-12-31T00:00:00Z",
            ),
        ]
    }
    wide_open = segment.AcceptedTimes(earliest=datetime(1, 1, 1, tzinfo=UTC))
    result = segment.read_payload(
        payload, "batch", source="web", received_at=RECEIVED, accepted=wide_open
    )
    [quarantined] = result.quarantined
    assert quarantined.reason == (
        "batch[0] messageId 'late': timestamp: 9999-12-31T23:59:59-05:30 is out of range in UTC"
    )
    [kept] = result.events
    assert kept["message_id"] == "skewed"
    assert kept["timestamp"] == datetime(1, 1, 1, tzinfo=UTC)
    by_default = segment.read_payload(payload, "batch", source="web", received_at=RECEIVED)
    assert by_default.events == []
    assert by_default.quarantined[1].reason.startswith(
        "batch[1] event time 0001-01-01T00:00:00+00:00 is outside the accepted window"
    )


def test_an_empty_id_means_absent_on_both_paths() -> None:
    """analytics.js sends userId "" before identify; the models used to quarantine such calls."""
    raw = captured_client_message(userId="", anonymousId="a-1")
    call = segment_calls.validate_message(raw, None)
    assert isinstance(call, segment_calls.EventCall)
    assert call.user_id is None and call.anonymous_id == "a-1"
    assert call == segment_calls._validate_with_model(raw, "track", MESSAGE_MODELS["track"])
    assert segment_calls.validate_message(
        captured_client_message(userId="", anonymousId=""), None
    ) == ("messageId '6dfa629e-39a4-4ee6-bf3a-e8265398f6f7': userId or anonymousId is required")
