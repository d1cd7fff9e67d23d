"""Salesforce exports through the shipped mappings: Users (owners), Accounts by OwnerId, Cases as
tickets, Tasks and Events as touchpoints, CurrencyIsoCode — each in Data Loader's UPPERCASE
headers and in API names (tests/fixtures/exports/salesforce, see its README)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.auth.schemas import UserCreate
from tenure.auth.service import create_user
from tenure.errors import InvalidInput, RejectedFile
from tenure.ingest.mappings import load_mapping
from tenure.model import Account, Contact, Ticket, Touchpoint, User, UserRole
from tests.ingest.helpers import counts, run_import
from tests.stored import stored

SALESFORCE = Path(__file__).parents[1] / "fixtures" / "exports" / "salesforce"
SOCIETE, PARIS, MUELLER = "0015e00000Soc1AAAR", "0015e00000Soc2BAAR", "0015e00000Mue3CAAR"
HELENE, ZOE, KARL = "0055e000001Mgr1AAC", "0055e000001OwnAAAS", "0055e000001Lft2AAC"


def _book(session: Session) -> None:
    """Users, then the accounts they own, then contacts: the order the references need."""
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    run_import(session, "accounts", SALESFORCE / "Account_extract_utf8.csv", "salesforce-accounts")
    run_import(session, "contacts", SALESFORCE / "Contact_extract_utf16.csv", "salesforce-contacts")


def _restyled(export: Path, tmp_path: Path, mapping: str, *, upper: bool) -> Path:
    """The export with its header in the other style: UPPERCASE (older Data Loader) or the API
    names the mapping spells — the same bytes otherwise."""
    text = export.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    names = {column.lower(): column for column in load_mapping(mapping).read_columns()}
    rows[0] = [name.upper() if upper else names.get(name.lower(), name) for name in rows[0]]
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=newline).writerows(rows)
    path = tmp_path / f"{'upper' if upper else 'api'}_{export.name}"
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def test_users_import_with_managers_by_15_character_id_and_the_inactive_deactivated(
    session: Session,
) -> None:
    export = SALESFORCE / "User_extract.csv"
    assert counts(run_import(session, "users", export, "salesforce-users")) == (3, 0, 0)
    helene, zoe, karl = (stored(session, User, i) for i in (HELENE, ZOE, KARL))
    assert (zoe.name, zoe.email, zoe.role, zoe.is_active) == (
        "Zoë Martin",
        "zoe.martin@tenure-demo.example",
        UserRole.csm,
        True,
    )
    assert zoe.password_hash is None  # cannot sign in until an admin sets a password
    assert zoe.manager_id == helene.id  # MANAGERID 0055e000001Mgr1, 15 characters
    assert karl.manager_id == helene.id
    assert karl.is_active is False  # ISACTIVE false: left the company
    assert counts(run_import(session, "users", export, "salesforce-users")) == (0, 0, 3)


def test_a_console_user_is_matched_by_email_and_gains_the_crm_id(session: Session) -> None:
    create_user(
        session,
        UserCreate(email="Zoe.Martin@tenure-demo.example", name="Zoe M.", role=UserRole.manager),
        None,
    )
    report = run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    assert counts(report) == (2, 1, 0)
    zoe = stored(session, User, ZOE)
    assert (zoe.email, zoe.name, zoe.role) == (
        "zoe.martin@tenure-demo.example",
        "Zoë Martin",
        "manager",  # a role given in Tenure stays
    )
    assert session.query(User).count() == 3


def test_an_admin_is_not_deactivated_by_an_import(session: Session, tmp_path: Path) -> None:
    create_user(
        session,
        UserCreate(email="karl.weiss@tenure-demo.example", name="Karl", role=UserRole.admin),
        None,
    )
    with pytest.raises(InvalidInput, match="is a Tenure admin; deactivate admins in the console"):
        run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")


def test_accounts_find_their_owner_by_owner_id_and_need_users_first(session: Session) -> None:
    export = SALESFORCE / "Account_extract_utf8.csv"
    with pytest.raises(RejectedFile) as refused:
        run_import(session, "accounts", export, "salesforce-accounts")
    assert {(e.column, e.value, e.reason) for e in refused.value.errors} == {
        ("OwnerId", ZOE, f"no user with external id '{ZOE}' (import users first)")
    }
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    report = run_import(session, "accounts", export, "salesforce-accounts")
    assert counts(report) == (3, 0, 0)
    assert report.notes == []
    zoe = stored(session, User, ZOE)
    assert {a.owner_id for a in session.query(Account)} == {zoe.id}


def test_an_owner_who_left_keeps_the_accounts_which_need_a_new_owner(
    session: Session, tmp_path: Path
) -> None:
    _book(session)
    text = (SALESFORCE / "User_extract.csv").read_bytes().decode("utf-8")
    # Zoë leaves: her User record turns inactive in the next export.
    left = text.replace('"Customer Success Manager"', '"CSM"', 1)
    left = left.replace(
        f'"{ZOE}","zoe.martin@tenure-demo.example","Zoë","Martin",'
        '"zoe.martin@tenure-demo.example","true"',
        f'"{ZOE}","zoe.martin@tenure-demo.example","Zoë","Martin",'
        '"zoe.martin@tenure-demo.example","false"',
    )
    assert left != text
    export = tmp_path / "User_extract.csv"
    export.write_bytes(left.encode("utf-8"))
    report = run_import(session, "users", export, "salesforce-users")
    assert counts(report) == (0, 1, 2)
    zoe = stored(session, User, ZOE)
    assert zoe.is_active is False
    assert {a.owner_id for a in session.query(Account)} == {zoe.id}  # kept, not emptied
    assert report.notes == [
        "Zoë Martin (zoe.martin@tenure-demo.example) is inactive and still owns 3 accounts: "
        "they need a new owner"
    ]


def test_cases_become_tickets(session: Session) -> None:
    _book(session)
    export = SALESFORCE / "Case_extract.csv"
    assert counts(run_import(session, "tickets", export, "salesforce-cases")) == (2, 0, 0)
    closed = stored(session, Ticket, "5005e00000Cas1AAAR")
    assert (closed.subject, closed.priority, closed.category) == (
        "Export vers Excel échoue",
        "high",
        "Problem",
    )
    assert closed.account_id == stored(session, Account, SOCIETE).id
    assert closed.contact_id == stored(session, Contact, "0035e00000Con1AAAR").id  # 15 → 18
    assert closed.opened_at.replace(tzinfo=UTC) == datetime(2024, 2, 1, 9, tzinfo=UTC)
    assert closed.closed_at.replace(tzinfo=UTC) == datetime(2024, 2, 3, 17, 30, tzinfo=UTC)
    still_open = stored(session, Ticket, "5005e00000Cas2BAAR")
    assert (still_open.priority, still_open.closed_at, still_open.contact_id) == (
        "normal",
        None,
        None,
    )
    assert still_open.account_id == stored(session, Account, MUELLER).id  # 0015e00000Mue3C
    assert counts(run_import(session, "tickets", export, "salesforce-cases")) == (0, 0, 2)


def test_tasks_and_events_become_touchpoints_held_by_their_owner(session: Session) -> None:
    _book(session)
    tasks = SALESFORCE / "Task_extract.csv"
    assert counts(run_import(session, "touchpoints", tasks, "salesforce-tasks")) == (3, 0, 0)
    events = SALESFORCE / "Event_extract_bulk_api.csv"
    assert counts(run_import(session, "touchpoints", events, "salesforce-events")) == (2, 0, 0)
    zoe, karl = stored(session, User, ZOE), stored(session, User, KARL)
    call = stored(session, Touchpoint, "00T5e00000Tsk1AEAR")
    assert (call.kind, call.user_id, call.subject) == (
        "call",
        zoe.id,
        "Call: calendrier du renouvellement",
    )
    assert call.notes == "Zoë veut signer avant juin.\nEnvoyer le devis."  # bare LF kept
    assert call.occurred_at.replace(tzinfo=UTC) == datetime(2024, 3, 5, tzinfo=UTC)
    assert [c.external_id for c in call.attendees] == ["0035e00000Con1AAAR"]
    mail = stored(session, Touchpoint, "00T5e00000Tsk2BEAR")
    # The WhoId is a Lead (00Q…): no attendee; the owner has left but the history is theirs.
    assert (mail.kind, mail.user_id, mail.attendees) == ("email", karl.id, [])
    todo = stored(session, Touchpoint, "00T5e00000Tsk3CEAR")
    assert (todo.kind, todo.user_id) == ("note", zoe.id)  # OWNERID in 15 characters
    assert todo.account_id == stored(session, Account, PARIS).id
    qbr = stored(session, Touchpoint, "00U5e00000Evt1AEAR")
    assert (qbr.kind, qbr.subject, qbr.user_id) == ("meeting", "QBR T1 – Paris", zoe.id)
    assert qbr.occurred_at.replace(tzinfo=UTC) == datetime(2024, 4, 10, 13, tzinfo=UTC)
    assert [c.external_id for c in qbr.attendees] == ["0035e00000Con3CAAR"]


def test_currency_iso_code_is_read_where_the_org_has_it_and_never_wipes(
    session: Session,
) -> None:
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    multi = SALESFORCE / "Account_extract_multicurrency.csv"
    assert counts(run_import(session, "accounts", multi, "salesforce-accounts")) == (3, 0, 0)
    japan = stored(session, Account, "0015e00000Jpn4DAAR")
    assert japan.custom["annual_revenue"] == 24_000_000_000  # 2.4E10
    assert japan.custom["annual_revenue_currency"] == "JPY"
    # A single-currency extract has no CurrencyIsoCode column: accepted, the currency kept.
    single = SALESFORCE / "Account_extract_utf8.csv"
    run_import(session, "accounts", single, "salesforce-accounts")
    session.expire_all()
    assert stored(session, Account, SOCIETE).custom["annual_revenue_currency"] == "EUR"


@pytest.mark.parametrize(
    ("entity", "export", "mapping", "rows"),
    [
        ("users", "User_extract.csv", "salesforce-users", 3),
        ("accounts", "Account_extract_multicurrency.csv", "salesforce-accounts", 3),
        ("contacts", "Contact_extract_utf16.csv", "salesforce-contacts", 3),
        ("tickets", "Case_extract.csv", "salesforce-cases", 2),
        ("touchpoints", "Task_extract.csv", "salesforce-tasks", 3),
        ("touchpoints", "Event_extract_bulk_api.csv", "salesforce-events", 2),
    ],
)
@pytest.mark.parametrize("upper", [True, False], ids=["UPPERCASE", "api-names"])
def test_every_salesforce_mapping_takes_both_header_styles(
    session: Session, tmp_path: Path, entity: str, export: str, mapping: str, rows: int, upper: bool
) -> None:
    _book(session)
    source = SALESFORCE / export
    if export.endswith("utf16.csv"):  # re-encode to UTF-8 to restyle; the UTF-16 file is above
        source = tmp_path / export
        source.write_bytes((SALESFORCE / export).read_bytes().decode("utf-16").encode("utf-8"))
    styled = _restyled(source, tmp_path, mapping, upper=upper)
    header = styled.read_bytes().split(b"\n", 1)[0]
    assert (header == header.upper()) is upper
    report = run_import(session, entity, styled, mapping)
    assert report.rows == rows
    assert report.inserted + report.updated + report.unchanged == rows
