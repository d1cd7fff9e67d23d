"""The CSV exports are written from plain rows and streamed (issue 19.8): the bytes must be the
same as the old way — each row a pydantic model, dumped, then written — gave for the same data.
The portfolio's rows as pages read them (rows.full_rows) are compared with the old composition
too."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.metrics.service import store_metrics
from tenure.model import (
    Account,
    Contact,
    FxRate,
    LifecycleSetting,
    LifecycleStage,
    MetricSnapshot,
    User,
)
from tenure.model.contact import ContactLevel
from tenure.portfolio import judgements
from tenure.portfolio.book import export_ids
from tenure.portfolio.rows import full_rows, rows_of, to_row, with_money, with_utilization
from tenure.portfolio.schemas import AccountRow, PortfolioQuery
from tenure.portfolio.signals import current_days
from tenure.success.lifecycle_service import save_history_rows
from tenure.success.lifecycle_variants import stage_label
from tests import factories as f
from tests.web.factories import Book, make_account, make_contract, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


class ContactListRow(BaseModel):
    account_external_id: str
    account_name: str
    name: str | None
    email: str | None
    title: str | None
    level: str | None
    roles: list[str]


def spreadsheet_safe(value: Any) -> Any:
    """A cell as exports.spreadsheet_safe wrote it before its cells were made a row at a time
    (kept here: the oracle must not use the code it checks)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 2 if abs(value) >= 1 else 4) + 0.0
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def csv_text(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(row[column]) for column in columns])
    return buffer.getvalue()


COLUMNS = ["account_external_id", "account_name", "name", "email", "title", "level", "roles"]


# The level and the roles in the words Account 360 shows, not their keys (since session 11: the
# one deliberate change to the file 314827e wrote).
LEVEL_WORDS = {
    "end_user": "End user",
    "manager": "Manager",
    "director_vp": "Director / VP",
    "executive": "Executive",
}
ROLE_WORDS = {
    "champion": "Champion",
    "decision_maker": "Decision maker",
    "economic_buyer": "Economic buyer",
    "user": "User",
}


def _old_contacts_csv(
    session: Session, *, role: str | None, level: str | None, segment: str | None, as_of: date
) -> str:
    """The contacts CSV as 314827e wrote it (ContactListRow models, model_dump, csv_text), the
    level and roles in words."""
    query = (
        sa.select(
            Contact.name,
            Contact.email,
            Contact.title,
            Contact.level,
            Contact.roles,
            Account.external_id,
            Account.name.label("account_name"),
        )
        .join(Account, Account.id == Contact.account_id)
        .where(sa.or_(Contact.left_on.is_(None), Contact.left_on > as_of))
        .order_by(Account.name, Contact.name)
    )
    if level:
        query = query.where(Contact.level == level)
    if segment:
        query = query.where(Account.segment == segment)
    rows = [
        ContactListRow(
            account_external_id=c.external_id,
            account_name=c.account_name,
            name=c.name,
            email=c.email,
            title=c.title,
            level=LEVEL_WORDS[c.level.value] if c.level else None,
            roles=list(c.roles or []),
        )
        for c in session.execute(query).all()
    ]
    rows = [r for r in rows if role is None or role in r.roles]
    return csv_text(
        COLUMNS,
        ({**r.model_dump(), "roles": ";".join(ROLE_WORDS[x] for x in r.roles)} for r in rows),
    )


def _seed_contacts(session: Session, accounts: list[Account], today: date) -> None:
    levels = [None, *ContactLevel]
    roles = [[], ["champion"], ["champion", "decision_maker"], ["economic_buyer"], ["user"]]
    names = ["Zoë Ångström", "=cmd()", None, 'al, "the" pal', "Bo\nLine", "-2", "amy", "Amy"]
    for n in range(60):
        session.add(
            Contact(
                external_id=f"same-{n}",
                account_id=accounts[n % len(accounts)].id,
                name=names[n % len(names)],
                email=None if n % 7 == 0 else f"p{n}@example.com",
                title=None if n % 3 == 0 else ("@lead" if n % 5 == 0 else f"Head of {n}"),
                level=levels[n % len(levels)],
                roles=roles[n % len(roles)],
                left_on=(
                    None
                    if n % 4
                    else (today - timedelta(days=1) if n % 8 else today + timedelta(days=9))
                ),
            )
        )
    session.commit()


def test_contacts_csv_is_byte_for_byte_the_old_export(console: Console) -> None:
    today = date.today()
    with console.session() as db:
        accounts = [
            *db.scalars(sa.select(Account)).all(),
            make_account(db, name="+Plus", segment="SMB"),
            make_account(db, name="Ångström AB", segment=None),
        ]
        db.commit()
        _seed_contacts(db, accounts, today)
    sign_in(console.client, "max@example.com")
    filters = [
        {},
        {"role": "champion"},
        {"role": "decision_maker", "segment": "Enterprise"},
        {"level": "executive"},
        {"segment": "SMB", "level": "manager"},
        {"role": "nobody"},
    ]
    seen = set()
    for params in filters:
        response = console.client.get("/contacts.csv", params=params)
        assert response.status_code == 200, response.text
        with console.session() as db:
            old = _old_contacts_csv(
                db,
                role=params.get("role"),
                level=params.get("level"),
                segment=params.get("segment"),
                as_of=today,
            )
        assert response.content == old.encode(), params
        seen.add(old.count("\n"))
    assert len(seen) > 3  # the filters choose different rows


# The portfolio CSV's columns as b3ee68f wrote them (pages.CSV_COLUMNS).
CSV_COLUMNS = [
    "external_id",
    "name",
    "segment",
    "owner_name",
    "arr",
    "currency",
    "arr_by_currency",
    "arr_in_reporting_currency",
    "reporting_currency",
    "rate_dates",
    "missing_rates",
    "renewal_on",
    "health_score",
    "health_band",
    "churn_probability",
    "arr_at_risk",
    "days_to_renewal",
    "laer_stage",
    "license_utilization",
]


def _old_portfolio_row(row: AccountRow) -> dict[str, object]:
    """A portfolio CSV row exactly as b3ee68f made it (pages._csv_row)."""
    converted = row.arr_converted
    return {
        **row.model_dump(mode="json"),
        "arr_by_currency": "; ".join(f"{c.currency} {c.arr}" for c in row.arr_by_currency),
        "arr_in_reporting_currency": converted.amount if converted else None,
        "reporting_currency": converted.currency if converted else None,
        "rate_dates": " ".join(d.isoformat() for d in converted.rate_dates) if converted else None,
        "missing_rates": " ".join(converted.missing) if converted else None,
        "laer_stage": stage_label(row.laer_stage) if row.laer_stage else None,
    }


def _old_portfolio_export(
    session: Session, query: PortfolioQuery, user: User, as_of: date
) -> list[AccountRow]:
    """book.portfolio_export as b3ee68f read it: each row a model, then copied with its money
    (rows.with_money) and again with its utilization."""
    days = rows_of(session, as_of).days
    ids = list(session.scalars(export_ids(session, query, user, as_of)))
    read = rows_of(session, as_of, ids).select().where(Account.id.in_(ids))
    found = {r.id: r for r in session.execute(read).all()}
    return with_utilization(
        session, days, with_money(session, [to_row(found[i], as_of) for i in ids], as_of)
    )


def _seed_judgements(session: Session, book: Book, plus: Account) -> None:
    """Every figure the export writes, in its awkward shapes: a probability with 17 digits, a
    renewal probability, an integer utilization, a null one, one never measured; a EUR rate
    (GBP has none); stages of the model in force."""
    today = book.today
    acme, globex, initech, umbrella = (
        session.get_one(Account, a.id)
        for a in (book.acme, book.globex, book.initech, book.umbrella)
    )
    for account, score in ((acme, 81), (globex, 64), (initech, 32), (plus, 74)):
        f.health_score(session, account, as_of=today, score=score, previous=score - 3)
    f.churn_risk_score(
        session, acme, as_of=today, probability=0.15318376547480902, arr_at_risk=18_382.05
    )
    f.churn_risk_score(
        session, initech, as_of=today, probability=0.5, renewal_probability=0.7, arr_at_risk=56e3
    )
    f.churn_risk_score(session, umbrella, as_of=today, probability=0.08)
    for account, values in (
        (acme, {"license_utilization": 0.61234567, "active_users_28d": 122}),
        (globex, {"license_utilization": 1}),
        (initech, {"license_utilization": None}),
        (plus, {"active_users_28d": 4}),
    ):
        session.add(MetricSnapshot(as_of=today, account_id=account.id, values=values))
    session.add(
        FxRate(
            reporting_currency="USD",
            currency="EUR",
            rate_on=today - timedelta(days=3),
            rate=Decimal("1.0842"),
        )
    )
    for account, stage in ((acme, "expand"), (globex, "adopt"), (plus, None)):
        session.add(
            LifecycleStage(
                account_id=account.id, effective_on=today - timedelta(days=5), stage=stage
            )
        )
    session.flush()


def _seed_portfolio(console: Console, today: date) -> None:
    with console.session() as db:
        plus = make_account(db, name="=Plus", segment="SMB")
        make_contract(db, plus, arr=1234.565, ends_on=today + timedelta(days=45), currency="GBP")
        make_contract(db, plus, arr=99.5, ends_on=today + timedelta(days=300), currency="EUR")
        euro = make_account(db, name="Euro GmbH", segment="SMB")
        make_contract(db, euro, arr=33_333.33, ends_on=today + timedelta(days=75), currency="EUR")
        make_account(db, name="Prospect", segment=None)
        _seed_judgements(db, console.book, plus)
        db.commit()


def test_portfolio_csv_is_byte_for_byte_the_old_export(console: Console) -> None:
    today = date.today()
    _seed_portfolio(console, today)
    sign_in(console.client, "ada@example.com")
    ada = console.book.ada
    queries = [
        {},
        {"sort": "arr", "direction": "desc"},
        {"sort": "risk"},
        {"sort": "renewal_on", "segment": "Enterprise"},
        {"owner": "none"},
        {"q": "a", "sort": "utilization", "direction": "desc"},
        {"sort": "health", "direction": "desc", "band": "yellow"},
        {"sort": "arr_at_risk", "direction": "desc", "segment": "SMB"},
    ]
    seen = set()
    for params in queries:
        response = console.client.get("/portfolio.csv", params=params)
        assert response.status_code == 200, response.text
        with console.session() as db:
            rows = _old_portfolio_export(db, PortfolioQuery(**params), ada, today)
            old = csv_text(CSV_COLUMNS, [_old_portfolio_row(r) for r in rows])
            # The rows pages read (full_rows): every field alike, the ones the CSV leaves out
            # too (pages and API show them).
            ids = list(db.scalars(export_ids(db, PortfolioQuery(**params), ada, today)))
            new = with_utilization(db, rows_of(db, today).days, full_rows(db, ids, today))
            assert [r.model_dump() for r in new] == [r.model_dump() for r in rows]
        assert response.content == old.encode(), params
        seen.add(old)
    assert len(seen) == len(queries)  # each query writes its own file


def _old_portfolio_csv(console: Console, params: dict[str, str], today: date) -> bytes:
    with console.session() as db:
        rows = _old_portfolio_export(db, PortfolioQuery(**params), console.book.ada, today)
        return csv_text(CSV_COLUMNS, [_old_portfolio_row(r) for r in rows]).encode()


def _stored_judgements_current(console: Console) -> bool:
    with console.session() as db:
        return judgements.current(db, current_days(db))


def test_the_portfolio_csv_reads_stored_judgements_only_while_they_are_current(
    console: Console,
) -> None:
    """The export builds the stored judgements (tenure.portfolio.judgements) and reads them
    next time: the same bytes as the old export. After each write that changes a judgement —
    a stage history rewritten, a day's metrics replaced, a new scoring day, another lifecycle
    model — it reads the score tables again (the copy is behind), then builds the copy again."""
    today = date.today()
    _seed_portfolio(console, today)
    sign_in(console.client, "ada@example.com")
    queries = [
        {"sort": "risk", "direction": "desc"},
        {"sort": "health", "band": "yellow"},
        {"stage": "expand"},
        {"sort": "arr_at_risk", "direction": "desc"},
    ]

    def exports_as_before(contains: str | None = None) -> None:
        for params in queries:
            response = console.client.get("/portfolio.csv", params=params)
            assert response.status_code == 200, response.text
            assert response.content == _old_portfolio_csv(console, params, today), params
        assert _stored_judgements_current(console)
        whole = console.client.get("/portfolio.csv", params={"sort": "name"})
        assert whole.content == _old_portfolio_csv(console, {"sort": "name"}, today)
        if contains is not None:
            assert contains in whole.text

    assert not _stored_judgements_current(console)  # nothing built yet
    exports_as_before()
    with console.session() as db:
        acme = console.book.acme.id
        save_history_rows(
            db,
            [acme],
            [
                {
                    "account_id": acme,
                    "model": "laer",
                    "effective_on": today,
                    "stage": "renew",
                    "year_index": 1,
                    "reasons": ["renewal due"],
                }
            ],
        )
        db.commit()
    assert not _stored_judgements_current(console)
    exports_as_before(contains="Renew")
    with console.session() as db:
        frame = pd.DataFrame({"account_id": [acme], "license_utilization": [0.4375]})
        store_metrics(db, today, frame, partial=True)
        db.commit()
    assert not _stored_judgements_current(console)
    exports_as_before(contains="0.4375")
    with console.session() as db:  # a new scoring day (no writer: the day itself is new)
        f.health_score(db, db.get_one(Account, acme), as_of=today + timedelta(days=1), score=12)
        db.commit()
    assert not _stored_judgements_current(console)
    exports_as_before(contains=",12,red,")
    with console.session() as db:
        db.add(LifecycleSetting(model="esg"))
        db.commit()
    assert not _stored_judgements_current(console)
    exports_as_before()
