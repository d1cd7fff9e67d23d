"""Score accounts daily, store scores with history, and read them back with their explanations.

Functions take the session first; they flush, never commit (the surface owns the transaction).

    card = scorecard_in_force(session, settings.data_dir)  # tenure.health.versions
    scores = score_day(session, store, date(2025, 3, 31), card)  # stored, with trend
    explain_account(session, "ACME")                       # latest stored score + measures
    latest_account_score(session, account)                 # the same for an Account row
    score_history(session, "ACME")                         # every stored day, oldest first

Scores are kept per scorecard version: rescoring a day with a new version keeps the old version's
scores, and a score's trend compares it with the previous score *of the same version* — never v2
with v1. The pages show one version: the one in force, once it has scores (else the version
scored last; :func:`tenure.health.versions.shown_version`).

Scores read the metrics stored for the day (``tenure metrics compute``); a day without stored
metrics is computed and stored first, so one command does the whole job. Former customers — accounts
whose contracts have all ended by the day — are not scored; accounts without any contract are.
Profiles can match the account's columns, any metric, and ``lifecycle_stage`` (the LAER stage in
effect that day, when `tenure lifecycle` has set one).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import active_clause
from tenure.accounts.service import get_account
from tenure.errors import NotFound
from tenure.health.schemas import AccountScore, MeasureScore
from tenure.health.scorecard import Scorecard, score_accounts
from tenure.health.versions import (
    ensure_stored,
    read_scorecard_file,
    scorecard_path,
    shown_version,
)
from tenure.metrics.service import compute_and_store, stored_metrics
from tenure.model import (
    JUDGEMENTS_CHANGED,
    Account,
    Contract,
    HealthScore,
    LifecycleStage,
    MetricSnapshot,
)
from tenure.model.contract import ContractStatus
from tenure.store.events import EventStore


def load_scorecard(data_dir: Path, explicit: Path | None = None) -> Scorecard:
    """The card in a file: ``explicit``, else the data dir's ``scorecard.yaml``, else the shipped
    default (the daily run scores with the version in force: tenure.health.versions)."""
    return read_scorecard_file(scorecard_path(data_dir, explicit))[0]


def _previous_scores(session: Session, card: Scorecard, as_of: date) -> dict[int, int]:
    """Each account's latest stored score of this scorecard version before ``as_of``."""
    latest = (
        sa.select(HealthScore.account_id, sa.func.max(HealthScore.as_of).label("as_of"))
        .where(*_of_card(card.name, card.version), HealthScore.as_of < as_of)
        .group_by(HealthScore.account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(HealthScore.account_id, HealthScore.score)
        .join(
            latest,
            (HealthScore.account_id == latest.c.account_id) & (HealthScore.as_of == latest.c.as_of),
        )
        .where(*_of_card(card.name, card.version))
    )
    return {account_id: score for account_id, score in rows}


def _of_card(name: str, version: str) -> list[sa.ColumnElement[bool]]:
    return [HealthScore.scorecard == name, HealthScore.scorecard_version == version]


def lifecycle_stages(session: Session, as_of: date) -> dict[int, str | None]:
    """Each account's LAER stage in effect on ``as_of`` (profiles may match on it, whatever
    lifecycle model the pages show)."""
    latest = (
        sa.select(LifecycleStage.account_id, sa.func.max(LifecycleStage.effective_on).label("on"))
        .where(LifecycleStage.effective_on <= as_of, LifecycleStage.model == "laer")
        .group_by(LifecycleStage.account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(LifecycleStage.account_id, LifecycleStage.stage).join(
            latest,
            (LifecycleStage.account_id == latest.c.account_id)
            & (LifecycleStage.effective_on == latest.c.on)
            & (LifecycleStage.model == "laer"),
        )
    )
    return {account_id: stage for account_id, stage in rows}


def former_customers(session: Session, as_of: date) -> set[int]:
    """Accounts that had a contract but have none in force on ``as_of`` (tenure.accounts.arr):
    nothing left to keep healthy. Prospects and trials are still watched; a customer whose
    renewal is booked, or whose monthly subscription renews itself, is still a customer."""
    signed = sa.select(Contract.account_id).where(
        Contract.starts_on <= as_of, Contract.status != ContractStatus.pending
    )
    active = sa.select(Contract.account_id).where(active_clause(as_of))
    return set(session.scalars(signed.except_(active)))


def score_day(
    session: Session,
    store: EventStore,
    as_of: date,
    card: Scorecard,
    account_ids: Collection[int] | None = None,
) -> list[AccountScore]:
    """Score every current account on ``as_of`` and store the scores (replacing that day's scores
    of the same version; other versions' scores are kept).

    ``account_ids`` scores and replaces only those accounts (the intraday refresh). The card's
    version is stored first if it is not yet (refused if its label holds another definition).
    """
    ensure_stored(session, card)
    has_metrics = session.scalar(
        sa.select(sa.func.count()).select_from(MetricSnapshot).where(MetricSnapshot.as_of == as_of)
    )
    if not has_metrics:
        compute_and_store(session, store, as_of)
    frame = stored_metrics(session, as_of)
    if account_ids is not None:
        frame = frame[frame.account_id.isin(list(account_ids))]
    stages = lifecycle_stages(session, as_of)
    former = former_customers(session, as_of)
    rows = [
        {**row, "lifecycle_stage": stages.get(int(row["account_id"]))}
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
        if int(row["account_id"]) not in former
    ]
    scores = score_accounts(
        card, rows, as_of=as_of, previous=_previous_scores(session, card, as_of)
    )
    replaced = sa.delete(HealthScore).where(
        HealthScore.as_of == as_of, *_of_card(card.name, card.version)
    )
    if account_ids is not None:
        replaced = replaced.where(HealthScore.account_id.in_(list(account_ids)))
    session.execute(replaced)
    if scores:
        session.execute(
            sa.insert(HealthScore),
            [
                {
                    "account_id": s.account_id,
                    "as_of": s.as_of,
                    "scorecard": s.scorecard,
                    "scorecard_version": s.scorecard_version,
                    "profile": s.profile,
                    "score": s.score,
                    "band": s.band,
                    "trend": s.trend,
                    "previous_score": s.previous_score,
                    "measures": [m.model_dump() for m in s.measures],
                }
                for s in scores
            ],
        )
    session.execute(JUDGEMENTS_CHANGED)
    session.flush()
    return scores


def to_account_score(score: HealthScore, account: Account) -> AccountScore:
    """A stored score row as the surfaces' :class:`AccountScore` (with its measures)."""
    return AccountScore(
        account_id=account.id,
        account_external_id=account.external_id,
        account_name=account.name,
        as_of=score.as_of,
        scorecard=score.scorecard,
        scorecard_version=score.scorecard_version,
        profile=score.profile,
        score=score.score,
        band=score.band,
        trend=score.trend,
        previous_score=score.previous_score,
        measures=[MeasureScore.model_validate(m) for m in score.measures],
    )


def _shown(session: Session, version: tuple[str, str] | None) -> list[sa.ColumnElement[bool]]:
    chosen = version or shown_version(session)
    return [] if chosen is None else _of_card(*chosen)


def latest_account_score(
    session: Session, account: Account, version: tuple[str, str] | None = None
) -> AccountScore | None:
    """The account's latest stored score (of ``version``, default the version the pages show)
    with every measure, if it was ever scored."""
    score = session.scalars(
        sa.select(HealthScore)
        .where(HealthScore.account_id == account.id, *_shown(session, version))
        .order_by(HealthScore.as_of.desc(), HealthScore.computed_at.desc())
        .limit(1)
    ).first()
    return None if score is None else to_account_score(score, account)


def score_history(
    session: Session, reference: str, version: tuple[str, str] | None = None
) -> list[AccountScore]:
    """Every stored score of one account of one version (default: the version the pages show),
    oldest first."""
    account = get_account(session, reference, by_name=True)
    scores = session.scalars(
        sa.select(HealthScore)
        .where(HealthScore.account_id == account.id, *_shown(session, version))
        .order_by(HealthScore.as_of)
    ).all()
    return [to_account_score(s, account) for s in scores]


def explain_account(
    session: Session,
    reference: str,
    as_of: date | None = None,
    version: tuple[str, str] | None = None,
) -> AccountScore:
    """The account's stored score of ``as_of`` (default: the latest) with every measure."""
    history = score_history(session, reference, version)
    chosen = [s for s in history if as_of is None or s.as_of == as_of]
    if not chosen:
        when = f" for {as_of}" if as_of else ""
        which = f" with scorecard {version[0]} version {version[1]}" if version else ""
        raise NotFound(
            f"no health score stored for {reference!r}{when}{which}; "
            "run `tenure health score` first"
        )
    return chosen[-1]


def latest_scores(session: Session, version: tuple[str, str] | None = None) -> list[AccountScore]:
    """The scores of the latest scored day (of one version), lowest first (who needs attention)."""
    where = _shown(session, version)
    day = session.scalar(sa.select(sa.func.max(HealthScore.as_of)).where(*where))
    rows = session.execute(
        sa.select(HealthScore, Account)
        .join(Account, Account.id == HealthScore.account_id)
        .where(HealthScore.as_of == day, *where)
        .order_by(HealthScore.score, Account.name)
    ).all()
    return [to_account_score(score, account) for score, account in rows]
