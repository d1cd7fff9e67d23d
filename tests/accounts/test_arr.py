"""The three twins of "active contract and ARR on a day" agree, on SQLite/DuckDB and PostgreSQL.

The book below has one account per clause of the definition (tenure.accounts.arr); the expected
figures on 2025-03-01 are worked out by hand beside each account.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import (
    active_clause,
    active_contracts_ibis,
    active_on,
    arr_by_currency,
    arr_on,
)
from tenure.metrics.snapshot import load_snapshot
from tenure.model import Contract, ContractStatus
from tests import factories as f

DAY = date(2025, 3, 1)


def _book(session: Session) -> dict[str, int]:
    # two-currency: pays 1,000 USD and 500 EUR at once — two figures, never 1,500.
    two = f.account(session, external_id="two-currency")
    f.contract(session, two, arr=1000.0, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    f.contract(
        session,
        two,
        arr=500.0,
        currency="EUR",
        starts_on=date(2025, 2, 1),
        ends_on=date(2026, 1, 31),
    )
    # cancelled: one contract cancelled on 02-15 (gone by 03-01), one cancelled on 03-01 (in
    # force through its outcome day), one cancelled without a date (runs to its end).
    cancelled = f.account(session, external_id="cancelled")
    for arr, outcome_on in ((200.0, date(2025, 2, 15)), (300.0, DAY), (400.0, None)):
        f.contract(
            session,
            cancelled,
            external_id=f"cancelled-{arr}",
            arr=arr,
            currency="USD" if arr != 400.0 else "GBP",
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            status=ContractStatus.cancelled,
            outcome_on=outcome_on,
        )
    # pending: a renewal on file dated over 03-01 is not revenue; the ended term before it is.
    pending = f.account(session, external_id="pending")
    f.contract(session, pending, arr=700.0, starts_on=date(2024, 3, 2), ends_on=DAY)
    f.contract(
        session,
        pending,
        arr=800.0,
        starts_on=date(2025, 2, 1),
        ends_on=date(2026, 1, 31),
        status=ContractStatus.pending,
    )
    # handover: the old term ends on the day the renewal starts; only the renewal counts then.
    handover = f.account(session, external_id="handover")
    f.contract(session, handover, arr=900.0, starts_on=date(2024, 3, 1), ends_on=DAY)
    f.contract(session, handover, arr=990.0, starts_on=DAY, ends_on=date(2026, 2, 28))
    # ended: a status of "ended" on a contract dated over the day is today's word, not that day's.
    ended = f.account(session, external_id="ended")
    f.contract(
        session,
        ended,
        arr=50.0,
        starts_on=date(2024, 6, 1),
        ends_on=date(2025, 5, 31),
        status=ContractStatus.ended,
    )
    return {a.external_id: a.id for a in (two, cancelled, pending, handover, ended)}


def _ibis_connection(backend: str, session: Session) -> ibis.BaseBackend:
    if backend == "sqlite":
        return ibis.duckdb.connect()
    url = session.get_bind().engine.url
    return ibis.postgres.connect(
        host=url.host or url.query.get("host"),
        port=url.port or int(url.query.get("port", 5432)),  # type: ignore[arg-type]
        user=url.username,
        database=url.database,
    )


def _ibis_arr(con: ibis.BaseBackend, session: Session, day: date) -> dict[tuple[int, str], float]:
    contracts = active_contracts_ibis(load_snapshot(session, con).contracts, ibis.literal(day))
    summed = contracts.group_by("account_id", "currency").aggregate(arr=contracts.arr.sum())
    return {
        (int(row["account_id"]), row["currency"]): float(row["arr"])
        for row in summed.to_pyarrow().to_pylist()
    }


def test_arr_on_a_day_by_hand(session: Session) -> None:
    ids = _book(session)
    expected = {
        (ids["two-currency"], "USD"): 1000.0,
        (ids["two-currency"], "EUR"): 500.0,
        (ids["cancelled"], "USD"): 300.0,
        (ids["cancelled"], "GBP"): 400.0,
        (ids["pending"], "USD"): 700.0,
        (ids["handover"], "USD"): 990.0,
        (ids["ended"], "USD"): 50.0,
    }
    assert arr_by_currency(session, DAY) == expected
    assert arr_by_currency(session, DAY, [ids["two-currency"]]) == {
        (ids["two-currency"], "USD"): 1000.0,
        (ids["two-currency"], "EUR"): 500.0,
    }


@pytest.mark.parametrize("offset", [-30, -14, -1, 0, 1, 300])
def test_the_three_twins_agree(backend: str, session: Session, offset: int) -> None:
    _book(session)
    day = DAY + timedelta(days=offset)
    rows = session.scalars(sa.select(Contract)).all()
    in_memory = arr_on(rows, day)
    assert in_memory  # every day checked has revenue, so agreement is not agreement on nothing
    assert arr_by_currency(session, day) == in_memory
    con = _ibis_connection(backend, session)
    try:
        assert _ibis_arr(con, session, day) == in_memory
    finally:
        con.disconnect()
    active = session.scalars(sa.select(Contract.id).where(active_clause(day))).all()
    assert sorted(active) == sorted(c.id for c in active_on(rows, day))
