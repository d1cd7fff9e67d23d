"""The composition root: the one place that builds the HTTP application from its surfaces.

``create_app(settings)`` joins the REST API under ``/api/v1``, the Segment-spec ``/v1`` and the
console pages, with one error handler (JSON for the APIs, the console's page for people). The
lifespan opens the database engine (migrated to the current schema) and a sessionmaker in
``app.state``, never at import time. ``api``, ``web`` and ``cli`` never import each other; they
meet here. Serve with ``tenure serve`` or ``uvicorn --factory tenure.server:create_app``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tenure import __version__
from tenure.auth.bounds import integers_in_range
from tenure.auth.headers import SecurityHeadersMiddleware
from tenure.auth.openapi import add_security_schemes
from tenure.auth.sessions import SessionCodec
from tenure.config import Settings, get_settings
from tenure.store.database import create_engine, session_factory
from tenure.store.events import open_event_store
from tenure.store.migrate import is_current, upgrade


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_ingest_app(settings)
    mount_surfaces(app)
    return app


def create_ingest_app(settings: Settings | None = None) -> FastAPI:
    """The application with its stores and only the Segment-spec ``/v1`` endpoints: what must
    answer first after a restart (``create_starting_app``); ``mount_surfaces`` adds the rest."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        if not is_current(engine):
            upgrade(engine)
        app.state.engine = engine
        app.state.sessionmaker = session_factory(engine)
        app.state.event_store = open_event_store(settings)
        # The signing key is read (or generated) at start: an unsafe one stops the server here.
        app.state.session_codec = SessionCodec(settings.signing_key)
        freeze_startup_objects()
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Tenure",
        version=__version__,
        summary="Open-source Customer Success: health, churn risk and what to do next.",
        lifespan=lifespan,
        docs_url=None,  # the console serves /api/docs from the package's files (web/docs.py)
        openapi_url="/api/openapi.json",
        redoc_url=None,
        dependencies=[Depends(integers_in_range)],
    )
    app.state.settings = settings

    from tenure.api.observability import ObservabilityMiddleware
    from tenure.api.observability import router as observability_router
    from tenure.api.segment import router as segment_router
    from tenure.http.errors import install_error_handlers

    install_error_handlers(app, _error_page)
    # A portfolio or renewals page is 30–100 KB of HTML: gzip level 5 sends it ~8× smaller for
    # about 0.5 ms of CPU; small answers (Segment acknowledgements) go as they are.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(SecurityHeadersMiddleware)
    # Inside the proxy-header middleware, so its access log shows the real client address.
    app.add_middleware(ObservabilityMiddleware)
    if settings.trusted_proxies:
        # Outermost: the client address and scheme are the ones the configured proxies report.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.include_router(observability_router)
    app.include_router(segment_router)
    return app


def freeze_startup_objects() -> None:
    """Leave what is loaded so far (modules, routes, templates: ~390,000 objects) out of every
    later garbage collection. A request building thousands of rows (a CSV export) sets off
    full collections, and each walked all of them: half the CPU of a 10,000-account export.
    Once a process (a server runs one app; a test process starting many leaves the later ones
    collectable); what the first requests leave behind is frozen by :class:`WarmObjectsFreezer`."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
        if not any(isinstance(c, WarmObjectsFreezer) for c in gc.callbacks):
            gc.callbacks.append(WarmObjectsFreezer())


class WarmObjectsFreezer:
    """After a full collection that leaves many objects behind, freeze them, a few times a
    process. Each page's first request leaves long-lived objects (modules imported late, compiled
    templates, query caches): ~240,000 once every route was asked at 10,000 accounts, and each
    full collection then walked them — 150 ms of CPU on one request in 8–20, the p95 of cheap
    pages. Right after a full collection every tracked object is alive, so freezing keeps no
    garbage; bounded because an object alive then and later dropped in a reference cycle is
    never collected (dropped without a cycle, it is freed as any other)."""

    def __init__(self, times: int = 4, survivors: int = 50_000) -> None:
        self.left = times
        self.survivors = survivors

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop" or info["generation"] != 2 or self.left == 0:
            return
        if len(gc.get_objects(generation=2)) >= self.survivors:
            gc.freeze()
            self.left -= 1


def _error_page(*args: Any, **kwargs: Any) -> Any:
    """The console's error page, imported when first needed: not while ingest starts."""
    from tenure.web.render import error_page

    return error_page(*args, **kwargs)


def import_surfaces() -> None:
    """Import the console and REST API modules (seconds: their services, pandas)."""
    import tenure.api.v1
    import tenure.web  # noqa: F401


def mount_surfaces(app: FastAPI) -> None:
    """Add the REST API and the console to an app from ``create_ingest_app``."""
    from tenure.api.v1 import router as api_v1_router
    from tenure.web import mount_console

    app.include_router(api_v1_router)
    mount_console(app)
    add_security_schemes(app)


# --- after a restart: the Segment endpoints first, the rest once loaded --------------------
# A restart took 7–17 s before the port answered (every router imported and the background
# jobs started first); senders with short retry budgets (RudderStack's Node SDK gives up after
# ~1.4 s) lost what they sent meanwhile.

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2
# Served from the start: the Segment endpoints, and the health checks and metrics.
EARLY_PATHS = ("/v1/", "/healthz", "/readyz", "/metrics")


CONSOLE_LOADING = "the console and REST API are loading"


class StartingApp:
    """An ASGI app that serves ``/v1`` from the start and everything once it is mounted.

    Until then ``app.state.loading`` names what is loading, so ``/readyz`` answers 503 (a load
    balancer sends people elsewhere) while ``/v1`` already accepts events."""

    def __init__(self, app: FastAPI, load: Callable[[], None] = import_surfaces) -> None:
        self.app = app
        self.load = load  # the slow imports, run in a thread
        self.ready = asyncio.Event()
        self._loading: asyncio.Task[None] | None = None
        self._failure: str | None = None
        app.state.loading = {"console": CONSOLE_LOADING}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._after_startup(send))
        elif self.ready.is_set() or scope["path"].startswith(EARLY_PATHS):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._starting()(scope, receive, send)

    def _after_startup(self, send: Send) -> Send:
        async def forward(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                # Runs once uvicorn has bound its socket: startup completes before it listens.
                self._loading = asyncio.get_running_loop().create_task(self._mount())
            await send(message)

        return forward

    async def _mount(self) -> None:
        try:
            await asyncio.to_thread(self.load)  # seconds of imports, off the event loop
            mount_surfaces(self.app)
            freeze_startup_objects()
        except Exception as error:
            log.exception("the console and REST API could not be loaded")
            self._failure = f"the console and REST API could not be loaded: {error}"
            self.app.state.loading["console"] = self._failure
            return
        del self.app.state.loading["console"]
        self.ready.set()

    def _starting(self) -> JSONResponse:
        if self._failure is not None:
            return JSONResponse({"code": "not_loaded", "message": self._failure}, 500)
        return JSONResponse(
            {"code": "starting", "message": "Tenure is starting; the Segment endpoints answer"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def create_starting_app(settings: Settings | None = None) -> Any:
    """uvicorn's factory for ``tenure serve``: the Segment endpoints answer first."""
    return StartingApp(create_ingest_app(settings))
