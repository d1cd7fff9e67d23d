"""The console: server-rendered pages over the same services and models as /api/v1."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tenure.auth.ratelimit import LoginRateLimiter

STATIC_DIR = Path(__file__).parent / "static"


def mount_console(app: FastAPI) -> None:
    from tenure.web import (
        admin,
        alignment_pages,
        connections_pages,
        cta_pages,
        docs,
        held_group_pages,
        import_pages,
        lifecycle_pages,
        message_pages,
        pages,
        pipeline_pages,
        playbook_pages,
        rule_builder_pages,
        scorecard_pages,
        session,
        success_pages,
        survey_pages,
        surveys,
    )

    app.state.login_limiter = LoginRateLimiter()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(session.router)
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(connections_pages.router)
    app.include_router(playbook_pages.router)
    app.include_router(cta_pages.router)
    app.include_router(alignment_pages.router)
    app.include_router(pipeline_pages.router)
    app.include_router(surveys.router)
    app.include_router(import_pages.router)
    app.include_router(held_group_pages.router)
    app.include_router(survey_pages.router)
    app.include_router(success_pages.router)
    app.include_router(rule_builder_pages.router)
    app.include_router(scorecard_pages.router)
    app.include_router(message_pages.router)
    app.include_router(lifecycle_pages.router)
