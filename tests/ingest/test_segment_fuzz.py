"""Arbitrary JSON into /v1/batch (issue 16, Done when): never a 5xx, every valid message stored
once, every invalid one quarantined — lone surrogates, numbers beyond 64 bits and doubles, NaN,
NUL, deep nesting, valid and invalid messages mixed in one batch."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenure.store.events import open_event_store
from tests.api.test_app_segment import SUCCESS, Live, live

__all__ = ["live"]

# Values JSON cannot carry from Python are written as placeholders and put in the body as text.
RAW_NUMBERS = {'"<1e400>"': "1e400", '"<-1e400>"': "-1e400", '"<NaN>"': "NaN"}
clean_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
numbers = (
    st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(list(RAW_NUMBERS.keys())).map(lambda p: p.strip('"'))
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | clean_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(clean_text, inner, max_size=3),
    max_leaves=12,
)
ids = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40
)
# What makes a message unstorable or invalid, and where it goes.
SPOILERS = ("surrogate", "nul", "year 1", "year 3000", "too deep", "no event", "not an object")


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[bool, Any]]:
    """(valid?, message) pairs: a valid track, or one spoiled in one way."""
    out = []
    for _ in range(draw(st.integers(1, 8))):
        message: dict[str, Any] = {
            "type": "track",
            "userId": draw(ids),
            "event": draw(ids),
            "properties": draw(st.dictionaries(clean_text, json_values, max_size=4)),
            "context": {"deep": nested(draw(st.integers(0, 60)))},
        }
        spoiler = draw(st.none() | st.sampled_from(SPOILERS))
        if spoiler == "surrogate":
            field = draw(st.sampled_from(["userId", "event"]))
            message[field] = message[field] + draw(st.sampled_from(["\ud83d", "\udc00"]))
        elif spoiler == "nul":
            message["properties"]["note"] = "a\x00b"
        elif spoiler in ("year 1", "year 3000"):
            message["timestamp"] = (
                "0001-01-01T00:00:00Z" if spoiler == "year 1" else "3000-01-01T00:00:00Z"
            )
        elif spoiler == "too deep":
            message["properties"]["deep"] = nested(300)
        elif spoiler == "no event":
            del message["event"]
        out.append((spoiler is None, "not a message" if spoiler == "not an object" else message))
    return out


_examples = itertools.count()


def body_text(batch: list[Any]) -> bytes:
    text = json.dumps({"batch": batch})  # ensure_ascii: lone surrogates go as \\udXXX escapes
    for placeholder, raw in RAW_NUMBERS.items():
        text = text.replace(placeholder, raw)
    return text.encode()


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=batches())
def test_arbitrary_batches_are_stored_or_quarantined_never_a_5xx(
    live: Live, drawn: list[tuple[bool, Any]]
) -> None:
    example = next(_examples)
    batch = []
    for index, (_, message) in enumerate(drawn):
        if isinstance(message, dict):
            message = {**message, "messageId": f"fuzz-{example}-{index}"}
        batch.append(message)
    store = open_event_store(live.settings)
    try:
        quarantined_before = store.storage.counts()[1]
        response = live.post("batch", content=body_text(batch))
        assert (response.status_code, response.json()) == (200, SUCCESS)
        con = store.connect()
        try:
            t = store.messages(con)
            t = t.filter(t.message_id.startswith(f"fuzz-{example}-"))
            stored = t.message_id.to_pyarrow().to_pylist()
        finally:
            con.disconnect()
        valid = [f"fuzz-{example}-{i}" for i, (ok, _) in enumerate(drawn) if ok]
        assert sorted(stored) == sorted(valid)  # each once
        invalid = sum(not ok for ok, _ in drawn)
        assert store.storage.counts()[1] - quarantined_before == invalid
    finally:
        store.close()
