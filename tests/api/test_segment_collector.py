"""The Segment endpoints parse with Python's cyclic garbage collector paused (see
``tenure.api.segment._CollectorPause``), and always give it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tenure.api import segment as api_segment
from tenure.ingest import segment


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_requests_resume_the_collector_when_the_last_is_done(
    collector_on: None,
) -> None:
    pause = api_segment._CollectorPause()
    with pause():
        assert not gc.isenabled()
        with pause():  # a second request parsing at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still parsing
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with api_segment._CollectorPause()():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_a_body_that_fails_to_parse_gives_the_collector_back(collector_on: None) -> None:
    with pytest.raises(segment.UndecodableBody):
        api_segment._ingest(
            b"{not json",
            "identity",
            "batch",
            "product",
            datetime(2026, 11, 1, tzinfo=UTC),
            segment.AcceptedTimes(),
            store=None,  # type: ignore[arg-type]  # never reached
            sessions=None,  # type: ignore[arg-type]
            gate=None,  # type: ignore[arg-type]
        )
    assert gc.isenabled()


def test_messages_are_read_with_the_collector_paused(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> segment.IngestPlan:
        seen.append(gc.isenabled())
        raise RuntimeError("stop before storing")

    monkeypatch.setattr(segment, "read_payload", watched)
    body = b'{"batch":[{"type":"track","userId":"u1","event":"x"}]}'
    with pytest.raises(RuntimeError, match="stop before storing"):
        api_segment._ingest(
            body,
            "identity",
            "batch",
            "product",
            datetime(2026, 11, 1, tzinfo=UTC),
            segment.AcceptedTimes(),
            store=None,  # type: ignore[arg-type]
            sessions=None,  # type: ignore[arg-type]
            gate=None,  # type: ignore[arg-type]
        )
    assert seen == [False] and gc.isenabled()
