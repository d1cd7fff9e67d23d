"""The shapes the CLI, API and pages exchange: one data object, three renderings."""

from __future__ import annotations

import enum
from collections import Counter
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy.orm import Session

from tenure.accounts.arr import MULTIPLE_CURRENCIES
from tenure.accounts.fx import Converted, RateTable, convert
from tenure.model import Account, Cta, CtaOutcome, User
from tenure.playbooks.ctas import Decision, Planned
from tenure.playbooks.facts import FactsTable
from tenure.playbooks.rules import Rule, rule_yaml
from tenure.playbooks.wording import condition_text


class CtaRead(BaseModel):
    id: int
    rule_key: str
    rule_version: int
    account_id: int
    account_name: str
    type: str
    priority: str
    title: str
    owner_id: int | None
    status: str
    opened_on: date
    due_on: date
    last_fired_on: date
    fire_count: int
    snoozed_until: date | None
    reason: str
    facts: list[dict[str, Any]]
    arr_at_risk: float | None
    arr_at_risk_currency: str | None = Field(
        default=None, description="The currency of arr_at_risk (the account's ARR currency)"
    )
    arr_at_risk_converted: Converted | None = Field(
        default=None,
        description="arr_at_risk in the reporting currency at the data day's rates, when it is "
        "in another currency",
    )
    escalated_on: date | None
    closed_on: date | None
    outcome: str | None
    outcome_note: str | None
    steps: list[dict[str, Any]]

    @classmethod
    def from_row(cls, cta: Cta, account_name: str) -> CtaRead:
        return cls(
            id=cta.id,
            rule_key=cta.rule_key,
            rule_version=cta.rule_version,
            account_id=cta.account_id,
            account_name=account_name,
            type=cta.kind.value,
            priority=cta.priority.value,
            title=cta.title,
            owner_id=cta.owner_id,
            status=cta.status.value,
            opened_on=cta.opened_on,
            due_on=cta.due_on,
            last_fired_on=cta.last_fired_on,
            fire_count=cta.fire_count,
            snoozed_until=cta.snoozed_until,
            reason=cta.reason,
            facts=cta.facts,
            arr_at_risk=cta.arr_at_risk,
            arr_at_risk_currency=cta.arr_at_risk_currency,
            escalated_on=cta.escalated_on,
            closed_on=cta.closed_on,
            outcome=cta.outcome.value if cta.outcome else None,
            outcome_note=cta.outcome_note,
            steps=[
                {
                    "position": s.position,
                    "title": s.title,
                    "due_on": s.due_on.isoformat(),
                    "template": s.template,
                    "done": s.done_at is not None,
                }
                for s in cta.steps
            ],
        )

    def in_reporting_currency(self, table: RateTable, day: date) -> CtaRead:
        """This CTA with its ARR at risk also in the reporting currency (at ``day``'s rates)
        when it is in another single currency."""
        currency = self.arr_at_risk_currency
        if self.arr_at_risk is None or currency in (None, MULTIPLE_CURRENCIES):
            return self
        if currency == table.reporting_currency:
            return self
        converted = convert({currency: self.arr_at_risk}, table, day)
        return self.model_copy(update={"arr_at_risk_converted": converted})


class CtaStepView(BaseModel):
    """One playbook step as the CTA page shows it: who ticked it off and when."""

    position: int
    title: str
    due_on: date
    # What the step's suggested message is for (the rule's playbook), when it has one.
    goal: str | None = None
    done: bool
    done_on: date | None = None
    done_by: str | None = None
    overdue: bool = False


class CtaHistoryEntry(BaseModel):
    on_date: date  # the data day it happened on
    at: datetime
    by: str | None  # who did it (None: the daily run)
    text: str  # what happened, in words


class CtaDetail(BaseModel):
    """A CTA's page: its goal, why (in words), steps, history, and what the reader may do."""

    cta: CtaRead
    as_of: date
    goal: str
    rule_name: str
    rule_description: str
    why: str
    owner_name: str | None
    escalated_to_name: str | None
    outcome_words: str | None
    steps: list[CtaStepView]
    history: list[CtaHistoryEntry]
    # Whether the reader may acknowledge, snooze, close it and tick its steps off.
    may_act: bool
    # The days a snooze may pick: after the data day, at most SNOOZE_MAX_DAYS later.
    snooze_from: date
    snooze_default: date
    snooze_to: date


AUDIENCE_WORDS = {
    "customers": "Watches customers (a contract in force)",
    "prospects": "Watches prospects, trials and former customers",
    "everyone": "Watches every account",
}


class RuleRead(BaseModel):
    key: str
    name: str
    description: str
    version: int
    enabled: bool
    type: str
    priority: str
    trigger: str
    # The trigger in a CS manager's words (playbooks.wording): "Renewal in at most 120 days".
    trigger_words: str = ""
    # Whose accounts it watches (Rule.applies_to), and the same in words.
    applies_to: str = "customers"
    audience_words: str = ""
    due_in_days: int
    cooldown_days: int
    auto_close: bool
    control_share: float
    playbook: list[dict[str, Any]]
    # Facts the trigger reads that no source provided on the as-of date: it cannot fire.
    missing_facts: list[str]
    yaml: str  # the rule as loaded, in the rules file's own language

    @classmethod
    def build(cls, rule: Rule, missing: list[str]) -> RuleRead:
        joiner = " AND " if rule.when.all else " OR "
        return cls(
            key=rule.key,
            name=rule.name,
            description=rule.description,
            version=rule.version,
            enabled=rule.enabled,
            type=rule.type.value,
            priority=rule.priority.value,
            trigger=joiner.join(f"{c.fact} {c.op} {c.value}" for c in rule.when.conditions),
            trigger_words=(" and " if rule.when.all else " or ").join(
                condition_text(c.fact, c.op, c.value) for c in rule.when.conditions
            ),
            applies_to=rule.applies_to,
            audience_words=AUDIENCE_WORDS[rule.applies_to],
            due_in_days=rule.due_in_days,
            cooldown_days=rule.cooldown_days,
            auto_close=rule.auto_close,
            control_share=rule.control_share,
            playbook=[step.model_dump() for step in rule.playbook],
            missing_facts=missing,
            yaml=rule_yaml(rule),
        )


class RuleEvaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    as_of: date
    rule_key: str
    rule_version: int
    account_id: int
    decision: str
    facts: list[dict[str, Any]]
    cta_id: int | None
    owner_id: int | None
    arr_at_risk: float | None
    rank: int | None
    note: str | None


class PreviewFiring(BaseModel):
    account_id: int
    account_name: str
    owner: str | None
    decision: str
    reason: str
    # The rule's checks as CtaRead.facts has them (fact, op, threshold, value, passed).
    facts: list[dict[str, Any]] = Field(default_factory=list)
    arr_at_risk: float


class PreviewRead(BaseModel):
    rule_key: str
    rule_version: int
    enabled: bool
    as_of: date
    accounts_evaluated: int
    missing_facts: list[str]
    # Every account the rule fires on, counted; ``firings`` lists them by account id, all of
    # them or the page asked for (from ``offset``, at most ``limit``).
    firings_total: int
    offset: int = 0
    limit: int | None = None
    firings: list[PreviewFiring]
    decisions: dict[str, int]
    # New CTAs per CSM the rule would create that day (after the cap).
    load_per_csm: dict[str, int]

    @classmethod
    def build(
        cls,
        rule: Rule,
        facts: FactsTable,
        planned: list[Planned],
        session: Session,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> PreviewRead:
        users = dict(session.execute(sa.select(User.id, User.email)).all())
        fired = sorted((p for p in planned if p.firing is not None), key=lambda p: p.account_id)
        shown = fired[offset:] if limit is None else fired[offset : offset + limit]
        names = sa.select(Account.id, Account.name)
        if limit is not None:  # a page: its accounts' names, not the book's
            names = names.where(Account.id.in_([p.account_id for p in shown]))
        name_of = dict(session.execute(names).all())
        rows = []
        for item in shown:
            assert item.firing is not None
            rows.append(
                PreviewFiring(
                    account_id=item.account_id,
                    account_name=name_of.get(item.account_id, "?"),
                    owner=users.get(item.owner_id) if item.owner_id else None,
                    decision=item.decision.value,
                    reason=item.firing.reason,
                    facts=item.firing.facts,
                    arr_at_risk=item.arr_at_risk,
                )
            )
        load: Counter[str] = Counter()
        for item in planned:
            if item.decision is Decision.created:
                load[users.get(item.owner_id, "unassigned") if item.owner_id else "unassigned"] += 1
        needed = {c.fact for c in rule.when.conditions}
        return cls(
            rule_key=rule.key,
            rule_version=rule.version,
            enabled=rule.enabled,
            as_of=facts.as_of,
            accounts_evaluated=len(facts.facts),
            missing_facts=sorted(needed - facts.fact_names),
            firings_total=len(fired),
            offset=offset,
            limit=limit,
            firings=rows,
            decisions=dict(Counter(p.decision.value for p in planned)),
            load_per_csm=dict(load),
        )


class DailyRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    as_of: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    steps: list[dict[str, Any]]
    counts: dict[str, Any]
    errors: list[dict[str, Any]]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def skipped(self) -> list[dict[str, str]]:
        """Steps that could not do their work, with why (e.g. no churn model fitted yet)."""
        return [{"step": s["name"], "reason": s["skipped"]} for s in self.steps if s.get("skipped")]


class DailySchedule(BaseModel):
    """When the worker runs the daily job next, and whether a worker has been seen lately."""

    enabled: bool
    daily_at: time | None  # UTC
    worker_every: float  # seconds between the worker's ticks
    next_run_at: datetime | None  # None when the schedule is off
    due: bool  # next_run_at has passed: the worker starts the run at its next tick
    next_as_of: date | None
    worker_seen_at: datetime | None  # last tick of a worker on this data folder
    note: str  # the same in words, for the console and the CLI


class OutboxMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str
    kind: str
    goal: str
    recipient: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class RenewalDue(BaseModel):
    account_id: int
    account_name: str
    ends_on: date
    arr: float
    currency: str


class BookToday(BaseModel):
    """ "Your book today": the in-app inbox, and the body of the daily digest email."""

    user_id: int
    email: str
    as_of: date
    new: list[CtaRead]
    due: list[CtaRead]
    escalated_to_me: list[CtaRead]
    renewals: list[RenewalDue]
    # Firings held back today by the daily cap (ranked by ARR at risk): never silently dropped.
    held_back: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.due or self.escalated_to_me or self.renewals)

    @property
    def subject(self) -> str:
        escalated = len(self.escalated_to_me)
        return (
            f"Your book today: {len(self.new)} new, {len(self.due)} due, "
            f"{len(self.renewals)} renewals"
            + (f", {escalated} escalated to you" if escalated else "")
        )

    def as_text(self) -> str:
        lines = [f"Your book on {self.as_of}", ""]
        lines += [f"New: [{c.priority}] {c.title} — {c.account_name}: {c.reason}" for c in self.new]
        lines += [f"Due: {c.title} — {c.account_name} (due {c.due_on})" for c in self.due]
        lines += [
            f"Escalated to you: {c.title} — {c.account_name} (opened {c.opened_on})"
            for c in self.escalated_to_me
        ]
        lines += [
            f"Renewal: {r.account_name} on {r.ends_on} ({r.arr:,.0f} {r.currency})"
            for r in self.renewals
        ]
        if self.held_back:
            lines.append(
                f"Held back by the daily cap: {self.held_back} more (ranked by ARR at risk; "
                "they come back tomorrow if still true)"
            )
        return "\n".join(lines) + "\n"


class TriageAction(enum.StrEnum):
    acknowledge = "acknowledge"
    snooze = "snooze"
    close = "close"


class Triage(BaseModel):
    """What a person does with a call to action, from any surface."""

    action: TriageAction
    until: date | None = Field(default=None, description="Snooze until (default: a week)")
    outcome: CtaOutcome = CtaOutcome.success
    note: str | None = Field(default=None, max_length=2000)
