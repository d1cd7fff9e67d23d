"""Engagement messages in the console: draft a template's message with its goal and how the goal
is checked, approve it (→ outbox, touchpoint), and see how often each template's goal was met —
the same service as `tenure message create/approve/report` and /api/v1/messages."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.errors import InvalidInput
from tenure.http.deps import AsOf
from tenure.metrics.registry import Unit, all_metrics
from tenure.model import UserRole
from tenure.success import engagement_service
from tenure.success.schemas import MessageCreate
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    metrics = [m for m in all_metrics() if m.unit.is_numeric]
    messages = engagement_service.list_messages(db)
    return render(
        request,
        "messages.html",
        {
            "messages": messages,
            # Buttons only for those the service lets act: a viewer drafts nothing, and a draft
            # is approved by its account's owner, account team, their manager or an admin.
            "may_draft": actor.role != UserRole.viewer,
            "approvable": engagement_service.approvable(db, actor.user, messages),
            "report": engagement_service.goal_report(db),
            "templates": engagement_service.TEMPLATE_NAMES,
            "metrics": metrics,
            "percent_units": {m.slug for m in metrics if m.unit in (Unit.share, Unit.change)},
            "error": error,
        },
        db=db,
        json_url="/api/v1/messages",
        status_code=status_code,
    )


@router.get("/messages")
def messages_page(request: Request, actor: Actor = PageActor, db: Session = Db) -> Response:
    return _page(request, db, actor)


@router.post("/messages")
async def draft_message(
    request: Request, actor: Actor = PageActor, db: Session = Db, as_of: date = AsOf
) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    metric = form.get("metric") or None
    try:
        target = float(form["target"].replace(",", ".")) if form.get("target") else None
    except ValueError:
        error = f"Target: {form['target']!r} is not a number"
        return _page(request, db, actor, error=error, status_code=422)
    if (
        metric is not None
        and target is not None
        and metric in {m.slug for m in all_metrics() if m.unit in (Unit.share, Unit.change)}
    ):
        target /= 100  # typed as a percentage
    data = MessageCreate.model_validate(
        {
            "account": form.get("account", ""),
            "moment": form.get("moment", ""),
            "goal": form.get("goal", ""),
            "check": {
                "metric": metric,
                "comparison": form.get("comparison") or None,
                "target": target,
                "milestone": form.get("milestone") or None,
                "after_days": int(form.get("after_days") or 30),
            },
        }
    )
    try:
        engagement_service.create_draft(db, data, actor, as_of)
    except InvalidInput as error:
        db.rollback()
        return _page(request, db, actor, error=error.message, status_code=422)
    return RedirectResponse("/messages#drafts", status_code=303)


@router.post("/messages/{message_id}/approve")
async def approve_message(
    request: Request,
    message_id: int,
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    engagement_service.approve(db, message_id, actor, as_of)
    return RedirectResponse("/messages#sent", status_code=303)
