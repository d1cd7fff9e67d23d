"""Load the customer base, call the pure framework modules, save their results.

Functions take the session first; they flush, never commit (the surface owns the transaction).
Reports load the whole book once (:func:`load_book`) instead of querying per account.

Where the frameworks read account data (Tenure's conventions, documented for importers):
- ``account.custom["handoff"]``: answers captured at sales handoff → facts ``handoff.<key>``;
- ``account.custom["customer_events"]``: ``[{"type": "acquired"|"bankruptcy"|"budget_cut",
  "on": "YYYY-MM-DD"}]`` — the customer's own changes, for churn classification;
- ``account.custom["churn"]``: ``{"stated_reason", "contract_external_id", "stated_on"}`` — what
  the customer said when leaving (kept apart from the internal reason);
- other ``custom`` keys → facts ``custom.<key>``; stored metrics → ``usage.<slug>``;
- usage facts come from the metrics stored on or before the day asked (KPIs: the period's last
  day), never from after it;
- risk flags are risk CTAs (their ``opened_on``) and days scored in the red health band;
- first value is the reached ``first_value`` milestone, else the account's ``onboarded_on``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    AccountOwnership,
    ChurnRecord,
    Contact,
    Contract,
    Cta,
    DesiredOutcome,
    Feature,
    HealthScore,
    LifecycleStage,
    MaturityAssessment,
    Milestone,
    MilestoneTemplate,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Referral,
    SuccessPlan,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
    touchpoint_attendee,
)
from tenure.success import (
    churn_classification,
    expansion,
    fit,
    kpis,
    lifecycle,
    maturity,
    messages,
    milestones,
    outcome,
    value,
)
from tenure.success.rules import Outcome, Rule, evaluate

if TYPE_CHECKING:
    from tenure.store.events import EventStore

T = TypeVar("T")
# The health band that counts as a risk flag (the shipped scorecard's lowest band).
RISK_BAND = "red"
RENEWED = frozenset({"renewed", "expanded", "downgraded"})
LOST = frozenset({"churned", "downgraded"})


@dataclass(frozen=True)
class ContactRow:
    """A contact as the frameworks read it (plain row: books hold tens of thousands)."""

    id: int
    external_id: str
    name: str | None
    email: str | None
    title: str | None
    level: str | None
    roles: list[str]
    joined_on: date | None
    left_on: date | None


@dataclass(frozen=True)
class NpsRow:
    score: int
    responded_on: date


@dataclass
class Book:
    """Every record the frameworks read, grouped by account id, loaded once."""

    as_of: date
    accounts: dict[int, Account]
    contracts: dict[int, list[Contract]] = field(default_factory=lambda: defaultdict(list))
    contacts: dict[int, list[ContactRow]] = field(default_factory=lambda: defaultdict(list))
    nps: dict[int, list[NpsRow]] = field(default_factory=lambda: defaultdict(list))
    touchpoints: dict[int, list[value.TouchpointFact]] = field(
        default_factory=lambda: defaultdict(list)
    )
    high_priority_tickets: dict[int, list[date]] = field(default_factory=lambda: defaultdict(list))
    milestones: dict[int, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    opportunities: dict[int, list[Opportunity]] = field(default_factory=lambda: defaultdict(list))
    referrals: dict[int, list[Referral]] = field(default_factory=lambda: defaultdict(list))
    risk_flags: dict[int, list[date]] = field(default_factory=lambda: defaultdict(list))
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    metrics_as_of: date | None = None
    # The first day metrics were stored: before it, milestones could not be seen from data.
    first_metrics_day: date | None = None
    features: list[Feature] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)


def _day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def _group(rows: Iterable[T], key: str, into: dict[int, list[T]]) -> None:
    for row in rows:
        into[getattr(row, key)].append(row)


def stored_metrics_by_account(
    session: Session, on_or_before: date | None = None
) -> tuple[dict[int, dict[str, Any]], date | None]:
    """The latest stored metrics per account, on or before a day when given (empty when
    `tenure metrics compute` never ran for such a day)."""
    from tenure.metrics.service import stored_metrics
    from tenure.model.metric_snapshot import MetricSnapshot

    query = sa.select(sa.func.max(MetricSnapshot.as_of))
    if on_or_before is not None:
        query = query.where(MetricSnapshot.as_of <= on_or_before)
    day = session.scalar(query)
    if day is None:
        return {}, None
    frame = stored_metrics(session, day)
    records = frame.to_dict("records")
    out = {}
    for r in records:
        out[int(r["account_id"])] = {
            k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()
        }
    return out, day


def load_book(session: Session, as_of: date, account_ids: Iterable[int] | None = None) -> Book:
    """Load the accounts (all, or the given ids) and everything the frameworks read about them."""
    ids = None if account_ids is None else sorted(set(account_ids))

    def scoped(model: Any) -> sa.Select[Any]:
        statement = sa.select(model)
        if ids is not None:
            statement = statement.where(model.account_id.in_(ids))
        return statement

    accounts_q = sa.select(Account)
    if ids is not None:
        accounts_q = accounts_q.where(Account.id.in_(ids))
    book = Book(as_of=as_of, accounts={a.id: a for a in session.scalars(accounts_q)})
    _group(
        session.scalars(scoped(Contract).order_by(Contract.starts_on)), "account_id", book.contracts
    )
    contact_roles: dict[int, frozenset[str]] = {}
    contact_columns = (
        Contact.id,
        Contact.external_id,
        Contact.name,
        Contact.email,
        Contact.title,
        Contact.level,
        Contact.roles,
        Contact.joined_on,
        Contact.left_on,
    )
    contact_rows = session.execute(
        scoped(Contact).with_only_columns(Contact.account_id, *contact_columns)
    )
    for c in contact_rows:
        row = ContactRow(
            id=c.id,
            external_id=c.external_id,
            name=c.name,
            email=c.email,
            title=c.title,
            level=c.level.value if c.level else None,
            roles=list(c.roles or []),
            joined_on=c.joined_on,
            left_on=c.left_on,
        )
        if c.account_id is not None:
            book.contacts[c.account_id].append(row)
        contact_roles[row.id] = frozenset(
            [*row.roles, *(["end_user"] if row.level == "end_user" else [])]
        )
    nps_rows = session.execute(
        scoped(SurveyResponse)
        .with_only_columns(
            SurveyResponse.account_id, SurveyResponse.score, SurveyResponse.responded_at
        )
        .where(SurveyResponse.kind == "nps")
        .order_by(SurveyResponse.responded_at)
    )
    for account_id, score, responded_at in nps_rows:
        book.nps[account_id].append(NpsRow(score, _day(responded_at)))
    tickets = session.execute(
        scoped(Ticket)
        .with_only_columns(Ticket.account_id, Ticket.opened_at)
        .where(Ticket.priority.in_(["high", "urgent"]))
    )
    for account_id, opened_at in tickets:
        book.high_priority_tickets[account_id].append(_day(opened_at))
    _group(
        session.scalars(scoped(Milestone).order_by(Milestone.due_on)), "account_id", book.milestones
    )
    _group(session.scalars(scoped(Opportunity)), "account_id", book.opportunities)
    _group(session.scalars(scoped(Referral)), "account_id", book.referrals)
    for cta in session.scalars(scoped(Cta).where(Cta.kind == "risk")):
        book.risk_flags[cta.account_id].append(cta.opened_on)
    red_days = session.execute(
        scoped(HealthScore)
        .with_only_columns(HealthScore.account_id, HealthScore.as_of)
        .where(HealthScore.band == RISK_BAND)
    )
    for account_id, day in red_days:
        book.risk_flags[account_id].append(day)
    roles: dict[int, set[str]] = defaultdict(set)
    attendees = sa.select(touchpoint_attendee.c.touchpoint_id, touchpoint_attendee.c.contact_id)
    if ids is not None:
        attendees = attendees.join(
            Touchpoint, Touchpoint.id == touchpoint_attendee.c.touchpoint_id
        ).where(Touchpoint.account_id.in_(ids))
    for touchpoint_id, contact_id in session.execute(attendees):
        roles[touchpoint_id] |= contact_roles.get(contact_id, frozenset())
    touchpoints = session.execute(
        scoped(Touchpoint).with_only_columns(
            Touchpoint.id, Touchpoint.account_id, Touchpoint.kind, Touchpoint.occurred_at
        )
    )
    for tp_id, account_id, kind, occurred_at in touchpoints:
        book.touchpoints[account_id].append(
            value.TouchpointFact(_day(occurred_at), str(kind), frozenset(roles.get(tp_id, ())))
        )
    book.metrics, book.metrics_as_of = stored_metrics_by_account(session, as_of)
    from tenure.model.metric_snapshot import MetricSnapshot

    book.first_metrics_day = session.scalar(sa.select(sa.func.min(MetricSnapshot.as_of)))
    book.features = list(session.scalars(sa.select(Feature).order_by(Feature.released_on)))
    book.users = {u.id: u for u in session.scalars(sa.select(User))}
    return book


def get_account(session: Session, external_id: str) -> Account:
    account = session.scalar(sa.select(Account).where(Account.external_id == external_id))
    if account is None:
        raise NotFound(f"account {external_id!r} not found")
    return account


def load_one(session: Session, external_id: str, as_of: date) -> tuple[Book, Account]:
    account = get_account(session, external_id)
    return load_book(session, as_of, [account.id]), account


# --- facts ------------------------------------------------------------------------------------


def active_contracts(book: Book, account_id: int, day: date) -> list[Contract]:
    return [c for c in book.contracts[account_id] if c.starts_on <= day <= c.ends_on]


def last_nps(book: Book, account_id: int, before: date) -> int | None:
    answers = [r for r in book.nps[account_id] if r.responded_on <= before]
    return answers[-1].score if answers else None


def account_facts(
    book: Book,
    account_id: int,
    *,
    at_signing: bool = False,
    metrics: dict[str, Any] | None = None,
    day: date | None = None,
) -> dict[str, Any]:
    """The dotted facts rules read. At signing: attributes and handoff answers only; otherwise
    also usage (the book's metrics, or ``metrics`` of another ``day``) and the last NPS."""
    a = book.accounts[account_id]
    facts: dict[str, Any] = {
        "segment": a.segment,
        "experience_segment": a.experience_segment,
        "industry": a.industry,
        "employee_count": a.employee_count,
        "region": a.region,
    }
    for key, val in (a.custom or {}).items():
        if key in ("handoff", "outcome") and isinstance(val, dict):
            facts.update({f"{key}.{k}": v for k, v in val.items()})
        elif not isinstance(val, (dict, list)):
            facts[f"custom.{key}"] = val
    if at_signing:
        return facts
    usage = book.metrics.get(account_id, {}) if metrics is None else metrics
    facts.update(
        {
            f"usage.{k}": v
            for k, v in usage.items()
            if k not in ("account_id", "account_external_id", "account_name")
        }
    )
    facts["nps.last"] = last_nps(book, account_id, day or book.as_of)
    return facts


# --- fit ----------------------------------------------------------------------------------------


class AccountFit(BaseModel):
    account: str
    name: str
    assessment: fit.FitAssessment
    at_signing: bool


def fit_show(
    session: Session,
    external_id: str,
    as_of: date,
    config: fit.FitConfig,
    *,
    at_signing: bool = False,
) -> AccountFit:
    book, account = load_one(session, external_id, as_of)
    facts = account_facts(book, account.id, at_signing=at_signing)
    return AccountFit(
        account=account.external_id,
        name=account.name,
        assessment=fit.assess_fit(facts, config),
        at_signing=at_signing,
    )


def churned_by(book: Book, account_id: int, day: date) -> bool:
    """Lost: had a contract, none active on ``day``, and the last one ended in churn."""
    contracts = [c for c in book.contracts[account_id] if c.starts_on <= day]
    if not contracts or active_contracts(book, account_id, day):
        return False
    return contracts[-1].renewal_outcome in ("churned", None)


def fit_report(session: Session, as_of: date, config: fit.FitConfig) -> fit.FitBandReport:
    """Churn and ARR by fit band at signing: every account with a contract, ARR at signing."""
    book = load_book(session, as_of)
    banded = []
    for account_id, contracts in book.contracts.items():
        first = contracts[0]
        if first.starts_on > as_of:
            continue
        band = fit.assess_fit(account_facts(book, account_id, at_signing=True), config).fit_band
        banded.append(
            fit.BandedAccount(
                account_id, band, first.currency, first.arr, churned_by(book, account_id, as_of)
            )
        )
    return fit.churn_by_fit_band(banded)


# --- desired outcome ------------------------------------------------------------------------


def _outcome_version(row: DesiredOutcome) -> outcome.DesiredOutcomeVersion:
    return outcome.DesiredOutcomeVersion(
        effective_from=row.effective_from,
        required_outcome=outcome.RequiredOutcome(
            text=row.required_outcome, target=Rule.model_validate(row.target)
        ),
        appropriate_experience=outcome.AppropriateExperience(
            touch_model=outcome.TouchModel(row.touch_model),
            requirements=[outcome.Requirement.model_validate(r) for r in row.requirements],
        ),
    )


def set_desired_outcome(
    session: Session,
    external_id: str,
    version: outcome.DesiredOutcomeVersion,
    author_id: int | None = None,
) -> DesiredOutcome:
    """Store a new version (earlier ones stay: the Desired Outcome evolves)."""
    account = get_account(session, external_id)
    latest = (
        session.scalar(
            sa.select(sa.func.max(DesiredOutcome.version)).where(
                DesiredOutcome.account_id == account.id
            )
        )
        or 0
    )
    row = DesiredOutcome(
        account_id=account.id,
        version=latest + 1,
        effective_from=version.effective_from,
        required_outcome=version.required_outcome.text,
        target=version.required_outcome.target.model_dump(),
        touch_model=version.appropriate_experience.touch_model.value,
        requirements=[r.model_dump() for r in version.appropriate_experience.requirements],
        author_id=author_id,
    )
    session.add(row)
    session.flush()
    return row


class OutcomeView(BaseModel):
    account: str
    versions: int
    status: outcome.OutcomeStatus
    success_gap: outcome.SuccessGap
    accountable_share: outcome.AccountableShare


def _versions(session: Session, account_id: int) -> list[outcome.DesiredOutcomeVersion]:
    rows = session.scalars(
        sa.select(DesiredOutcome)
        .where(DesiredOutcome.account_id == account_id)
        .order_by(DesiredOutcome.version)
    )
    return [_outcome_version(r) for r in rows]


def outcome_show(session: Session, external_id: str, as_of: date) -> OutcomeView:
    book, account = load_one(session, external_id, as_of)
    versions = _versions(session, account.id)
    if not versions:
        raise NotFound(
            f"account {external_id!r} has no Desired Outcome yet: set one with `tenure outcome set`"
        )
    status = outcome.evaluate_outcome(
        outcome.current_version(versions, as_of), account_facts(book, account.id)
    )
    ms = book.milestones[account.id]
    functional = [m for m in ms if m.type == "functional"]
    reached = sum(1 for m in functional if m.reached_on and m.reached_on <= as_of)
    return OutcomeView(
        account=account.external_id,
        versions=len(versions),
        status=status,
        success_gap=outcome.success_gap(reached, len(functional), status.required_met),
        accountable_share=outcome.accountable_share(m.owner for m in ms),
    )


def experience_segments(session: Session, as_of: date) -> dict[str, list[str]]:
    """Accounts grouped by Appropriate Experience: the touch model of the Desired Outcome in force,
    else the account's ``experience_segment``."""
    latest: dict[int, outcome.TouchModel] = {}
    rows = session.scalars(
        sa.select(DesiredOutcome)
        .where(DesiredOutcome.effective_from <= as_of)
        .order_by(DesiredOutcome.effective_from, DesiredOutcome.version)
    )
    for row in rows:
        latest[row.account_id] = outcome.TouchModel(row.touch_model)
    groups: dict[str, list[str]] = defaultdict(list)
    for account_id, ext, fallback in session.execute(
        sa.select(Account.id, Account.external_id, Account.experience_segment).order_by(
            Account.external_id
        )
    ):
        model = latest.get(account_id)
        groups[model.value if model else (fallback or "(not captured)")].append(ext)
    return dict(sorted(groups.items()))


# --- milestones -----------------------------------------------------------------------------


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
            stored[(segment, t.key)] = row
    session.flush()
    return stored


def create_plans(
    session: Session, config: milestones.MilestoneConfig, external_ids: list[str] | None = None
) -> int:
    """A success plan per account without one, from its segment's templates; returns plans made."""
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
        segment = account.segment if account.segment in config.segments else "default"
        templates = config.for_segment(account.segment)
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
        made += 1
    session.flush()
    return made


class MilestoneRow(BaseModel):
    key: str
    name: str
    type: str
    owner: str
    due_on: date
    reached_on: date | None
    reached_by: str | None
    status: milestones.MilestoneStatus
    reason: str


class PlanView(BaseModel):
    account: str
    segment: str
    started_on: date
    milestones: list[MilestoneRow]


def plan_show(session: Session, external_id: str, as_of: date) -> PlanView:
    account = get_account(session, external_id)
    plan = session.scalar(sa.select(SuccessPlan).where(SuccessPlan.account_id == account.id))
    if plan is None:
        raise NotFound(
            f"account {external_id!r} has no success plan: create one with `tenure milestones plan`"
        )
    rows = []
    for m in session.scalars(
        sa.select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .order_by(Milestone.due_on, Milestone.id)
    ):
        st = milestones.milestone_status(m.due_on, m.reached_on, as_of)
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
    session: Session, external_id: str, key: str, on: date, evidence: str | None = None
) -> milestones.OpenedAsk | None:
    """Mark a milestone reached by hand; opens its expansion/advocacy ask when due."""
    account = get_account(session, external_id)
    m = session.scalar(
        sa.select(Milestone).where(Milestone.account_id == account.id, Milestone.key == key)
    )
    if m is None:
        raise NotFound(f"account {external_id!r} has no milestone {key!r}")
    if m.reached_on is not None:
        raise InvalidInput(
            f"milestone {key!r} of {external_id!r} was already reached on {m.reached_on}"
        )
    m.reached_on, m.reached_by, m.evidence = on, "hand", evidence
    template = session.get(MilestoneTemplate, m.template_id) if m.template_id else None
    ask = None
    if template is not None:
        ask = _open_ask(session, load_book(session, on, [account.id]), m, template, on)
    session.flush()
    return ask


class RefreshResult(BaseModel):
    days: int
    checked: int
    reached: int
    reached_before_first_measure: int
    asks_opened: int


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


def signed_on(book: Book, account_id: int) -> date | None:
    """The first signature: the account's created_on or its first contract, whichever is first."""
    days = [c.starts_on for c in book.contracts[account_id]]
    created = book.accounts[account_id].created_on
    if created:
        days.append(created)
    return min(days) if days else None


def first_value_on(book: Book, account_id: int) -> date | None:
    """The reached first_value milestone, else the go-live date — never before the signature."""
    reached = next(
        (
            m.reached_on
            for m in book.milestones[account_id]
            if m.key == "first_value" and m.reached_on and m.reached_by != "baseline"
        ),
        None,
    )
    day = reached or book.accounts[account_id].onboarded_on
    start = signed_on(book, account_id)
    return day if day and start and day >= start else None


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


# --- lifecycle ------------------------------------------------------------------------------


def go_live_on(book: Book, account_id: int) -> tuple[date | None, str]:
    """The account's ``onboarded_on``, else the first day one of its milestones was reached."""
    onboarded = book.accounts[account_id].onboarded_on
    if onboarded:
        return onboarded, "onboarded_on"
    reached = [m for m in book.milestones[account_id] if m.reached_on]
    if not reached:
        return None, "no go-live recorded"
    first = min(reached, key=lambda m: m.reached_on or date.max)
    return first.reached_on, f"milestone {first.key!r} reached"


def lifecycle_facts(book: Book, account_id: int) -> lifecycle.LifecycleFacts:
    live_on, source = go_live_on(book, account_id)
    expansion_days = [
        d
        for o in book.opportunities[account_id]
        if o.kind == "expansion"
        for d in (o.opened_on, o.closed_on if o.status == "won" else None)
        if d
    ]
    contracts = [
        lifecycle.LifecycleContract(
            c.starts_on,
            c.ends_on,
            c.renewal_outcome.value if c.renewal_outcome else None,
            c.outcome_on,
        )
        for c in book.contracts[account_id]
    ]
    return lifecycle.LifecycleFacts(
        contracts=contracts,
        go_live_on=live_on,
        go_live_source=source,
        expansion_dates=expansion_days,
    )


def _metric(book: Book, account_id: int, slug: str) -> float | None:
    v = book.metrics.get(account_id, {}).get(slug)
    return None if v is None else float(v)


def after_renewal_facts(book: Book, account_id: int) -> lifecycle.AfterRenewalFacts:
    as_of = book.as_of
    quarter_ago = as_of - timedelta(days=91)
    refs = book.referrals[account_id]
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account_id, as_of))
    active = _metric(book, account_id, "active_users_28d")
    return lifecycle.AfterRenewalFacts(
        contacts=[
            lifecycle.ContactFact(c.level, c.roles, c.joined_on, c.left_on)
            for c in book.contacts[account_id]
        ],
        active_users=None if active is None else int(active),
        licensed_seats=seats or None,
        feature_share=_metric(book, account_id, "feature_breadth"),
        strategic_share=_metric(book, account_id, "strategic_adoption"),
        success_stories_last_quarter=sum(
            1 for r in refs if r.kind == "success_story" and quarter_ago < r.occurred_on <= as_of
        ),
        references=sum(1 for r in refs if r.kind == "reference"),
        referrals=sum(1 for r in refs if r.kind == "referral"),
    )


class LifecycleView(BaseModel):
    account: str
    name: str
    current: lifecycle.StageResult
    history: list[lifecycle.StageChange]
    customer_for_life: lifecycle.CustomerForLife


def save_history_rows(
    session: Session, account_id: int, history: list[lifecycle.StageChange], year_index: int
) -> None:
    session.execute(sa.delete(LifecycleStage).where(LifecycleStage.account_id == account_id))
    session.add_all(
        LifecycleStage(
            account_id=account_id,
            effective_on=h.effective_on,
            stage=h.stage.value if h.stage else None,
            year_index=year_index,
            reasons=h.reasons,
        )
        for h in history
    )


def lifecycle_show(session: Session, external_id: str, as_of: date) -> LifecycleView:
    """The LAER stage with its facts, its history (saved), and the after-R dimensions."""
    book, account = load_one(session, external_id, as_of)
    facts = lifecycle_facts(book, account.id)
    current = lifecycle.laer_stage(facts, as_of)
    history = lifecycle.stage_history(facts, as_of)
    save_history_rows(session, account.id, history, current.year_index)
    session.flush()
    return LifecycleView(
        account=account.external_id,
        name=account.name,
        current=current,
        history=history,
        customer_for_life=lifecycle.customer_for_life(
            current, after_renewal_facts(book, account.id)
        ),
    )


class LifecyclePortfolio(BaseModel):
    as_of: date
    by_stage: dict[str, int]
    by_tenure_year: list[lifecycle.TenureYearRow]
    customers_with_half_features: int


def lifecycle_portfolio(
    session: Session, as_of: date, *, save_history: bool = False
) -> LifecyclePortfolio:
    """Accounts per stage and tenure year; with ``save_history`` every account's stage history
    is rewritten (the daily job)."""
    book = load_book(session, as_of)
    by_stage: dict[str, int] = defaultdict(int)
    pairs = []
    for account_id in book.accounts:
        facts = lifecycle_facts(book, account_id)
        stage = lifecycle.laer_stage(facts, as_of)
        if save_history:
            save_history_rows(
                session, account_id, lifecycle.stage_history(facts, as_of), stage.year_index
            )
        by_stage[stage.stage.value if stage.stage else "none"] += 1
        if stage.stage is not None:
            pairs.append(
                (stage, lifecycle.customer_for_life(stage, after_renewal_facts(book, account_id)))
            )
    half = sum(
        1
        for a in book.accounts
        if (_metric(book, a, "feature_breadth") or 0) >= lifecycle.FEATURE_SHARE_TARGET
    )
    session.flush()
    return LifecyclePortfolio(
        as_of=as_of,
        by_stage=dict(by_stage),
        by_tenure_year=lifecycle.portfolio_by_tenure_year(pairs),
        customers_with_half_features=half,
    )


# --- KPIs -------------------------------------------------------------------------------------


def _owner_at(session: Session, day: date) -> dict[int, int]:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = session.execute(
        sa.select(AccountOwnership.account_id, AccountOwnership.user_id)
        .where(
            AccountOwnership.started_at <= moment,
            sa.or_(AccountOwnership.ended_at.is_(None), AccountOwnership.ended_at > moment),
        )
        .order_by(AccountOwnership.started_at)
    )
    return {account_id: user_id for account_id, user_id in rows}


def kpi_report(
    session: Session, period: kpis.Period, by: kpis.GroupBy, config: fit.FitConfig | None = None
) -> kpis.KpiReport:
    """KPIs for the period; per CSM uses the owner at the period's start (history kept)."""
    book = load_book(session, period.last_day)
    owners = _owner_at(session, period.start)
    fit_config = config or fit.load_fit_config()
    referred = set(
        session.scalars(
            sa.select(Referral.referred_account_id).where(
                Referral.kind == "referral", Referral.referred_account_id.is_not(None)
            )
        )
    )
    accounts, contracts, answers = [], [], []
    for account_id, account in book.accounts.items():
        owner_id = owners.get(account_id, account.owner_id)
        owner = book.users.get(owner_id) if owner_id else None
        seats = sum(
            c.licensed_seats or 0 for c in active_contracts(book, account_id, period.last_day)
        )
        active = _metric(book, account_id, "active_users_28d")
        accounts.append(
            kpis.AccountFact(
                account_id=account_id,
                segment=account.segment,
                csm=(owner.name or owner.email) if owner else None,
                active_users=None if active is None else int(active),
                licensed_seats=seats or None,
                feature_share=_metric(book, account_id, "feature_breadth"),
                first_contract_on=signed_on(book, account_id),
                first_value_on=first_value_on(book, account_id),
                fit_band=fit.assess_fit(
                    account_facts(book, account_id, at_signing=True), fit_config
                ).fit_band.value,
                referred=account_id in referred,
            )
        )
        contracts += [
            kpis.ContractFact(
                account_id,
                c.currency,
                c.starts_on,
                c.ends_on,
                c.arr,
                c.renewal_outcome.value if c.renewal_outcome else None,
            )
            for c in book.contracts[account_id]
        ]
        answers += [
            kpis.NpsAnswer(account_id, r.score, r.responded_on) for r in book.nps[account_id]
        ]
    return kpis.compute_kpis(period, accounts, contracts, answers, by)


# --- maturity ---------------------------------------------------------------------------------


def maturity_prefill(
    session: Session, as_of: date
) -> dict[maturity.Pillar, tuple[maturity.Stage, list[str]]]:
    book = load_book(session, as_of)
    live = [a for a in book.accounts if active_contracts(book, a, as_of)]
    roi = [value_stage_of(book, a).stage for a in live]
    ttfv: list[int | None] = []
    for a in live:
        started = signed_on(book, a)
        reached = first_value_on(book, a)
        ttfv.append((reached - started).days if reached and started and reached <= as_of else None)
    utilization = [_metric(book, a, "license_utilization") for a in live]
    return maturity.prefill(roi, ttfv, utilization)


def assess_maturity(
    session: Session,
    as_of: date,
    answers: dict[maturity.Pillar, maturity.Stage],
    assessed_by_id: int | None = None,
    note: str | None = None,
) -> maturity.CsriResult:
    """CSRI from the team's answers plus the pillars pre-filled from data; saved."""
    filled = maturity_prefill(session, as_of)
    stages = {p: s for p, (s, _) in filled.items()}
    sources = {p: "data" for p in filled}
    reasons = {p: why for p, (_, why) in filled.items()}
    for pillar, stage in answers.items():
        stages[pillar], sources[pillar] = stage, "team"
        reasons[pillar] = [*reasons.get(pillar, []), "set by the team"]
    result = maturity.csri(stages, sources=sources, reasons=reasons)
    session.add(
        MaturityAssessment(
            assessed_on=as_of,
            csri=result.csri,
            band=result.band.value,
            pillars={
                p.pillar.value: p.model_dump(mode="json", exclude={"pillar"})
                for p in result.pillars
            },
            assessed_by_id=assessed_by_id,
            note=note,
        )
    )
    session.flush()
    return result


class MaturityRecord(BaseModel):
    assessed_on: date
    csri: float
    band: str
    stages: dict[str, str]
    note: str | None


def maturity_history(session: Session) -> list[MaturityRecord]:
    rows = session.scalars(
        sa.select(MaturityAssessment).order_by(
            MaturityAssessment.assessed_on, MaturityAssessment.id
        )
    )
    return [
        MaturityRecord(
            assessed_on=r.assessed_on,
            csri=r.csri,
            band=r.band,
            stages={p: str(v.get("stage")) for p, v in r.pillars.items()},
            note=r.note,
        )
        for r in rows
    ]


# --- churn classification --------------------------------------------------------------------


def _customer_events(account: Account, before: date) -> list[str]:
    out = []
    for event in (account.custom or {}).get("customer_events", []) or []:
        if not isinstance(event, dict) or "type" not in event:
            continue
        on = event.get("on")
        if on is None or date.fromisoformat(str(on)) <= before:
            out.append(str(event["type"]))
    return out


def metric_before(session: Session, account_id: int, day: date, slug: str) -> float | None:
    """One metric from the latest snapshot stored on or before ``day`` (no look-ahead)."""
    from tenure.model.metric_snapshot import MetricSnapshot

    values = session.scalar(
        sa.select(MetricSnapshot.values)
        .where(MetricSnapshot.account_id == account_id, MetricSnapshot.as_of <= day)
        .order_by(MetricSnapshot.as_of.desc())
        .limit(1)
    )
    v = (values or {}).get(slug)
    return None if v is None else float(v)


def _first_value_by(book: Book, account_id: int, day: date) -> bool | None:
    """Whether the plan's first-value milestone was reached by ``day``; None when there is no
    such milestone or the data could not have shown it yet (no metrics stored by then)."""
    planned = [m for m in book.milestones[account_id] if m.key == "first_value"]
    if not planned:
        return None
    if any(m.reached_on is not None and m.reached_on <= day for m in planned):
        return True
    if book.first_metrics_day is None or day < book.first_metrics_day:
        return None
    return False


def churn_facts(
    session: Session, book: Book, contract: Contract, config: fit.FitConfig
) -> churn_classification.ChurnFacts:
    """What the data showed before one churn or downgrade (nothing after the notice)."""
    account = book.accounts[contract.account_id]
    churned_on = contract.outcome_on or contract.ends_on
    anchor = contract.notice_on or churned_on
    at_signing = fit.assess_fit(account_facts(book, account.id, at_signing=True), config)
    potential = at_signing.success_potential
    said = (account.custom or {}).get("churn") or {}
    stated = (
        said.get("stated_reason")
        if isinstance(said, dict)
        and said.get("contract_external_id", contract.external_id) == contract.external_id
        else None
    )
    return churn_classification.ChurnFacts(
        account_id=account.id,
        kind=churn_classification.ChurnKind(
            contract.renewal_outcome.value if contract.renewal_outcome else "churned"
        ),
        churned_on=churned_on,
        notice_on=contract.notice_on,
        success_potential_at_signing=potential,
        failing_at_signing=at_signing.failing,
        risk_flag_dates=[d for d in book.risk_flags[account.id] if d <= anchor],
        customer_events=_customer_events(account, anchor),
        champion_left_on=[
            c.left_on
            for c in book.contacts[account.id]
            if c.left_on and "champion" in (c.roles or []) and c.left_on <= anchor
        ],
        high_priority_ticket_dates=[
            d for d in book.high_priority_tickets[account.id] if d <= anchor
        ],
        license_utilization=metric_before(session, account.id, anchor, "license_utilization"),
        first_value_reached=_first_value_by(book, account.id, anchor),
        last_nps=last_nps(book, account.id, anchor),
        stated_reason=str(stated) if stated else None,
    )


class ClassifyResult(BaseModel):
    classified: int
    already: int
    records: list[churn_classification.ChurnSuggestion]


def classify_churn(session: Session, as_of: date, config: fit.FitConfig) -> ClassifyResult:
    """Suggest a class for every churn/downgrade up to ``as_of`` not yet classified; saved
    unconfirmed for the CSM to confirm."""
    book = load_book(session, as_of)
    done = set(session.scalars(sa.select(ChurnRecord.contract_id)))
    suggestions = []
    already = 0
    for contracts in book.contracts.values():
        for c in contracts:
            if c.renewal_outcome is None or c.renewal_outcome.value not in LOST:
                continue
            if (c.outcome_on or c.ends_on) > as_of:
                continue
            if c.id in done:
                already += 1
                continue
            s = churn_classification.suggest(churn_facts(session, book, c, config))
            session.add(
                ChurnRecord(
                    account_id=c.account_id,
                    contract_id=c.id,
                    kind=s.kind.value,
                    churned_on=s.churned_on,
                    notice_on=c.notice_on,
                    foreseen=s.foreseen,
                    fit_at_signing=s.good_fit,
                    avoidable=s.avoidable,
                    cause_side=s.cause_side.value,
                    churn_class=s.churn_class,
                    internal_reason=s.internal_reason,
                    stated_reason=s.stated_reason,
                    suggestion=s.model_dump(mode="json"),
                )
            )
            suggestions.append(s)
    session.flush()
    return ClassifyResult(classified=len(suggestions), already=already, records=suggestions)


def confirm_churn(
    session: Session,
    external_id: str,
    *,
    cause_side: churn_classification.CauseSide | None,
    avoidable: bool | None,
    foreseen: bool | None,
    review: str | None,
    internal_reason: str | None = None,
    confirmed_by_id: int | None = None,
    churned_on: date | None = None,
) -> ChurnRecord:
    """The CSM confirms (or corrects) the suggestion and records the root-cause review."""
    account = get_account(session, external_id)
    query = sa.select(ChurnRecord).where(ChurnRecord.account_id == account.id)
    if churned_on:
        query = query.where(ChurnRecord.churned_on == churned_on)
    records = list(session.scalars(query.order_by(ChurnRecord.churned_on.desc())))
    if not records:
        raise NotFound(f"no churn record for {external_id!r}: run `tenure churn classify` first")
    record = records[0]
    if internal_reason:
        record.internal_reason = internal_reason
    if cause_side is not None:
        record.cause_side = cause_side.value
        record.avoidable = cause_side is not churn_classification.CauseSide.customer_change or (
            record.internal_reason not in churn_classification.UNAVOIDABLE
        )
    if avoidable is not None:
        record.avoidable = avoidable
    if foreseen is not None:
        record.foreseen = foreseen
    record.churn_class = churn_classification.churn_class_name(
        record.foreseen, record.fit_at_signing
    )
    record.confirmed, record.confirmed_by_id = True, confirmed_by_id
    record.confirmed_at = datetime.now(UTC)
    if review:
        record.root_cause_review = review
    session.flush()
    return record


class ChurnRecordView(BaseModel):
    account: str
    kind: str
    churned_on: date
    notice_on: date | None
    churn_class: str
    cause_side: str
    avoidable: bool | None
    internal_reason: str
    stated_reason: str | None
    confirmed: bool
    root_cause_review: str | None
    suggested_reasons: list[str]
    classifier_version: int | None


def churn_show(session: Session, external_id: str) -> list[ChurnRecordView]:
    """An account's churn records: class, stated and internal reasons, evidence, review."""
    account = get_account(session, external_id)
    rows = session.scalars(
        sa.select(ChurnRecord)
        .where(ChurnRecord.account_id == account.id)
        .order_by(ChurnRecord.churned_on)
    )
    return [
        ChurnRecordView(
            account=external_id,
            kind=r.kind,
            churned_on=r.churned_on,
            notice_on=r.notice_on,
            churn_class=r.churn_class,
            cause_side=r.cause_side,
            avoidable=r.avoidable,
            internal_reason=r.internal_reason,
            stated_reason=r.stated_reason,
            confirmed=r.confirmed,
            root_cause_review=r.root_cause_review,
            suggested_reasons=list(r.suggestion.get("reasons", [])),
            classifier_version=r.suggestion.get("classifier_version"),
        )
        for r in rows
    ]


def churn_report(session: Session) -> list[churn_classification.ClassCount]:
    rows = session.execute(
        sa.select(ChurnRecord.churned_on, ChurnRecord.churn_class, ChurnRecord.cause_side)
    )
    return churn_classification.report_by_class((d, c, s) for d, c, s in rows)


# --- value and the EBR ------------------------------------------------------------------------


def champions_of(book: Book, account_id: int, day: date) -> list[ContactRow]:
    return [
        c
        for c in book.contacts[account_id]
        if "champion" in (c.roles or []) and (c.left_on is None or c.left_on > day)
    ]


def value_stage_of(book: Book, account_id: int) -> value.ValueStage:
    return value.value_stage(
        book.touchpoints[account_id], len(champions_of(book, account_id, book.as_of)), book.as_of
    )


MEASURES = (
    ("license_utilization", "Licence utilization", "share"),
    ("feature_breadth", "Feature adoption", "share"),
    ("strategic_adoption", "Strategic-feature adoption", "share"),
    ("active_users_28d", "Active users (28 days)", "count"),
    ("events_per_active_user", "Events per active user (28 days)", "count"),
)


def features_used(
    store: EventStore, external_id: str, keys: list[str], since: date, as_of: date
) -> set[str]:
    """Which of the feature keys the account used after ``since`` up to ``as_of`` (events)."""
    con = store.connect()
    try:
        t = store.table(con)
        expr = (
            t.filter(
                t.account_id == external_id,
                t.event.isin(keys),
                t.event_date > since,
                t.event_date <= as_of,
            )
            .select("event")
            .distinct()
        )
        return {str(v) for v in expr.to_pyarrow().column("event").to_pylist()}
    finally:
        con.disconnect()


def ebr_pack(
    session: Session, external_id: str, as_of: date, store: EventStore | None = None
) -> value.EbrPack:
    """The six-part EBR pack for one account, benchmarked on its peer cohort; new capabilities'
    adoption is read from the event store when one is given."""
    book = load_book(session, as_of)
    account = get_account(session, external_id)
    stage = value_stage_of(book, account.id)
    since = stage.last_ebr_on or as_of - timedelta(days=365)
    band = value.size_band(account.employee_count)
    peers = [
        value.PeerValues({k: _metric(book, a.id, k) for k, _, _ in MEASURES})
        for a in book.accounts.values()
        if a.id != account.id
        and a.segment == account.segment
        and value.size_band(a.employee_count) == band
        and active_contracts(book, a.id, as_of)
    ]
    productivity = [
        value.Measurement(
            key=k,
            name=name,
            unit=unit,
            value=_metric(book, account.id, k),
            benchmark=value.benchmark(k, peers),
        )
        for k, name, unit in MEASURES
    ]
    initiatives = []
    versions = _versions(session, account.id)
    if versions:
        current = outcome.current_version(versions, as_of)
        status = outcome.evaluate_outcome(current, account_facts(book, account.id))
        initiatives.append(
            value.Initiative(
                name=current.required_outcome.text,
                status=f"Required Outcome {status.required_met}",
                detail=status.required_reason,
            )
        )
    else:
        handoff = (account.custom or {}).get("handoff")
        named = handoff.get("required_outcome") if isinstance(handoff, dict) else None
        if named:
            initiatives.append(
                value.Initiative(
                    name=str(named),
                    status="named at sales handoff",
                    detail="no measurable target yet: set one with `tenure outcome set`",
                )
            )
    open_ms = []
    for m in book.milestones[account.id]:
        st = milestones.milestone_status(m.due_on, m.reached_on, as_of)
        initiatives.append(value.Initiative(name=m.name, status=st.status.value, detail=st.reason))
        if st.status is not milestones.MilestoneStatus.reached:
            open_ms.append(m)
    released = [f for f in book.features if f.released_on and since < f.released_on <= as_of]
    used = (
        features_used(store, account.external_id, [f.key for f in released], since, as_of)
        if store is not None and released
        else None
    )
    capabilities = [
        value.Capability(
            name=f.name, released_on=f.released_on, adopted=None if used is None else f.key in used
        )
        for f in released
    ]
    goals = [f"Reach '{m.name}' by {m.due_on}" for m in open_ms[:3]]
    if versions:
        goals.append(
            f"Progress on: {outcome.current_version(versions, as_of).required_outcome.text}"
        )
    if stage.stage is not maturity.Stage.conquering:
        goals.append("Hold the next EBR with sponsor, buyer and stakeholders present")
    util = _metric(book, account.id, "license_utilization")
    if util is not None and util < 1:
        goals.append(f"Raise licence utilization from {util:.0%} toward 100%")
    return value.EbrPack(
        account_name=account.name,
        as_of=as_of,
        since=since,
        segment=account.segment,
        peer_cohort=f"{account.segment or 'no segment'}, {band} employees",
        peers=len(peers),
        value_stage=stage,
        productivity=productivity,
        strategic_initiatives=initiatives,
        new_capabilities=capabilities,
        champions=[
            value.Champion(name=c.name or c.email or c.external_id, title=c.title)
            for c in champions_of(book, account.id, as_of)
        ],
        goals_next=goals,
    )


# --- expansion ------------------------------------------------------------------------------


class PotentialView(BaseModel):
    account: str
    potential: expansion.AccountPotential
    nirvana: expansion.Nirvana


def potential_show(
    session: Session, external_id: str, as_of: date, config: fit.FitConfig
) -> PotentialView:
    book, account = load_one(session, external_id, as_of)
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account.id, as_of))
    active = _metric(book, account.id, "active_users_28d")
    plans = {c.plan for c in book.contracts[account.id] if c.plan}
    all_plans = set(session.scalars(sa.select(Contract.plan).distinct()).all()) - {None}
    versions = _versions(session, account.id)
    ro_met = None
    if versions:
        met = outcome.evaluate_outcome(
            outcome.current_version(versions, as_of), account_facts(book, account.id)
        ).required_met
        ro_met = None if met is Outcome.unknown else met is Outcome.passed
    facts = expansion.PotentialFacts(
        success_potential=fit.assess_fit(
            account_facts(book, account.id, at_signing=True), config
        ).success_potential,
        active_users=None if active is None else int(active),
        licensed_seats=seats or None,
        employee_count=account.employee_count,
        products_owned=len(plans),
        products_offered=len(all_plans),
        last_nps=last_nps(book, account.id, as_of),
        champions=len(champions_of(book, account.id, as_of)),
        required_outcome_met=ro_met,
    )
    year_ago = as_of - timedelta(days=365)
    renewals = sum(
        1
        for c in book.contracts[account.id]
        if c.renewal_outcome
        and c.renewal_outcome.value in RENEWED
        and c.outcome_on
        and c.outcome_on <= as_of
    )
    won = sum(
        1
        for o in book.opportunities[account.id]
        if o.kind == "expansion"
        and o.status == "won"
        and o.closed_on
        and year_ago < o.closed_on <= as_of
    )
    share = _metric(book, account.id, "feature_breadth")
    return PotentialView(
        account=account.external_id,
        potential=expansion.potential(facts),
        nirvana=expansion.nirvana(
            expansion.NirvanaFacts(
                renewals=renewals,
                feature_share_now=share,
                feature_share_90_days_ago=metric_before(
                    session, account.id, as_of - timedelta(days=90), "feature_breadth"
                ),
                value_stage=value_stage_of(book, account.id).stage.value,
                expansions_won_last_year=won,
            )
        ),
    )


def pipeline(session: Session) -> list[expansion.PipelineRow]:
    return expansion.expansion_pipeline(
        expansion.OpportunityFact(
            o.account_id,
            o.kind,
            o.status,
            o.amount or 0.0,
            o.currency,
            o.opened_on,
            str(o.milestone_id) if o.milestone_id else None,
        )
        for o in session.scalars(sa.select(Opportunity))
    )


def cac_efficiency(session: Session, spend: float, period: kpis.Period) -> expansion.CacEfficiency:
    """Effective CAC over new customers whose first contract started in the period."""
    firsts = session.execute(
        sa.select(Contract.account_id, sa.func.min(Contract.starts_on)).group_by(
            Contract.account_id
        )
    ).all()
    new = {a for a, first in firsts if period.start <= first < period.end}
    referred = set(
        session.scalars(
            sa.select(Referral.referred_account_id).where(
                Referral.kind == "referral", Referral.referred_account_id.is_not(None)
            )
        )
    )
    return expansion.effective_cac(spend, len(new - referred), len(new & referred))


# --- messages --------------------------------------------------------------------------------


def draft(
    session: Session,
    external_id: str,
    moment: messages.Moment,
    goal: str | None,
    as_of: date,
    *,
    contact_external_id: str | None = None,
    channel: messages.Channel = messages.Channel.email,
    template_dir: Path | None = None,
    next_step: str | None = None,
) -> messages.MessageDraft:
    """A message for one moment, filled from the account's data; refused without a goal."""
    book, account = load_one(session, external_id, as_of)
    contacts = [c for c in book.contacts[account.id] if c.left_on is None]
    if contact_external_id:
        chosen = [c for c in contacts if c.external_id == contact_external_id]
        if not chosen:
            raise NotFound(f"contact {contact_external_id!r} not found at {external_id!r}")
        receiver = chosen[0]
    else:
        preferred = {"advocacy_ask": "champion", "renewal_prep": "commercial_buyer"}
        role = preferred.get(moment.value, "sponsor")
        ranked = sorted(
            contacts,
            key=lambda c: (role not in (c.roles or []), "champion" not in (c.roles or []), c.id),
        )
        if not ranked:
            raise InvalidInput(f"account {external_id!r} has no current contact to write to")
        receiver = ranked[0]
    owner = book.users.get(account.owner_id) if account.owner_id else None
    versions = _versions(session, account.id)
    evidence = []
    util = _metric(book, account.id, "license_utilization")
    if util is not None:
        evidence.append(f"licence utilization {util:.0%}")
    breadth = _metric(book, account.id, "feature_breadth")
    if breadth is not None:
        evidence.append(f"{breadth:.0%} of features in use")
    extra: dict[str, Any] = {"nps": last_nps(book, account.id, as_of)}
    reached = [m for m in book.milestones[account.id] if m.reached_on]
    if reached:
        last = max(reached, key=lambda m: m.reached_on or date.min)
        extra["milestone"] = {"name": last.name, "reached_on": last.reached_on}
        evidence.append(f"milestone '{last.name}' reached on {last.reached_on}")
    elif moment is messages.Moment.milestone_reached:
        raise InvalidInput(f"account {external_id!r} has not reached a milestone yet")
    live = active_contracts(book, account.id, as_of)
    if live:
        extra["renewal_on"] = min(c.ends_on for c in live)
    elif moment is messages.Moment.renewal_prep:
        raise InvalidInput(f"account {external_id!r} has no active contract to renew")
    return messages.draft_message(
        messages.DraftRequest(
            moment=moment,
            goal=goal,
            account={
                "name": account.name,
                "external_id": account.external_id,
                "segment": account.segment,
            },
            sender=messages.Party(
                owner.name if owner else "Your customer success team",
                owner.email if owner else None,
            ),
            receiver=messages.Party(receiver.name, receiver.email, receiver.level),
            channel=channel,
            outcome_text=(
                outcome.current_version(versions, as_of).required_outcome.text if versions else None
            ),
            evidence=evidence,
            next_step=next_step,
            extra=extra,
        ),
        template_dir,
    )
