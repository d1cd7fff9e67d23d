"""The judgements other domains store, read for the portfolio: health, churn risk, LAER stage and
license utilization — each account's *current* value.

"Current" is the latest scoring day (health: the latest ``as_of`` of the scorecard last run; risk:
the latest ``as_of`` of the model version last stored). Finding that day first and then reading
that one day through the ``as_of`` index keeps a portfolio page fast with a year of daily scores
(3.6 million rows for 10,000 accounts); a per-account ``max(as_of)`` would read them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tenure.accounts import fx_service
from tenure.accounts.fx import RateTable
from tenure.errors import NotFound
from tenure.health.schemas import AccountScore
from tenure.health.service import latest_account_score
from tenure.health.versions import shown_version
from tenure.model import Account, Cta, HealthScore, LifecycleStage, MetricSnapshot, Milestone
from tenure.model.churn_risk import ChurnRiskScore
from tenure.model.cta import CtaPriority, CtaStatus
from tenure.playbooks.schemas import CtaRead
from tenure.playbooks.wording import evidence_text, why_text
from tenure.portfolio.schemas import (
    MeasureChange,
    Point,
    ScoreChange,
    StageRead,
    TimelineItem,
)
from tenure.risk.figures import churn_probability_sql
from tenure.risk.schemas import ChurnRiskRead
from tenure.success.lifecycle_service import lifecycle_model, lifecycle_model_expression
from tenure.success.lifecycle_variants import MODELS, stage_label
from tenure.success.schemas import OutcomeView, PlanView


@dataclass(frozen=True)
class CurrentDays:
    health_day: date | None = None
    scorecard: str | None = None
    # Scores are kept per version: the pages read one version (tenure.health.versions).
    scorecard_version: str | None = None
    risk_day: date | None = None
    model_version: str | None = None
    metrics_day: date | None = None


def current_days(session: Session, *, again: bool = False) -> CurrentDays:
    """The current scoring days, looked up once per session (one request, one command);
    ``again`` looks them up anew (after the session stored scores)."""
    cached = session.info.get("tenure.current_days")
    if isinstance(cached, CurrentDays) and not again:
        return cached
    days = _current_days(session)
    session.info["tenure.current_days"] = days
    return days


def _current_days(session: Session) -> CurrentDays:
    # One statement of five scalar lookups (every page reads them: one round trip, not five).
    # max(as_of) is one index probe; the day's last stored row (highest id, found through the
    # as_of index) names the scorecard / model version in force.
    health_day = sa.select(sa.func.max(HealthScore.as_of)).scalar_subquery()
    risk_day = sa.select(sa.func.max(ChurnRiskScore.as_of)).scalar_subquery()
    found = session.execute(
        sa.select(
            health_day.label("health_day"),
            risk_day.label("risk_day"),
            _last_stored(ChurnRiskScore, ChurnRiskScore.model_version, risk_day).label(
                "model_version"
            ),
            sa.select(sa.func.max(MetricSnapshot.as_of)).scalar_subquery().label("metrics_day"),
        )
    ).one()
    shown = shown_version(session) if found.health_day is not None else None
    return CurrentDays(
        health_day=_day(found.health_day),
        scorecard=shown[0] if shown else None,
        scorecard_version=shown[1] if shown else None,
        risk_day=_day(found.risk_day),
        model_version=found.model_version,
        metrics_day=_day(found.metrics_day),
    )


def _last_stored(table: type[HealthScore] | type[ChurnRiskScore], column: Any, day: Any) -> Any:
    return (
        sa.select(column)
        .where(table.as_of == day)
        .order_by(table.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _day(value: Any) -> date | None:
    # SQLite returns a scalar subquery's DATE as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _shown_card(days: CurrentDays) -> list[Any]:
    return [
        HealthScore.scorecard == days.scorecard,
        HealthScore.scorecard_version == days.scorecard_version,
    ]


def _only(column: Any, account_ids: Sequence[int] | None) -> list[Any]:
    return [] if account_ids is None else [column.in_(account_ids)]


def health_today(days: CurrentDays, account_ids: Sequence[int] | None = None) -> Any:
    """(account_id, score, band, trend) of the current scoring day.

    Materialised once (one as_of index range) rather than probed per account: with a year of
    scores, 10,000 probes into the (account, day) index cost 4× more on SQLite."""
    return (
        sa.select(
            HealthScore.account_id.label("account_id"),
            HealthScore.score.label("score"),
            HealthScore.band.label("band"),
            HealthScore.trend.label("trend"),
        )
        .where(HealthScore.as_of == days.health_day, *_shown_card(days))
        .where(*_only(HealthScore.account_id, account_ids))
        .cte("health_now")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )


def risk_today(days: CurrentDays, account_ids: Sequence[int] | None = None) -> Any:
    """(account_id, probability, arr_at_risk, currency, and what the probability is made of:
    window_probability, renewal_probability, horizon_days) of the current risk scoring day;
    probability is the account's one churn probability (tenure.risk.figures)."""
    return (
        sa.select(
            ChurnRiskScore.account_id.label("account_id"),
            churn_probability_sql(
                ChurnRiskScore.probability, ChurnRiskScore.renewal_probability
            ).label("probability"),
            ChurnRiskScore.arr_at_risk.label("arr_at_risk"),
            ChurnRiskScore.currency.label("currency"),
            ChurnRiskScore.probability.label("window_probability"),
            ChurnRiskScore.renewal_probability.label("renewal_probability"),
            ChurnRiskScore.horizon_days.label("horizon_days"),
        )
        .where(
            ChurnRiskScore.as_of == days.risk_day,
            ChurnRiskScore.model_version == days.model_version,
            *_only(ChurnRiskScore.account_id, account_ids),
        )
        .cte("risk_now")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )


def stage_now() -> Any:
    """Each account's latest stage in the lifecycle model in force (stored only when it
    changes), as a correlated lookup.

    One index search per account row; a grouped ``max(effective_on)`` subquery joined to the
    portfolio made SQLite's planner 20× slower.
    """
    return (
        sa.select(LifecycleStage.stage)
        .where(
            LifecycleStage.account_id == Account.id,
            LifecycleStage.model == lifecycle_model_expression(),
        )
        .order_by(LifecycleStage.effective_on.desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )


def utilization_today(days: CurrentDays) -> Any:
    """(account_id, utilization) of the current metrics day, for filtering and sorting in SQL;
    the value is the ``license_utilization`` metric of the day's snapshot."""
    return (
        sa.select(
            MetricSnapshot.account_id.label("account_id"),
            MetricSnapshot.values["license_utilization"].as_float().label("utilization"),
        )
        .where(MetricSnapshot.as_of == days.metrics_day)
        .cte("utilization_now")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )


def utilization_of(session: Session, days: CurrentDays, account_ids: list[int]) -> dict[int, float]:
    """License utilization of the current metrics day, for the accounts listed."""
    if days.metrics_day is None or not account_ids:
        return {}
    rows: list[Any] = []
    for start in range(0, len(account_ids), 5_000):  # bounded IN lists (SQLite's limit)
        rows += session.execute(
            sa.select(MetricSnapshot.account_id, MetricSnapshot.values).where(
                MetricSnapshot.as_of == days.metrics_day,
                MetricSnapshot.account_id.in_(account_ids[start : start + 5_000]),
            )
        ).all()
    found = {}
    for account_id, values in rows:
        value = utilization_in(values)
        if value is not None:
            found[account_id] = value
    return found


def stored_metrics(days: CurrentDays) -> Any:
    """The account's metric values of the current metrics day (correlated to Account: one
    probe of the (day, account) index), as stored; read them with :func:`utilization_in`."""
    if days.metrics_day is None:
        return sa.null()
    return (
        sa.select(MetricSnapshot.values)
        .where(MetricSnapshot.as_of == days.metrics_day, MetricSnapshot.account_id == Account.id)
        .correlate(Account)
        .scalar_subquery()
    )


def utilization_in(values: dict[str, Any] | None) -> float | None:
    """The license utilization of a day's stored metric values (None unless a number)."""
    value = (values or {}).get("license_utilization")
    return float(value) if isinstance(value, int | float) else None


# --- one account: the Account 360's judgements -----------------------------------------------


def account_health(session: Session, account: Account) -> AccountScore | None:
    """The account's latest stored health score with every measure (the one-click breakdown)."""
    return latest_account_score(session, account)


def health_history(session: Session, account_id: int, score: AccountScore) -> list[Point]:
    """The account's scores of ``score``'s scorecard version: a trend line of one definition."""
    rows = session.execute(
        sa.select(HealthScore.as_of, HealthScore.score)
        .where(
            HealthScore.account_id == account_id,
            HealthScore.scorecard == score.scorecard,
            HealthScore.scorecard_version == score.scorecard_version,
        )
        .order_by(HealthScore.as_of)
    ).all()
    return [Point(on=day, value=float(score)) for day, score in rows]


def account_risk(session: Session, account: Account) -> ChurnRiskRead | None:
    risk = session.scalars(
        sa.select(ChurnRiskScore)
        .where(ChurnRiskScore.account_id == account.id)
        .order_by(ChurnRiskScore.as_of.desc(), ChurnRiskScore.created_at.desc())
        .limit(1)
    ).first()
    if risk is None:
        return None
    return ChurnRiskRead(
        account_id=account.id,
        account_external_id=account.external_id,
        account_name=account.name,
        as_of=risk.as_of,
        model_version=risk.model_version,
        probability=risk.probability,
        horizon_days=risk.horizon_days,
        lead_days=risk.lead_days,
        renewal_probability=risk.renewal_probability,
        next_renewal_on=risk.next_renewal_on,
        arr_at_risk=risk.arr_at_risk,
        currency=risk.currency,
        in_alert_set=risk.in_alert_set,
        reasons=risk.reasons,
    )


USAGE_SERIES = ("active_users_28d", "license_utilization", "feature_breadth")


def usage_history(session: Session, account_id: int) -> dict[str, list[Point]]:
    """Stored metric snapshots over time: active users (28 days), license utilization and
    feature adoption (breadth)."""
    rows = session.execute(
        sa.select(MetricSnapshot.as_of, MetricSnapshot.values)
        .where(MetricSnapshot.account_id == account_id)
        .order_by(MetricSnapshot.as_of)
    ).all()
    series: dict[str, list[Point]] = {slug: [] for slug in USAGE_SERIES}
    for day, values in rows:
        for slug in USAGE_SERIES:
            value = (values or {}).get(slug)
            if isinstance(value, int | float):
                series[slug].append(Point(on=day, value=float(value)))
    return {slug: points for slug, points in series.items() if points}


def account_stage(session: Session, account_id: int) -> StageRead | None:
    model = lifecycle_model(session)
    stage = session.scalars(
        sa.select(LifecycleStage)
        .where(LifecycleStage.account_id == account_id, LifecycleStage.model == model.value)
        .order_by(LifecycleStage.effective_on.desc())
        .limit(1)
    ).first()
    if stage is None:
        return None
    return StageRead(
        stage=stage.stage,
        since=stage.effective_on,
        reasons=stage.reasons,
        label=stage_label(stage.stage),
        model=MODELS[model].label,
    )


def open_ctas(
    session: Session, account_id: int, day: date, table: RateTable | None = None
) -> list[CtaRead]:
    return ctas_for(session, None, day, account_id=account_id, table=table)


# --- timeline sources: stage changes, CTAs, milestones reached --------------------------------


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def stage_items(session: Session, account_id: int) -> list[TimelineItem]:
    model = lifecycle_model(session)
    stages = session.scalars(
        sa.select(LifecycleStage)
        .where(LifecycleStage.account_id == account_id, LifecycleStage.model == model.value)
        .order_by(LifecycleStage.effective_on.desc())
        .limit(50)
    ).all()
    return [
        TimelineItem(
            at=_at(s.effective_on),
            kind="stage",
            title=f"Lifecycle stage: {stage_label(s.stage)}",
            detail="; ".join(s.reasons) or None,
            data={"stage": s.stage, "model": model.value},
        )
        for s in stages
    ]


def cta_items(session: Session, account_id: int) -> list[TimelineItem]:
    ctas = session.scalars(
        sa.select(Cta).where(Cta.account_id == account_id).order_by(Cta.opened_on.desc()).limit(50)
    ).all()
    return [
        TimelineItem(
            at=_at(c.opened_on),
            kind="cta",
            title=f"CTA ({c.priority.value}): {c.title}",
            detail=f"{c.status.value.replace('_', ' ')} · {why_text(c.facts) or c.reason}",
            data={"id": c.id, "rule": c.rule_key, "status": c.status.value},
        )
        for c in ctas
    ]


def milestone_items(session: Session, account_id: int) -> list[TimelineItem]:
    reached = session.scalars(
        sa.select(Milestone)
        .where(Milestone.account_id == account_id, Milestone.reached_on.is_not(None))
        .order_by(Milestone.reached_on.desc())
        .limit(50)
    ).all()
    return [
        TimelineItem(
            at=_at(m.reached_on),
            kind="milestone",
            title=f"milestone reached: {m.name}",
            detail=evidence_text(m.evidence),
            data={"id": m.id, "key": m.key},
        )
        for m in reached
        if m.reached_on is not None
    ]


# --- Today: the CSM's CTAs and the scores that moved -----------------------------------------

PRIORITY_RANK = {
    CtaPriority.urgent: 0,
    CtaPriority.high: 1,
    CtaPriority.medium: 2,
    CtaPriority.low: 3,
}


def ctas_for(
    session: Session,
    owner_ids: set[int] | None,
    day: date,
    *,
    account_id: int | None = None,
    limit: int = 25,
    table: RateTable | None = None,
) -> list[CtaRead]:
    """Open CTAs (not snoozed) of these owners (or of one account), ranked by ARR at risk in the
    reporting currency at ``day``'s rates (an amount without a rate ranks as it stands), then
    priority, then due date; each says its currency and, in another currency, its converted
    figure (with ``table``, the rates of ``day`` the caller already read)."""
    priority = sa.case(*((Cta.priority == p, rank) for p, rank in PRIORITY_RANK.items()), else_=9)
    rate = fx_service.rate_expression(
        Cta.arr_at_risk_currency, day, table.reporting_currency if table else None
    )
    at_risk = sa.func.coalesce(Cta.arr_at_risk * sa.func.coalesce(rate, 1.0), 0.0)
    query = (
        sa.select(Cta, Account.name)
        .join(Account, Account.id == Cta.account_id)
        .where(Cta.status.in_((CtaStatus.open, CtaStatus.in_progress)))
        .options(selectinload(Cta.steps))
        .order_by(at_risk.desc(), priority, Cta.due_on, Cta.id)
        .limit(limit)
    )
    if owner_ids is not None:
        query = query.where(Cta.owner_id.in_(owner_ids))
    if account_id is not None:
        query = query.where(Cta.account_id == account_id)
    found = [CtaRead.from_row(cta, name) for cta, name in session.execute(query)]
    if not any(c.arr_at_risk_currency for c in found):
        return found
    table = table or fx_service.rate_table(session, on=day)
    return [c.in_reporting_currency(table, day) for c in found]


def score_changes(
    session: Session, days: CurrentDays, owner_ids: set[int] | None, limit: int = 10
) -> list[ScoreChange]:
    """Accounts whose health score moved on the latest scoring day, largest moves first, each
    with the measures whose points changed (why it moved)."""
    if days.health_day is None:
        return []
    moved = sa.func.abs(HealthScore.score - HealthScore.previous_score)
    # Three statements whatever the limit: the moves ranked on the ids alone (a team's 3,000
    # scores sorted without their measures), then the chosen scores and their scores before.
    query = (
        sa.select(HealthScore.id, Account.name)
        .join(Account, Account.id == HealthScore.account_id)
        .where(
            HealthScore.as_of == days.health_day,
            *_shown_card(days),
            HealthScore.previous_score.is_not(None),
            HealthScore.score != HealthScore.previous_score,
        )
        .order_by(moved.desc(), Account.name)
        .limit(limit)
    )
    if owner_ids is not None:
        query = query.where(Account.owner_id.in_(owner_ids))
    ranked = session.execute(query).all()
    if not ranked:
        return []
    scores = {
        s.id: s
        for s in session.scalars(
            sa.select(HealthScore).where(HealthScore.id.in_([r.id for r in ranked]))
        )
    }
    befores = _scores_before(session, days, [s.account_id for s in scores.values()])
    changes = []
    for score_id, name in ranked:
        score = scores[score_id]
        before = befores.get(score.account_id)
        changes.append(
            ScoreChange(
                account_id=score.account_id,
                account_name=name,
                as_of=score.as_of,
                previous_as_of=before.as_of if before else None,
                score=score.score,
                previous_score=score.previous_score,
                band=score.band,
                measures=_moved_measures(before.measures if before else [], score.measures),
            )
        )
    return changes


def _scores_before(
    session: Session, days: CurrentDays, account_ids: list[int]
) -> dict[int, HealthScore]:
    """Each account's latest score of the shown scorecard before the current health day."""
    latest = (
        sa.select(HealthScore.account_id, sa.func.max(HealthScore.as_of).label("as_of"))
        .where(
            HealthScore.account_id.in_(account_ids),
            *_shown_card(days),
            HealthScore.as_of < days.health_day,
        )
        .group_by(HealthScore.account_id)
        .subquery()
    )
    found = session.scalars(
        sa.select(HealthScore)
        .join(
            latest,
            sa.and_(
                latest.c.account_id == HealthScore.account_id,
                latest.c.as_of == HealthScore.as_of,
            ),
        )
        .where(*_shown_card(days))
    )
    return {s.account_id: s for s in found}


def _moved_measures(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[MeasureChange]:
    earlier = {m["metric"]: m for m in before}
    moved = []
    for measure in after:
        old = earlier.get(measure["metric"])
        if old is not None and old["points"] != measure["points"]:
            moved.append(
                MeasureChange(
                    name=measure["name"],
                    before=old["shown"],
                    after=measure["shown"],
                    points=measure["points"] - old["points"],
                )
            )
    return sorted(moved, key=lambda m: -abs(m.points))


def risk_details(
    session: Session, days: CurrentDays, account_ids: list[int]
) -> dict[int, ChurnRiskScore]:
    """The current day's stored risk rows (with reasons) of the accounts on a page."""
    if days.risk_day is None or not account_ids:
        return {}
    rows = session.scalars(
        sa.select(ChurnRiskScore).where(
            ChurnRiskScore.as_of == days.risk_day,
            ChurnRiskScore.model_version == days.model_version,
            ChurnRiskScore.account_id.in_(account_ids),
        )
    ).all()
    return {r.account_id: r for r in rows}


def success_plan(session: Session, account: Account, as_of: date) -> PlanView | None:
    """The account's success plan with milestone progress, when it has one."""
    from tenure.success.milestones_service import plan_show

    try:
        return plan_show(session, account.external_id, as_of)
    except NotFound:
        return None


def desired_outcome(session: Session, account: Account, as_of: date) -> OutcomeView | None:
    """The Desired Outcome in force and how far the account is from it, when one is set."""
    from tenure.model import DesiredOutcome
    from tenure.success.outcome_service import outcome_show

    in_force = sa.select(DesiredOutcome.id).where(
        DesiredOutcome.account_id == account.id, DesiredOutcome.effective_from <= as_of
    )
    if session.scalar(in_force.limit(1)) is None:
        return None  # none in force yet: skip loading the account's book
    return outcome_show(session, account.external_id, as_of)
