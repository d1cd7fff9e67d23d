"""Expansion: ascension and advocacy potential, the pipeline, effective CAC."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Contract, Opportunity, Referral
from tenure.success import expansion, fit, kpis, outcome
from tenure.success.book import (
    RENEWED,
    account_facts,
    active_contracts,
    champions_of,
    last_nps,
    load_one,
    metric,
    metric_before,
    value_stage_of,
)
from tenure.success.outcome_service import outcome_versions
from tenure.success.rules import Outcome
from tenure.success.schemas import PotentialView


def potential_show(
    session: Session, external_id: str, as_of: date, config: fit.FitConfig
) -> PotentialView:
    book, account = load_one(session, external_id, as_of)
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account.id, as_of))
    active = metric(book, account.id, "active_users_28d")
    plans = {c.plan for c in book.contracts[account.id] if c.plan}
    all_plans = set(session.scalars(sa.select(Contract.plan).distinct()).all()) - {None}
    versions = outcome_versions(session, account.id)
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
    share = metric(book, account.id, "feature_breadth")
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
