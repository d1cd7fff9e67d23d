"""Value and the EBR: the six-part pack for one account, benchmarked on its peers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import active_clause
from tenure.accounts.group_ids import group_ids_of
from tenure.accounts.service import get_account
from tenure.accounts.words import key_words
from tenure.model import Account, Contract
from tenure.success import figures, maturity, milestones, outcome, value
from tenure.success.book import (
    Book,
    account_facts,
    book_milestone_status,
    champions_of,
    load_book,
    metric,
    stored_metrics_by_account,
    value_stage_of,
)
from tenure.success.outcome_service import outcome_versions
from tenure.words import percent

if TYPE_CHECKING:
    from tenure.store.events import EventStore

MEASURES = value.PRODUCTIVITY


# An outcome check's verdict (success.rules.Outcome) as the EBR says it.
MET_WORDS = {"pass": "met", "fail": "not met yet", "unknown": "not measured yet"}


def features_used(
    store: EventStore, group_ids: list[str], keys: list[str], since: date, as_of: date
) -> set[str]:
    """Which of the feature keys the account used after ``since`` up to ``as_of``: events
    naming it by any of ``group_ids`` (its external id, its product workspace id…)."""
    con = store.connect()
    try:
        t = store.table(con, (since, as_of))
        expr = (
            t.filter(
                t.account_id.isin(group_ids),
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


@dataclass(frozen=True)
class PeerCohort:
    """The customers of one segment and size band on a day (a contract in force: the SQL twin
    of active_contracts), by id, with their productivity measurements."""

    ids: list[int]  # ascending
    values: dict[str, list[float | None]]  # measurement key → one value per id

    def without(self, account_id: int) -> list[value.PeerValues]:
        """The account's peers: the cohort without the account itself."""
        return [
            value.PeerValues({k: self.values[k][i] for k, _, _ in MEASURES})
            for i, a in enumerate(self.ids)
            if a != account_id
        ]


def peer_cohorts(session: Session, as_of: date) -> dict[tuple[str | None, str], PeerCohort]:
    """Every peer cohort (segment, size band) on ``as_of``, measured from the stored metrics
    of the latest day up to it."""
    metrics, _ = stored_metrics_by_account(session, as_of)
    live = set(session.scalars(sa.select(Contract.account_id).where(active_clause(as_of))))
    cohorts: dict[tuple[str | None, str], PeerCohort] = {}
    for a, segment, employees in session.execute(
        sa.select(Account.id, Account.segment, Account.employee_count).order_by(Account.id)
    ):
        if a not in live:
            continue
        key = (segment, value.size_band(employees))
        cohort = cohorts.setdefault(key, PeerCohort([], {k: [] for k, _, _ in MEASURES}))
        cohort.ids.append(a)
        own = metrics.get(a, {})
        for k, _, _ in MEASURES:
            v = own.get(k)
            cohort.values[k].append(None if v is None else float(v))
    return cohorts


# The peer cohorts the daily run measured, stored so that an EBR need not read every account's
# metrics (half a second at 10,000 accounts) to benchmark one.
PEER_COHORTS = "ebr_peer_cohorts"


def _peers_code() -> str:
    return figures.code_digest("tenure.success.value_service", "tenure.success.value")


def store_peer_cohorts(session: Session, as_of: date) -> dict[str, Any]:
    """The daily run's step: every peer cohort of ``as_of`` stored for the EBR."""
    cohorts = peer_cohorts(session, as_of)
    data = {
        "cohorts": [
            {"segment": segment, "band": band, "ids": c.ids, "values": c.values}
            for (segment, band), c in cohorts.items()
        ]
    }
    figures.write_snapshot(session, PEER_COHORTS, _peers_code(), as_of, data)
    return {"cohorts": len(cohorts), "customers": sum(len(c.ids) for c in cohorts.values())}


def peer_cohort(session: Session, as_of: date, segment: str | None, band: str) -> PeerCohort:
    """One peer cohort as the daily run stored it on the latest day up to ``as_of``; measured
    now for an earlier day, and stored when nothing is (no daily run yet)."""
    stored = figures.read_snapshot(session, PEER_COHORTS, _peers_code())
    if stored is None:
        store_peer_cohorts(session, as_of)
        stored = figures.read_snapshot(session, PEER_COHORTS, _peers_code())
    if stored is None or stored[1] > as_of:
        return peer_cohorts(session, as_of).get((segment, band), PeerCohort([], {}))
    for c in stored[0]["cohorts"]:
        if c["segment"] == segment and c["band"] == band:
            return PeerCohort(list(c["ids"]), dict(c["values"]))
    return PeerCohort([], {})


# [default] The next EBR is a quarter away: an overdue goal is re-committed for that day.
NEXT_EBR_DAYS = value.QUARTER


@dataclass(frozen=True)
class EbrGoal:
    """A milestone the EBR sets as a goal for the next one, with the day it is due by."""

    key: str
    name: str
    due_on: date
    # The plan's original due date when the milestone is overdue (re-committed), else None.
    overdue_since: date | None = None

    def text(self) -> str:
        """The goal as the customer reads it: a day ahead, never the missed one (the team sees
        ``overdue_since`` on the success plan)."""
        return f"Reach '{self.name}' by {self.due_on}"


def ebr_goals(book: Book, account_id: int, as_of: date) -> list[EbrGoal]:
    """The goals for the next EBR: the first three open milestones whose state is known (one
    never measured and due before Tenure watched is left out). A goal is never in the past: an
    overdue milestone is re-committed for the next EBR."""
    goals = []
    next_ebr = as_of + timedelta(days=NEXT_EBR_DAYS)
    for m in book.milestones[account_id]:
        status = book_milestone_status(book, m).status
        if status in (milestones.MilestoneStatus.reached, milestones.MilestoneStatus.unknown):
            continue
        overdue = m.due_on < as_of
        goals.append(
            EbrGoal(m.key, m.name, next_ebr if overdue else m.due_on, m.due_on if overdue else None)
        )
    return goals[:3]


def _customer_status(status: milestones.MilestoneStatus, m: Any, as_of: date) -> str:
    """A milestone's state as the customer reads it: reached (when), due (a day ahead) or in
    progress — not our rule for 'stuck' nor a day already missed."""
    if status is milestones.MilestoneStatus.reached and m.reached_on is not None:
        return f"reached {m.reached_on}"
    if status is milestones.MilestoneStatus.unknown:
        return "not measured yet"
    return f"due {m.due_on}" if m.due_on >= as_of else "in progress"


def ebr_pack(
    session: Session, external_id: str, as_of: date, store: EventStore | None = None
) -> value.EbrPack:
    """The six-part EBR pack for one account, benchmarked on its peer cohort; new capabilities'
    adoption is read from the event store when one is given."""
    account = get_account(session, external_id)
    book = load_book(session, as_of, [account.id])
    stage = value_stage_of(book, account.id)
    since = stage.last_ebr_on or as_of - timedelta(days=365)
    band = value.size_band(account.employee_count)
    cohort = peer_cohort(session, as_of, account.segment, band)
    peers = cohort.without(account.id)
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
    current = outcome.current_version(outcome_versions(session, account.id), as_of)
    if current is not None:
        status = outcome.evaluate_outcome(current, account_facts(book, account.id))
        initiatives.append(
            value.Initiative(
                name=current.required_outcome.text,
                # The customer reads this: the verdict in words, not the target's rule text.
                status=f"Required Outcome {MET_WORDS.get(status.required_met.value, 'unknown')}",
                detail="",
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
                    detail="no measurable target agreed yet",
                )
            )
    for m in book.milestones[account.id]:
        st = book_milestone_status(book, m)
        initiatives.append(
            value.Initiative(name=m.name, status=_customer_status(st.status, m, as_of), detail="")
        )
    released = [f for f in book.features if f.released_on and since < f.released_on <= as_of]
    used = (
        features_used(
            store, group_ids_of(session, account.id), [f.key for f in released], since, as_of
        )
        if store is not None and released
        else None
    )
    capabilities = [
        value.Capability(
            name=f.name, released_on=f.released_on, adopted=None if used is None else f.key in used
        )
        for f in released
    ]
    goals = [g.text() for g in ebr_goals(book, account.id, as_of)]
    if current is not None:
        goals.append(f"Progress on: {current.required_outcome.text}")
    if stage.stage is not maturity.Stage.conquering:
        goals.append("Hold the next EBR with sponsor, buyer and stakeholders present")
    util = metric(book, account.id, "license_utilization")
    if util is not None and util < 1:
        goals.append(f"Raise license utilization from {percent(util)} toward 100 %")
    return value.EbrPack(
        account_name=account.name,
        as_of=as_of,
        since=since,
        segment=account.segment,
        peer_cohort=", ".join(
            part
            for part in (
                key_words(account.segment) if account.segment else "",  # "SMB", not smb
                f"{band} employees" if band != "unknown size" else None,
            )
            if part
        )
        or "all customers",
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
