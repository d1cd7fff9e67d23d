"""The shape every paging vendor fake shares (HubSpot's CRM API, Zendesk's exports): an HTTPS
server on 127.0.0.1 that records each call, lets a test act at a request (kill the sync there),
answers queued faults once each (429 with Retry-After, a 400) before the real answer, refuses a
wrong credential in the vendor's words, and hands out offset pages.

A vendor's fake says only what differs: ``authorized``/``unauthorized`` (its credential and its
401 body), ``fault_body`` (its error body for a fault's status) and ``answer`` (its routes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tests.connectors.loopback import Answer, LoopbackServer, Request, loopback_certificate

T = TypeVar("T")


def offset_page(
    rows: Sequence[T], after: str | int | None, size: int
) -> tuple[list[T], str | None]:
    """The page of ``rows`` starting at offset ``after`` and the next page's cursor (None: the
    last page) — the opaque ``after`` cursors HubSpot's and Zendesk's pages carry."""
    offset = int(after or 0)
    page = list(rows[offset : offset + size])
    return page, str(offset + size) if offset + size < len(rows) else None


class PagingFake:
    def __init__(self, folder: Path, *, page_size: int) -> None:
        self.page_size = page_size
        self.calls: list[str] = []
        # (path prefix, status, Retry-After) answered once each before the real answer.
        self.faults: list[tuple[str, int, str | None]] = []
        # Called with each request's path before it is answered (a test kills the sync here).
        self.on_request: Callable[[str], None] | None = None
        self.lock = threading.Lock()
        self.cert, key = loopback_certificate(folder)
        self.server = LoopbackServer(self.handle, (self.cert, key))
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()

    def handle(self, request: Request) -> Answer:
        with self.lock:
            self.calls.append(f"{request.method} {request.path}")
            if self.on_request is not None:
                self.on_request(request.path)
            for index, (prefix, status, retry_after) in enumerate(self.faults):
                if request.path.startswith(prefix):
                    del self.faults[index]
                    headers = {"Retry-After": retry_after} if retry_after else {}
                    return status, headers, self.fault_body(status)
            if not self.authorized(request):
                return self.unauthorized()
            return self.answer(request)

    # --- what each vendor's fake says -----------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Answer:
        raise NotImplementedError

    def fault_body(self, status: int) -> Any:
        raise NotImplementedError

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError
