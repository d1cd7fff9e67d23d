"""The framework sanity report for one base: every framework run over the whole book at once.

It reads what the framework services read (the book, stored metrics, Desired Outcomes, churn
records, handoffs) and changes nothing. What counts as **impossible** [default]:

- lifecycle: a stage history that goes back to Land from a later stage without a new contract
  ("Land after Renew"); a ``year_index`` more than one below the full years since the customer
  signed (``created_on``: the customer-since date, stored contracts may start later); an ESG or
  ClientSuccess stage history that steps back without its cause;
- success plans: a milestone reported late by more than the account's age on the day reached;
  a milestone marked on the first measured day (``baseline``: reached, but when is unknown)
  reported late; a milestone marked by hand, still open and stuck though it fell due before
  Tenure measured anything (one measured from data was seen unreached, so it is known overdue);
  a usage target above the account's licensed seats; a "first value" measured by a usage
  threshold but typed as a success milestone (usage is product-centric: functional); an EBR
  goal due in the past;
- churn: a loss with no classification; a loss classed foreseen or unforeseen although its notice
  came before any monitoring existed (nothing could have foreseen it: "unknown");
- alignment: a customer handed to a CSM who, by the ownership history, did not own it that day
  (the CSM who receives the customer owns it from then; a later reassignment is no contradiction).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.dates import utc_day
from tenure.model import (
    AccountHandoff,
    AccountOwnership,
    ChurnRecord,
    DesiredOutcome,
    EngagementMessage,
    MessageStatus,
    User,
)
from tenure.model.handoff import HandoffStep
from tenure.success import check, fit, lifecycle, milestones, outcome
from tenure.success.book import (
    LOST,
    Book,
    account_facts,
    active_contracts,
    book_milestone_status,
    load_book,
    monitored_since,
    signed_on,
    value_stage_of,
)
from tenure.success.expansion import load_product_catalog
from tenure.success.expansion_service import account_potential, maturing_baseline, offered_plans
from tenure.success.lifecycle_service import after_renewal_facts, lifecycle_facts, value_facts
from tenure.success.lifecycle_variants import (
    MODELS,
    LifecycleModel,
    variant_history,
    variant_stage,
)
from tenure.success.outcome_service import outcome_version
from tenure.success.rules import Rule
from tenure.success.value_service import ebr_goals

LAER_ORDER = {
    lifecycle.LaerStage.land: 0,
    lifecycle.LaerStage.adopt: 1,
    lifecycle.LaerStage.expand: 2,
    lifecycle.LaerStage.renew: 3,
}
SEAT_METRICS = ("usage.active_users_28d",)


class Gathered:
    """Values per output and accounts per impossible finding, filled account by account."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[object]] = defaultdict(list)
        self.found: dict[tuple[str, str], list[str]] = defaultdict(list)

    def value(self, framework: str, output: str, v: object) -> None:
        self.values[(framework, output)].append(v)

    def impossible(self, framework: str, name: str, account: str, when: bool = True) -> None:
        self.found[(framework, name)]
        if when:
            self.found[(framework, name)].append(account)


def customer_since(book: Book, account_id: int) -> date | None:
    """The customer-since date: the account's created_on, else its first stored contract."""
    return signed_on(book, account_id)


def _fit(g: Gathered, book: Book, account_id: int, config: fit.FitConfig) -> None:
    at_signing = fit.assess_fit(account_facts(book, account_id, at_signing=True), config)
    g.value("fit", "success_potential_at_signing", at_signing.success_potential)
    g.value("fit", "fit_band_at_signing", at_signing.fit_band.value)
    g.value("fit", "readiness", at_signing.readiness.score)


def _lifecycle(g: Gathered, book: Book, account_id: int) -> None:
    ext = book.accounts[account_id].external_id
    facts = lifecycle_facts(book, account_id)
    stage = lifecycle.laer_stage(facts, book.as_of)
    g.value("lifecycle", "laer_stage", stage.stage.value if stage.stage else None)
    g.value("lifecycle", "expand_active", lifecycle.LaerStage.expand in stage.active_motions)
    g.value("lifecycle", "year_index", stage.year_index)
    history = lifecycle.stage_history(facts, book.as_of)
    regress = any(
        b.stage is lifecycle.LaerStage.land and a.stage is not None and LAER_ORDER[a.stage] > 0
        for a, b in pairwise(history)
    )
    g.impossible("lifecycle", "land_after_a_later_stage", ext, regress)
    since = customer_since(book, account_id)
    years = (book.as_of - since).days // 365 if since else 0
    g.impossible(
        "lifecycle", "year_index_below_years_as_customer", ext, stage.year_index + 1 < years
    )
    life = lifecycle.customer_for_life(stage, after_renewal_facts(book, account_id))
    if life.applies:
        for dim in life.dimensions:
            g.value("after_renewal", dim.name, dim.on_target)


def _lifecycle_models(
    g: Gathered, book: Book, account_id: int, outcomes: list[outcome.DesiredOutcomeVersion]
) -> None:
    """The ESG and ClientSuccess stages (docs/lifecycle.md) of every active account, whatever
    model is in force; a step back stored without its cause is impossible."""
    ext = book.accounts[account_id].external_id
    facts = lifecycle_facts(book, account_id)
    value = value_facts(book, account_id, outcomes)
    for model in (LifecycleModel.esg, LifecycleModel.clientsuccess):
        g.value(
            "lifecycle",
            f"{model.value}_stage",
            variant_stage(model, facts, value, book.as_of).stage,
        )
        steps = {s.key: s.step for s in MODELS[model].stages}
        uncaused = any(
            after.cause is None
            and (after.stage is None or steps[after.stage] < steps[before.stage])
            for before, after in pairwise(variant_history(model, facts, value, book.as_of))
            if before.stage is not None
        )
        g.impossible("lifecycle", f"{model.value}_step_back_without_cause", ext, uncaused)


def _milestones(g: Gathered, book: Book, account_id: int) -> None:
    ext = book.accounts[account_id].external_id
    since = customer_since(book, account_id)
    first_measured = book.first_metrics_day
    for m in book.milestones[account_id]:
        template = book.milestone_templates.get(m.template_id) if m.template_id else None
        status = book_milestone_status(book, m)
        g.value("milestones", f"{m.key}.status", status.status.value)
        reached = m.reached_on if m.reached_on and m.reached_on <= book.as_of else None
        late = status.days_late or 0
        age = (reached - since).days if reached and since else None
        g.impossible("milestones", "late_beyond_account_age", ext, age is not None and late > age)
        g.impossible(
            "milestones",
            "late_though_reach_day_unknown",
            ext,
            m.reached_by == "baseline" and late > 0,
        )
        # Only a milestone marked by hand can be unseen: one measured from data was seen
        # unreached on the first measured day, so it is known to be overdue.
        g.impossible(
            "milestones",
            "stuck_though_due_before_tenure_measured",
            ext,
            reached is None
            and (template is None or template.rule is None)
            and status.status is milestones.MilestoneStatus.stuck
            and first_measured is not None
            and m.due_on < first_measured,
        )
    g.impossible(
        "milestones",
        "goal_for_next_ebr_in_the_past",
        ext,
        any(goal.due_on < book.as_of for goal in ebr_goals(book, account_id, book.as_of)),
    )


def _milestone_templates(
    g: Gathered, book: Book, account_id: int, templates: dict[int, Any], seats: int
) -> None:
    ext = book.accounts[account_id].external_id
    for m in book.milestones[account_id]:
        t = templates.get(m.template_id) if m.template_id else None
        rule = (t.rule if t is not None else None) or {}
        field = str(rule.get("field", ""))
        g.impossible(
            "milestones",
            "usage_target_above_licensed_seats",
            ext,
            field in SEAT_METRICS
            and rule.get("op") in ("gte", "gt")
            and seats > 0
            and Rule.model_validate(rule).target({"usage.licensed_seats": seats}) > seats,
        )
        g.impossible(
            "milestones",
            "first_value_by_usage_typed_success",
            ext,
            t is not None and t.first_value and field.startswith("usage.") and m.type == "success",
        )


def _outcome(
    g: Gathered, book: Book, account_id: int, versions: list[outcome.DesiredOutcomeVersion]
) -> None:
    account = book.accounts[account_id]
    version = outcome.current_version(versions, book.as_of)
    g.value("outcome", "desired_outcome_in_force", version is not None)
    g.value("outcome", "experience_segment", account.experience_segment)
    ms = book.milestones[account_id]
    share = outcome.accountable_share(m.owner for m in ms).share
    g.value("outcome", "accountable_share", share)
    if version is None:
        g.value("outcome", "success_gap", "no Desired Outcome yet")
        return
    status = outcome.evaluate_outcome(version, account_facts(book, account_id))
    g.value("outcome", "touch_model", status.touch_model.value)
    g.value("outcome", "experience_met", status.experience_met.value)
    functional = [m for m in ms if m.type == "functional"]
    reached = sum(1 for m in functional if m.reached_on and m.reached_on <= book.as_of)
    g.value(
        "outcome",
        "success_gap",
        outcome.success_gap(reached, len(functional), status.required_met).status,
    )


def _churn(g: Gathered, session: Session, book: Book) -> None:
    """Every loss up to as_of: classified? and, where classified, each axis of the matrix."""
    records = {r.contract_id: r for r in session.scalars(sa.select(ChurnRecord))}
    first_monitored = monitored_since(session, book)
    for account_id, contracts in book.contracts.items():
        ext = book.accounts[account_id].external_id
        for c in contracts:
            lost_on = c.outcome_on or c.ends_on
            if c.renewal_outcome is None or c.renewal_outcome.value not in LOST:
                continue
            if lost_on > book.as_of:
                continue
            record = records.get(c.id)
            g.impossible("churn", "loss_not_classified", ext, record is None)
            if record is None:
                continue
            g.value("churn", "foreseen", record.foreseen)
            g.value("churn", "fit_at_signing", record.fit_at_signing)
            g.value("churn", "cause_side", record.cause_side)
            g.value("churn", "avoidable", record.avoidable)
            anchor = c.notice_on or lost_on
            unmonitored = first_monitored is None or anchor < first_monitored
            g.impossible(
                "churn",
                "foreseen_judged_before_monitoring_existed",
                ext,
                unmonitored and record.foreseen is not None,
            )


def _owner_spans(session: Session) -> dict[int, list[tuple[date, date | None, int]]]:
    """Who owned each account when, by day: (first day, day it ended or None, user)."""
    spans: dict[int, list[tuple[date, date | None, int]]] = defaultdict(list)
    for span in session.scalars(sa.select(AccountOwnership)):
        ended = utc_day(span.ended_at) if span.ended_at else None
        spans[span.account_id].append((utc_day(span.started_at), ended, span.user_id))
    return spans


def message_result(row: EngagementMessage, as_of: date) -> str:
    """Where a sent message's goal stands on ``as_of``, in words."""
    if row.checked_at is None or row.check_on is None or row.check_on > as_of:
        return "awaiting its check"
    if row.goal_met and row.baseline is not None and row.target is not None:
        at_least = row.comparison == "at_least"
        if (row.baseline >= row.target) if at_least else (row.baseline <= row.target):
            return "met, but already met when sent"
    return {True: "met", False: "not met", None: "not measurable"}[row.goal_met]


def _messages(g: Gathered, session: Session, as_of: date) -> None:
    """Each message sent by ``as_of``: its goal met, not met, not measurable or awaiting its
    check — overall (always reported, so a base that sends none is flagged empty) and per
    template."""
    g.values[("messages", "goal")]
    sent = session.scalars(
        sa.select(EngagementMessage).where(
            EngagementMessage.status == MessageStatus.sent, EngagementMessage.sent_on <= as_of
        )
    )
    for row in sent:
        result = message_result(row, as_of)
        g.value("messages", "goal", result)
        g.value("messages", f"{row.moment}.goal", result)


def _alignment(g: Gathered, session: Session, book: Book) -> None:
    handoffs = [
        h
        for h in session.scalars(sa.select(AccountHandoff).order_by(AccountHandoff.handed_off_on))
        if h.handed_off_on <= book.as_of
    ]
    handed = {h.account_id for h in handoffs}
    for account_id in book.accounts:
        if active_contracts(book, account_id, book.as_of):
            g.value("alignment", "handoff_recorded", account_id in handed)
    spans = _owner_spans(session)
    for h in handoffs:
        account = book.accounts.get(h.account_id)
        if account is None:
            continue
        g.value("alignment", "handoff_step", h.step.value)
        to_csm = h.step in (HandoffStep.services_to_csm, HandoffStep.sales_to_csm)
        # The ownership history says who owned the account on the handoff day (a later
        # reassignment is no contradiction); a history that starts later says nothing.
        owner = next(
            (
                user
                for first, ended, user in spans.get(h.account_id, [])
                if first <= h.handed_off_on and (ended is None or h.handed_off_on < ended)
            ),
            None,
        )
        g.impossible(
            "alignment",
            "handed_to_csm_who_did_not_own_it_that_day",
            account.external_id,
            to_csm and h.to_user_id is not None and owner is not None and owner != h.to_user_id,
        )
    for role in session.scalars(sa.select(User.role).where(User.is_active)):
        g.value("alignment", "user_role", str(role.value if hasattr(role, "value") else role))


def base_check(
    session: Session, as_of: date, config: fit.FitConfig, name: str = "this base"
) -> check.BaseCheck:
    """Every framework output over the active accounts on ``as_of``, with its flags."""
    from tenure.model import MilestoneTemplate

    book = load_book(session, as_of)
    plans = offered_plans(session)
    earlier, earlier_on = maturing_baseline(session, as_of)
    catalog = load_product_catalog()
    versions: dict[int, list[outcome.DesiredOutcomeVersion]] = defaultdict(list)
    for row in session.scalars(sa.select(DesiredOutcome).order_by(DesiredOutcome.version)):
        versions[row.account_id].append(outcome_version(row))
    templates = {t.id: t for t in session.scalars(sa.select(MilestoneTemplate))}
    g = Gathered()
    active = [a for a in book.accounts if active_contracts(book, a, as_of)]
    for account_id in active:
        seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account_id, as_of))
        _fit(g, book, account_id, config)
        g.value("value", "stage", value_stage_of(book, account_id).stage.value)
        _lifecycle(g, book, account_id)
        _lifecycle_models(g, book, account_id, versions[account_id])
        view = account_potential(
            book,
            account_id,
            config,
            plans,
            versions[account_id],
            earlier.get(account_id, {}),
            earlier_on,
            catalog,
        )
        g.value("expansion", "ascension_potential", view.potential.ascension.potential)
        g.value("expansion", "advocacy_potential", view.potential.advocacy.potential)
        for condition, result in view.nirvana:
            g.value("nirvana", condition, result.potential)
        _milestones(g, book, account_id)
        _milestone_templates(g, book, account_id, templates, seats)
        _outcome(g, book, account_id, versions[account_id])
    _churn(g, session, book)
    _alignment(g, session, book)
    _messages(g, session, as_of)
    return check.BaseCheck(
        name=name,
        as_of=as_of,
        accounts=len(active),
        outputs=[check.distribution(f, o, vs) for (f, o), vs in sorted(g.values.items())],
        impossible=[check.impossible(f, c, a) for (f, c), a in sorted(g.found.items())],
    )
