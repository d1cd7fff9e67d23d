"""Round trips for every operational entity in every format, and idempotent re-imports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.schemas import AccountCreate, ContactCreate
from tenure.dates import utc
from tenure.model import Contact, Contract, Feature, SurveyResponse, Ticket, Touchpoint, User
from tests.ingest.helpers import FORMATS, counts, run_import, write_rows
from tests.stored import stored, stored_all

ACCOUNTS = [
    {
        "external_id": "acme",
        "name": "Acme, Inc.",  # a comma: CSV must quote it
        "segment": "enterprise",
        "industry": "Manufacturing",
        "employee_count": 5200,
        "region": "EMEA",
        "owner_email": "dana@cs.example",
        "created_on": "2021-03-04",
        "onboarded_on": "2021-04-01",
        "custom.tier": "gold",
    },
    # The child comes before its parent in the file.
    {"external_id": "acme-de", "name": "Acme GmbH", "parent_external_id": "acme-hq"},
    {"external_id": "acme-hq", "name": 'Acme "Holding"'},
]

CONTACTS = [
    {
        "external_id": "c-maria",
        "account_external_id": "acme",
        "name": "María Gómez",
        "email": "maria@acme.example",
        "title": "VP Operations",
        "level": "director_vp",
        "roles": ["champion", "sponsor"],
        "joined_on": "2021-05-01",
    },
    {"external_id": "c-tom", "account_external_id": "acme", "level": "end_user", "roles": []},
]

CONTRACTS = [
    {
        "external_id": "k-2024",
        "account_external_id": "acme",
        "plan": "Enterprise",
        "billing_period": "annual",
        "starts_on": "2024-01-01",
        "ends_on": "2024-12-31",
        "arr": 120000.5,
        "currency": "eur",
        "licensed_seats": 250,
        "discount": 0.1,
        "status": "ended",
        "renewal_outcome": "expanded",
        "outcome_on": "2024-12-15",
        "notice_on": None,
        "arr_delta": 15000,
    }
]

FEATURES = [
    {
        "key": "report_exported",
        "name": "Report export",
        "strategic": "true",
        "released_on": "2023-06-01",
    },
    {"key": "dashboard_viewed", "name": "Dashboards", "strategic": "false"},
]

SURVEYS = [
    {
        "external_id": "nps-1",
        "account_external_id": "acme",
        "contact_external_id": "c-maria",
        "kind": "nps",
        "score": 9,
        "comment": "Great support,\nslow exports",  # a newline inside a CSV cell
        "responded_at": "2024-05-02T14:03:00+02:00",
    },
    {
        "external_id": "csat-1",
        "account_external_id": "acme",
        "kind": "csat",
        "score": 4,
        "responded_at": "2024-05-03T08:00:00",
    },
]

TICKETS = [
    {
        "external_id": "T-100",
        "account_external_id": "acme",
        "contact_external_id": "c-tom",
        "subject": "SSO login fails",
        "priority": "urgent",
        "category": "authentication",
        "opened_at": "2024-02-01T09:00:00Z",
        "closed_at": "2024-02-01T17:30:00Z",
    }
]

TOUCHPOINTS = [
    {
        "external_id": "qbr-2024q1",
        "account_external_id": "acme",
        "kind": "qbr",
        "occurred_at": "2024-03-28T15:00:00Z",
        "subject": "Q1 business review",
        "notes": "Renewal discussed",
        "user_email": "dana@cs.example",
        "attendee_external_ids": ["c-maria", "c-tom"],
    }
]


def _check_accounts(session: Session) -> None:
    acme = service.get_account(session, "acme")
    assert (acme.name, acme.segment, acme.employee_count, acme.created_on) == (
        "Acme, Inc.",
        "enterprise",
        5200,
        date(2021, 3, 4),
    )
    assert acme.custom == {"tier": "gold"}
    assert acme.owner_id == session.query(User).filter_by(email="dana@cs.example").one().id
    hq = service.get_account(session, "acme-hq")
    assert hq.name == 'Acme "Holding"'
    assert service.get_account(session, "acme-de").parent_id == hq.id


def _check_contacts(session: Session) -> None:
    maria = stored(session, Contact, "c-maria")
    assert (maria.name, maria.level, maria.roles, maria.joined_on) == (
        "María Gómez",
        "director_vp",
        ["champion", "sponsor"],
        date(2021, 5, 1),
    )
    assert stored(session, Contact, "c-tom").roles == []


def _check_contracts(session: Session) -> None:
    [contract] = stored_all(session, Contract, Contract.starts_on, account="acme")
    assert (contract.arr, contract.currency, contract.discount, contract.arr_delta) == (
        120000.5,
        "EUR",
        0.1,
        15000.0,
    )
    assert (contract.renewal_outcome, contract.outcome_on, contract.notice_on) == (
        "expanded",
        date(2024, 12, 15),
        None,
    )


def _check_features(session: Session) -> None:
    exported = stored(session, Feature, "report_exported", by="key")
    assert (exported.strategic, exported.released_on) == (True, date(2023, 6, 1))
    assert stored(session, Feature, "dashboard_viewed", by="key").strategic is False


def _check_surveys(session: Session) -> None:
    nps, csat = stored_all(session, SurveyResponse, SurveyResponse.responded_at, account="acme")
    assert nps.comment == "Great support,\nslow exports"
    assert nps.contact_id == stored(session, Contact, "c-maria").id
    # +02:00 becomes UTC; a datetime without a zone is UTC.
    assert utc(nps.responded_at) == datetime(2024, 5, 2, 12, 3, tzinfo=UTC)
    assert utc(csat.responded_at) == datetime(2024, 5, 3, 8, tzinfo=UTC)


def _check_tickets(session: Session) -> None:
    [ticket] = stored_all(session, Ticket, Ticket.opened_at, account="acme")
    assert (ticket.priority, ticket.category) == ("urgent", "authentication")
    assert utc(ticket.closed_at) == datetime(2024, 2, 1, 17, 30, tzinfo=UTC)  # type: ignore[arg-type]


def _check_touchpoints(session: Session) -> None:
    [touchpoint] = stored_all(session, Touchpoint, Touchpoint.occurred_at, account="acme")
    read = service.touchpoint_read(touchpoint)
    contacts = {stored(session, Contact, c).id for c in ("c-maria", "c-tom")}
    assert set(read.attendee_ids) == contacts
    assert read.user_id is not None


CASES: dict[str, tuple[list[dict[str, Any]], Callable[[Session], None]]] = {
    "accounts": (ACCOUNTS, _check_accounts),
    "contacts": (CONTACTS, _check_contacts),
    "contracts": (CONTRACTS, _check_contracts),
    "features": (FEATURES, _check_features),
    "surveys": (SURVEYS, _check_surveys),
    "tickets": (TICKETS, _check_tickets),
    "touchpoints": (TOUCHPOINTS, _check_touchpoints),
}


def _existing_records(session: Session, entity: str) -> None:
    """What each entity's file refers to: a CSM user, the account, its contacts."""
    session.add(User(email="dana@cs.example", name="Dana"))
    session.flush()
    if entity == "accounts":
        return
    service.upsert_accounts(session, [AccountCreate(external_id="acme", name="Acme")])
    if entity != "contacts":
        service.upsert_contacts(
            session,
            [
                ContactCreate(external_id=c, account_external_id="acme")
                for c in ("c-maria", "c-tom")
            ],
        )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("entity", list(CASES))
def test_round_trip_and_idempotent_reimport(
    session: Session, tmp_path: Path, entity: str, fmt: str
) -> None:
    rows, check = CASES[entity]
    _existing_records(session, entity)
    path = write_rows(tmp_path, entity, fmt, rows)
    report = run_import(session, entity, path)
    assert (report.rows, *counts(report)) == (len(rows), len(rows), 0, 0)
    session.expire_all()
    check(session)
    again = run_import(session, entity, path)
    assert counts(again) == (0, 0, len(rows))


def test_a_changed_row_is_an_update_and_the_rest_unchanged(
    session: Session, tmp_path: Path
) -> None:
    _existing_records(session, "accounts")
    run_import(session, "accounts", write_rows(tmp_path, "a", "csv", ACCOUNTS))
    changed = [{**ACCOUNTS[0], "employee_count": 5300}, *ACCOUNTS[1:]]
    report = run_import(session, "accounts", write_rows(tmp_path, "b", "csv", changed))
    assert counts(report) == (0, 1, 2)
    assert service.get_account(session, "acme").employee_count == 5300


def test_parquet_typed_columns(session: Session, tmp_path: Path) -> None:
    """Parquet carries real dates, timestamps and integers, not just text."""
    _existing_records(session, "tickets")
    rows = [
        {
            **TICKETS[0],
            "opened_at": datetime(2024, 2, 1, 9, tzinfo=UTC),
            "closed_at": datetime(2024, 2, 1, 17, 30),
        }
    ]
    path = write_rows(tmp_path, "tickets", "parquet", rows)
    assert counts(run_import(session, "tickets", path)) == (1, 0, 0)
    _check_tickets(session)
    features = [{"key": "sso", "name": "SSO", "strategic": True, "released_on": date(2022, 1, 3)}]
    run_import(session, "features", write_rows(tmp_path, "features", "parquet", features))
    assert stored(session, Feature, "sso", by="key").released_on == date(2022, 1, 3)
