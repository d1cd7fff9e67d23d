"""Console pages of the playbooks: the rules in force, the daily runs, the outbox and webhook
deliveries. Each renders the same service function and model as its JSON twin under /api/v1."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, require_role, shown_path
from tenure.http.deps import AsOf
from tenure.jobs.daily import last_runs
from tenure.jobs.worker import schedule
from tenure.model import OutboxStatus, UserRole
from tenure.model.base import utcnow
from tenure.playbooks import service
from tenure.playbooks.config import playbook_settings
from tenure.playbooks.rule_builder import stored_rules, with_stored_rules
from tenure.playbooks.rules import default_rules_path, load_ruleset
from tenure.web.render import page_url, render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession


@router.get("/rules")
def rules_page(
    request: Request, actor: Actor = PageActor, db: Session = Db, as_of: date = AsOf
) -> Response:
    rules_file = playbook_settings().rules_file
    ruleset = with_stored_rules(db, load_ruleset(rules_file))
    rules = service.rules_overview(db, ruleset, as_of)
    return render(
        request,
        "rules.html",
        {
            "rules": rules,
            "rules_file": shown_path(rules_file or default_rules_path(), actor),
            "as_of": as_of,
            "today": utcnow().date(),
            "can_build": actor.role in (UserRole.admin, UserRole.manager),
            "built": {r.key for r in stored_rules(db)},
        },
        db=db,
        json_url=f"/api/v1/rules?as_of={as_of}",
    )


@router.get("/rules/preview")
def rule_preview_page(
    request: Request,
    rule: str = Query(..., max_length=64),
    page: int = Query(1, ge=1, le=100_000),
    as_of: date = AsOf,
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    """Whom a rule would fire on at a (past) date and the CTA load per CSM; nothing is written.

    The same read-only computation as ``tenure rules preview``: facts of one day, no CTA."""
    ruleset = with_stored_rules(db, load_ruleset(playbook_settings().rules_file))
    offset, limit = (page - 1) * service.PREVIEW_PAGE, service.PREVIEW_PAGE
    result = service.preview(db, ruleset, rule, as_of, offset=offset, limit=limit)
    return render(
        request,
        "rule_preview.html",
        {
            "preview": result,
            "rule": ruleset.get(rule),
            "rules": ruleset.rules,
            "page_url": page_url(request),
        },
        db=db,
        json_url=f"/api/v1/rules/{rule}/preview?as_of={as_of}&offset={offset}&limit={limit}",
    )


@router.get("/daily-runs")
def daily_runs_page(request: Request, actor: Actor = PageActor, db: Session = Db) -> Response:
    data_dir = request.app.state.settings.data_dir
    return render(
        request,
        "daily_runs.html",
        {"runs": last_runs(db), "schedule": schedule(db, playbook_settings(), data_dir, utcnow())},
        db=db,
        json_url="/api/v1/daily-runs",
    )


@router.get("/outbox")
def outbox_page(
    request: Request,
    status: str | None = Query(None, max_length=16),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    require_role(actor.user, UserRole.admin, UserRole.manager)
    messages = service.outbox_messages(db, status=status or None)
    return render(
        request,
        "outbox.html",
        {
            "messages": messages,
            "deliveries": service.webhook_deliveries(db),
            "statuses": [s.value for s in OutboxStatus],
            "status": status or "",
        },
        db=db,
        json_url="/api/v1/outbox" + (f"?status={status}" if status else ""),
    )
