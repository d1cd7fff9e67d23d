"""The per-account facts table rules read, loaded from the operational tables on an as-of date.

Each source returns ``{account_id: {fact: value}}``; sources are merged in order. The accounts
evaluated are the customers on the as-of date: a contract in force, or onboarding. Only rows
dated on or before the as-of date are read, so a past date is previewed as it was then.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import MULTIPLE_CURRENCIES, active_clause, arr_by_currency, one_figure
from tenure.accounts.fx import convert
from tenure.accounts.renewal import RENEWING_COLUMNS, bookings, renewal_on
from tenure.dates import end_of, utc_day
from tenure.model import (
    Account,
    ChurnRiskScore,
    Contact,
    Contract,
    FxRate,
    HealthScore,
    MetricSnapshot,
    Milestone,
    MilestoneTemplate,
    Opportunity,
    ReportingCurrency,
    ScorecardVersion,
    SurveyKind,
    SurveyResponse,
    Ticket,
    TicketPriority,
    Touchpoint,
    User,
)
from tenure.playbooks.ctas import AccountContext, Planned
from tenure.playbooks.rules import CUSTOMER
from tenure.risk.figures import churn_probability
from tenure.success.figures import digest, table_changes

NPS_LOOKBACK_DAYS = 180  # an older answer says little about today's sentiment
CHAMPION_LOOKBACK_DAYS = 365

Facts = dict[int, dict[str, Any]]
FactSource = Callable[[Session, date, "FactsTable"], Facts]


def nps_category(score: int) -> str:
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


@dataclass
class FactsTable:
    as_of: date
    facts: Facts = field(default_factory=dict)
    accounts: dict[int, AccountContext] = field(default_factory=dict)
    managers: dict[int, int | None] = field(default_factory=dict)  # user id → manager id
    sources: list[str] = field(default_factory=list)
    # Previews planned on this table, by rule and settings (service.preview): a plan as if the
    # rule were new reads nothing but the facts, so it holds as long as the table is kept.
    previews: dict[str, list[Planned]] = field(default_factory=dict)

    @cached_property
    def fact_names(self) -> frozenset[str]:
        """The facts some account has (read once the table is built: a kept table is read by
        every preview of its day)."""
        return frozenset(name for values in self.facts.values() for name in values)

    def merge(self, name: str, facts: Facts) -> None:
        self.sources.append(name)
        for account_id, values in facts.items():
            if account_id in self.facts:
                self.facts[account_id].update(values)


def operational_facts(session: Session, as_of: date, table: FactsTable) -> Facts:
    """Contracts, surveys, contacts, touchpoints and tickets (see default_rules.yaml)."""
    facts: Facts = defaultdict(dict)
    _renewal_facts(session, as_of, facts)
    for account_id, (arr, currency) in one_figure(arr_by_currency(session, as_of)).items():
        if arr is not None:  # an account paying in two currencies has no one ARR: unknown
            facts[account_id]["arr"] = arr
        facts[account_id]["arr_currency"] = currency
    accounts = session.execute(
        sa.select(Account.id, Account.created_on, Account.onboarded_on)
    ).all()
    for account_id, created_on, onboarded_on in accounts:
        onboarding = (created_on is None or created_on <= as_of) and (
            onboarded_on is None or onboarded_on > as_of
        )
        if account_id in facts or (onboarding and created_on is not None):
            facts[account_id]["in_onboarding"] = onboarding
    _nps_facts(session, as_of, facts)
    _champion_facts(session, as_of, facts)
    _touchpoint_and_ticket_facts(session, as_of, facts)
    for values in facts.values():  # a contract in force (tenure.accounts.arr): a customer
        values[CUSTOMER] = "arr_currency" in values
    return dict(facts)


def _renewal_facts(session: Session, as_of: date, facts: Facts) -> None:
    """days_to_renewal: to the earliest renewal not yet booked (tenure.accounts.renewal: a
    renewal booked is decided, and a monthly subscription renewing itself has none to prepare);
    renewal_booked: one of the active contracts' renewals is booked."""
    live = session.execute(sa.select(*RENEWING_COLUMNS).where(active_clause(as_of))).all()
    booked = bookings(session, live, as_of)
    for contract in live:
        values = facts[contract.account_id]
        values["renewal_booked"] = values.get("renewal_booked", False) or contract.id in booked
        renews_on = renewal_on(contract)
        if contract.id in booked or renews_on is None:
            continue
        days = (renews_on - as_of).days
        values["days_to_renewal"] = min(days, values.get("days_to_renewal", days))


def _nps_facts(session: Session, as_of: date, facts: Facts) -> None:
    since = end_of(as_of - timedelta(days=NPS_LOOKBACK_DAYS + 1))
    rows = session.execute(
        sa.select(SurveyResponse.account_id, SurveyResponse.score, SurveyResponse.responded_at)
        .where(
            SurveyResponse.kind == SurveyKind.nps,
            SurveyResponse.responded_at >= since,
            SurveyResponse.responded_at < end_of(as_of),
        )
        .order_by(SurveyResponse.responded_at, SurveyResponse.id)
    )
    for account_id, score, responded_at in rows:  # later answers overwrite earlier ones
        if account_id in facts:
            facts[account_id]["nps_score"] = score
            facts[account_id]["nps_category"] = nps_category(score)
            facts[account_id]["days_since_nps"] = (as_of - utc_day(responded_at)).days


def _champion_facts(session: Session, as_of: date, facts: Facts) -> None:
    rows = session.execute(
        sa.select(Contact.account_id, Contact.roles, Contact.left_on).where(
            Contact.left_on <= as_of,
            Contact.left_on > as_of - timedelta(days=CHAMPION_LOOKBACK_DAYS),
        )
    )
    for account_id, roles, left_on in rows:
        if left_on is not None and account_id in facts and "champion" in (roles or []):
            days = (as_of - left_on).days
            previous = facts[account_id].get("champion_left_days_ago", days)
            facts[account_id]["champion_left_days_ago"] = min(days, previous)


def _touchpoint_and_ticket_facts(session: Session, as_of: date, facts: Facts) -> None:
    last_touch = session.execute(
        sa.select(Touchpoint.account_id, sa.func.max(Touchpoint.occurred_at))
        .where(Touchpoint.occurred_at < end_of(as_of))
        .group_by(Touchpoint.account_id)
    )
    for account_id, occurred_at in last_touch:
        if account_id in facts:
            facts[account_id]["days_since_touchpoint"] = (as_of - utc_day(occurred_at)).days
    open_urgent = session.execute(
        sa.select(Ticket.account_id, sa.func.count())
        .where(
            Ticket.priority == TicketPriority.urgent,
            Ticket.opened_at < end_of(as_of),
            sa.or_(Ticket.closed_at.is_(None), Ticket.closed_at >= end_of(as_of)),
        )
        .group_by(Ticket.account_id)
    )
    counts = dict(open_urgent.all())
    for account_id, row in facts.items():
        row["open_urgent_tickets"] = counts.get(account_id, 0)


UTILIZATION_WINDOW_DAYS = 30
# Metrics whose fact another source owns: days_to_renewal is the renewal facts' (a booked
# renewal has none), so the metric's plain days-to-end must not fill the gap.
OWNED_ELSEWHERE = frozenset({"days_to_renewal"})


def metric_facts(session: Session, as_of: date, table: FactsTable) -> Facts:
    """The metric registry's values stored for the as-of date (``tenure metrics compute``), and
    ``license_utilization_max_30d`` when every one of the last 30 days was stored."""
    facts: Facts = {}
    for account_id, values in session.execute(
        sa.select(MetricSnapshot.account_id, MetricSnapshot.values).where(
            MetricSnapshot.as_of == as_of
        )
    ):
        facts[account_id] = {
            k: v for k, v in (values or {}).items() if v is not None and k not in OWNED_ELSEWHERE
        }
    start = as_of - timedelta(days=UTILIZATION_WINDOW_DAYS - 1)
    in_window = sa.and_(MetricSnapshot.as_of >= start, MetricSnapshot.as_of <= as_of)
    days = session.scalar(
        sa.select(sa.func.count(sa.distinct(MetricSnapshot.as_of))).where(in_window)
    )
    if days == UTILIZATION_WINDOW_DAYS:
        # Only the one value, read in SQL: decoding every snapshot of 30 days is 300,000 JSON
        # documents at 10,000 accounts.
        window = session.execute(
            sa.select(
                MetricSnapshot.account_id,
                MetricSnapshot.values["license_utilization"].as_float(),
            ).where(in_window)
        )
        highest: dict[int, float] = {}
        seen: Counter[int] = Counter()
        for account_id, value in window:
            if value is not None:
                seen[account_id] += 1
                highest[account_id] = max(float(value), highest.get(account_id, float("-inf")))
        for account_id, value in highest.items():
            if seen[account_id] == UTILIZATION_WINDOW_DAYS and account_id in facts:
                facts[account_id]["license_utilization_max_30d"] = value
    return facts


def health_facts(session: Session, as_of: date, table: FactsTable) -> Facts:
    """The health band and score stored for the as-of date: the scorecard version in force when
    it scored the day, else the latest row (tenure.health.versions)."""
    from tenure.health.versions import in_force_row

    facts: Facts = {}
    current = in_force_row(session)
    in_force = (
        sa.and_(
            HealthScore.scorecard == current.scorecard,
            HealthScore.scorecard_version == current.version,
        )
        if current is not None
        else sa.false()
    )
    rows = session.execute(
        sa.select(HealthScore.account_id, HealthScore.band, HealthScore.score)
        .where(HealthScore.as_of == as_of)
        .order_by(sa.case((in_force, 1), else_=0), HealthScore.id)
    )
    for account_id, band, score in rows:
        facts[account_id] = {"health_band": band, "health_score": score}
    return facts


def risk_facts(session: Session, as_of: date, table: FactsTable) -> Facts:
    """The churn model's scores stored for the as-of date (the latest model version wins).

    ``churn_probability`` is the account's one churn probability (tenure.risk.figures: P(churn
    at the next renewal) when a renewal is due within the model's reach, else P(churn in the
    model's window)), the figure every page shows; ``in_alert_set`` marks the day's
    top decile; ``arr_at_risk`` = ARR × P(churn at next renewal).
    """
    facts: Facts = {}
    rows = session.execute(
        sa.select(
            ChurnRiskScore.account_id,
            ChurnRiskScore.probability,
            ChurnRiskScore.renewal_probability,
            ChurnRiskScore.in_alert_set,
            ChurnRiskScore.arr_at_risk,
        )
        .where(ChurnRiskScore.as_of == as_of)
        .order_by(ChurnRiskScore.id)
    )
    for account_id, probability, renewal_probability, alert, at_risk in rows:
        values: dict[str, Any] = {
            "churn_probability": churn_probability(probability, renewal_probability),
            "in_alert_set": alert,
        }
        if at_risk is not None:
            values["arr_at_risk"] = float(at_risk)
        facts[account_id] = values
    return facts


MILESTONE_LOOKBACK_DAYS = 365


def milestone_facts(session: Session, as_of: date, table: FactsTable) -> Facts:
    """Days since the latest success milestone reached, overall and those opening an expansion."""
    facts: Facts = defaultdict(dict)
    rows = session.execute(
        sa.select(Milestone.account_id, Milestone.reached_on, MilestoneTemplate.opens)
        .outerjoin(MilestoneTemplate, MilestoneTemplate.id == Milestone.template_id)
        .where(Milestone.reached_on <= as_of)
        .where(Milestone.reached_on > as_of - timedelta(days=MILESTONE_LOOKBACK_DAYS))
    )
    for account_id, reached_on, opens in rows:
        if reached_on is None:
            continue
        days = (as_of - reached_on).days
        names = ["milestone_reached_days_ago"]
        if opens == "expansion":
            names.append("expansion_milestone_reached_days_ago")
        for name in names:
            facts[account_id][name] = min(days, facts[account_id].get(name, days))
    return dict(facts)


SOURCES: list[tuple[str, FactSource]] = [
    ("operational", operational_facts),
    ("metrics", metric_facts),
    ("health", health_facts),
    ("risk", risk_facts),
    ("milestones", milestone_facts),
]


def build_facts(
    session: Session, as_of: date, sources: list[tuple[str, FactSource]] | None = None
) -> FactsTable:
    """Every source's facts merged per account, with each account's owner and ARR at risk.

    ARR at risk: the risk model's stored value, else ARR × churn probability; without a risk
    model the whole ARR counts (ranking by ARR is then the conservative choice). It is also
    converted into the reporting currency at ``as_of``'s rates, which the daily cap ranks by.
    """
    table = FactsTable(as_of)
    for name, source in sources or SOURCES:
        found = source(session, as_of, table)
        if not table.facts:
            table.facts = {a: dict(v) for a, v in found.items()}
            table.sources.append(name)
        else:
            table.merge(name, found)
    rates = fx_service.rate_table(session, on=as_of)
    for account_id, external_id, owner_id in session.execute(
        sa.select(Account.id, Account.external_id, Account.owner_id)
    ):
        if account_id not in table.facts:
            continue
        values = table.facts[account_id]
        arr = float(values.get("arr", 0.0))
        probability = values.get("churn_probability")
        at_risk = values.get("arr_at_risk")
        if at_risk is None:
            at_risk = arr * float(probability) if probability is not None else arr
        currency = values.get("arr_currency")
        converted = (
            convert({currency: float(at_risk)}, rates, as_of).amount
            if currency and currency != MULTIPLE_CURRENCIES
            else None
        )
        table.accounts[account_id] = AccountContext(
            account_id, external_id, owner_id, float(at_risk), currency, converted
        )
    table.managers = dict(session.execute(sa.select(User.id, User.manager_id)).all())
    return table


# The operational tables the sources read, whole: a row added, changed or removed in any of
# them may change a fact (a touchpoint logged, a contract booked, an owner reassigned).
_READ_WHOLE = (
    Account,
    Contract,
    Opportunity,
    SurveyResponse,
    Contact,
    Contract,
    Touchpoint,
    Ticket,
    Milestone,
    MilestoneTemplate,
    FxRate,
    ReportingCurrency,
    User,
)


def facts_fingerprint(session: Session, as_of: date) -> str:
    """A cheap fingerprint of every row :func:`build_facts` reads for ``as_of``: each operational
    table's row count and last change (:func:`tenure.success.figures.table_changes`); for the
    stored metrics, health and risk scores — a day rewritten as a whole — the day's row count and
    the table's last write (any day's: a conservative test, read from an index, migration 0361);
    and the scorecard version in force."""
    stored = [
        (MetricSnapshot.as_of, MetricSnapshot.computed_at),
        (HealthScore.as_of, HealthScore.computed_at),
        (ChurnRiskScore.as_of, ChurnRiskScore.updated_at),
    ]
    columns = [
        column
        for day, written in stored
        for column in (
            sa.select(sa.func.count()).where(day == as_of).scalar_subquery(),
            sa.select(sa.func.max(written)).scalar_subquery(),
        )
    ]
    columns += [
        sa.select(sa.func.count()).select_from(ScorecardVersion).scalar_subquery(),
        sa.select(sa.func.max(ScorecardVersion.in_force_since)).scalar_subquery(),
    ]
    days = tuple(session.execute(sa.select(*columns)).one())
    return digest(as_of, table_changes(session, *_READ_WHOLE), days)


FACTS_KEPT = 4  # as-of days per database held in memory (about 10 MB each at 10,000 accounts)
_kept: dict[tuple[str, date], tuple[str, FactsTable]] = {}
_kept_lock = threading.Lock()


def facts_on(session: Session, as_of: date) -> FactsTable:
    """:func:`build_facts` of ``as_of``, kept in memory while nothing it read has changed
    (:func:`facts_fingerprint`): a preview of another rule, or of a draft in the rule builder,
    evaluates the day's facts again instead of reading the whole book again. The table is
    shared: read it, never change it."""
    key = (session.get_bind().engine.url.render_as_string(), as_of)
    fingerprint = facts_fingerprint(session, as_of)
    with _kept_lock:
        found = _kept.get(key)
    if found is not None and found[0] == fingerprint:
        return found[1]
    table = build_facts(session, as_of)
    with _kept_lock:
        _kept.pop(key, None)
        _kept[key] = (fingerprint, table)
        while len(_kept) > FACTS_KEPT:
            del _kept[next(iter(_kept))]
    return table
