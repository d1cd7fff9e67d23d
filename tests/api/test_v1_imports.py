"""POST /api/v1/imports/{entity}: vendor exports uploaded through the shipped mappings, the same
import as the CLI — admins only, all rows or none, refusals logged, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tenure.model import Account, AuditLog, ImportRun, Ticket, Touchpoint, User
from tests.api.test_v1 import headers_for
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

SALESFORCE = Path(__file__).parents[1] / "fixtures" / "exports" / "salesforce"


def _upload(
    console: Console, headers: dict[str, str], entity: str, export: Path, **query: str
) -> dict:  # type: ignore[type-arg]
    response = console.client.post(
        f"/api/v1/imports/{entity}",
        params=query,
        files={"file": (export.name, export.read_bytes(), "text/csv")},
        headers=headers,
    )
    return {"status": response.status_code, **response.json()}


def test_salesforce_exports_through_the_api_with_their_shipped_mappings(console: Console) -> None:
    admin = headers_for(console, "ada@example.com")
    steps = [
        ("users", "User_extract.csv", "salesforce-users", (3, 0, 0)),
        ("accounts", "Account_extract_cp1252.csv", "salesforce-accounts", (3, 0, 0)),
        ("contacts", "Contact_extract_utf16.csv", "salesforce-contacts", (3, 0, 0)),
        ("tickets", "Case_extract.csv", "salesforce-cases", (2, 0, 0)),
        ("touchpoints", "Task_extract.csv", "salesforce-tasks", (3, 0, 0)),
        ("touchpoints", "Event_extract_bulk_api.csv", "salesforce-events", (2, 0, 0)),
    ]
    for entity, name, mapping, expected in steps:
        answer = _upload(console, admin, entity, SALESFORCE / name, mapping=mapping)
        assert answer["status"] == 200, answer
        assert (answer["inserted"], answer["updated"], answer["unchanged"]) == expected
        assert (answer["file_name"], answer["mapping"], answer["left_out"]) == (name, mapping, [])
    with console.session() as session:
        zoe = session.scalars(sa.select(User).where(User.external_id == "0055e000001OwnAAAS")).one()
        owners = session.scalars(
            sa.select(Account.owner_id).where(Account.external_id.like("0015e00000%"))
        ).all()
        assert owners == [zoe.id] * 3
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) >= 2
        call = session.scalars(
            sa.select(Touchpoint).where(Touchpoint.external_id == "00T5e00000Tsk1AEAR")
        ).one()
        assert (call.kind, call.user_id) == ("call", zoe.id)
        audited = session.scalars(
            sa.select(AuditLog.action).where(AuditLog.action == "import.file")
        ).all()
        assert len(audited) == len(steps)


def test_only_admins_import(console: Console) -> None:
    csm = headers_for(console, "cleo@example.com")
    answer = _upload(
        console, csm, "users", SALESFORCE / "User_extract.csv", mapping="salesforce-users"
    )
    assert answer["status"] == 403
    with console.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportRun)) == 0


def test_a_refused_upload_stores_nothing_names_each_problem_and_is_logged(
    console: Console,
) -> None:
    admin = headers_for(console, "ada@example.com")
    # Accounts before the users their OwnerId names: every row refused.
    export = SALESFORCE / "Account_extract_utf8.csv"
    answer = _upload(console, admin, "accounts", export, mapping="salesforce-accounts")
    assert answer["status"] == 422
    assert answer["code"] == "invalid_input"
    assert answer["message"].startswith("Account_extract_utf8.csv: rejected, 3 bad row(s)")
    assert [(d["line"], d["column"]) for d in answer["details"]] == [
        (2, "OwnerId"),
        (4, "OwnerId"),
        (5, "OwnerId"),
    ]
    assert "(import users first)" in answer["details"][0]["reason"]
    with console.session() as session:
        assert (
            session.scalars(sa.select(Account).where(Account.external_id.like("0015e00000%"))).all()
            == []
        )
        runs = session.execute(sa.select(ImportRun.status, ImportRun.file_name)).all()
        assert [tuple(r) for r in runs] == [("rejected", "Account_extract_utf8.csv")]

    # skip_invalid: the good rows stored, the others listed. The contacts are not imported,
    # so the case naming one is left out and the one without a contact stored.
    _upload(console, admin, "users", SALESFORCE / "User_extract.csv", mapping="salesforce-users")
    _upload(console, admin, "accounts", export, mapping="salesforce-accounts")
    cases = SALESFORCE / "Case_extract.csv"
    answer = _upload(
        console, admin, "tickets", cases, mapping="salesforce-cases", skip_invalid="true"
    )
    assert answer["status"] == 200, answer
    assert (answer["rows"], answer["inserted"], answer["rejected"]) == (1, 1, 1)
    assert answer["left_out"] == [
        {
            "line": 2,
            "column": "ContactId",
            "value": "0035e00000Con1AAAR",
            "reason": "no contact with external id '0035e00000Con1AAAR'",
        }
    ]


def test_without_a_mapping_the_refusal_names_the_one_that_fits(console: Console) -> None:
    admin = headers_for(console, "ada@example.com")
    answer = _upload(console, admin, "tickets", SALESFORCE / "Case_extract.csv")
    assert answer["status"] == 422
    hints = [d["reason"] for d in answer["details"] if d["column"] is None]
    assert hints == [
        "the columns fit the shipped mapping 'salesforce-cases': pass -m salesforce-cases"
    ]
    unknown = _upload(console, admin, "tickets", SALESFORCE / "Case_extract.csv", mapping="nope")
    assert unknown["status"] == 404
    assert "salesforce-cases" in unknown["message"]
    listed = console.client.get("/api/v1/imports/mappings", headers=admin).json()
    cases = next(m for m in listed if m["name"] == "salesforce-cases")
    assert (cases["entity"], "Priority" in cases["columns"]) == ("tickets", True)
