"""The Segment-spec HTTP API: point an unmodified Segment library at Tenure and it works.

``POST /v1/{track,identify,group,page,screen,alias,batch,import}``, authenticated by a source's
write key as the HTTP Basic user name (empty password) or as ``writeKey`` in the body. The answer
is exactly ``200 {"success": true}`` once every valid message is durable (events in the inbox or
PostgreSQL, identity calls committed) and every invalid one is quarantined; 400 only when the body
cannot be decoded at all, 401 for an unknown key, 413 above 8 MiB inflated, 429 with Retry-After
when the writer is behind (``tenure.ingest.backpressure``), and a JSON 500 — which senders retry —
when storing failed. ``/v1/batch/`` (a trailing slash) is the same endpoint, not a redirect.
"""

from __future__ import annotations

import base64
import binascii
import gc
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from tenure.api.observability import count_ingested
from tenure.errors import TenureError, Unauthorized
from tenure.ingest import segment, segment_calls, segment_identities
from tenure.ingest.backpressure import IngestGate
from tenure.ingest.segment import (
    MAX_REQUEST_BYTES,
    AcceptedTimes,
    BodyTooLarge,
    IngestPlan,
    UndecodableBody,
)
from tenure.ingest.sources import source_for_key
from tenure.model.base import utcnow
from tenure.store.database import session_scope
from tenure.store.events import EventStore

router = APIRouter(prefix="/v1", tags=["ingest (Segment spec)"])

log = logging.getLogger(__name__)
_ATTEMPTS = 4
# nginx's status for a request its client closed before the answer: no one reads it, but the
# access log then tells a sender's time-out from a server error.
CLIENT_CLOSED_REQUEST = 499
# Read raw (gzip, size limits, quarantine), so the schema is documented rather than parsed.
_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": True,
                "description": "A Segment-spec message, or for batch/import "
                "{batch: [message, …], writeKey?, sentAt?, context?}. May be gzip-encoded.",
            }
        }
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be decoded (bad gzip, not UTF-8, not JSON)"},
    500: {"description": "Nothing was stored (the database is unavailable): retry"},
    401: {"description": "Missing or unknown write key"},
    413: {"description": "Body above 8 MiB once inflated"},
    429: {"description": "The writer is behind: retry after the Retry-After header's seconds"},
}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise BodyTooLarge(f"body is {declared} bytes; the limit is {MAX_REQUEST_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise BodyTooLarge(f"body is over the limit of {MAX_REQUEST_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(body: bytes, encoding: str) -> bytes:
    """Undo Content-Encoding (whatever Content-Type says), refusing to inflate past the limit."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UndecodableBody(f"Content-Encoding {encoding!r} is not supported; use gzip")
    wbits = zlib.MAX_WBITS | 16 if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(body, MAX_REQUEST_BYTES + 1)
    except zlib.error as error:
        raise UndecodableBody(f"body is not valid {encoding}: {error}") from error
    if len(inflated) > MAX_REQUEST_BYTES:
        raise BodyTooLarge(f"body inflates to more than {MAX_REQUEST_BYTES} bytes")
    if not inflater.eof:
        raise UndecodableBody(f"body is truncated {encoding} data")
    return inflated


def _header_key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or password or None


def _body_key(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    key = payload.get("writeKey")
    if key is None and isinstance(payload.get("batch"), list) and payload["batch"]:
        first = payload["batch"][0]
        key = first.get("writeKey") if isinstance(first, dict) else None
    return key if isinstance(key, str) and key else None


def _source_name(sessions: sessionmaker[Session], write_key: str | None) -> str:
    if write_key is not None and segment_calls.unstorable_text(write_key) is not None:
        write_key = "?"  # not any source's key, and not text the database can compare
    if write_key is None:
        raise Unauthorized(
            "no write key: send it as the HTTP Basic user name (empty password) or as writeKey"
        )
    with session_scope(sessions) as session:
        source = source_for_key(session, write_key)
        if source is None:
            raise Unauthorized(
                f"unknown or inactive write key {write_key[:12]!r}…; create one with "
                "`tenure sources create NAME`"
            )
        return source.name


def store_plan(plan: IngestPlan, store: EventStore, sessions: sessionmaker[Session]) -> None:
    """Make every message of a request durable: events, identity calls, quarantine."""
    if plan.events:
        store.append(plan.events)
    if plan.identities:
        for attempt in range(_ATTEMPTS):
            try:
                with session_scope(sessions) as session:
                    segment_identities.apply_identities(
                        session, plan.identities, source=plan.source, received_at=plan.received_at
                    )
                break
            except (sa.exc.IntegrityError, sa.exc.OperationalError):
                # Another request created the same contact/account first (or SQLite's writer
                # moved on under a read snapshot): run the batch again against the new state.
                if attempt == _ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * 2**attempt)
    if plan.quarantined:
        store.quarantine(plan.quarantined)
        log.warning(
            "source %s: %d of %d message(s) quarantined, first: %s",
            plan.source,
            len(plan.quarantined),
            plan.received,
            plan.quarantined[0].reason,
        )
    count_ingested(plan.received - len(plan.quarantined), len(plan.quarantined))


async def _receive(request: Request, endpoint: str) -> JSONResponse:
    received_at = utcnow()
    state = request.app.state
    header_key = _header_key(request)
    source = None
    if header_key is not None:  # a wrong key is refused before the body is read
        source = await run_in_threadpool(_source_name, state.sessionmaker, header_key)
    gate = ingest_gate(request.app)
    with gate.request():  # 429 before the body is read when too many are in flight
        try:
            body = await _read_body(request)
        except ClientDisconnect:
            # The sender gave up before its body arrived (a restart kept it waiting past its
            # timeout): nothing was stored or acknowledged, and it will send the batch again.
            log.info("%s request from source %s: the sender went away", endpoint, source or "?")
            return JSONResponse(
                {"code": "sender_went_away", "message": "the sender closed the connection"},
                status_code=CLIENT_CLOSED_REQUEST,
            )
        # Inflating, parsing and validating up to 8 MiB is CPU work: off the event loop.
        try:
            await run_in_threadpool(
                _ingest,
                body,
                request.headers.get("content-encoding", ""),
                endpoint,
                source,
                received_at,
                accepted_times(state.settings),
                state.event_store,
                state.sessionmaker,
                gate,
            )
        except TenureError:
            raise  # 400, 401, 413, 429: the error handlers answer them
        except Exception:
            # Nothing was acknowledged: the sender keeps the batch and retries a 500.
            log.exception("%s request from source %s not stored", endpoint, source or "?")
            return JSONResponse(
                {"code": "not_stored", "message": "the messages could not be stored; retry"},
                status_code=500,
            )
    return JSONResponse({"success": True})


def accepted_times(settings: Any) -> AcceptedTimes:
    return AcceptedTimes(
        earliest=datetime.combine(settings.ingest_earliest, clock(), tzinfo=UTC),
        ahead=timedelta(hours=settings.ingest_max_ahead_hours),
    )


def ingest_gate(app: Any) -> IngestGate:
    """The process's back-pressure gate, built from the settings on first use."""
    gate: IngestGate | None = getattr(app.state, "ingest_gate", None)
    if gate is None:
        settings = app.state.settings
        gate = IngestGate(
            max_requests=settings.ingest_max_requests,
            max_queued_events=settings.ingest_max_queued_events,
            retry_after=settings.ingest_retry_after,
        )
        app.state.ingest_gate = gate
    return gate


class _CollectorPause:
    """Python's cyclic garbage collector off while requests parse their bodies, back on (if it
    was on) when the last one in flight is done.

    A batch decodes into tens of thousands of dicts and lists, none in a cycle (reference
    counting frees them), whose allocation alone sets off collections that walk the whole
    growing batch again and again: about half of parsing's CPU (four 4 MiB batches of the demo's
    usage, decode and validate: 1.1 s with the collector, 0.55 s without). Only parsing is
    covered, not storing, so the collector runs between the requests of a steady stream.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._inside == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0 and self._resume:
                    gc.enable()


_collector_paused = _CollectorPause()


def _ingest(
    body: bytes,
    encoding: str,
    endpoint: str,
    source: str | None,
    received_at: datetime,
    accepted: AcceptedTimes,
    store: EventStore,
    sessions: sessionmaker[Session],
    gate: IngestGate,
) -> None:
    with _collector_paused():
        payload = segment.decode_body(_inflate(body, encoding))
    if source is None:
        source = _source_name(sessions, _body_key(payload))
    with _collector_paused():
        plan = segment.read_payload(
            payload, endpoint, source=source, received_at=received_at, accepted=accepted
        )
    with gate.events(plan.received):  # 429 rather than an ever longer writer queue
        store_plan(plan, store, sessions)


def _endpoint(name: str) -> Any:
    async def receive(request: Request) -> JSONResponse:
        return await _receive(request, name)

    receive.__name__ = f"segment_{name}"
    receive.__doc__ = (
        f"Segment-spec `{name}`"
        + (": a list of messages under `batch`." if name in segment.BATCH_ENDPOINTS else ".")
        + " Valid messages are stored, invalid ones quarantined; the answer is 200 either way."
    )
    return receive


for _name in segment.ENDPOINTS:
    router.add_api_route(
        f"/{_name}",
        _endpoint(_name),
        methods=["POST"],
        responses=_ERRORS,
        summary=f"Segment {_name}",
        openapi_extra={"requestBody": _BODY},
    )
    # A redirect (307) would make some senders drop the batch: the slash is accepted as is.
    router.add_api_route(f"/{_name}/", _endpoint(_name), methods=["POST"], include_in_schema=False)
