"""The composition root: the one place that builds the HTTP application from its surfaces.

``create_app(settings)`` joins the REST API under ``/api/v1``, the Segment-spec ``/v1`` and the
console pages, with one error handler (JSON for the APIs, the console's page for people). The
lifespan opens the database engine (migrated to the current schema) and a sessionmaker in
``app.state``, never at import time. ``api``, ``web`` and ``cli`` never import each other; they
meet here. Serve with ``tenure serve`` or ``uvicorn --factory tenure.server:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import GZipMiddleware
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
    from tenure.api.v1 import router as api_v1_router
    from tenure.http.errors import install_error_handlers
    from tenure.web import mount_console
    from tenure.web.render import error_page

    install_error_handlers(app, error_page)
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
    app.include_router(api_v1_router)
    app.include_router(segment_router)
    mount_console(app)
    add_security_schemes(app)
    return app
