"""The measured-plays report: did accounts that got the play churn less than the control?

Acted = accounts the rule first created a CTA for in [start, end]; control = accounts the rule
fired on in that window but kept without a CTA (its control share), and never acted on. An
account churned if a contract of it ended with outcome ``churned`` (or ``downgraded``) within
``horizon_days`` after that first firing; expanded if one ended ``expanded`` or with a positive
ARR change in the same window. Intervals: see ``control.compare``.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.model import Contract, RenewalOutcome, RuleEvaluation
from tenure.playbooks.control import GroupOutcome, compare
from tenure.playbooks.service import play_groups, played

CHURN = (RenewalOutcome.churned, RenewalOutcome.downgraded)


class ComparisonRead(BaseModel):
    outcome: str
    acted_accounts: int
    acted_events: int
    acted_rate: float | None
    control_accounts: int
    control_events: int
    control_rate: float | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float


class PlayReport(BaseModel):
    rule_key: str
    start: date
    end: date
    horizon_days: int
    comparisons: list[ComparisonRead]


def _outcome_dates(
    session: Session, rule_key: str, start: date, end: date
) -> tuple[dict[int, list[date]], dict[int, list[date]]]:
    """Churn and expansion dates of the accounts in the play's groups (no other account is
    counted; an outcome on or before ``start`` precedes every first firing)."""
    churned: dict[int, list[date]] = {}
    expanded: dict[int, list[date]] = {}
    ended = sa.func.coalesce(Contract.outcome_on, Contract.ends_on)
    in_groups = sa.select(RuleEvaluation.account_id).where(played(rule_key, start, end))
    rows = session.execute(
        sa.select(Contract.account_id, Contract.renewal_outcome, ended, Contract.arr_delta).where(
            Contract.renewal_outcome.is_not(None),
            ended > start,
            Contract.account_id.in_(in_groups),
        )
    )
    for account_id, outcome, on, delta in rows:
        if outcome in CHURN:
            churned.setdefault(account_id, []).append(on)
        if outcome == RenewalOutcome.expanded or (delta or 0) > 0:
            expanded.setdefault(account_id, []).append(on)
    return churned, expanded


def _count(first: dict[int, date], events: dict[int, list[date]], horizon: int) -> GroupOutcome:
    hits = sum(
        any(d < on <= d + timedelta(days=horizon) for on in events.get(account, []))
        for account, d in first.items()
    )
    return GroupOutcome(len(first), hits)


def play_report(
    session: Session, rule_key: str, start: date, end: date, *, horizon_days: int = 365
) -> PlayReport:
    groups = play_groups(session, rule_key, start, end)
    churned, expanded = _outcome_dates(session, rule_key, start, end)
    comparisons = []
    for name, events in (("churn", churned), ("expansion", expanded)):
        result = compare(
            rule_key,
            name,
            _count(groups.acted, events, horizon_days),
            _count(groups.control, events, horizon_days),
        )
        comparisons.append(
            ComparisonRead(
                outcome=name,
                acted_accounts=result.acted.accounts,
                acted_events=result.acted.events,
                acted_rate=result.acted.rate,
                control_accounts=result.control.accounts,
                control_events=result.control.events,
                control_rate=result.control.rate,
                effect=result.effect,
                ci_low=result.interval[0] if result.interval else None,
                ci_high=result.interval[1] if result.interval else None,
                confidence=result.confidence,
            )
        )
    return PlayReport(
        rule_key=rule_key, start=start, end=end, horizon_days=horizon_days, comparisons=comparisons
    )
