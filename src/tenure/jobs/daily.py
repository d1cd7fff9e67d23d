"""The daily run: metrics → health → churn risk → milestones → facts → rules → CTAs →
follow-ups (→ Slack alerts queued, when Slack is connected) → outbox → webhooks (→ Slack)
(→ write-back to Salesforce/HubSpot, when turned on).

Each run is recorded in ``daily_run`` (as-of date, start/end, per-step seconds and counts, errors).
Running an as-of date that already succeeded changes nothing; ``force`` re-runs its steps, which
are idempotent themselves (decisions are unique per as-of, rule and account; digests and
escalations have dedupe keys).

Each step is one transaction of its own, committed when the step ends: a step that fails is rolled
back whole and recorded, the steps after it run on what exists, and the run is marked failed so it
can be re-run; a run that stops between steps (a killed worker) leaves whole steps only, and the
re-run gives the day the same result. So the run never holds SQLite's one write lock for long: a
step computes unlocked, takes it at its first write and gives it back at its commit (a short step
that changes records people also change takes it before it reads them:
:func:`_reads_what_it_changes`) — a CSM closing a CTA meanwhile waits for one step's writing, never
the whole run. Between two steps, readers see the day's steps land one by one (today's health
before today's CTAs), as a reader on PostgreSQL sees them.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial, wraps
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import Conflict
from tenure.jobs.background import exclusive
from tenure.model import DailyRun, DeliveryStatus, OutboxMessage, OutboxStatus, WebhookDelivery
from tenure.model.base import utcnow
from tenure.playbooks import service, webhooks
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.facts import FactsTable, build_facts
from tenure.playbooks.outbox import Mailer, send_pending
from tenure.playbooks.rule_builder import with_stored_rules
from tenure.playbooks.rules import Ruleset
from tenure.playbooks.schemas import DailyRunRead
from tenure.playbooks.webhooks import Poster
from tenure.store.database import begin_as_writer, session_factory, session_scope
from tenure.store.events import EventStore
from tenure.words import chance


@dataclass
class DailyContext:
    as_of: date
    ruleset: Ruleset
    settings: PlaybookSettings
    run_id: int
    store: EventStore | None = None
    data_dir: Path | None = None
    facts: FactsTable | None = None


StepFn = Callable[[Session, DailyContext], dict[str, Any]]


def _reads_what_it_changes(step: StepFn) -> StepFn:
    """For a short step that reads records people also change (CTAs, engagement messages) and
    changes them from what it read: on SQLite it takes the write lock before its first read
    (``begin_as_writer``), so no console change lands between its reading and its writing — the
    console waits for this step instead (3 s at 10,000 accounts). The long steps compute first,
    unlocked, and take the lock at their first write; the rules step takes it before it re-reads
    the CTAs it changes (``playbooks.service.apply_rules``)."""

    @wraps(step)
    def holding_the_lock(session: Session, ctx: DailyContext) -> dict[str, Any]:
        begin_as_writer(session)
        return step(session, ctx)

    return holding_the_lock


class StepSkipped(Exception):
    """A step that cannot do its work today, and why — with what to do about it. The run stays
    succeeded (nothing broke) and shows the reason beside the step, where an empty count would
    hide it."""


def _metrics_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    from tenure.metrics.service import compute_and_store

    assert ctx.store is not None
    # Incremental: reads the persisted daily roll-up, so the step's cost follows the new day.
    run = compute_and_store(session, ctx.store, ctx.as_of, incremental=True)
    return {"accounts": run.accounts, "metrics": run.metrics}


def _health_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Score health on the stored metrics; a band change is a ``health.changed`` webhook."""
    from tenure.health.service import score_day
    from tenure.health.versions import scorecard_in_force

    assert ctx.store is not None and ctx.data_dir is not None
    _require_metrics(session, ctx.as_of)
    card = scorecard_in_force(session, ctx.data_dir)
    scores = score_day(session, ctx.store, ctx.as_of, card)
    changed = 0
    for score in scores:
        before = None if score.previous_score is None else card.band_for(score.previous_score)
        if before is None or before == score.band:
            continue
        changed += 1
        webhooks.emit(
            session,
            "health.changed",
            {
                "account": {
                    "id": score.account_id,
                    "external_id": score.account_external_id,
                    "name": score.account_name,
                },
                "as_of": ctx.as_of.isoformat(),
                "scorecard": score.scorecard,
                "scorecard_version": score.scorecard_version,
                "score": score.score,
                "band": score.band,
                "previous_score": score.previous_score,
                "previous_band": before,
                "summary": f"Health of {score.account_name}: {before} → {score.band} "
                f"({score.previous_score} → {score.score})",
            },
            event_id=f"evt_health_{score.account_id}_{ctx.as_of.isoformat()}",
        )
    bands = Counter(s.band for s in scores)
    return {"scored": len(scores), **dict(sorted(bands.items())), "band_changes": changed}


def _require_metrics(session: Session, as_of: date) -> None:
    """Skip scoring on a base with nothing to score yet (a fresh install): the metrics step
    stored no account's metrics for the day."""
    from tenure.model import MetricSnapshot

    stored = sa.select(MetricSnapshot.account_id).where(MetricSnapshot.as_of == as_of).limit(1)
    if session.scalar(stored) is None:
        raise StepSkipped(
            f"no account has metrics for {as_of}: there is nothing to score yet "
            "(import accounts and their events with `tenure import`)"
        )


def _risk_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Score churn risk with the latest fitted model; entering the alert set is ``risk.raised``."""
    from tenure.errors import NotFound
    from tenure.model import ChurnRiskScore
    from tenure.risk.scoring import score_accounts
    from tenure.risk.service import load_model

    assert ctx.store is not None and ctx.data_dir is not None
    _require_metrics(session, ctx.as_of)
    try:
        load_model(ctx.data_dir)
    except NotFound as missing:  # no model to score with: say so on the run, not a failure
        raise StepSkipped(
            f"{missing.message}; until then churn risk is not scored and no risk.raised is sent"
        ) from missing
    run = score_accounts(session, ctx.store, ctx.data_dir, ctx.as_of)
    previous_day = session.scalar(
        sa.select(sa.func.max(ChurnRiskScore.as_of)).where(
            ChurnRiskScore.as_of < ctx.as_of, ChurnRiskScore.model_version == run.model_version
        )
    )
    alerted_before = set(
        session.scalars(
            sa.select(ChurnRiskScore.account_id).where(
                ChurnRiskScore.as_of == previous_day,
                ChurnRiskScore.model_version == run.model_version,
                ChurnRiskScore.in_alert_set,
            )
        )
    )
    raised = 0
    for score in run.scores:
        if not score.in_alert_set or score.account_id in alerted_before:
            continue
        raised += 1
        webhooks.emit(
            session,
            "risk.raised",
            {
                "account": {
                    "id": score.account_id,
                    "external_id": score.account_external_id,
                    "name": score.account_name,
                },
                "as_of": ctx.as_of.isoformat(),
                "model_version": score.model_version,
                "probability": score.probability,
                "renewal_probability": score.renewal_probability,
                "arr_at_risk": score.arr_at_risk,
                "currency": score.currency,
                "reasons": score.reasons[:5],
                "summary": f"Churn risk raised for {score.account_name}: "
                f"{chance(score.probability)} chance of churn",
            },
            event_id=f"evt_risk_{score.account_id}_{ctx.as_of.isoformat()}",
        )
    return {"scored": run.accounts, "alerts": run.alerts, "raised": raised}


def _milestones_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    from tenure.success.milestones_service import refresh_milestones

    result = refresh_milestones(session, ctx.as_of)
    return {"checked": result.checked, "reached": result.reached, "asks": result.asks_opened}


def _lifecycle_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Every account's lifecycle stage history under every model (LAER, ESG, ClientSuccess),
    after the milestones a stage reads; the counts are the model in force's."""
    from tenure.success.lifecycle_service import lifecycle_portfolio

    view = lifecycle_portfolio(session, ctx.as_of, save_history=True)
    return {
        "model": view.model.model.value,
        **{s.key: s.accounts for s in view.stages},
        "no_contract": view.without_stage,
    }


def _judgements_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Each account's current judgements stored in one row (after the last step that scores or
    stages): the portfolio CSV reads them, not the score tables."""
    from tenure.portfolio.judgements import store_current

    return {"accounts": store_current(session)}


@_reads_what_it_changes
def _message_goals_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Engagement messages whose check day has come: was the message's goal met?"""
    from tenure.success.engagement_service import check_goals

    checked = check_goals(session, ctx.as_of)
    return {
        "checked": len(checked),
        "met": sum(m.goal_met is True for m in checked),
        "not_met": sum(m.goal_met is False for m in checked),
    }


def _churn_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """Every loss up to today gets a suggested class (root-cause analysis on every churn); the
    ones already classified are left as the CSM confirmed them."""
    from tenure.success.churn_classification_service import classify_churn
    from tenure.success.fit import load_fit_config

    result = classify_churn(session, ctx.as_of, load_fit_config())
    return {"classified": result.classified, "already": result.already}


def _kpis_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """The KPIs page's figures: every grouping of the last 12 quarters (recomputed only where
    their records or settings changed) and today's cohort curves.

    The one step that commits as it goes, a quarter at a time: storing all 12 quarters at
    10,000 accounts (a first run, new settings or code) held SQLite's write lock 40 s at load
    10, past the console's 30 s. Each stored quarter is whole and carries the digest of its
    inputs, so a run stopped after some quarters keeps them, and the re-run computes the rest."""
    from tenure.success.kpis_service import store_kpis

    return store_kpis(session, ctx.as_of, after_each_quarter=session.commit)


def _maturity_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """The Maturity page's pillars measured from the portfolio today."""
    from tenure.success.maturity_service import store_maturity

    return store_maturity(session, ctx.as_of)


def _ebr_peers_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """The EBR's peer cohorts (segment and size band) measured once for the day."""
    from tenure.success.value_service import store_peer_cohorts

    return store_peer_cohorts(session, ctx.as_of)


def _renewal_forecast_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """The Renewals page's forecast: every renewal of the next three years categorised once."""
    from tenure.portfolio.renewals import store_renewal_forecast

    return store_renewal_forecast(session, ctx.as_of)


def _family_ranking_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """The Top parents page's families ranked by ARR once."""
    from tenure.portfolio.families import store_family_ranking

    return store_family_ranking(session, ctx.as_of)


def _facts_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    ctx.facts = build_facts(session, ctx.as_of)
    service.store_fact_names(session, ctx.facts)
    return {"accounts": len(ctx.facts.facts), "facts": len(ctx.facts.fact_names)}


def _rules_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    facts = ctx.facts or build_facts(session, ctx.as_of)
    counts = service.apply_rules(session, ctx.ruleset, facts, daily_run_id=ctx.run_id)
    return dict(sorted(counts.items()))


@_reads_what_it_changes
def _follow_up_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    sender = ctx.settings.mail_from
    return {
        "woken": service.wake_snoozed(session, ctx.as_of),
        "escalated": service.escalate(session, ctx.ruleset, ctx.as_of),
        "digests": service.queue_digests(session, ctx.as_of, sender=sender),
    }


def steps(ctx: DailyContext) -> list[tuple[str, StepFn]]:
    """The steps in order: metrics, health and risk (with an event store), milestones, lifecycle
    stage histories (every model), each account's current judgements stored, the goals of
    engagement messages due for their check, churn classification of the losses not yet
    classified, the KPIs and maturity figures their pages read, the facts every rule reads
    (operational tables, stored metrics, health scores, milestones), rules → CTAs, follow-ups
    (snoozes woken, escalations, digests), the renewal forecast the Renewals page reads and the
    family ranking the Top parents page reads (last: after every step that changes accounts)."""
    first: list[tuple[str, StepFn]] = []
    if ctx.store is not None:
        first.append(("metrics", _metrics_step))
        if ctx.data_dir is not None:
            first += [("health", _health_step), ("risk", _risk_step)]
    return [
        *first,
        ("milestones", _milestones_step),
        ("lifecycle", _lifecycle_step),
        ("judgements", _judgements_step),
        ("message_goals", _message_goals_step),
        ("churn", _churn_step),
        ("kpis", _kpis_step),
        ("maturity", _maturity_step),
        ("ebr_peers", _ebr_peers_step),
        ("facts", _facts_step),
        ("rules", _rules_step),
        ("follow_ups", _follow_up_step),
        ("renewal_forecast", _renewal_forecast_step),
        ("family_ranking", _family_ranking_step),
    ]


@dataclass
class DailyResult:
    run: DailyRunRead
    skipped: bool = False
    step_results: list[dict[str, Any]] = field(default_factory=list)


def _start(
    factory: Any, as_of: date, force: bool, *, sole_runner: bool = False
) -> tuple[int, DailyRunRead | None]:
    """Claim the as-of date: a new run, a retry of a failed one, or the succeeded one to skip.

    A run still marked running is refused (another process has it) unless ``force`` says it
    died, or ``sole_runner`` says so: the caller holds the data folder's daily lock, which a live
    run would hold. Two processes starting the same date at once collide on its unique key.
    """
    try:
        with session_scope(factory) as session:
            run = session.scalar(sa.select(DailyRun).where(DailyRun.as_of == as_of))
            if run is not None and not force:
                if run.status == "succeeded":
                    return run.id, DailyRunRead.model_validate(run)
                if run.status == "running" and not sole_runner:
                    raise Conflict(
                        f"the daily run for {as_of} is running since {run.started_at:%H:%M:%S} "
                        "UTC; if that process died, re-run with --force"
                    )
            now = utcnow()
            if run is None:
                run = DailyRun(as_of=as_of, status="running", started_at=now, attempts=1)
                session.add(run)
            else:
                run.attempts += 1
                run.status, run.started_at, run.finished_at = "running", now, None
                run.steps, run.errors = [], []
            session.flush()
            return run.id, None
    except sa.exc.IntegrityError as error:
        raise Conflict(f"another process has just started the daily run for {as_of}") from error


@contextmanager
def _daily_lock(data_dir: Path | None) -> Iterator[bool]:
    """One daily run at a time per data folder (``<data_dir>/daily.lock``); yields whether this
    process is the sole runner. Without a data folder there is no lock and no such knowledge."""
    if data_dir is None:
        yield False
        return
    with exclusive(data_dir / "daily.lock") as held:
        if not held:
            raise Conflict(f"another daily run is in progress on {data_dir}; try again later")
        yield True


def run_daily(
    engine: sa.Engine,
    as_of: date,
    ruleset: Ruleset,
    settings: PlaybookSettings,
    *,
    mailer: Mailer | None = None,
    poster: Poster | None = None,
    store: EventStore | None = None,
    data_dir: Path | None = None,
    force: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> DailyResult:
    with _daily_lock(data_dir) as sole_runner:
        run_id, done = _start(session_factory(engine), as_of, force, sole_runner=sole_runner)
        if done is not None:
            return DailyResult(done, skipped=True)
        with session_scope(session_factory(engine)) as session:
            ruleset = with_stored_rules(session, ruleset)  # the ones saved from the console
        ctx = DailyContext(as_of, ruleset, settings, run_id, store, data_dir)
        return _run_steps(engine, ctx, mailer, poster, on_step)


def _run_steps(
    engine: sa.Engine,
    ctx: DailyContext,
    mailer: Mailer | None,
    poster: Poster | None,
    on_step: Callable[[str], None] | None,
) -> DailyResult:
    factory, settings = session_factory(engine), ctx.settings
    records: list[dict[str, Any]] = []
    if settings.sync_before_daily and ctx.data_dir is not None and _connected(factory):
        # Its own transactions (one per batch): the morning's scores read the night's changes.
        records.append(_timed("sync", on_step, partial(_sync, factory, ctx.data_dir)))
    slack = _slack_connected(factory)
    chosen = [*steps(ctx), *([("slack_alerts", _slack_alerts_step)] if slack else [])]
    for name, fn in chosen:
        records.append(_timed(name, on_step, partial(_in_own_transaction, factory, ctx, fn)))
    # Sending owns its transactions (one per message).
    records.append(_timed("outbox", on_step, partial(_send_outbox, engine, settings, mailer)))
    records.append(_timed("webhooks", on_step, partial(_deliver, engine, settings, poster)))
    if slack:
        records.append(_timed("slack", on_step, partial(_post_slack, factory, settings)))
    if _writes_back(factory):
        # Last: the day's scores and closed CTAs to the CRM, in its own transactions.
        records.append(_timed("write_back", on_step, partial(_write_back, factory, ctx.as_of)))
    with session_scope(factory) as session:
        run = session.get_one(DailyRun, ctx.run_id)
        run.steps = records
        run.errors = [{"step": r["name"], "error": r["error"]} for r in records if r["error"]]
        run.counts = {r["name"]: r["counts"] for r in records}
        run.status = "failed" if run.errors else "succeeded"
        run.finished_at = utcnow()
        session.flush()
        return DailyResult(DailyRunRead.model_validate(run), step_results=records)


def _timed(
    name: str, on_step: Callable[[str], None] | None, work: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run one step: its seconds, counts, why it was skipped, and the error that stopped it
    (recorded on the run, which is then marked failed — the later steps still run on what
    exists)."""
    if on_step:
        on_step(name)
    started = time.perf_counter()
    error = skipped = None
    counts: dict[str, Any] = {}
    try:
        counts = work()
    except StepSkipped as reason:
        skipped = str(reason)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    seconds = round(time.perf_counter() - started, 3)
    return {"name": name, "seconds": seconds, "counts": counts, "skipped": skipped, "error": error}


def _in_own_transaction(factory: Any, ctx: DailyContext, fn: StepFn) -> dict[str, Any]:
    """One step, one transaction: committed when the step ends, rolled back whole when it fails
    (a failing step leaves nothing behind)."""
    with session_scope(factory) as session:
        return fn(session, ctx)


def _connected(factory: Any) -> bool:
    from tenure.connectors.service import has_connections

    return has_connections(factory)


def _sync(factory: Any, data_dir: Path) -> dict[str, Any]:
    from tenure.connectors.service import sync_for_daily_run

    return sync_for_daily_run(factory, data_dir)


def _writes_back(factory: Any) -> bool:
    from tenure.connectors.write_back import writes_back

    with session_scope(factory) as session:
        return writes_back(session)


def _write_back(factory: Any, as_of: date) -> dict[str, Any]:
    from tenure.config import get_settings
    from tenure.connectors.write_back import write_back

    return write_back(factory, get_settings().signing_key, as_of) or {}


def _slack_connected(factory: Any) -> bool:
    from tenure.playbooks.alerts_service import slack_connected

    with session_scope(factory) as session:
        return slack_connected(session)


def _slack_alerts_step(session: Session, ctx: DailyContext) -> dict[str, Any]:
    """After the CTAs: the day's alerts queued for Slack (risk crossing, champion left, health
    turned red, a CTA assigned), each event once."""
    from tenure.playbooks.alerts_service import queue_alerts

    return queue_alerts(session, ctx.as_of, public_url=ctx.settings.public_url, ruleset=ctx.ruleset)


def _post_slack(factory: Any, settings: PlaybookSettings) -> dict[str, Any]:
    from tenure.config import get_settings
    from tenure.playbooks.alerts_service import send_alerts, slack_client

    with session_scope(factory) as session:
        client = slack_client(session, get_settings().signing_key)
    if client is None:
        return {}
    return send_alerts(factory, client, settings).as_counts()


def _send_outbox(
    engine: sa.Engine, settings: PlaybookSettings, mailer: Mailer | None
) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    if mailer is not None:
        counts = send_pending(engine, mailer, settings).as_counts()
    with session_scope(session_factory(engine)) as session:
        waiting = sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.pending)
        counts["waiting"] = session.scalar(waiting)
    return counts


def _deliver(
    engine: sa.Engine, settings: PlaybookSettings, poster: Poster | None
) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    with session_scope(session_factory(engine)) as session:
        if poster is not None:
            counts = webhooks.deliver_pending(session, poster, settings).as_counts()
        waiting = sa.select(sa.func.count()).where(WebhookDelivery.status == DeliveryStatus.pending)
        counts["waiting"] = session.scalar(waiting)
    return counts


def last_runs(session: Session, limit: int = 20) -> list[DailyRunRead]:
    rows = session.scalars(sa.select(DailyRun).order_by(DailyRun.as_of.desc()).limit(limit))
    return [DailyRunRead.model_validate(r) for r in rows]
