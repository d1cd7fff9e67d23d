"""Rules made without writing YAML: a fact picked in words, a comparison in words, a value — turned
into the same :class:`~tenure.playbooks.rules.Rule` the rules file holds, previewed by the same
read-only preview, and saved (admins and managers, audited) beside the file's rules. The daily run
evaluates the file's rules and the saved ones together (:func:`with_stored_rules`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import Conflict, InvalidInput
from tenure.metrics.registry import Unit, all_metrics
from tenure.model import PlaybookRule, UserRole
from tenure.model.cta import CtaPriority, CtaType
from tenure.playbooks.rules import Rule, Ruleset

# How a fact's value is typed on the form: a percent (stored as a share), a number, yes/no, or
# one of a few words.
Kind = Literal["percent", "number", "yes_no", "choice"]


@dataclass(frozen=True)
class FactChoice:
    key: str
    label: str
    kind: Kind
    unit: str = ""
    choices: tuple[str, ...] = ()


# The playbook facts (playbooks/facts.py) a rule can test, in words; the registry's metrics
# follow. Calendar facts first: they are what most CTAs are timed on.
_PLAYBOOK_FACTS = (
    FactChoice("days_to_renewal", "Days to renewal", "number", "days"),
    FactChoice("health_score", "Health score", "number", "of 100"),
    FactChoice("health_band", "Health band", "choice", choices=("red", "yellow", "green")),
    FactChoice("churn_probability", "Churn risk", "percent"),
    FactChoice("in_alert_set", "Among the churn model's alerts", "yes_no"),
    FactChoice("in_onboarding", "In onboarding", "yes_no"),
    FactChoice("champion_left_days_ago", "Days since the champion left", "number", "days"),
    FactChoice("days_since_nps", "Days since the last NPS answer", "number", "days"),
    FactChoice(
        "nps_category",
        "Latest NPS answer from a",
        "choice",
        choices=("promoter", "passive", "detractor"),
    ),
    FactChoice("license_utilization_max_30d", "Highest license utilization in 30 days", "percent"),
    FactChoice(
        "expansion_milestone_reached_days_ago",
        "Days since the expansion milestone was reached",
        "number",
        "days",
    ),
)
_METRIC_KINDS: dict[Unit, Kind] = {
    Unit.share: "percent",
    Unit.number: "number",
    Unit.days: "number",
    Unit.flag: "yes_no",
}
# Metrics a playbook fact already says better, or that describe the contract, not the customer.
_LEFT_OUT = {"days_to_renewal", "arr", "arr_currency", "discount", "tenure_days"}

OPERATORS: dict[Kind, dict[str, str]] = {
    "percent": {"gte": "at least", "lte": "at most", "gt": "over", "lt": "under"},
    "number": {"gte": "at least", "lte": "at most", "gt": "over", "lt": "under", "eq": "exactly"},
    "yes_no": {"eq": "is"},
    "choice": {"eq": "is", "ne": "is not"},
}
TYPE_WORDS = {
    CtaType.risk: "Risk: a customer may leave",
    CtaType.renewal: "Renewal: prepare the renewal",
    CtaType.opportunity: "Opportunity: a chance to grow",
    CtaType.lifecycle: "Lifecycle: onboarding, adoption, reviews",
    CtaType.advocacy: "Advocacy: a reference or a story",
}
PRIORITY_WORDS = {
    CtaPriority.low: "Low",
    CtaPriority.medium: "Medium",
    CtaPriority.high: "High",
    CtaPriority.urgent: "Urgent",
}


def fact_choices() -> dict[str, FactChoice]:
    """Every fact the builder offers, by key, playbook facts first."""
    found = {f.key: f for f in _PLAYBOOK_FACTS}
    for metric in all_metrics():
        kind = _METRIC_KINDS.get(metric.unit)
        if kind is None or metric.slug in found or metric.slug in _LEFT_OUT:
            continue
        unit = "days" if metric.unit is Unit.days else ""
        found[metric.slug] = FactChoice(metric.slug, metric.name, kind, unit)
    return found


class ConditionDraft(BaseModel):
    fact: str = Field(max_length=64)
    op: str = Field(max_length=8)
    value: str = Field(max_length=100)


class RuleDraft(BaseModel):
    """The builder's form: what a CS manager fills in."""

    name: str = Field(max_length=120)
    type: CtaType = CtaType.risk
    priority: CtaPriority = CtaPriority.medium
    match: Literal["all", "any"] = "all"
    conditions: list[ConditionDraft] = Field(max_length=6)
    due_in_days: int = Field(default=7, ge=0, le=365)
    description: str = Field(default="", max_length=1000)


def _value(choice: FactChoice, text: str, position: int) -> Any:
    where = f"condition {position} ({choice.label})"
    text = text.strip()
    if choice.kind == "yes_no":
        if text.lower() not in ("yes", "no"):
            raise InvalidInput(f"{where}: choose yes or no")
        return text.lower() == "yes"
    if choice.kind == "choice":
        if text not in choice.choices:
            raise InvalidInput(f"{where}: choose one of {', '.join(choice.choices)}")
        return text
    try:
        number = float(text.replace(",", "").replace("%", ""))
    except ValueError:
        raise InvalidInput(f"{where}: {text!r} is not a number") from None
    if choice.kind == "percent":
        return number / 100
    return int(number) if number.is_integer() else number


def rule_key(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"rule_{slug}".rstrip("_")
    return slug[:64]


def draft_rule(draft: RuleDraft) -> Rule:
    """The draft as a rule of the one rule language; every problem named in words."""
    if not draft.name.strip():
        raise InvalidInput("give the rule a name, e.g. Champion left at a big account")
    conditions = [c for c in draft.conditions if c.fact]
    if not conditions:
        raise InvalidInput("add at least one condition: pick a fact, a comparison and a value")
    facts = fact_choices()
    when = []
    for position, c in enumerate(conditions, 1):
        choice = facts.get(c.fact)
        if choice is None:
            raise InvalidInput(f"condition {position}: pick a fact from the list")
        if c.op not in OPERATORS[choice.kind]:
            words = " or ".join(OPERATORS[choice.kind].values())
            raise InvalidInput(f"condition {position} ({choice.label}): compare with {words}")
        when.append({"fact": c.fact, "op": c.op, "value": _value(choice, c.value, position)})
    try:
        return Rule.model_validate(
            {
                "key": rule_key(draft.name),
                "name": draft.name.strip(),
                "description": draft.description.strip(),
                "type": draft.type,
                "priority": draft.priority,
                "when": {draft.match: when},
                "due_in_days": draft.due_in_days,
            }
        )
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise InvalidInput(f"the rule cannot be saved: {problems}") from None


def stored_rules(session: Session) -> list[Rule]:
    rows = session.scalars(sa.select(PlaybookRule).order_by(PlaybookRule.id))
    return [Rule.model_validate(row.definition) for row in rows]


def with_stored_rules(session: Session, ruleset: Ruleset) -> Ruleset:
    """The rules file's rules and the ones saved from the console, evaluated together."""
    saved = stored_rules(session)
    if not saved:
        return ruleset
    return Ruleset(settings=ruleset.settings, rules=(*ruleset.rules, *saved))


def create_rule(session: Session, actor: Actor, draft: RuleDraft, file_rules: Ruleset) -> Rule:
    """Save a rule made on the builder (admins and managers: rules raise CTAs for the whole
    team), audited with its definition. A name whose key a rule already has is refused."""
    require_role(actor.user, UserRole.admin, UserRole.manager)
    rule = draft_rule(draft)
    taken = {r.key for r in with_stored_rules(session, file_rules).rules}
    if rule.key in taken:
        raise Conflict(f"a rule named like {draft.name.strip()!r} already exists: choose another")
    row = PlaybookRule(
        key=rule.key,
        definition=rule.model_dump(mode="json", exclude_defaults=True),
        author_id=actor.id,
    )
    row.definition = {"key": rule.key, **row.definition}
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "playbook_rule.create", "playbook_rule", row.id, after=row.definition
    )
    return rule


def set_rule_enabled(session: Session, actor: Actor, key: str, enabled: bool) -> Rule:
    """Switch a rule saved from the console off (it raises no new CTA; its open ones stay) or on
    again; admins and managers, audited. The rules file's rules change in the file."""
    require_role(actor.user, UserRole.admin, UserRole.manager)
    row = session.scalar(sa.select(PlaybookRule).where(PlaybookRule.key == key))
    if row is None:
        raise InvalidInput(
            f"the rule {key!r} was not made on the rule builder: the admin who keeps the rules "
            "file switches it on or off there"
        )
    before = dict(row.definition)
    row.definition = {**before, "enabled": enabled}
    rule = Rule.model_validate(row.definition)
    session.flush()
    action = "playbook_rule.enable" if enabled else "playbook_rule.disable"
    audit.record(
        session, actor, action, "playbook_rule", row.id, before=before, after=row.definition
    )
    return rule
