"""Score accounts daily, store scores with history, and read them back with their explanations.

Functions take the session first; they flush, never commit (the surface owns the transaction).

    card = load_scorecard(settings.data_dir)               # <data_dir>/scorecard.yaml or default
    scores = score_day(session, store, date(2025, 3, 31), card)  # stored, with trend
    explain_account(session, "ACME")                       # latest stored score + measures
    latest_account_score(session, account)                 # the same for an Account row
    score_history(session, "ACME")                         # every stored day, oldest first

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
from tenure.errors import InvalidInput, NotFound
from tenure.health.schemas import AccountScore, MeasureScore
from tenure.health.scorecard import Scorecard, load_scorecard_text, score_accounts
from tenure.metrics.service import compute_and_store, stored_metrics
from tenure.model import Account, Contract, HealthScore, LifecycleStage, MetricSnapshot
from tenure.model.contract import ContractStatus
from tenure.store.events import EventStore

DEFAULT_SCORECARD = Path(__file__).with_name("default_scorecard.yaml")
SCORECARD_FILE = "scorecard.yaml"


def scorecard_path(data_dir: Path, explicit: Path | None = None) -> Path:
    """``explicit``, else ``<data_dir>/scorecard.yaml`` when present, else the shipped default."""
    if explicit is not None:
        return explicit
    custom = data_dir / SCORECARD_FILE
    return custom if custom.exists() else DEFAULT_SCORECARD


def load_scorecard(data_dir: Path, explicit: Path | None = None) -> Scorecard:
    path = scorecard_path(data_dir, explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read scorecard {path}: {error.strerror}") from None
    return load_scorecard_text(text, str(path))


def _previous_scores(session: Session, card: Scorecard, as_of: date) -> dict[int, int]:
    """Each account's latest stored score of this scorecard before ``as_of``."""
    latest = (
        sa.select(HealthScore.account_id, sa.func.max(HealthScore.as_of).label("as_of"))
        .where(HealthScore.scorecard == card.name, HealthScore.as_of < as_of)
        .group_by(HealthScore.account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(HealthScore.account_id, HealthScore.score)
        .join(
            latest,
            (HealthScore.account_id == latest.c.account_id) & (HealthScore.as_of == latest.c.as_of),
        )
        .where(HealthScore.scorecard == card.name)
    )
    return {account_id: score for account_id, score in rows}


def lifecycle_stages(session: Session, as_of: date) -> dict[int, str | None]:
    """Each account's LAER stage in effect on ``as_of`` (profiles may match on it)."""
    latest = (
        sa.select(LifecycleStage.account_id, sa.func.max(LifecycleStage.effective_on).label("on"))
        .where(LifecycleStage.effective_on <= as_of)
        .group_by(LifecycleStage.account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(LifecycleStage.account_id, LifecycleStage.stage).join(
            latest,
            (LifecycleStage.account_id == latest.c.account_id)
            & (LifecycleStage.effective_on == latest.c.on),
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
    """Score every current account on ``as_of`` and store the scores (replacing that day's).

    ``account_ids`` scores and replaces only those accounts (the intraday refresh).
    """
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
        HealthScore.as_of == as_of, HealthScore.scorecard == card.name
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


def latest_account_score(session: Session, account: Account) -> AccountScore | None:
    """The account's latest stored score with every measure, if it was ever scored."""
    score = session.scalars(
        sa.select(HealthScore)
        .where(HealthScore.account_id == account.id)
        .order_by(HealthScore.as_of.desc(), HealthScore.computed_at.desc())
        .limit(1)
    ).first()
    return None if score is None else to_account_score(score, account)


def score_history(session: Session, reference: str) -> list[AccountScore]:
    """Every stored score of one account, oldest first."""
    account = get_account(session, reference, by_name=True)
    scores = session.scalars(
        sa.select(HealthScore)
        .where(HealthScore.account_id == account.id)
        .order_by(HealthScore.as_of, HealthScore.scorecard)
    ).all()
    return [to_account_score(s, account) for s in scores]


def explain_account(session: Session, reference: str, as_of: date | None = None) -> AccountScore:
    """The account's stored score of ``as_of`` (default: the latest) with every measure."""
    history = score_history(session, reference)
    chosen = [s for s in history if as_of is None or s.as_of == as_of]
    if not chosen:
        when = f" for {as_of}" if as_of else ""
        raise NotFound(
            f"no health score stored for {reference!r}{when}; run `tenure health score` first"
        )
    return chosen[-1]


def latest_scores(session: Session) -> list[AccountScore]:
    """The scores of the latest scored day, lowest first (who needs attention)."""
    day = session.scalar(sa.select(sa.func.max(HealthScore.as_of)))
    rows = session.execute(
        sa.select(HealthScore, Account)
        .join(Account, Account.id == HealthScore.account_id)
        .where(HealthScore.as_of == day)
        .order_by(HealthScore.score, Account.name)
    ).all()
    return [to_account_score(score, account) for score, account in rows]
