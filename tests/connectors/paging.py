"""The shape every vendor fake shares (Salesforce's, HubSpot's and Stripe's APIs, Zendesk's
exports): a server on 127.0.0.1 (HTTPS with a loopback certificate, or plain HTTP) that records
each call, lets a test act at a request (kill the sync there), answers queued faults once each
(429 with Retry-After, a 400) before the real answer or in its place after the work was done (a
lost answer), refuses a wrong credential in the vendor's words, and hands out offset pages.

A vendor's fake says only what differs: ``authorized``/``unauthorized`` (its credential and its
401 body), ``fault_body`` (its error body for a fault's status), ``answer`` (its routes), and
where it needs them ``before_credentials`` (an endpoint answered without one: Salesforce's
token) and ``call_text`` (how a call is recorded).
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
    def __init__(self, folder: Path | None, *, page_size: int) -> None:
        """``folder``: where the loopback certificate goes (None: plain HTTP)."""
        self.page_size = page_size
        self.calls: list[str] = []
        # (path prefix, status, Retry-After) answered once each before the real answer.
        self.faults: list[tuple[str, int, str | None]] = []
        # (method and path, status): the call is done, then its answer is lost and this status
        # comes back instead, once each (a gateway timing out after the work was done).
        self.lost_answers: list[tuple[str, int]] = []
        # Called with each request's path before it is answered (a test kills the sync here).
        self.on_request: Callable[[str], None] | None = None
        self.lock = threading.Lock()
        tls = loopback_certificate(folder) if folder is not None else None
        self.cert = tls[0] if tls is not None else None
        self.server = LoopbackServer(self.handle, tls)
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()

    def handle(self, request: Request) -> Answer:
        with self.lock:
            self.calls.append(self.call_text(request))
            if self.on_request is not None:
                self.on_request(request.path)
            for index, (prefix, status, retry_after) in enumerate(self.faults):
                if request.path.startswith(prefix):
                    del self.faults[index]
                    headers = {"Retry-After": retry_after} if retry_after else {}
                    return status, headers, self.fault_body(status)
            early = self.before_credentials(request)
            if early is not None:
                return early
            if not self.authorized(request):
                return self.unauthorized(request)
            answer = self.answer(request)
            called = f"{request.method} {request.path.rstrip('/')}"
            for index, (lost, status) in enumerate(self.lost_answers):
                if called == lost:
                    del self.lost_answers[index]
                    return status, {}, self.fault_body(status)
            return answer

    # --- what each vendor's fake says -----------------------------------------------------------

    def call_text(self, request: Request) -> str:
        return f"{request.method} {request.path}"

    def before_credentials(self, request: Request) -> Answer | None:
        """The answer to a call that needs no credential (None: it needs one)."""
        return None

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorized(self, request: Request) -> Answer:
        raise NotImplementedError

    def fault_body(self, status: int) -> Any:
        raise NotImplementedError

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError
