"""The rule builder: a playbook rule made in words — a fact, a comparison, a value — previewed on
the book as it was on a day (the same read-only preview as the rules page) and saved through the
playbooks' rule service (admins and managers, audited). No YAML, no rule syntax on the page."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.errors import InvalidInput
from tenure.http.deps import AsOf
from tenure.model import UserRole
from tenure.model.cta import CtaPriority, CtaType
from tenure.playbooks import rule_builder, service
from tenure.playbooks.config import playbook_settings
from tenure.playbooks.rules import Ruleset, load_ruleset
from tenure.web.render import page_url, render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)

# The comparisons offered, in words, and the operator each stands for.
COMPARISONS = {
    "at least": "gte",
    "at most": "lte",
    "over": "gt",
    "under": "lt",
    "is": "eq",
    "is not": "ne",
}
ROWS = 3


def _draft(
    name: str,
    type: CtaType,
    priority: CtaPriority,
    match: str,
    due_in_days: int,
    description: str,
    fact: list[str],
    comparison: list[str],
    value: list[str],
) -> rule_builder.RuleDraft:
    conditions = [
        rule_builder.ConditionDraft(fact=f, op=COMPARISONS.get(c, c), value=v)
        for f, c, v in zip(fact, comparison, value, strict=False)
        if f
    ]
    return rule_builder.RuleDraft(
        name=name,
        type=type,
        priority=priority,
        match="any" if match == "any" else "all",
        conditions=conditions,
        due_in_days=due_in_days,
        description=description,
    )


@router.get("/rules/new")
def rule_builder_page(
    request: Request,
    name: str = Query("", max_length=120),
    type: CtaType = Query(CtaType.risk),
    priority: CtaPriority = Query(CtaPriority.medium),
    match: str = Query("all", pattern="^(all|any)$"),
    due_in_days: int = Query(7, ge=0, le=365),
    description: str = Query("", max_length=1000),
    fact: list[str] = Query([]),
    comparison: list[str] = Query([]),
    value: list[str] = Query([]),
    actor: Actor = PageActor,
    db: Session = DbSession,
    page: int = Query(1, ge=1, le=100_000),
    as_of: date = AsOf,
) -> Response:
    """The form; with conditions filled in, the preview of the rule beside it."""
    draft = _draft(name, type, priority, match, due_in_days, description, fact, comparison, value)
    preview = problem = rule = None
    if any(fact):
        try:
            rule = rule_builder.draft_rule(draft)
            preview = service.preview(
                db,
                Ruleset(rules=(rule,)),
                rule.key,
                as_of,
                offset=(page - 1) * service.PREVIEW_PAGE,
                limit=service.PREVIEW_PAGE,
            )
        except InvalidInput as error:
            problem = error.message
    rows = list(zip(fact, comparison, value, strict=False))
    rows += [("", "", "")] * (ROWS - len(rows))
    return render(
        request,
        "rule_builder.html",
        {
            "draft": draft,
            "rows": rows,
            "facts": rule_builder.fact_choices(),
            "comparisons": COMPARISONS,
            "type_words": rule_builder.TYPE_WORDS,
            "priority_words": rule_builder.PRIORITY_WORDS,
            "preview": preview,
            "rule": rule,
            "problem": problem,
            "as_of": as_of,
            "page_url": page_url(request),
            "can_save": actor.role in (UserRole.admin, UserRole.manager),
        },
        db=db,
    )


@router.post("/rules/new")
def save_rule(
    name: str = Form("", max_length=120),
    type: CtaType = Form(CtaType.risk),
    priority: CtaPriority = Form(CtaPriority.medium),
    match: str = Form("all", pattern="^(all|any)$"),
    due_in_days: int = Form(7, ge=0, le=365),
    description: str = Form("", max_length=1000),
    fact: list[str] = Form(default_factory=list),
    comparison: list[str] = Form(default_factory=list),
    value: list[str] = Form(default_factory=list),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    draft = _draft(name, type, priority, match, due_in_days, description, fact, comparison, value)
    rule = rule_builder.create_rule(db, actor, draft, load_ruleset(playbook_settings().rules_file))
    return RedirectResponse(f"/rules/preview?rule={rule.key}", status_code=303)


@router.post("/rules/{key}/switch")
def switch_rule(
    key: str,
    enabled: str = Form(..., pattern="^(on|off)$"),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    """Switch a rule made on the builder on or off (its open CTAs stay)."""
    rule_builder.set_rule_enabled(db, actor, key, enabled == "on")
    return RedirectResponse("/rules", status_code=303)
