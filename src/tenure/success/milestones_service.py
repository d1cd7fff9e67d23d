"""Success plans and milestones: create plans, mark and refresh milestones, time to value."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, can_edit_account, require_account_editor
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    Contract,
    Milestone,
    MilestoneTemplate,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    SuccessPlan,
)
from tenure.success import milestones
from tenure.success.book import (
    Book,
    account_facts,
    active_contracts,
    first_value_on,
    last_nps,
    load_book,
    milestone_status_of,
    signed_on,
    stored_metrics_by_account,
)
from tenure.success.outcome import DesiredOutcomeVersion
from tenure.success.rules import Outcome, Rule, evaluate
from tenure.success.schemas import MilestoneRow, OutcomeView, PlanView, RefreshResult


def _sync_templates(
    session: Session, config: milestones.MilestoneConfig
) -> dict[tuple[str, str], MilestoneTemplate]:
    stored = {(t.segment, t.key): t for t in session.scalars(sa.select(MilestoneTemplate))}
    for segment, templates in config.segments.items():
        for position, t in enumerate(templates):
            row = stored.get((segment, t.key)) or MilestoneTemplate(segment=segment, key=t.key)
            row.name, row.position, row.type, row.owner = t.name, position, t.type, t.owner
            row.due_days, row.first_value = t.due_days, t.first_value
            row.rule = t.rule.model_dump() if t.rule else None
            row.opens = t.opens.value if t.opens else None
            row.config_version = config.version
            if row.id is None:
                session.add(row)
            else:  # the plans' copies follow the template's name and type
                session.execute(
                    sa.update(Milestone)
                    .where(Milestone.template_id == row.id)
                    .values(name=t.name, type=t.type.value, owner=t.owner.value)
                )
            stored[(segment, t.key)] = row
    session.flush()
    return stored


def create_plans(
    session: Session,
    actor: Actor,
    config: milestones.MilestoneConfig,
    external_ids: list[str] | None = None,
) -> int:
    """A success plan per account without one, from the templates of its Appropriate Experience
    (its experience segment; else its commercial segment, else ``default``); returns plans made.
    Each plan needs an actor who may edit its account, and is audited."""
    stored = _sync_templates(session, config)
    with_plan = set(session.scalars(sa.select(SuccessPlan.account_id)))
    query = sa.select(Account)
    if external_ids:
        query = query.where(Account.external_id.in_(external_ids))
        found = set(
            session.scalars(
                sa.select(Account.external_id).where(Account.external_id.in_(external_ids))
            )
        )
        missing = sorted(set(external_ids) - found)
        if missing:
            raise NotFound(f"accounts not found: {', '.join(missing)}")
    made = 0
    first_start = dict(
        session.execute(
            sa.select(Contract.account_id, sa.func.min(Contract.starts_on)).group_by(
                Contract.account_id
            )
        ).all()
    )
    for account in session.scalars(query):
        start = first_start.get(account.id)
        if account.id in with_plan or start is None:
            continue
        require_account_editor(session, actor.user, account)
        # Plans follow the experience the customer needs, not what it pays [pub].
        segment = config.plan_key(account.experience_segment, account.segment)
        templates = config.segments[segment]
        plan = SuccessPlan(account_id=account.id, segment=segment, started_on=start)
        session.add(plan)
        session.flush()
        for t, (key, due) in zip(templates, milestones.plan(templates, start), strict=True):
            session.add(
                Milestone(
                    plan_id=plan.id,
                    account_id=account.id,
                    template_id=stored[(segment, key)].id,
                    key=key,
                    name=t.name,
                    type=t.type.value,
                    owner=t.owner.value,
                    due_on=due,
                )
            )
        audit.record(
            session,
            actor,
            "success_plan.create",
            "success_plan",
            plan.id,
            after=audit.snapshot(plan),
        )
        made += 1
    session.flush()
    return made


def plan_show(session: Session, external_id: str, as_of: date) -> PlanView:
    account = get_account(session, external_id)
    plan = session.scalar(sa.select(SuccessPlan).where(SuccessPlan.account_id == account.id))
    if plan is None:
        raise NotFound(
            f"account {external_id!r} has no success plan: create one with `tenure milestones plan`"
        )
    from tenure.model.metric_snapshot import MetricSnapshot

    rows = []
    first_measured = session.scalar(sa.select(sa.func.min(MetricSnapshot.as_of)))
    for m in session.scalars(
        sa.select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .order_by(Milestone.due_on, Milestone.id)
    ):
        template = session.get(MilestoneTemplate, m.template_id) if m.template_id else None
        st = milestone_status_of(m, template, first_measured, as_of)
        rows.append(
            MilestoneRow(
                key=m.key,
                name=m.name,
                type=m.type,
                owner=m.owner,
                due_on=m.due_on,
                reached_on=m.reached_on,
                reached_by=m.reached_by,
                status=st.status,
                reason=st.reason,
            )
        )
    return PlanView(
        account=account.external_id,
        segment=plan.segment,
        started_on=plan.started_on,
        milestones=rows,
    )


def _open_ask(
    session: Session, book: Book, milestone: Milestone, template: MilestoneTemplate, day: date
) -> milestones.OpenedAsk | None:
    pure = milestones.MilestoneTemplate(
        key=template.key,
        name=template.name,
        due_days=template.due_days,
        opens=milestones.AskKind(template.opens) if template.opens else None,
    )
    ask = milestones.asks_on_reach(pure, day, last_nps(book, milestone.account_id, day))
    if ask is None:
        return None
    contracts = active_contracts(book, milestone.account_id, day)
    kind = (
        OpportunityKind.expansion
        if ask.kind is milestones.AskKind.expansion
        else OpportunityKind.advocacy
    )
    session.add(
        Opportunity(
            account_id=milestone.account_id,
            kind=kind,
            status=OpportunityStatus.open,
            currency=contracts[0].currency if contracts else "USD",
            opened_on=day,
            milestone_id=milestone.id,
            description=ask.reason,
        )
    )
    return ask


def mark_milestone(
    session: Session,
    actor: Actor,
    external_id: str,
    key: str,
    on: date,
    evidence: str | None = None,
) -> milestones.OpenedAsk | None:
    """Mark a milestone reached by hand (the account's editors, audited); opens its
    expansion/advocacy ask when due."""
    account = get_account(session, external_id)
    require_account_editor(session, actor.user, account)
    m = session.scalar(
        sa.select(Milestone).where(Milestone.account_id == account.id, Milestone.key == key)
    )
    if m is None:
        raise NotFound(f"account {external_id!r} has no milestone {key!r}")
    if m.reached_on is not None:
        raise InvalidInput(
            f"milestone {key!r} of {external_id!r} was already reached on {m.reached_on}"
        )
    before = audit.snapshot(m)
    m.reached_on, m.reached_by, m.evidence = on, "hand", evidence
    template = session.get(MilestoneTemplate, m.template_id) if m.template_id else None
    ask = None
    if template is not None:
        ask = _open_ask(session, load_book(session, on, [account.id]), m, template, on)
    session.flush()
    audit.record(
        session, actor, "milestone.reach", "milestone", m.id, before=before, after=audit.snapshot(m)
    )
    return ask


def add_milestone(
    session: Session,
    actor: Actor,
    external_id: str,
    *,
    name: str,
    type: milestones.MilestoneType,
    owner: milestones.Owner,
    due_on: date,
) -> Milestone:
    """A milestone the team agreed with the customer beyond the segment's template, on the
    account's success plan (the account's editors, audited). Marked by hand when reached: no
    rule watches it."""
    account = get_account(session, external_id)
    require_account_editor(session, actor.user, account)
    name = name.strip()
    if not name:
        raise InvalidInput("a milestone needs a name")
    plan = session.scalar(sa.select(SuccessPlan).where(SuccessPlan.account_id == account.id))
    if plan is None:
        raise NotFound(f"account {external_id!r} has no success plan yet: create it first")
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:48] or "milestone"
    taken = set(session.scalars(sa.select(Milestone.key).where(Milestone.plan_id == plan.id)))
    key, n = f"custom_{slug}", 2
    while key in taken:
        key, n = f"custom_{slug}_{n}", n + 1
    milestone = Milestone(
        plan_id=plan.id,
        account_id=account.id,
        key=key,
        name=name[:200],
        type=type.value,
        owner=owner.value,
        due_on=due_on,
    )
    session.add(milestone)
    session.flush()
    audit.record(
        session, actor, "milestone.add", "milestone", milestone.id, after=audit.snapshot(milestone)
    )
    return milestone


def refresh_milestones(session: Session, as_of: date, since: date | None = None) -> RefreshResult:
    """Mark the milestones the stored metrics show reached, each on the first stored day its rule
    passed, and open their asks. A milestone already passing on the very first stored day of a
    plan that started earlier is marked ``baseline``: reached, but when is not known, so it is
    left out of time-to-milestone figures."""
    from tenure.model.metric_snapshot import MetricSnapshot

    book = load_book(session, as_of)
    templates = {t.id: t for t in session.scalars(sa.select(MilestoneTemplate))}
    plans = dict(session.execute(sa.select(SuccessPlan.id, SuccessPlan.started_on)).all())
    pending = [
        (m, templates[m.template_id], Rule.model_validate(templates[m.template_id].rule))
        for ms in book.milestones.values()
        for m in ms
        if m.reached_on is None
        and m.template_id in templates
        and templates[m.template_id].rule is not None
    ]
    all_days = sorted(
        session.scalars(
            sa.select(MetricSnapshot.as_of).where(MetricSnapshot.as_of <= as_of).distinct()
        )
    )
    first_day = all_days[0] if all_days else None
    # A daily job passes the last day it checked; a first run backfills every stored day.
    days = [d for d in all_days if since is None or d > since]
    checked = reached = baseline = asks = 0
    # Nothing is written until every day is checked (the daily run holds the database's write
    # lock only while it writes; the reads below see no pending change).
    with session.no_autoflush:
        for day in days:
            if not pending:
                break
            metrics, _ = stored_metrics_by_account(session, day)
            still = []
            for m, template, rule in pending:
                started = plans[m.plan_id]
                if day < started or m.account_id not in metrics:
                    still.append((m, template, rule))
                    continue
                checked += 1
                facts = account_facts(book, m.account_id, metrics=metrics[m.account_id], day=day)
                result = evaluate(rule, facts)
                if result.outcome is not Outcome.passed:
                    still.append((m, template, rule))
                    continue
                unseen = day == first_day and started < day
                m.reached_on, m.reached_by = day, "baseline" if unseen else "data"
                m.evidence = f"{result.reason} (metrics of {day})"
                reached += 1
                baseline += unseen
                asks += _open_ask(session, book, m, template, day) is not None
            pending = still
    session.flush()
    return RefreshResult(
        days=len(days),
        checked=checked,
        reached=reached,
        reached_before_first_measure=baseline,
        asks_opened=asks,
    )


def time_to_first_value(session: Session, as_of: date) -> list[milestones.CohortTiming]:
    book = load_book(session, as_of)
    timings = []
    for account_id in book.contracts:
        started = signed_on(book, account_id)
        if started is None or started > as_of:
            continue
        reached = first_value_on(book, account_id)
        timings.append(
            milestones.MilestoneTiming(
                account_id, started, reached if reached and reached <= as_of else None
            )
        )
    return milestones.time_to_milestone(timings)


def time_to_milestone(session: Session, key: str, as_of: date) -> list[milestones.CohortTiming]:
    """Days from the first signature to one milestone, per start-quarter cohort of its plans."""
    rows = session.execute(
        sa.select(Milestone.account_id, SuccessPlan.started_on, Milestone.reached_on)
        .join(SuccessPlan, SuccessPlan.id == Milestone.plan_id)
        .where(
            Milestone.key == key,
            SuccessPlan.started_on <= as_of,
            sa.or_(Milestone.reached_by.is_(None), Milestone.reached_by != "baseline"),
        )
    ).all()
    if not rows:
        raise NotFound(f"no success plan has a milestone {key!r} with a known start and reach")
    return milestones.time_to_milestone(
        milestones.MilestoneTiming(a, start, r if r and r <= as_of else None)
        for a, start, r in rows
    )


class PlanEditor(BaseModel):
    """What the Desired Outcome and success plan page shows and may change for one account."""

    account_id: int
    external_id: str
    account_name: str
    can_edit: bool
    outcome: OutcomeView | None
    current: DesiredOutcomeVersion | None
    versions: int
    plan: PlanView | None


def plan_editor(session: Session, account_id: int, actor: Actor, as_of: date) -> PlanEditor:
    from tenure.success.outcome_service import outcome_show, outcome_versions

    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    versions = outcome_versions(session, account.id)
    live = [v for v in versions if v.effective_from <= as_of]
    has_plan = session.scalar(sa.select(SuccessPlan.id).where(SuccessPlan.account_id == account.id))
    return PlanEditor(
        account_id=account.id,
        external_id=account.external_id,
        account_name=account.name,
        can_edit=can_edit_account(session, actor.user, account),
        outcome=outcome_show(session, account.external_id, as_of) if live else None,
        current=max(versions, key=lambda v: v.effective_from) if versions else None,
        versions=len(versions),
        plan=plan_show(session, account.external_id, as_of) if has_plan else None,
    )
