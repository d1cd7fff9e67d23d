"""LAER lifecycle: one account's stage with its history (saved), and the portfolio by stage."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import LifecycleStage
from tenure.success import lifecycle
from tenure.success.book import Book, active_contracts, load_book, load_one, metric
from tenure.success.schemas import LifecyclePortfolio, LifecycleView


def go_live_on(book: Book, account_id: int) -> tuple[date | None, str]:
    """The account's ``onboarded_on``, else the first day one of its milestones was seen reached.
    A milestone found already reached on the first measured day (``baseline``) tells nothing of
    when the customer went live, so it never stands in for go-live."""
    onboarded = book.accounts[account_id].onboarded_on
    if onboarded:
        return onboarded, "onboarded_on"
    reached = [
        m for m in book.milestones[account_id] if m.reached_on and m.reached_by != "baseline"
    ]
    if not reached:
        return None, "no go-live recorded"
    first = min(reached, key=lambda m: m.reached_on or date.max)
    return first.reached_on, f"milestone {first.key!r} reached"


def lifecycle_facts(book: Book, account_id: int) -> lifecycle.LifecycleFacts:
    live_on, source = go_live_on(book, account_id)
    expansion_days = [
        d
        for o in book.opportunities[account_id]
        if o.kind == "expansion"
        for d in (o.opened_on, o.closed_on if o.status == "won" else None)
        if d
    ]
    expansion_days += [
        c.outcome_on
        for c in book.contracts[account_id]
        if c.renewal_outcome is not None and c.renewal_outcome.value == "expanded" and c.outcome_on
    ]
    contracts = [
        lifecycle.LifecycleContract(
            c.starts_on,
            c.ends_on,
            c.renewal_outcome.value if c.renewal_outcome else None,
            c.outcome_on,
            c.status,
            auto_renews=c.auto_renews,
            billing_period=c.billing_period,
        )
        for c in book.contracts[account_id]
    ]
    return lifecycle.LifecycleFacts(
        contracts=contracts,
        go_live_on=live_on,
        go_live_source=source,
        expansion_dates=expansion_days,
        customer_since=book.accounts[account_id].created_on,
    )


def after_renewal_facts(book: Book, account_id: int) -> lifecycle.AfterRenewalFacts:
    as_of = book.as_of
    quarter_ago = as_of - timedelta(days=91)
    refs = book.referrals[account_id]
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account_id, as_of))
    active = metric(book, account_id, "active_users_28d")
    return lifecycle.AfterRenewalFacts(
        contacts=[
            lifecycle.ContactFact(c.level, c.roles, c.joined_on, c.left_on)
            for c in book.contacts[account_id]
        ],
        active_users=None if active is None else int(active),
        licensed_seats=seats or None,
        feature_share=metric(book, account_id, "feature_breadth"),
        strategic_share=metric(book, account_id, "strategic_adoption"),
        # A case study is a success story published.
        success_stories_last_quarter=sum(
            1
            for r in refs
            if r.kind in ("success_story", "case_study") and quarter_ago < r.occurred_on <= as_of
        ),
        references=sum(1 for r in refs if r.kind == "reference" and r.occurred_on <= as_of),
        referrals=sum(1 for r in refs if r.kind == "referral" and r.occurred_on <= as_of),
        speaker_slots=sum(1 for r in refs if r.kind == "speaker" and r.occurred_on <= as_of),
    )


def save_history_rows(
    session: Session, account_id: int, history: list[lifecycle.StageChange], year_index: int
) -> None:
    session.execute(sa.delete(LifecycleStage).where(LifecycleStage.account_id == account_id))
    session.add_all(
        LifecycleStage(
            account_id=account_id,
            effective_on=h.effective_on,
            stage=h.stage.value if h.stage else None,
            year_index=year_index,
            reasons=h.reasons,
        )
        for h in history
    )


def lifecycle_show(session: Session, external_id: str, as_of: date) -> LifecycleView:
    """The LAER stage with its facts, its history (saved), and the after-R dimensions."""
    book, account = load_one(session, external_id, as_of)
    facts = lifecycle_facts(book, account.id)
    current = lifecycle.laer_stage(facts, as_of)
    history = lifecycle.stage_history(facts, as_of)
    save_history_rows(session, account.id, history, current.year_index)
    session.flush()
    return LifecycleView(
        account=account.external_id,
        name=account.name,
        current=current,
        history=history,
        customer_for_life=lifecycle.customer_for_life(
            current, after_renewal_facts(book, account.id)
        ),
    )


def lifecycle_portfolio(
    session: Session, as_of: date, *, save_history: bool = False
) -> LifecyclePortfolio:
    """Accounts per stage and tenure year; with ``save_history`` every account's stage history
    is rewritten (the daily job)."""
    book = load_book(session, as_of)
    by_stage: dict[str, int] = defaultdict(int)
    pairs = []
    for account_id in book.accounts:
        facts = lifecycle_facts(book, account_id)
        stage = lifecycle.laer_stage(facts, as_of)
        if save_history:
            save_history_rows(
                session, account_id, lifecycle.stage_history(facts, as_of), stage.year_index
            )
        by_stage[stage.stage.value if stage.stage else "none"] += 1
        if stage.stage is not None:
            pairs.append(
                (stage, lifecycle.customer_for_life(stage, after_renewal_facts(book, account_id)))
            )
    half = sum(
        1
        for a in book.accounts
        if (metric(book, a, "feature_breadth") or 0) >= lifecycle.FEATURE_SHARE_TARGET
    )
    session.flush()
    return LifecyclePortfolio(
        as_of=as_of,
        by_stage=dict(by_stage),
        by_tenure_year=lifecycle.portfolio_by_tenure_year(pairs),
        customers_with_half_features=half,
    )
