"""What an operator's tools ask: ``/healthz``, ``/readyz``, Prometheus ``/metrics``, request ids.

- ``/healthz``: the process answers (no store touched), for restart-on-hang supervisors.
- ``/readyz``: the stores answer (``tenure.store.readiness``) and nothing is still loading; 503
  names the failing check, so a load balancer stops sending traffic to an instance whose
  database or disk is gone, or whose console is still loading after a restart (``/v1`` ingest
  already answers then: ``tenure.server.StartingApp`` lists what loads in ``app.state.loading``).
- ``/metrics``: requests by route template and status, latency, ingest outcomes, inbox depth,
  compaction lag and the last daily run. Open to loopback clients that did not come through a
  proxy (``X-Forwarded-For`` absent) — the scraper on the same machine — unless
  ``TENURE_METRICS_PUBLIC`` opens it to every client (a scraper on a private network): route
  names, volumes and the daily run's state are not for the internet.
- Every answer carries ``X-Request-ID`` (the client's when sane, else a new one), and every log
  line written while serving it carries the same id (``tenure.logs``).

Counters live in prometheus-client's process registry. With several uvicorn workers each
worker counts its own requests and a scrape reaches one of them; the store gauges read the
shared stores and are the same from any worker.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

import pyarrow.compute as pc
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenure.dates import end_of, utc
from tenure.logs import request_id
from tenure.model import DailyRun
from tenure.model.base import utcnow
from tenure.store.events import EventStore
from tenure.store.events.embedded import EmbeddedEvents
from tenure.store.readiness import check_readiness

HTTP_REQUESTS = Counter(
    "tenure_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "tenure_http_request_duration_seconds",
    "Time from request to the end of the answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INGEST_MESSAGES = Counter(
    "tenure_ingest_messages",
    "Segment-spec messages received: accepted (stored) or quarantined (invalid, kept aside).",
    ["outcome"],
)
INGEST_REFUSED = Counter(
    "tenure_ingest_refused_requests",
    "Segment-spec requests answered 429 (the writer was behind; senders retry).",
)

# An id a proxy or client sends is logged as is: keep it short and free of log-breaking text.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"  # one label for every 404, so scanners cannot grow the series
access_log = logging.getLogger("tenure.access")
router = APIRouter(include_in_schema=False)


class ObservabilityMiddleware:
    """Request id in, request id out; one access log line and the request metrics per answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(current)
        started = perf_counter()
        status = 500  # what the client gets when the app raised before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            if status == 429 and route.startswith("/v1/"):
                INGEST_REFUSED.inc()
            client = scope.get("client")
            access_log.info(
                "%s %s %d",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            request_id.reset(token)


def _route_template(scope: Scope) -> str:
    # FastAPI 0.16x matches included routers lazily: ``scope["route"].path`` lacks the router's
    # prefix (/accounts/{account_id}); the effective route context has the whole template.
    fastapi_scope = scope.get("fastapi")
    context = fastapi_scope.get("effective_route_context") if fastapi_scope else None
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def count_ingested(accepted: int, quarantined: int) -> None:
    INGEST_MESSAGES.labels("accepted").inc(accepted)
    INGEST_MESSAGES.labels("quarantined").inc(quarantined)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    report = await run_in_threadpool(
        check_readiness,
        state.engine,
        state.event_store,
        state.settings.data_dir,
        getattr(state, "loading", {}),
    )
    checks = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks]
    if report.ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = [f"{c.name} ({c.detail})" for c in report.checks if not c.ok]
    return JSONResponse(
        {"code": "not_ready", "message": "not ready: " + "; ".join(failing), "checks": checks},
        status_code=503,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state = request.app.state
    if not (state.settings.metrics_public or _local_unproxied(request)):
        return JSONResponse(
            {
                "code": "forbidden",
                "message": "/metrics answers clients on this machine only; set "
                "TENURE_METRICS_PUBLIC=true to let a scraper elsewhere read it",
            },
            status_code=403,
        )
    stores = CollectorRegistry()
    stores.register(StoreCollector(state.event_store, state.sessionmaker, utcnow()))
    body = generate_latest(REGISTRY) + await run_in_threadpool(generate_latest, stores)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _local_unproxied(request: Request) -> bool:
    if request.client is None or "x-forwarded-for" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


class StoreCollector(Collector):
    """Gauges read from the stores at scrape time (the same from every worker)."""

    def __init__(self, events: EventStore, sessions: sessionmaker[Session], now: datetime) -> None:
        self.events = events
        self.sessions = sessions
        self.now = now

    def collect(self) -> Iterator[Any]:
        pending, quarantined = self.events.storage.counts()
        yield GaugeMetricFamily(
            "tenure_inbox_pending_events",
            "Ingested events waiting in the inbox for compaction into Parquet.",
            value=pending,
        )
        yield GaugeMetricFamily(
            "tenure_quarantined_messages",
            "Invalid messages kept in quarantine (tenure status lists the latest).",
            value=quarantined,
        )
        yield GaugeMetricFamily(
            "tenure_compaction_lag_seconds",
            "Age of the oldest event not yet compacted into Parquet (0 when none waits).",
            value=self._compaction_lag(),
        )
        yield from self._daily_run()

    def _compaction_lag(self) -> float:
        if not isinstance(self.events.storage, EmbeddedEvents):
            return 0.0  # PostgreSQL stores events directly: nothing waits
        oldest = pc.min(self.events.storage.inbox.pending(limit=1).events["received_at"]).as_py()
        return max((self.now - utc(oldest)).total_seconds(), 0.0) if oldest else 0.0

    def _daily_run(self) -> Iterator[Any]:
        with self.sessions() as session:
            last = session.scalars(
                sa.select(DailyRun).order_by(DailyRun.started_at.desc()).limit(1)
            ).first()
        outcome = GaugeMetricFamily(
            "tenure_daily_run_last_status",
            "The most recent daily run's status (1 for its status, running/succeeded/failed).",
            labels=["status"],
        )
        as_of = GaugeMetricFamily(
            "tenure_daily_run_last_as_of_timestamp_seconds",
            "The as-of date of the most recent daily run (Unix time of its midnight UTC).",
        )
        if last is not None:
            outcome.add_metric([last.status], 1)
            as_of.add_metric([], (end_of(last.as_of) - timedelta(days=1)).timestamp())
        yield outcome
        yield as_of
