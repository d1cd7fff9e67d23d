"""Value and the EBR: the six-part pack for one account, benchmarked on its peers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.model import Milestone
from tenure.success import maturity, milestones, outcome, value
from tenure.success.book import (
    account_facts,
    active_contracts,
    champions_of,
    load_book,
    metric,
    value_stage_of,
)
from tenure.success.outcome_service import outcome_versions

if TYPE_CHECKING:
    from tenure.store.events import EventStore

MEASURES = (
    ("license_utilization", "Licence utilization", "share"),
    ("feature_breadth", "Feature adoption", "share"),
    ("strategic_adoption", "Strategic-feature adoption", "share"),
    ("active_users_28d", "Active users (28 days)", "count"),
    ("events_per_active_user", "Events per active user (28 days)", "count"),
)


def features_used(
    store: EventStore, external_id: str, keys: list[str], since: date, as_of: date
) -> set[str]:
    """Which of the feature keys the account used after ``since`` up to ``as_of`` (events)."""
    con = store.connect()
    try:
        t = store.table(con)
        expr = (
            t.filter(
                t.account_id == external_id,
                t.event.isin(keys),
                t.event_date > since,
                t.event_date <= as_of,
            )
            .select("event")
            .distinct()
        )
        return {str(v) for v in expr.to_pyarrow().column("event").to_pylist()}
    finally:
        con.disconnect()


def ebr_goal_milestones(planned: Sequence[Milestone], as_of: date) -> list[Milestone]:
    """The milestones the EBR sets as goals for the next one: the first three still open."""
    return [
        m
        for m in planned
        if milestones.milestone_status(m.due_on, m.reached_on, as_of).status
        is not milestones.MilestoneStatus.reached
    ][:3]


def ebr_pack(
    session: Session, external_id: str, as_of: date, store: EventStore | None = None
) -> value.EbrPack:
    """The six-part EBR pack for one account, benchmarked on its peer cohort; new capabilities'
    adoption is read from the event store when one is given."""
    book = load_book(session, as_of)
    account = get_account(session, external_id)
    stage = value_stage_of(book, account.id)
    since = stage.last_ebr_on or as_of - timedelta(days=365)
    band = value.size_band(account.employee_count)
    peers = [
        value.PeerValues({k: metric(book, a.id, k) for k, _, _ in MEASURES})
        for a in book.accounts.values()
        if a.id != account.id
        and a.segment == account.segment
        and value.size_band(a.employee_count) == band
        and active_contracts(book, a.id, as_of)
    ]
    productivity = [
        value.Measurement(
            key=k,
            name=name,
            unit=unit,
            value=metric(book, account.id, k),
            benchmark=value.benchmark(k, peers),
        )
        for k, name, unit in MEASURES
    ]
    initiatives = []
    versions = outcome_versions(session, account.id)
    if versions:
        current = outcome.current_version(versions, as_of)
        status = outcome.evaluate_outcome(current, account_facts(book, account.id))
        initiatives.append(
            value.Initiative(
                name=current.required_outcome.text,
                status=f"Required Outcome {status.required_met}",
                detail=status.required_reason,
            )
        )
    else:
        handoff = (account.custom or {}).get("handoff")
        named = handoff.get("required_outcome") if isinstance(handoff, dict) else None
        if named:
            initiatives.append(
                value.Initiative(
                    name=str(named),
                    status="named at sales handoff",
                    detail="no measurable target yet: set one with `tenure outcome set`",
                )
            )
    for m in book.milestones[account.id]:
        st = milestones.milestone_status(m.due_on, m.reached_on, as_of)
        initiatives.append(value.Initiative(name=m.name, status=st.status.value, detail=st.reason))
    released = [f for f in book.features if f.released_on and since < f.released_on <= as_of]
    used = (
        features_used(store, account.external_id, [f.key for f in released], since, as_of)
        if store is not None and released
        else None
    )
    capabilities = [
        value.Capability(
            name=f.name, released_on=f.released_on, adopted=None if used is None else f.key in used
        )
        for f in released
    ]
    goals = [
        f"Reach '{m.name}' by {m.due_on}"
        for m in ebr_goal_milestones(book.milestones[account.id], as_of)
    ]
    if versions:
        goals.append(
            f"Progress on: {outcome.current_version(versions, as_of).required_outcome.text}"
        )
    if stage.stage is not maturity.Stage.conquering:
        goals.append("Hold the next EBR with sponsor, buyer and stakeholders present")
    util = metric(book, account.id, "license_utilization")
    if util is not None and util < 1:
        goals.append(f"Raise licence utilization from {util:.0%} toward 100%")
    return value.EbrPack(
        account_name=account.name,
        as_of=as_of,
        since=since,
        segment=account.segment,
        peer_cohort=f"{account.segment or 'no segment'}, {band} employees",
        peers=len(peers),
        value_stage=stage,
        productivity=productivity,
        strategic_initiatives=initiatives,
        new_capabilities=capabilities,
        champions=[
            value.Champion(name=c.name or c.email or c.external_id, title=c.title)
            for c in champions_of(book, account.id, as_of)
        ],
        goals_next=goals,
    )
