"""/api/v1 of the playbooks, the JSON twins of ``tenure ctas|rules|run``: CTAs, rules (list,
preview, measured-play report), rule evaluations, daily runs, outbox, webhook deliveries, inbox.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from tenure.api.v1.common import Actor, AsOf, CurrentActor, Db, Session
from tenure.auth.permissions import require_role
from tenure.jobs.daily import last_runs
from tenure.jobs.worker import schedule
from tenure.model import CtaOutcome, UserRole
from tenure.model.base import utcnow
from tenure.playbooks import rule_builder, service
from tenure.playbooks.config import playbook_settings
from tenure.playbooks.cta_detail import cta_detail
from tenure.playbooks.measured import PlayReport, play_report
from tenure.playbooks.rule_builder import RuleDraft, with_stored_rules
from tenure.playbooks.rules import Ruleset, load_ruleset
from tenure.playbooks.schemas import (
    BookToday,
    CtaDetail,
    CtaRead,
    DailyRunRead,
    DailySchedule,
    OutboxMessageRead,
    PreviewRead,
    RuleEvaluationRead,
    RuleRead,
    Triage,
    TriageAction,
    WebhookDeliveryRead,
)
from tenure.playbooks.triage import complete_step, triage

router = APIRouter(tags=["playbooks"])


def _rules(db: Session) -> Ruleset:
    """The rules file's rules and those saved from the console's rule builder."""
    return with_stored_rules(db, load_ruleset(playbook_settings().rules_file))


@router.get("/ctas", response_model=list[CtaRead], summary="Calls to action")
def list_ctas(
    status: str | None = Query("open", description="open (incl. in progress, snoozed), closed"),
    owner_id: int | None = None,
    account_id: int | None = None,
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[CtaRead]:
    return service.list_ctas(db, status=status, owner_id=owner_id, account_id=account_id)


@router.get("/ctas/{cta_id}", response_model=CtaRead, summary="One call to action")
def get_cta(cta_id: int, actor: Actor = CurrentActor, db: Session = Db) -> CtaRead:
    return service.read_cta(db, cta_id)


@router.get(
    "/ctas/{cta_id}/detail", response_model=CtaDetail, summary="One call to action, as its page"
)
def get_cta_detail(
    cta_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> CtaDetail:
    """The CTA with its goal, why in words, playbook steps (who ticked them off), history, and
    whether the caller may act on it (acknowledge, snooze, close, tick steps off)."""
    return cta_detail(db, _rules(db), cta_id, actor.user, as_of)


class SnoozeRequest(BaseModel):
    until: date


class CloseRequest(BaseModel):
    outcome: CtaOutcome
    note: str | None = None


@router.post("/ctas/{cta_id}/acknowledge", response_model=CtaRead)
def acknowledge_cta(
    cta_id: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> CtaRead:
    return triage(db, cta_id, Triage(action=TriageAction.acknowledge), actor, as_of)


@router.post("/ctas/{cta_id}/steps/{position}/done", response_model=CtaRead)
def complete_cta_step(
    cta_id: int, position: int, actor: Actor = CurrentActor, db: Session = Db, as_of: date = AsOf
) -> CtaRead:
    return complete_step(db, cta_id, position, actor, as_of)


@router.post("/ctas/{cta_id}/snooze", response_model=CtaRead)
def snooze_cta(
    cta_id: int,
    body: SnoozeRequest,
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> CtaRead:
    return triage(db, cta_id, Triage(action=TriageAction.snooze, until=body.until), actor, as_of)


@router.post("/ctas/{cta_id}/close", response_model=CtaRead)
def close_cta(
    cta_id: int,
    body: CloseRequest,
    actor: Actor = CurrentActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> CtaRead:
    data = Triage(action=TriageAction.close, outcome=body.outcome, note=body.note)
    return triage(db, cta_id, data, actor, as_of)


@router.get("/rules", response_model=list[RuleRead], summary="Rules and their facts")
def list_rules(as_of: date = AsOf, actor: Actor = CurrentActor, db: Session = Db) -> list[RuleRead]:
    return service.rules_overview(db, _rules(db), as_of)


@router.post(
    "/rules", response_model=RuleRead, status_code=201, summary="Save a rule built in words"
)
def create_rule(
    draft: RuleDraft, as_of: date = AsOf, actor: Actor = CurrentActor, db: Session = Db
) -> RuleRead:
    """The console's rule builder as JSON: conditions name a fact (GET /rules lists the facts in
    use), an operator (gte, lte, gt, lt, eq, ne) and a value as typed (a percent as 60). Admins
    and managers; the rule joins the daily run with the rules file's."""
    rule = rule_builder.create_rule(db, actor, draft, load_ruleset(playbook_settings().rules_file))
    return next(r for r in service.rules_overview(db, _rules(db), as_of) if r.key == rule.key)


# Firings a preview lists unless asked for more (every one is counted and planned).
PREVIEW_API_PAGE = 100


@router.get("/rules/{rule_key}/preview", response_model=PreviewRead)
def preview_rule(
    rule_key: str,
    as_of: date = AsOf,
    offset: int = Query(0, ge=0, description="Skip this many of the firings listed."),
    limit: int = Query(PREVIEW_API_PAGE, ge=1, le=10_000, description="List at most this many."),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> PreviewRead:
    """Whom the rule would fire on at ``as_of`` and the new-CTA load per CSM (writes nothing):
    every firing counted (``firings_total``), planned and in ``decisions`` and
    ``load_per_csm``; ``firings`` lists ``limit`` of them by account id from ``offset`` (page on
    with ``offset``: a rule can fire on thousands of accounts)."""
    return service.preview(db, _rules(db), rule_key, as_of, offset=offset, limit=limit)


@router.get("/rules/{rule_key}/report", response_model=PlayReport)
def play_report_of_rule(
    rule_key: str,
    start: date,
    end: date,
    horizon_days: int = Query(365, ge=1),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> PlayReport:
    """Measured play: later churn/expansion of acted vs control accounts, with 95% intervals."""
    return play_report(db, rule_key, start, end, horizon_days=horizon_days)


@router.get("/rule-evaluations", response_model=list[RuleEvaluationRead])
def list_evaluations(
    rule: str | None = None,
    as_of: date | None = None,
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[RuleEvaluationRead]:
    return service.evaluations(db, rule_key=rule, as_of=as_of)


@router.get("/daily-runs", response_model=list[DailyRunRead], summary="The last daily runs")
def list_daily_runs(actor: Actor = CurrentActor, db: Session = Db) -> list[DailyRunRead]:
    return last_runs(db)


@router.get(
    "/daily-runs/schedule", response_model=DailySchedule, summary="When the daily run runs next"
)
def daily_schedule(
    request: Request, actor: Actor = CurrentActor, db: Session = Db
) -> DailySchedule:
    """TENURE_DAILY_AT, the next run and when a worker was last seen on this data folder."""
    return schedule(db, playbook_settings(), request.app.state.settings.data_dir, utcnow())


def _operator(actor: Actor) -> None:
    require_role(actor.user, UserRole.admin, UserRole.manager)


@router.get("/outbox", response_model=list[OutboxMessageRead], summary="Email outbox")
def list_outbox(
    status: str | None = None, actor: Actor = CurrentActor, db: Session = Db
) -> list[OutboxMessageRead]:
    """Every message with its status (pending, sending, sent, failed), attempts and last error."""
    _operator(actor)
    return service.outbox_messages(db, status=status)


@router.get("/webhook-deliveries", response_model=list[WebhookDeliveryRead])
def list_webhook_deliveries(
    status: str | None = None, actor: Actor = CurrentActor, db: Session = Db
) -> list[WebhookDeliveryRead]:
    """The webhook delivery log: status, attempts, last answer."""
    _operator(actor)
    return service.webhook_deliveries(db, status=status)


@router.get("/inbox", response_model=BookToday, summary="Your book today (in-app inbox)")
def inbox(as_of: date = AsOf, actor: Actor = CurrentActor, db: Session = Db) -> BookToday:
    """New CTAs, CTAs due, CTAs escalated to you and renewals in the next 30 days."""
    return service.book_today(db, actor.user.id, as_of)
