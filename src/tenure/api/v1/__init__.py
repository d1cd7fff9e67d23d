"""REST API under /api/v1: the same service functions and pydantic models as the console pages.

Authenticate with ``Authorization: Bearer <API token>`` (create one under Admin → API tokens or
with ``tenure users token EMAIL``); the console's session cookie works too, so every page's JSON
twin opens in the browser. Lists page with ``cursor``/``next_cursor``. Errors are
``{"code", "message"}`` with the HTTP status.
"""

from fastapi import APIRouter

from tenure.api.v1 import (
    accounts,
    admin,
    alignment,
    connections,
    imports,
    lifecycle,
    messages,
    money,
    pipeline,
    playbooks,
    records,
    reviews,
    scorecards,
    surveys,
)

router = APIRouter(prefix="/api/v1")
router.include_router(accounts.router)
router.include_router(records.router)
router.include_router(admin.router)
router.include_router(imports.router)
router.include_router(reviews.router)
router.include_router(alignment.router)
router.include_router(playbooks.router)
router.include_router(money.router)
router.include_router(pipeline.router)
router.include_router(connections.router)
router.include_router(surveys.router)
router.include_router(scorecards.router)
router.include_router(messages.router)
router.include_router(lifecycle.router)

__all__ = ["router"]
