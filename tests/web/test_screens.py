"""Core work without a terminal (issue 19.1), through the same services as the command line:
import an upload (mapping found from the header, a preview, row errors, skipping bad rows),
on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tenure.model import Account, AuditLog, ImportRun, User
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports" / "salesforce"


def salesforce_accounts_with_a_bad_row() -> bytes:
    """Data Loader's UTF-8 account extract (3 accounts) plus one row whose employee count is
    text: line 6 (the first account's description spans lines 2-3)."""
    good = (EXPORTS / "Account_extract_utf8.csv").read_bytes()
    bad = (
        b'"0015e00000Bad4DAAR","Broken Ltd","","Customer - Direct","Retail","lots","UK",'
        b'"","2022-01-01T00:00:00.000Z","",""\r\n'
    )
    return good.rstrip(b"\r\n") + b"\r\n" + bad


def test_an_admin_imports_an_upload_skipping_the_bad_row(console: Console) -> None:
    with console.session() as session:  # the accounts' owner, as the CRM's User export named her
        session.merge(console.book.cleo).external_id = "0055e000001OwnAAAS"
        session.commit()
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/imports")
    assert page.status_code == 200 and "Salesforce" in page.text
    token = csrf_of(page.text)
    checked = console.client.post(
        "/imports/preview",
        data={"kind": "accounts", "mapping": "", "csrf_token": token},
        files={"file": ("Account_extract.csv", salesforce_accounts_with_a_bad_row(), "text/csv")},
    )
    assert checked.status_code == 200, checked.text
    text = checked.text
    assert "found from the file&#39;s columns" in text or "found from the file's columns" in text
    assert "<strong>3</strong> row(s) can be imported" in text
    assert '<strong class="up-risk">1</strong> row(s) cannot' in text
    # The bad row: its line, the file's column, the value and why.
    problems = text.split('id="row-problems"')[1].split("</table>")[0]
    assert "<td>NumberOfEmployees</td><td>lots</td><td>number: not a number" in problems
    assert "Müller Präzision GmbH" in text  # the preview of mapped rows
    with console.session() as session:  # a preview writes nothing
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportRun)) == 0
        assert not session.scalar(sa.select(Account).where(Account.name == "Broken Ltd"))
    run_url = text.split('action="/imports/')[1].split('"')[0]
    done = console.client.post(
        f"/imports/{run_url}",
        data={
            "kind": "accounts",
            "mapping": "salesforce-accounts",
            "skip_invalid": "yes",
            "csrf_token": token,
        },
    )
    assert done.status_code == 200, done.text
    assert "<strong>3</strong> added" in done.text and "left out" in done.text
    rejects_url = done.text.split('href="/imports/')[1].split('"')[0]
    rejects = console.client.get(f"/imports/{rejects_url}")
    assert rejects.status_code == 200
    lines = rejects.text.strip().splitlines()
    assert lines[0] == "line,column,value,reason"
    assert lines[1].startswith("6,NumberOfEmployees,lots,")
    with console.session() as session:
        names = set(session.scalars(sa.select(Account.name)))
        assert {"Société Générale Démo", "SG Démo – Paris", "Müller Präzision GmbH"} <= names
        assert "Broken Ltd" not in names
        cleo = session.scalars(sa.select(User).where(User.email == "cleo@example.com")).one()
        owned = sa.select(Account.name).where(Account.owner_id == cleo.id)
        assert "Müller Präzision GmbH" in set(session.scalars(owned))
        run = session.scalars(sa.select(ImportRun)).one()
        assert (run.status, run.inserted, run.mapping) == ("succeeded", 3, "salesforce-accounts")
        assert session.scalar(
            sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "import.file")
        )
    # The staged file is gone once imported: a second click cannot import it twice.
    again = console.client.post(
        f"/imports/{run_url}",
        data={"kind": "accounts", "mapping": "salesforce-accounts", "csrf_token": token},
    )
    assert again.status_code == 404


def test_imports_are_for_admins_as_the_service_decides(console: Console) -> None:
    sign_in(console.client, "max@example.com")
    assert console.client.get("/imports").status_code == 403
    token = csrf_of(console.client.get("/today").text)
    refused = console.client.post(
        "/imports/preview",
        data={"kind": "accounts", "csrf_token": token},
        files={"file": ("a.csv", b"external_id,name\r\na1,A\r\n", "text/csv")},
    )
    assert refused.status_code == 403


def test_the_preview_finds_the_rows_that_name_an_unknown_owner(console: Console) -> None:
    """The rows read well but their owner is no user: the preview says so before any import
    (as the import's own first pass would), not after a refusal."""
    sign_in(console.client, "ada@example.com")
    token = csrf_of(console.client.get("/imports").text)
    checked = console.client.post(
        "/imports/preview",
        data={"kind": "accounts", "csrf_token": token},
        files={"file": ("Account_extract.csv", salesforce_accounts_with_a_bad_row(), "text/csv")},
    )
    assert "<strong>0</strong> row(s) can be imported" in checked.text
    assert 'all <strong class="up-risk">4</strong> row(s) cannot be read' in checked.text
    assert "no user with external id &#39;0055e000001OwnAAAS&#39;" in checked.text
    # Picked as the wrong kind: the page names the kind whose layout the columns fit.
    wrong = console.client.post(
        "/imports/preview",
        data={"kind": "contacts", "csrf_token": token},
        files={"file": ("Account_extract.csv", salesforce_accounts_with_a_bad_row(), "text/csv")},
    )
    assert "These columns look like an export of accounts" in wrong.text
