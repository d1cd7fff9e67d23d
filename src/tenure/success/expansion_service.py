"""Expansion: ascension and advocacy potential, the pipeline, effective CAC."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Contract, Opportunity, Referral
from tenure.success import expansion, fit, kpis, outcome
from tenure.success.book import (
    RENEWED,
    Book,
    account_facts,
    active_contracts,
    champions_of,
    last_nps,
    load_one,
    metric,
    stored_metrics_by_account,
    value_stage_of,
)
from tenure.success.outcome_service import outcome_versions
from tenure.success.rules import Outcome
from tenure.success.schemas import PotentialView

# Days over which "constantly maturing" compares the feature share.
MATURING_DAYS = 90


def potential_show(
    session: Session, external_id: str, as_of: date, config: fit.FitConfig
) -> PotentialView:
    book, account = load_one(session, external_id, as_of)
    earlier, earlier_on = maturing_baseline(session, as_of)
    return account_potential(
        book,
        account.id,
        config,
        offered_plans(session),
        outcome_versions(session, account.id),
        earlier.get(account.id, {}),
        earlier_on,
    )


def maturing_baseline(
    session: Session, as_of: date
) -> tuple[dict[int, dict[str, Any]], date | None]:
    """The stored metrics "constantly maturing" compares with: those of 90 days before
    ``as_of``, else the earliest stored since (the history there is) — its day, or None."""
    earlier, day = stored_metrics_by_account(session, as_of - timedelta(days=MATURING_DAYS))
    if day is not None:
        return earlier, day
    from tenure.model.metric_snapshot import MetricSnapshot

    first = session.scalar(
        sa.select(sa.func.min(MetricSnapshot.as_of)).where(MetricSnapshot.as_of <= as_of)
    )
    if first is None:
        return {}, None
    return stored_metrics_by_account(session, first)


def offered_plans(session: Session) -> set[str]:
    """Every plan any contract carries: what the company offers."""
    plans = session.scalars(sa.select(Contract.plan).where(Contract.plan.is_not(None)).distinct())
    return {str(p) for p in plans}


def account_potential(
    book: Book,
    account_id: int,
    config: fit.FitConfig,
    all_plans: set[str],
    versions: list[outcome.DesiredOutcomeVersion],
    metrics_before: dict[str, Any],
    before_on: date | None,
    catalog: expansion.ProductCatalog | None = None,
) -> PotentialView:
    """Ascension, advocacy and nirvana of one account of a loaded book; ``metrics_before`` are
    its stored metrics of ``before_on``, the day the maturing window starts."""
    catalog = catalog or expansion.load_product_catalog()
    as_of = book.as_of
    account = book.accounts[account_id]
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account_id, as_of))
    active = metric(book, account_id, "active_users_28d")
    plans = {c.plan for c in book.contracts[account_id] if c.plan}
    ro_met = None
    if (current := outcome.current_version(versions, as_of)) is not None:
        met = outcome.evaluate_outcome(current, account_facts(book, account_id)).required_met
        ro_met = None if met is Outcome.unknown else met is Outcome.passed
    facts = expansion.PotentialFacts(
        success_potential=fit.assess_fit(
            account_facts(book, account_id, at_signing=True), config
        ).success_potential,
        active_users=None if active is None else int(active),
        licensed_seats=seats or None,
        employee_count=account.employee_count,
        products_owned=catalog.count(plans),
        products_offered=catalog.count(all_plans),
        last_nps=last_nps(book, account_id, as_of),
        champions=len(champions_of(book, account_id, as_of)),
        required_outcome_met=ro_met,
    )
    year_ago = as_of - timedelta(days=365)
    renewals = sum(
        1
        for c in book.contracts[account_id]
        if c.renewal_outcome
        and c.renewal_outcome.value in RENEWED
        and c.outcome_on
        and c.outcome_on <= as_of
    )
    won = sum(
        1
        for o in book.opportunities[account_id]
        if o.kind == "expansion"
        and o.status == "won"
        and o.closed_on
        and year_ago < o.closed_on <= as_of
    )
    expanded = sum(
        1
        for c in book.contracts[account_id]
        if c.renewal_outcome is not None
        and c.renewal_outcome.value == "expanded"
        and c.outcome_on
        and year_ago < c.outcome_on <= as_of
    )
    before = metrics_before.get("feature_breadth")
    return PotentialView(
        account=account.external_id,
        potential=expansion.potential(facts),
        nirvana=expansion.nirvana(
            expansion.NirvanaFacts(
                renewals=renewals,
                feature_share_now=metric(book, account_id, "feature_breadth"),
                feature_share_before=None if before is None else float(before),
                maturing_days=None if before_on is None else (as_of - before_on).days,
                value_stage=value_stage_of(book, account_id).stage.value,
                expansions_won_last_year=won,
                contracts_expanded_last_year=expanded,
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
