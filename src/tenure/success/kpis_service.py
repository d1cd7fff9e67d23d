"""Success KPIs for a period, per segment or CSM."""

from __future__ import annotations

import functools
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import arr as arr_module
from tenure.accounts import fx, fx_service, hierarchy
from tenure.accounts.fx import RateTable
from tenure.errors import InvalidInput
from tenure.model import AccountOwnership, Contract, Referral, ReportingCurrency
from tenure.model.base import utcnow
from tenure.success import book as book_module
from tenure.success import figures, fit, kpis
from tenure.success.book import (
    Book,
    account_facts,
    active_contracts,
    first_value_on,
    load_book,
    metric,
    signed_on,
    stored_metrics_by_account,
)


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


@dataclass(frozen=True)
class _Shared:
    """What every period of a KPI history reads alike: the book's records (``load_book`` filters
    nothing by day but the stored metrics), the fit at signing, referrals and top parents."""

    book: Book
    fit_bands: dict[int, str]
    referred: frozenset[int | None]
    heads: dict[int, str]


# What the KPIs read of the book (fit at signing reads the accounts themselves).
KPI_PARTS = ("contracts", "nps", "milestones", "opportunities", "metrics", "users")


def _shared(session: Session, as_of: date, config: fit.FitConfig | None) -> _Shared:
    book = load_book(session, as_of, parts=KPI_PARTS)
    fit_config = config or _shipped_fit_config()
    referred = frozenset(
        session.scalars(
            sa.select(Referral.referred_account_id).where(
                Referral.kind == "referral", Referral.referred_account_id.is_not(None)
            )
        )
    )
    parents = {a: account.parent_id for a, account in book.accounts.items()}
    heads = {
        account_id: book.accounts.get(hierarchy.top_parent_of(parents, account_id), account).name
        for account_id, account in book.accounts.items()
    }
    # Fit at signing reads the account's attributes and handoff answers only: one assessment per
    # account serves every period.
    fit_bands = {
        account_id: fit.assess_fit(
            account_facts(book, account_id, at_signing=True), fit_config
        ).fit_band.value
        for account_id in book.accounts
    }
    return _Shared(book, fit_bands, referred, heads)


@dataclass(frozen=True)
class _PeriodFacts:
    accounts: list[kpis.AccountFact]
    contracts: list[kpis.ContractFact]
    answers: list[kpis.NpsAnswer]
    deals: list[kpis.DealFact]
    rates: RateTable


def _period_facts(session: Session, shared: _Shared, period: kpis.Period) -> _PeriodFacts:
    book = shared.book
    if book.as_of != period.last_day:
        # Usage facts come from the metrics stored on or before the period's last day.
        metrics, metrics_as_of = stored_metrics_by_account(session, period.last_day)
        book = replace(book, as_of=period.last_day, metrics=metrics, metrics_as_of=metrics_as_of)
    owners = _owner_at(session, period.start)
    accounts, contracts, answers = [], [], []
    for account_id, account in book.accounts.items():
        owner_id = owners.get(account_id, account.owner_id)
        owner = book.users.get(owner_id) if owner_id else None
        seats = sum(
            c.licensed_seats or 0 for c in active_contracts(book, account_id, period.last_day)
        )
        active = metric(book, account_id, "active_users_28d")
        accounts.append(
            kpis.AccountFact(
                account_id=account_id,
                segment=account.segment,
                csm=(owner.name or owner.email) if owner else None,
                active_users=None if active is None else int(active),
                licensed_seats=seats or None,
                feature_share=metric(book, account_id, "feature_breadth"),
                first_contract_on=signed_on(book, account_id),
                first_value_on=first_value_on(book, account_id),
                fit_band=shared.fit_bands[account_id],
                referred=account_id in shared.referred,
                top_parent=shared.heads[account_id],
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
                status=c.status,
                outcome_on=c.outcome_on,
                auto_renews=c.auto_renews,
            )
            for c in book.contracts[account_id]
        ]
        answers += [
            kpis.NpsAnswer(account_id, r.score, r.responded_on) for r in book.nps[account_id]
        ]
    deals = [
        kpis.DealFact(o.account_id, o.kind.value, o.status == "won", o.currency, o.amount, day)
        for account_id in book.accounts
        for o in book.opportunities[account_id]
        if o.status != "open" and (day := o.closed_on or o.close_on) is not None
    ]
    rates = fx_service.rate_table(session, on=period.last_day)
    return _PeriodFacts(accounts, contracts, answers, deals, rates)


def _period_reports(
    session: Session, shared: _Shared, period: kpis.Period, groupings: Sequence[kpis.GroupBy]
) -> dict[kpis.GroupBy, kpis.KpiReport]:
    """The period's KPIs in each grouping, from one reading of its facts."""
    f = _period_facts(session, shared, period)
    return {
        by: kpis.compute_kpis(period, f.accounts, f.contracts, f.answers, by, f.deals, f.rates)
        for by in groupings
    }


def _period_report(
    session: Session, shared: _Shared, period: kpis.Period, by: kpis.GroupBy
) -> kpis.KpiReport:
    return _period_reports(session, shared, period, [by])[by]


def kpi_report(
    session: Session, period: kpis.Period, by: kpis.GroupBy, config: fit.FitConfig | None = None
) -> kpis.KpiReport:
    """KPIs for the period; per CSM uses the owner at the period's start (history kept)."""
    return _period_report(session, _shared(session, period.last_day, config), period, by)


def quarters_before(as_of: date, count: int) -> list[kpis.Period]:
    """The last ``count`` complete calendar quarters before ``as_of``'s quarter, oldest first."""
    if not 1 <= count <= 12:
        raise InvalidInput(f"quarters: {count} is outside 1–12")
    start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    periods = []
    for _ in range(count):
        previous = date(start.year - (start.month == 1), (start.month - 4) % 12 + 1, 1)
        periods.append(kpis.Period(previous, start))
        start = previous
    return periods[::-1]


def cohort_retention(session: Session, as_of: date, *, max_months: int) -> kpis.CohortRetention:
    """Logo and ARR retention curves of every start-quarter cohort (see kpis.cohort_retention),
    as the daily run stored them on the latest day up to ``as_of`` (saying which); computed now
    (and stored, when none is) for an earlier day, a longer limit or changed code."""
    settings = kpi_settings_digest(session)
    stored = figures.read_snapshot(session, COHORTS, settings)
    if stored is not None and stored[1] <= as_of and max_months <= STORED_COHORT_MONTHS:
        retention = kpis.CohortRetention.model_validate(stored[0])
        return kpis.truncate_cohorts(retention, max_months)
    if stored is None and max_months <= STORED_COHORT_MONTHS:
        return kpis.truncate_cohorts(_store_cohorts(session, as_of, settings), max_months)
    live = _computed_cohorts(session, as_of, max_months)
    return live.model_copy(update={"computed_on": as_of})


def _store_cohorts(session: Session, as_of: date, settings: str) -> kpis.CohortRetention:
    retention = _computed_cohorts(session, as_of, STORED_COHORT_MONTHS)
    retention = retention.model_copy(update={"computed_on": as_of})
    figures.write_snapshot(session, COHORTS, settings, as_of, retention.model_dump(mode="json"))
    return retention


def _computed_cohorts(session: Session, as_of: date, max_months: int) -> kpis.CohortRetention:
    rows = session.execute(
        sa.select(
            Contract.account_id,
            Contract.currency,
            Contract.starts_on,
            Contract.ends_on,
            Contract.arr,
            Contract.status,
            Contract.outcome_on,
            Contract.renewal_outcome,
            Contract.auto_renews,
        )
    )
    facts = [
        kpis.ContractFact(
            a,
            cur,
            start,
            end,
            float(arr),
            outcome.value if outcome else None,
            status=status,
            outcome_on=outcome_on,
            auto_renews=renews,
        )
        for a, cur, start, end, arr, status, outcome_on, outcome, renews in rows
    ]
    return kpis.cohort_retention(facts, as_of, max_months=max_months)


# --- stored figures (tenure.success.figures): the daily run computes, pages read -------------

# The most quarters the page and the API offer: the daily run keeps them all computed.
STORED_QUARTERS = 12
# Cohort curves are stored this long; every shorter limit is a prefix of them.
STORED_COHORT_MONTHS = 120
COHORTS = "cohorts"
# The code computing the KPIs, as imported by this process (tenure.success.figures).
_KPI_CODE = figures.code_digest(
    kpis, sys.modules[__name__], book_module, fit, arr_module, fx, fx_service
)


@functools.cache
def _shipped_fit_config() -> fit.FitConfig:
    """The fit criteria the stored KPIs use (good-fit share), read once per process: the
    figures and their digest see the same criteria."""
    return fit.load_fit_config()


@functools.cache
def _formulas_digest() -> str:
    return figures.digest(_shipped_fit_config().model_dump_json(), _KPI_CODE)


def kpi_settings_digest(session: Session) -> str:
    """What the KPIs depend on besides the records: the reporting currency chosen (none chosen:
    the book's most common currency, which follows the contracts — the inputs digest) and the
    formulas."""
    chosen = session.scalar(sa.select(ReportingCurrency.currency).limit(1))
    return figures.digest(chosen, _formulas_digest())


def _shared_inputs_digest(session: Session) -> str:
    """The records every quarter's KPIs read, only the columns read (a sync rewriting a record
    unchanged changes nothing): the accounts (segment, owner, family, fit at signing, signature
    and go-live days), contracts, owners over time, CSM names, referrals, first-value
    milestones and exchange rates."""
    from tenure.model import Account, FxRate, Milestone, User

    return figures.rows_digest(
        session,
        [
            sa.select(
                Account.id,
                Account.name,
                Account.parent_id,
                Account.segment,
                Account.experience_segment,
                Account.industry,
                Account.employee_count,
                Account.region,
                Account.owner_id,
                Account.created_on,
                Account.onboarded_on,
                Account.custom,
            ).order_by(Account.id),
            sa.select(
                Contract.id,
                Contract.account_id,
                Contract.currency,
                Contract.starts_on,
                Contract.ends_on,
                Contract.arr,
                Contract.renewal_outcome,
                Contract.status,
                Contract.outcome_on,
                Contract.auto_renews,
                Contract.licensed_seats,
            ).order_by(Contract.id),
            sa.select(
                AccountOwnership.account_id,
                AccountOwnership.user_id,
                AccountOwnership.started_at,
                AccountOwnership.ended_at,
            ).order_by(AccountOwnership.id),
            sa.select(User.id, User.name, User.email).order_by(User.id),
            sa.select(Referral.referred_account_id, Referral.kind).order_by(Referral.id),
            sa.select(Milestone.account_id, Milestone.reached_on, Milestone.reached_by)
            .where(Milestone.key == "first_value")
            .order_by(Milestone.id),
            sa.select(
                FxRate.reporting_currency, FxRate.currency, FxRate.rate_on, FxRate.rate
            ).order_by(FxRate.id),
        ],
    )


def _quarter_inputs_digest(session: Session, period: kpis.Period) -> str:
    """The records only this quarter reads: its NPS answers (a day's margin either side for the
    time of day) and the deals closed in it — an answer or a deal of another quarter leaves it
    as stored."""
    from tenure.model import Opportunity, SurveyResponse

    first = datetime.combine(period.start - timedelta(days=1), time(), UTC)
    after = datetime.combine(period.end + timedelta(days=1), time(), UTC)
    closed = sa.func.coalesce(Opportunity.closed_on, Opportunity.close_on)
    return figures.rows_digest(
        session,
        [
            sa.select(SurveyResponse.account_id, SurveyResponse.score, SurveyResponse.responded_at)
            .where(
                SurveyResponse.kind == "nps",
                SurveyResponse.responded_at >= first,
                SurveyResponse.responded_at < after,
            )
            .order_by(SurveyResponse.id),
            sa.select(
                Opportunity.account_id,
                Opportunity.kind,
                Opportunity.status,
                Opportunity.currency,
                Opportunity.amount,
                closed,
            )
            .where(Opportunity.status != "open", closed >= period.start, closed < period.end)
            .order_by(Opportunity.id),
        ],
    )


def _metrics_signature(session: Session, day: date) -> tuple[object, ...]:
    """Which stored metrics a quarter reads (the latest day on or before its last) and whether
    they were stored again since (their ids and time)."""
    from tenure.model.metric_snapshot import MetricSnapshot

    latest = session.scalar(
        sa.select(sa.func.max(MetricSnapshot.as_of)).where(MetricSnapshot.as_of <= day)
    )
    if latest is None:
        return (None,)
    count, last_id, last_at = session.execute(
        sa.select(
            sa.func.count(), sa.func.max(MetricSnapshot.id), sa.func.max(MetricSnapshot.computed_at)
        ).where(MetricSnapshot.as_of == latest)
    ).one()
    return (latest, count, last_id, str(last_at))


def _stored_reports(
    session: Session,
    periods: Sequence[kpis.Period],
    by: kpis.GroupBy,
    settings: str,
    page: tuple[int, int] | None = None,
) -> dict[kpis.Period, kpis.KpiReport]:
    """The stored reports of these periods still computed with today's settings; ``page``
    (offset, limit) reads only those groups of each."""
    from tenure.model import KpiFigures, KpiFiguresRow

    wanted = {(p.start, p.end): p for p in periods}
    stored = session.execute(
        sa.select(
            KpiFigures.id,
            KpiFigures.period_start,
            KpiFigures.period_end,
            KpiFigures.computed_on,
            KpiFigures.groups,
        ).where(
            KpiFigures.grouping == by.value,
            KpiFigures.settings_digest == settings,
            KpiFigures.period_start.in_([p.start for p in periods]),
        )
    ).all()
    found = {s.id: s for s in stored if (s.period_start, s.period_end) in wanted}
    rows: dict[int, list[kpis.KpiRow]] = {i: [] for i in found}
    if found:
        query = sa.select(KpiFiguresRow.figures_id, KpiFiguresRow.row).where(
            KpiFiguresRow.figures_id.in_(found)
        )
        if page is not None:
            offset, limit = page
            query = query.where(
                KpiFiguresRow.position >= offset, KpiFiguresRow.position < offset + limit
            )
        for figures_id, row in session.execute(query.order_by(KpiFiguresRow.position)):
            rows[figures_id].append(kpis.KpiRow.model_validate(row))
    return {
        wanted[(s.period_start, s.period_end)]: kpis.KpiReport(
            period=wanted[(s.period_start, s.period_end)].label,
            by=by,
            rows=rows[i],
            computed_on=s.computed_on,
            groups=s.groups,
        )
        for i, s in found.items()
    }


def _store_reports(
    session: Session,
    period: kpis.Period,
    reports: dict[kpis.GroupBy, kpis.KpiReport],
    settings: str,
    inputs: str | None,
    computed_on: date,
) -> None:
    from tenure.model import KpiFigures, KpiFiguresRow

    with figures.unless_stored_meanwhile(session):
        old = sa.select(KpiFigures.id).where(
            KpiFigures.period_start == period.start,
            KpiFigures.period_end == period.end,
            KpiFigures.grouping.in_([by.value for by in reports]),
        )
        session.execute(sa.delete(KpiFiguresRow).where(KpiFiguresRow.figures_id.in_(old)))
        session.execute(
            sa.delete(KpiFigures).where(
                KpiFigures.period_start == period.start,
                KpiFigures.period_end == period.end,
                KpiFigures.grouping.in_([by.value for by in reports]),
            )
        )
        now = utcnow()
        for by, report in reports.items():
            stored = KpiFigures(
                period_start=period.start,
                period_end=period.end,
                grouping=by.value,
                settings_digest=settings,
                inputs_digest=inputs,
                computed_on=computed_on,
                computed_at=now,
                groups=len(report.rows),
            )
            session.add(stored)
            session.flush()
            if report.rows:
                session.execute(
                    sa.insert(KpiFiguresRow),
                    [
                        {
                            "figures_id": stored.id,
                            "position": i,
                            "group_name": row.group[:300],
                            "row": row.model_dump(mode="json"),
                        }
                        for i, row in enumerate(report.rows)
                    ],
                )
        session.flush()


def _compute_and_store(
    session: Session,
    periods: Sequence[kpis.Period],
    groupings: Sequence[kpis.GroupBy],
    *,
    settings: str,
    inputs: dict[kpis.Period, str] | None,
    computed_on: date,
    store: bool = True,
    after_each: Callable[[], None] | None = None,
) -> dict[kpis.Period, dict[kpis.GroupBy, kpis.KpiReport]]:
    shared = _shared(session, max(p.last_day for p in periods), None)
    # Every period computed before any is stored: the daily run holds SQLite's write lock from
    # its first write to the step's end, so computing the next quarters after storing the first
    # kept the console's writes waiting through them.
    computed = {period: _period_reports(session, shared, period, groupings) for period in periods}
    out = {}
    for period, reports in computed.items():
        if store:
            _store_reports(
                session, period, reports, settings, inputs[period] if inputs else None, computed_on
            )
            if after_each is not None:
                after_each()
        out[period] = {
            by: report.model_copy(update={"computed_on": computed_on, "groups": len(report.rows)})
            for by, report in reports.items()
        }
    return out


def kpi_history(
    session: Session,
    as_of: date,
    *,
    quarters: int,
    by: kpis.GroupBy,
    page: tuple[int, int] | None = None,
) -> list[kpis.KpiReport]:
    """The last ``quarters`` quarters' KPIs as the daily run stored them (:func:`store_kpis`),
    oldest first, each saying the day of the data it was computed on. A quarter not stored yet
    (a base the daily run has not run on, a new quarter before its run) or stored with other
    settings (reporting currency, fit criteria, formulas) is computed now and stored.
    ``page`` = (offset, limit) returns only those groups of each quarter (10,000 families)."""
    from tenure.model import KpiFigures

    periods = quarters_before(as_of, quarters)
    settings = kpi_settings_digest(session)
    # Only the quarters the daily run keeps current (the last 12 before the newest stored day)
    # are read from the store and stored: an older quarter, asked for a day in the past, is
    # computed for the view — stored, nothing would recompute it after a late import.
    newest = session.scalar(sa.select(sa.func.max(KpiFigures.computed_on)))
    kept_from = quarters_before(max(newest or as_of, as_of), STORED_QUARTERS)[0].start
    current = [p for p in periods if p.start >= kept_from]
    found = _stored_reports(session, current, by, settings, page)
    if missing := [p for p in periods if p not in found]:
        computed = _compute_and_store(
            session,
            missing,
            [by],
            settings=settings,
            inputs=None,
            computed_on=as_of,
            store=all(p.start >= kept_from for p in missing),
        )
        for period, reports in computed.items():
            report = reports[by]
            if page is not None:
                report = report.model_copy(update={"rows": report.rows[page[0] : sum(page)]})
            found[period] = report
    return [found[p] for p in periods]


def computed_kpi_history(
    session: Session, as_of: date, *, quarters: int, by: kpis.GroupBy
) -> list[kpis.KpiReport]:
    """The same quarters computed from the records now (what the stored figures must equal):
    the book is loaded and fit assessed once for all of them."""
    periods = quarters_before(as_of, quarters)
    shared = _shared(session, periods[-1].last_day, None)
    return [_period_report(session, shared, period, by) for period in periods]


def store_kpis(
    session: Session, as_of: date, *, after_each_quarter: Callable[[], None] | None = None
) -> dict[str, int]:
    """The daily run's step: every grouping of the last :data:`STORED_QUARTERS` quarters
    computed and stored where its settings or inputs changed (a quarter whose records did not
    change is kept), and today's cohort curves. ``after_each_quarter`` is called once each
    stale quarter is stored (the daily run commits there: see jobs.daily._kpis_step)."""
    from tenure.model import KpiFigures, KpiFiguresRow

    periods = quarters_before(as_of, STORED_QUARTERS)
    settings = kpi_settings_digest(session)
    records = _shared_inputs_digest(session)
    inputs = {
        p: figures.digest(
            records,
            _quarter_inputs_digest(session, p),
            _metrics_signature(session, p.last_day),
        )
        for p in periods
    }
    current: dict[tuple[date, date], set[str]] = defaultdict(set)
    for start, end, grouping, stored_inputs in session.execute(
        sa.select(
            KpiFigures.period_start,
            KpiFigures.period_end,
            KpiFigures.grouping,
            KpiFigures.inputs_digest,
        ).where(KpiFigures.settings_digest == settings)
    ):
        period = kpis.Period(start, end)
        if period in inputs and stored_inputs == inputs[period]:
            current[(start, end)].add(grouping)
    every = {by.value for by in kpis.GroupBy}
    stale = [p for p in periods if current[(p.start, p.end)] != every]
    # Everything computed before the first write (SQLite's write lock is held from there to
    # the step's commit): the cohort curves, then the quarters, which are stored last.
    retention = _computed_cohorts(session, as_of, STORED_COHORT_MONTHS)
    retention = retention.model_copy(update={"computed_on": as_of})
    if stale:
        _compute_and_store(
            session,
            stale,
            list(kpis.GroupBy),
            settings=settings,
            inputs=inputs,
            computed_on=as_of,
            after_each=after_each_quarter,
        )
    # Quarters older than the 12 are no longer kept current: dropped, not left to go stale.
    older = sa.select(KpiFigures.id).where(KpiFigures.period_start < periods[0].start)
    session.execute(sa.delete(KpiFiguresRow).where(KpiFiguresRow.figures_id.in_(older)))
    session.execute(sa.delete(KpiFigures).where(KpiFigures.period_start < periods[0].start))
    # The quarters kept are what the day's records give too: they are the figures of its data.
    session.execute(
        sa.update(KpiFigures)
        .where(
            KpiFigures.settings_digest == settings,
            KpiFigures.period_start.in_([p.start for p in periods]),
            KpiFigures.computed_on < as_of,
        )
        .values(computed_on=as_of)
    )
    figures.write_snapshot(session, COHORTS, settings, as_of, retention.model_dump(mode="json"))
    return {
        "quarters_computed": len(stale),
        "quarters_unchanged": len(periods) - len(stale),
        "cohorts": len(retention.cohorts),
    }
