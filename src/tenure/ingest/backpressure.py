"""Back-pressure for the Segment endpoints: refuse with 429 + Retry-After, never queue without end.

Every accepted request holds its body and parsed events in memory until the inbox's group commit
has fsync'd them. When the writer falls behind, requests pile up; without a bound the server would
grow until the kernel kills it. The gate counts, per server process,

- requests in flight (from reading the body to the durable write): over ``max_requests`` a new
  request is refused *before* its body is read, and
- events waiting for the writer: over ``max_queued_events`` a parsed request is refused before
  it joins the queue,

with ``429 {"code": "overloaded", …}`` and ``Retry-After``. Segment's libraries retry 429 with
backoff (it is not one of the codes that make them drop a batch), so nothing is lost. A request
that finds the queue empty is always admitted, whatever its size: a bound below one request's
events must slow senders down, not refuse them for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tenure.errors import TenureError


class Overloaded(TenureError):
    status_code = 429
    code = "overloaded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class GateState:
    requests: int = 0
    queued_events: int = 0
    refused: int = 0


class IngestGate:
    """Admission control for one server process (thread-safe)."""

    def __init__(self, *, max_requests: int, max_queued_events: int, retry_after: int) -> None:
        self.max_requests = max_requests
        self.max_queued_events = max_queued_events
        self.retry_after = retry_after
        self.state = GateState()
        self._lock = threading.Lock()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Hold a request slot while the request is read, parsed and written."""
        with self._lock:
            if self.state.requests >= self.max_requests:
                self.state.refused += 1
                raise self._overloaded(
                    f"{self.state.requests} requests are being written (limit {self.max_requests})"
                )
            self.state.requests += 1
        try:
            yield
        finally:
            with self._lock:
                self.state.requests -= 1

    @contextmanager
    def events(self, count: int) -> Iterator[None]:
        """Hold ``count`` events' place in the writer queue until they are durable."""
        with self._lock:
            queued = self.state.queued_events
            if queued and queued + count > self.max_queued_events:
                self.state.refused += 1
                raise self._overloaded(
                    f"{queued} events are waiting for the writer (limit "
                    f"{self.max_queued_events}); this request's {count} would exceed it"
                )
            self.state.queued_events += count
        try:
            yield
        finally:
            with self._lock:
                self.state.queued_events -= count

    def _overloaded(self, why: str) -> Overloaded:
        return Overloaded(
            f"ingest is behind: {why}; retry after {self.retry_after} s",
            retry_after=self.retry_after,
        )
