"""The Renewals page's totals read the forecast the daily run stored (every renewal of the next
three years categorised once) instead of reading, checking for a booking and judging each of the
team's 3,000 renewals a request: the stored totals are exactly the computed ones for every owner
choice and window, and a renewal booked after the run shows at once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Contract, FigureSnapshot, User, UserRole
from tenure.portfolio import renewals as renewals_module
from tenure.portfolio.renewals import (
    RENEWAL_FORECAST,
    renewal_month,
    renewals,
    store_renewal_forecast,
)
from tenure.portfolio.schemas import RenewalsReport
from tests import factories as f

AS_OF = date(2026, 3, 10)


def seed(session: Session) -> tuple[User, User, list[Any]]:
    """A manager and two CSMs (one left), 60 accounts with renewals over three years in two
    currencies: scored from 2 % to 90 % churn, some unscored, red health, a cancellation
    announced, a payment overdue, a successor contract booked; some unassigned."""
    manager = f.user(session, email="max@example.com", role=UserRole.manager)
    csm = f.user(session, email="cat@example.com", manager=manager)
    left = f.user(session, email="lee@example.com", manager=manager, active=False)
    owners = [manager, csm, left, None]
    accounts = []
    for i in range(60):
        acct = f.account(session, external_id=f"acct-{i:02}", owner=owners[i % 4])
        ends = AS_OF + timedelta(days=17 * i + 3)
        currency = "EUR" if i % 5 == 0 else "USD"
        arr = 1_000.0 + 737.33 * (i % 11) + (0.01 if i % 3 else 0.0)
        c = f.contract(
            session,
            acct,
            arr=arr,
            starts_on=AS_OF - timedelta(days=40 + i),
            ends_on=ends,
            currency=currency,
        )
        if i % 13 == 4:
            c.notice_on = AS_OF - timedelta(days=2)
        if i % 17 == 6:
            c.payment_overdue = True
        if i % 9 == 2:  # renewed: the successor term is on file
            f.contract(
                session,
                acct,
                arr=arr * 1.1,
                starts_on=ends,
                ends_on=ends + timedelta(days=365),
                currency=currency,
            )
        if i % 7 != 3:
            f.churn_risk_score(session, acct, as_of=AS_OF, probability=round(0.02 + 0.015 * i, 3))
        f.health_score(session, acct, as_of=AS_OF, score=30 if i % 8 == 1 else 80)
        accounts.append(acct)
    session.flush()
    return manager, csm, accounts


def totals(report: Any) -> dict[str, Any]:
    data = report.model_dump(mode="json", exclude={"freshness"})
    for month in data["months"]:
        month.pop("renewals")
    return data


def computed(
    monkeypatch: Any, session: Session, user: User, as_of: date = AS_OF, **kwargs: Any
) -> RenewalsReport:
    """The report computed from every renewal, the stored forecast left unread (the oracle)."""
    with monkeypatch.context() as patched:
        patched.setattr(renewals_module, "_stored", lambda *args: None)
        return renewals(session, user, as_of, None, **kwargs)


def test_stored_forecast_totals_are_the_computed_ones(session: Session, monkeypatch: Any) -> None:
    manager, csm, _accounts = seed(session)
    assert store_renewal_forecast(session, AS_OF) == {"renewals": 60}
    for user in (manager, csm):
        for owner in (None, "me", "team", "none", str(csm.id)):
            for months in (1, 12, 36):
                expected = computed(monkeypatch, session, user, months=months, owner=owner)
                stored = renewals(
                    session, user, AS_OF, None, months=months, owner=owner, listed_months=()
                )
                assert totals(stored) == totals(expected), (user.email, owner, months)


def test_listed_renewals_are_the_computed_ones(session: Session, monkeypatch: Any) -> None:
    """Every month's largest renewals — the API's listing of every month, and one month opened
    on the page — are chosen from the stored forecast, and only those terms are read again; the
    rows are exactly the computed report's, for every owner choice and window. Three a month
    cut the months that have more; account 5 renews two terms alike on one day (one order)."""
    manager, csm, accounts = seed(session)
    twin, ends = accounts[5], AS_OF + timedelta(days=17 * 5 + 3)
    for seat in ("a", "b"):
        f.contract(
            session,
            twin,
            arr=99_999.0,
            starts_on=AS_OF - timedelta(days=9),
            ends_on=ends,
            external_id=f"twin-{seat}",
        )
    session.flush()
    store_renewal_forecast(session, AS_OF)
    read: list[int] = []
    reading = renewals_module.renewals_due

    def counted(*args: Any, **kwargs: Any) -> Any:
        due = reading(*args, **kwargs)
        read.append(len(due))
        return due

    for user in (manager, csm):
        for owner in (None, "me", "team", "none", str(csm.id)):
            for months in (1, 12, 36):
                expected = computed(
                    monkeypatch, session, user, months=months, owner=owner, per_month=3
                )
                read.clear()
                with monkeypatch.context() as patched:
                    patched.setattr(renewals_module, "renewals_due", counted)
                    listed = renewals(
                        session, user, AS_OF, None, months=months, owner=owner, per_month=3
                    )
                assert listed.model_dump() == expected.model_dump(), (user.email, owner, months)
                shown = sum(len(m.renewals) for m in listed.months)
                assert sum(read) == shown <= 3 * months
    expected = computed(monkeypatch, session, manager, months=36, per_month=3)
    assert sum(len(m.renewals) for m in expected.months) > 30
    assert any(m.accounts > 3 for m in expected.months)
    twins = [r for m in expected.months for r in m.renewals if r.arr == 99_999.0]
    assert len(twins) == 2 and twins[0].contract_id < twins[1].contract_id
    for owner in (None, "team", "none"):
        expected = computed(monkeypatch, session, manager, months=36, owner=owner)
        for month in expected.months:
            opened = renewals(
                session, manager, AS_OF, None, months=36, owner=owner, listed_months={month.month}
            )
            (found,) = [m for m in opened.months if m.month == month.month]
            assert found.model_dump() == month.model_dump(), (owner, month.month)
            assert all(not m.renewals for m in opened.months if m.month != month.month)
            # The console's opened month: that month alone read, the same figures and rows.
            alone = renewal_month(session, manager, AS_OF, None, month.month, 36, owner)
            assert alone.model_dump() == month.model_dump(), (owner, month.month)
    team = renewals(session, manager, AS_OF, None, owner="team", listed_months=())
    categories = {
        c.category.value: c.renewals
        for period in team.quarters
        for c in period.categories
        if c.renewals
    }
    # Every category is there, in numbers that differ: not constant, not empty.
    assert set(categories) == {"commit", "upside", "at_risk"}
    assert len({p.expected_arr for p in team.quarters}) > 1
    assert {p.currency for p in team.quarters} == {"EUR", "USD"}


def test_the_page_reads_the_stored_forecast_and_sees_a_booking_at_once(
    session: Session, monkeypatch: Any
) -> None:
    manager, _csm, accounts = seed(session)
    store_renewal_forecast(session, AS_OF)
    stored = session.scalars(
        sa.select(FigureSnapshot).where(FigureSnapshot.kind == RENEWAL_FORECAST)
    ).one()
    assert stored.computed_on == AS_OF and len(stored.data["renewals"]) == 60

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the renewals were read again")

    monkeypatch.setattr(renewals_module, "renewals_due", no_reading)
    before = renewals(session, manager, AS_OF, None, listed_months=())
    monkeypatch.undo()

    # Account 1's renewal (in 20 days, 3.5 % churn, red health: at risk) is booked after the
    # run: the successor term changes the stored forecast's inputs, so the totals are computed
    # again — one more renewal in commit.
    first = accounts[1]
    ends = AS_OF + timedelta(days=17 + 3)
    f.contract(session, first, arr=5.0, starts_on=ends, ends_on=ends + timedelta(days=365))
    session.flush()
    after = renewals(session, manager, AS_OF, None, listed_months=())
    assert totals(after) == totals(computed(monkeypatch, session, manager))
    (month,) = [p for p in after.months[0].forecast if p.currency == "USD"]
    (was,) = [p for p in before.months[0].forecast if p.currency == "USD"]
    commit = {c.category.value: c.renewals for c in month.categories}["commit"]
    assert commit == {c.category.value: c.renewals for c in was.categories}["commit"] + 1
    # An earlier day than the stored one is computed for that day, not read.
    earlier = renewals(session, manager, AS_OF - timedelta(days=30), None, listed_months=())
    assert totals(earlier) == totals(renewals(session, manager, AS_OF - timedelta(days=30), None))


def test_the_stored_forecast_is_made_rows_once_per_write(
    session: Session, monkeypatch: Any
) -> None:
    """The stored forecast's rows are made once per stored forecast, not every request; a
    forecast stored again (the next daily run) or computed after a change is read anew."""
    manager, _csm, accounts = seed(session)
    store_renewal_forecast(session, AS_OF)
    made: list[int] = []
    making = renewals_module._parsed

    def counted(stored: list[Any]) -> Any:
        made.append(len(stored))
        return making(stored)

    monkeypatch.setattr(renewals_module, "_parsed", counted)
    first = renewals(session, manager, AS_OF, None, listed_months=())
    again = renewals(session, manager, AS_OF, None, listed_months=())
    assert made == [60] and totals(again) == totals(first)
    # Account 3's renewal grows by 1,000 and the daily run stores the forecast again: the new
    # rows are read (the totals grow by 1,000), once.
    contract = session.scalars(
        sa.select(Contract).where(Contract.account_id == accounts[3].id)
    ).one()
    contract.arr = float(contract.arr) + 1_000.0
    session.flush()
    store_renewal_forecast(session, AS_OF)
    grown = renewals(session, manager, AS_OF, None, listed_months=())
    renewals(session, manager, AS_OF, None, listed_months=())
    assert made == [60, 60]
    assert totals(grown) == totals(computed(monkeypatch, session, manager))
    arr = [sum(p.arr for p in report.quarters) for report in (first, grown)]
    assert round(arr[1] - arr[0], 2) == 1_000
    # A change after the run (nothing stored again): computed, stored and made rows once more.
    contract.arr = float(contract.arr) - 1_000.0
    session.flush()
    back = renewals(session, manager, AS_OF, None, listed_months=())
    assert len(made) == 3 and totals(back) == totals(first)
