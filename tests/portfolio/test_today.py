"""Today's reads at the speed a team's page needs, with the answers they always gave: one rate
table per page, score changes in three statements, the untouched-accounts probe on the
touchpoint (account, day) index (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.model import (
    Account,
    FxRate,
    HealthScore,
    Touchpoint,
    User,
    UserRole,
)
from tenure.portfolio import renewals as renewals_module
from tenure.portfolio import signals
from tenure.portfolio.account_360 import account_360
from tenure.portfolio.alignment import alignment_view
from tenure.portfolio.renewals import renewals_due, renewing_between
from tenure.portfolio.rows import filtered, rows_of
from tenure.portfolio.schemas import MeasureChange, PortfolioQuery, ScoreChange, SortKey
from tenure.portfolio.today import UNTOUCHED_AFTER_DAYS, today
from tests import factories as f

TODAY = date(2026, 10, 31)


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    found: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        found.append(" ".join(statement.split()))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def rate_tables(found: list[str]) -> int:
    """How many times the statements read the rate table (tenure.accounts.fx_service)."""
    return sum(s.startswith("SELECT fx_rate.currency, fx_rate.rate_on") for s in found)


def _book(session: Session) -> tuple[User, User, User, list[Account]]:
    """A manager, two CSMs of hers and an outsider; six accounts with contracts, touchpoints,
    three scoring days and CTAs in dollars and euros (a rate on file)."""
    manager = f.user(session, email="mia@example.com", role=UserRole.manager)
    ada = f.user(session, email="ada@example.com", manager=manager)
    bob = f.user(session, email="bob@example.com", manager=manager)
    other = f.user(session, email="zed@example.com")
    owners = [ada, ada, bob, bob, other, ada]
    accounts = []
    for i, owner in enumerate(owners):
        acct = f.account(session, external_id=f"acct-{i}", name=f"Account {i}", owner=owner)
        accounts.append(acct)
        f.contract(
            session,
            acct,
            arr=10_000.0 * (i + 1),
            currency="EUR" if i == 3 else "USD",
            starts_on=TODAY - timedelta(days=300),
            # acct-5 churned: its only term ended (it stays off Today's untouched list).
            ends_on=TODAY - timedelta(days=5) if i == 5 else TODAY + timedelta(days=30 * (i + 1)),
        )
    session.add(
        FxRate(reporting_currency="USD", currency="EUR", rate_on=TODAY, rate=Decimal("1.1"))
    )
    # acct-0 talked to last week; acct-1 and acct-3 long ago; acct-2 never.
    for i, days_ago in ((0, 7), (1, UNTOUCHED_AFTER_DAYS + 5), (3, 200)):
        session.add(
            Touchpoint(
                external_id=f"tp-{i}",
                account_id=accounts[i].id,
                occurred_at=datetime.combine(
                    TODAY - timedelta(days=days_ago), datetime.min.time()
                ).replace(tzinfo=UTC),
            )
        )
    # Three scoring days; on the last, acct-0 and acct-2 moved by 12 (a tie: by name), acct-3
    # by 30, acct-4 (an outsider's) by 40, acct-1 not at all.
    moves = {0: (60, 72), 1: (50, 50), 2: (80, 68), 3: (40, 70), 4: (90, 50)}
    for i, (before, now) in moves.items():
        f.health_score(session, accounts[i], as_of=TODAY - timedelta(days=14), score=before - 5)
        f.health_score(
            session, accounts[i], as_of=TODAY - timedelta(days=7), score=before, usage_points=4
        )
        f.health_score(session, accounts[i], as_of=TODAY, score=now, previous=before)
    # acct-5 moved by 30 as well (a tie with acct-3) with no earlier score stored; acct-0 has a
    # later score of an older scorecard version, which is not its score before.
    f.health_score(session, accounts[5], as_of=TODAY, score=60, previous=30)
    older = f.health_score(session, accounts[0], as_of=TODAY - timedelta(days=3), score=1)
    older.scorecard_version = "0"
    # acct-1 belongs to acct-0's family: Account 360 rolls the family up and names the parent.
    accounts[1].parent_id = accounts[0].id
    # Two CTAs: 5,200 dollars at risk at acct-0, 5,000 euros (5,500 dollars) at acct-3.
    for i, at_risk, currency in ((0, 5_200.0, "USD"), (3, 5_000.0, "EUR")):
        cta = f.cta(session, accounts[i], owner=owners[i], title=f"Call {i}", today=TODAY)
        cta.arr_at_risk = at_risk
        cta.arr_at_risk_currency = currency
    session.flush()
    return manager, ada, other, accounts


def currency_counts(found: list[str]) -> int:
    """How many statements count the book's contract currencies (the reporting currency when
    none is set): the rate table's read, and any statement converting money without it."""
    return sum("GROUP BY contract.currency ORDER BY count(*) DESC" in s for s in found)


def test_a_page_reads_the_rate_table_once(session: Session) -> None:
    """Once, and the CTAs ranked with its reporting currency (their statement counts no
    contract currencies again), in the same order as without it."""
    manager, ada, _, accounts = _book(session)
    with statements(session) as found:
        report = today(session, manager, TODAY, None, "team")
    assert [c.title for c in report.ctas] == ["Call 3", "Call 0"]  # 5,500 dollars first
    assert rate_tables(found) == 1
    assert not currency_counts([s for s in found if s.startswith("SELECT cta.id")])
    team = {manager.id, ada.id, accounts[2].owner_id}
    alone = signals.ctas_for(session, team, TODAY)
    assert [c.model_dump() for c in report.ctas] == [c.model_dump() for c in alone]
    for account in accounts[:2]:  # the family's head, then its member (a parent)
        with statements(session) as found:
            view = account_360(session, account.id, ada, TODAY)
        assert view.rollup is not None if account is accounts[0] else view.parent is not None
        assert rate_tables(found) == 1, account.name
        assert currency_counts(found) == 1, account.name  # the rate table's
    with statements(session) as found:
        alignment = alignment_view(session, accounts[0].id, Actor(ada, "web"), TODAY)
    assert [c.arr_at_risk_currency for c in alignment.open_ctas] == ["USD"]
    assert rate_tables(found) == 1
    assert currency_counts(found) == 1


def _every_move(
    session: Session, days: signals.CurrentDays, owner_ids: set[int] | None, limit: int
) -> list[ScoreChange]:
    """The score changes worked out in Python from every stored score and account."""
    names = {a.id: (a.name, a.owner_id) for a in session.scalars(sa.select(Account))}
    card = [
        s
        for s in session.scalars(sa.select(HealthScore))
        if (s.scorecard, s.scorecard_version) == (days.scorecard, days.scorecard_version)
    ]
    moved = [
        s
        for s in card
        if s.as_of == days.health_day
        and s.previous_score is not None
        and s.score != s.previous_score
        and (owner_ids is None or names[s.account_id][1] in owner_ids)
    ]
    moved.sort(key=lambda s: (-abs(s.score - (s.previous_score or 0)), names[s.account_id][0]))
    changes = []
    for score in moved[:limit]:
        earlier = [s for s in card if s.account_id == score.account_id and s.as_of < score.as_of]
        before = max(earlier, key=lambda s: s.as_of) if earlier else None
        changes.append(
            ScoreChange(
                account_id=score.account_id,
                account_name=names[score.account_id][0],
                as_of=score.as_of,
                previous_as_of=before.as_of if before else None,
                score=score.score,
                previous_score=score.previous_score,
                band=score.band,
                measures=signals._moved_measures(before.measures if before else [], score.measures),
            )
        )
    return changes


def test_score_changes_match_every_stored_score_in_three_statements(session: Session) -> None:
    manager, ada, other, accounts = _book(session)
    days = signals.current_days(session)
    team = {manager.id, ada.id, accounts[2].owner_id}
    for owners in (None, team, {ada.id}, {other.id}, set()):
        for limit in (1, 2, 3, 10):
            with statements(session) as found:
                changes = signals.score_changes(session, days, owners, limit)
            assert changes == _every_move(session, days, owners, limit), (owners, limit)
            assert len(found) <= 3
    whole = signals.score_changes(session, days, None)
    # The largest move first; equal moves by name; acct-1 did not move.
    assert [(c.account_name, c.score - (c.previous_score or 0)) for c in whole] == [
        ("Account 4", -40),
        ("Account 3", 30),
        ("Account 5", 30),
        ("Account 0", 12),
        ("Account 2", -12),
    ]
    by_name = {c.account_name: c for c in whole}
    # The score before is the shown scorecard's (not the older version's, three days ago).
    assert by_name["Account 0"].previous_as_of == TODAY - timedelta(days=7)
    assert by_name["Account 0"].measures[0] == MeasureChange(
        name="License utilization", before="20 %", after="50 %", points=6
    )
    assert by_name["Account 5"].previous_as_of is None


def test_untouched_accounts_are_the_old_query_s_probed_by_touchpoint_day(session: Session) -> None:
    manager, *_ = _book(session)
    report = today(session, manager, TODAY, None, "team")
    # The team's accounts without a touchpoint in 90 days, by ARR in dollars: acct-3's 40,000
    # euros (44,000 dollars), acct-2 (never talked to), acct-1 (95 days ago); not acct-0
    # (last week), acct-4 (not the team's) or acct-5 (churned).
    assert [r.name for r in report.untouched_accounts] == ["Account 3", "Account 2", "Account 1"]
    rows = rows_of(session, TODAY)
    cutoff = datetime.combine(TODAY - timedelta(days=UNTOUCHED_AFTER_DAYS), datetime.min.time())
    touched = sa.exists().where(
        Touchpoint.account_id == Account.id, Touchpoint.occurred_at >= cutoff
    )
    old = (
        filtered(session, rows, PortfolioQuery(owner="team"), manager, TODAY, frozenset())
        .where(~touched, rows.arr_lookup.is_not(None))
        .order_by(rows.sort_expression(SortKey.arr, TODAY).desc(), Account.id)
        .limit(10)
    )
    assert [r.id for r in report.untouched_accounts] == list(session.scalars(old))
    # The probe is one seek of the (account, day) index (migration 0363).
    indexes = sa.inspect(session.connection()).get_indexes("touchpoint")
    assert ["account_id", "occurred_at"] in [i["column_names"] for i in indexes]


def test_renewals_are_listed_without_the_churned_test(session: Session, monkeypatch: Any) -> None:
    """An account with a contract in force is never churned: the renewals read without the
    churned test are those read with it (the old filter), for Today and the renewals forecast."""
    manager, ada, other, accounts = _book(session)
    # acct-5, churned, signs again from next month: a future term, no renewal in force today.
    f.contract(
        session,
        accounts[5],
        starts_on=TODAY + timedelta(days=30),
        ends_on=TODAY + timedelta(days=395),
    )
    session.flush()

    def read() -> tuple[Any, ...]:
        return tuple(
            (
                renewing_between(session, user, owner, TODAY, TODAY + timedelta(days=400), TODAY),
                [
                    d.renewal_id
                    for d in renewals_due(session, user, owner, TODAY, TODAY + timedelta(days=400))
                ],
            )
            for user in (manager, ada, other)
            for owner in (None, "me", "team", "none")
        )

    found = read()
    with monkeypatch.context() as old:
        old.setattr(renewals_module, "_renewing_owner", lambda owner: PortfolioQuery(owner=owner))
        assert found == read()
    everyone = found[0]
    assert [r["name"] for r in everyone[0]] == [f"Account {i}" for i in range(5)]
    assert len(everyone[1]) == 5
