"""The book every framework service reads: loaded once per report, grouped by account.

Reports load the whole book once (:func:`load_book`) instead of querying per account; the
framework services (``<framework>_service.py``) read it.

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
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import active_on
from tenure.accounts.service import get_account
from tenure.dates import utc_day
from tenure.model import (
    Account,
    Contact,
    Contract,
    Cta,
    Feature,
    HealthScore,
    Milestone,
    MilestoneTemplate,
    Opportunity,
    Referral,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
    touchpoint_attendee,
)
from tenure.success import milestones, value

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
    milestone_templates: dict[int, MilestoneTemplate] = field(default_factory=dict)
    opportunities: dict[int, list[Opportunity]] = field(default_factory=lambda: defaultdict(list))
    referrals: dict[int, list[Referral]] = field(default_factory=lambda: defaultdict(list))
    risk_flags: dict[int, list[date]] = field(default_factory=lambda: defaultdict(list))
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    metrics_as_of: date | None = None
    # The first day metrics were stored: before it, milestones could not be seen from data.
    first_metrics_day: date | None = None
    features: list[Feature] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)


# What a report may ask load_book for (``parts``); the accounts always come. Touchpoints read the
# contacts (their attendees' roles), so asking for them loads the contacts too.
PARTS = frozenset(
    {
        "contracts",
        "contacts",
        "nps",
        "tickets",
        "milestones",
        "opportunities",
        "referrals",
        "risk_flags",
        "touchpoints",
        "metrics",
        "features",
        "users",
    }
)


# The Book fields of a part, where they are not just the part's name.
_FIELDS = {
    "tickets": ("high_priority_tickets",),
    "milestones": ("milestones", "milestone_templates"),
}


class NotLoaded(dict[Any, Any]):
    """A part of the book its report did not ask for: reading it is a bug, said at once (an
    empty part would quietly read as "no contacts", "no NPS" …)."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def _refuse(self, *_: object) -> Any:
        raise RuntimeError(f"book.{self.part} was not loaded: add it to load_book(parts=…)")

    __getitem__ = __iter__ = __len__ = __contains__ = get = items = values = keys = _refuse


def _group(rows: Iterable[T], key: str, into: dict[int, list[T]]) -> None:
    for row in rows:
        into[getattr(row, key)].append(row)


def stored_metrics_by_account(
    session: Session, on_or_before: date | None = None, account_ids: Iterable[int] | None = None
) -> tuple[dict[int, dict[str, Any]], date | None]:
    """The latest stored metrics per account (every account's, or these), on or before a day
    when given (empty when `tenure metrics compute` never ran for such a day)."""
    from tenure.metrics.service import stored_metrics
    from tenure.model.metric_snapshot import MetricSnapshot

    query = sa.select(sa.func.max(MetricSnapshot.as_of))
    if on_or_before is not None:
        query = query.where(MetricSnapshot.as_of <= on_or_before)
    day = session.scalar(query)
    if day is None:
        return {}, None
    frame = stored_metrics(session, day, account_ids)
    records = frame.to_dict("records")
    out = {}
    for r in records:
        out[int(r["account_id"])] = {
            k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()
        }
    return out, day


def load_book(
    session: Session,
    as_of: date,
    account_ids: Iterable[int] | None = None,
    *,
    parts: Iterable[str] | None = None,
) -> Book:
    """Load the accounts (all, or the given ids) and everything the frameworks read about them —
    or only the ``parts`` (:data:`PARTS`) a report reads: at 10,000 accounts the whole book is
    hundreds of thousands of rows (contacts, touchpoints, every red health day).

    The stored metrics are the loaded accounts' only: the day's whole table costs ~0.4-2 s at
    10,000 accounts, and a book of some accounts reads no other's (stored values are floats
    or text, the same whichever accounts are read with them)."""
    ids = None if account_ids is None else sorted(set(account_ids))
    want = PARTS if parts is None else frozenset(parts)
    if unknown := want - PARTS:
        raise ValueError(f"load_book: no part {', '.join(sorted(unknown))}")
    if "touchpoints" in want:
        want |= {"contacts"}

    def scoped(model: Any) -> sa.Select[Any]:
        statement = sa.select(model)
        if ids is not None:
            statement = statement.where(model.account_id.in_(ids))
        return statement

    accounts_q = sa.select(Account)
    if ids is not None:
        accounts_q = accounts_q.where(Account.id.in_(ids))
    book = Book(as_of=as_of, accounts={a.id: a for a in session.scalars(accounts_q)})
    for part in PARTS - want:
        for name in _FIELDS.get(part, (part,)):
            setattr(book, name, NotLoaded(name))
    if "contracts" in want:
        _group(
            session.scalars(scoped(Contract).order_by(Contract.starts_on)),
            "account_id",
            book.contracts,
        )
    contact_roles: dict[int, frozenset[str]] = {}
    if "contacts" in want:
        contact_roles = _load_contacts(session, scoped(Contact), book)
    if "nps" in want:
        nps_rows = session.execute(
            scoped(SurveyResponse)
            .with_only_columns(
                SurveyResponse.account_id, SurveyResponse.score, SurveyResponse.responded_at
            )
            .where(SurveyResponse.kind == "nps")
            .order_by(SurveyResponse.responded_at)
        )
        for account_id, score, responded_at in nps_rows:
            book.nps[account_id].append(NpsRow(score, utc_day(responded_at)))
    if "tickets" in want:
        tickets = session.execute(
            scoped(Ticket)
            .with_only_columns(Ticket.account_id, Ticket.opened_at)
            .where(Ticket.priority.in_(["high", "urgent"]))
        )
        for account_id, opened_at in tickets:
            book.high_priority_tickets[account_id].append(utc_day(opened_at))
    if "milestones" in want:
        _group(
            session.scalars(scoped(Milestone).order_by(Milestone.due_on)),
            "account_id",
            book.milestones,
        )
        book.milestone_templates = {t.id: t for t in session.scalars(sa.select(MilestoneTemplate))}
    if "opportunities" in want:
        _group(session.scalars(scoped(Opportunity)), "account_id", book.opportunities)
    if "referrals" in want:
        _group(session.scalars(scoped(Referral)), "account_id", book.referrals)
    if "risk_flags" in want:
        for cta in session.scalars(scoped(Cta).where(Cta.kind == "risk")):
            book.risk_flags[cta.account_id].append(cta.opened_on)
        red_days = session.execute(
            scoped(HealthScore)
            .with_only_columns(HealthScore.account_id, HealthScore.as_of)
            .where(HealthScore.band == RISK_BAND)
        )
        for account_id, day in red_days:
            book.risk_flags[account_id].append(day)
    if "touchpoints" in want:
        _load_touchpoints(session, scoped(Touchpoint), ids, contact_roles, book)
    if "metrics" in want:
        book.metrics, book.metrics_as_of = stored_metrics_by_account(session, as_of, ids)
        from tenure.model.metric_snapshot import MetricSnapshot

        book.first_metrics_day = session.scalar(sa.select(sa.func.min(MetricSnapshot.as_of)))
    if "features" in want:
        book.features = list(session.scalars(sa.select(Feature).order_by(Feature.released_on)))
    if "users" in want:
        book.users = {u.id: u for u in session.scalars(sa.select(User))}
    return book


def _load_contacts(
    session: Session, statement: sa.Select[Any], book: Book
) -> dict[int, frozenset[str]]:
    """The contacts into the book; returns each contact's engaged roles (touchpoints read them)."""
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
        statement.with_only_columns(Contact.account_id, *contact_columns)
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
        contact_roles[row.id] = value.engaged_roles(row.roles, row.level)
    return contact_roles


def _load_touchpoints(
    session: Session,
    statement: sa.Select[Any],
    ids: list[int] | None,
    contact_roles: dict[int, frozenset[str]],
    book: Book,
) -> None:
    roles: dict[int, set[str]] = defaultdict(set)
    attendees = sa.select(touchpoint_attendee.c.touchpoint_id, touchpoint_attendee.c.contact_id)
    if ids is not None:
        attendees = attendees.join(
            Touchpoint, Touchpoint.id == touchpoint_attendee.c.touchpoint_id
        ).where(Touchpoint.account_id.in_(ids))
    for touchpoint_id, contact_id in session.execute(attendees):
        roles[touchpoint_id] |= contact_roles.get(contact_id, frozenset())
    touchpoints = session.execute(
        statement.with_only_columns(
            Touchpoint.id, Touchpoint.account_id, Touchpoint.kind, Touchpoint.occurred_at
        )
    )
    for tp_id, account_id, kind, occurred_at in touchpoints:
        book.touchpoints[account_id].append(
            value.TouchpointFact(utc_day(occurred_at), str(kind), frozenset(roles.get(tp_id, ())))
        )


def load_one(
    session: Session, external_id: int | str, as_of: date, *, parts: Iterable[str] | None = None
) -> tuple[Book, Account]:
    """One account's book (its ``parts``, else all), with its own stored metrics only."""
    account = get_account(session, external_id)
    return load_book(session, as_of, [account.id], parts=parts), account


def active_contracts(book: Book, account_id: int, day: date) -> list[Contract]:
    """The account's contracts active on ``day`` (tenure.accounts.arr)."""
    return active_on(book.contracts[account_id], day)


def last_nps(book: Book, account_id: int, before: date) -> int | None:
    answers = [r for r in book.nps[account_id] if r.responded_on <= before]
    return answers[-1].score if answers else None


def signing_facts(a: Account) -> dict[str, Any]:
    """The account's attributes and custom fields as dotted facts: its handoff answers
    (``handoff.<key>``) and outcome measurements (``outcome.<key>``), ``custom.<key>`` else."""
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
    return facts


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
    facts = signing_facts(book.accounts[account_id])
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


def monitored_since(session: Session, book: Book) -> date | None:
    """The first day Tenure watched this base: its first stored metrics or health score. Before
    it nothing could have been foreseen or measured (a base older than its Tenure install)."""
    first_health = session.scalar(sa.select(sa.func.min(HealthScore.as_of)))
    days = [d for d in (book.first_metrics_day, first_health) if d is not None]
    return min(days) if days else None


def metric(book: Book, account_id: int, slug: str) -> float | None:
    v = book.metrics.get(account_id, {}).get(slug)
    return None if v is None else float(v)


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


def champions_of(book: Book, account_id: int, day: date) -> list[ContactRow]:
    return [
        c
        for c in book.contacts[account_id]
        if "champion" in (c.roles or []) and (c.left_on is None or c.left_on > day)
    ]


def milestone_status_of(
    m: Milestone, template: MilestoneTemplate | None, first_measured: date | None, as_of: date
) -> milestones.StatusResult:
    """One milestone's status as reported: a milestone found reached on the first measured day
    (``baseline``) has no known lateness; one marked by hand (no rule) and due before anything
    was measured is unknown, not stuck."""
    by_hand = template is None or template.rule is None
    return milestones.milestone_status(
        m.due_on,
        m.reached_on,
        as_of,
        reach_day_known=m.reached_by != "baseline",
        watched_from=first_measured if by_hand else None,
    )


def book_milestone_status(book: Book, m: Milestone) -> milestones.StatusResult:
    template = book.milestone_templates.get(m.template_id) if m.template_id else None
    return milestone_status_of(m, template, book.first_metrics_day, book.as_of)


def identified_roles(book: Book, account_id: int, day: date) -> frozenset[str]:
    """The relationship roles known on the account on ``day``: its current contacts' roles."""
    out: frozenset[str] = frozenset()
    for c in book.contacts[account_id]:
        if (c.joined_on is None or c.joined_on <= day) and (c.left_on is None or c.left_on > day):
            out |= value.engaged_roles(c.roles, c.level)
    return out


def value_stage_of(book: Book, account_id: int) -> value.ValueStage:
    return value.value_stage(
        book.touchpoints[account_id],
        len(champions_of(book, account_id, book.as_of)),
        book.as_of,
        identified=identified_roles(book, account_id, book.as_of),
        productivity_measured=any(
            metric(book, account_id, key) is not None for key, _, _ in value.PRODUCTIVITY
        ),
    )
