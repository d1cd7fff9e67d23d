"""Parent links form a tree: an A → B → A cycle is refused on import and on edit, naming the
chain, and nothing of the refused file is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.schemas import AccountCreate
from tenure.accounts.service import upsert_accounts
from tenure.errors import InvalidInput
from tenure.ingest.importer import import_records
from tenure.ingest.request import ImportRequest
from tenure.model import Account
from tests import factories as f


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(text)
    return path


def test_a_cycle_in_one_file_is_refused_naming_the_chain(session: Session, tmp_path: Path) -> None:
    export = write(
        tmp_path,
        "external_id,name,parent_external_id\nA,Alpha,B\nB,Beta,C\nC,Gamma,A\nD,Delta,A\n",
    )
    with pytest.raises(InvalidInput, match="would form a cycle: A → B → C → A"):
        import_records(session, ImportRequest("accounts", export))


def a_parent_of_b(session: Session) -> None:
    top = f.account(session, external_id="A")
    child = f.account(session, external_id="B")
    child.parent_id = top.id
    session.flush()


def test_a_cycle_closed_by_a_later_import_is_refused(session: Session, tmp_path: Path) -> None:
    a_parent_of_b(session)
    with pytest.raises(InvalidInput, match="cycle: A → B → A"):
        import_records(
            session,
            ImportRequest(
                "accounts", write(tmp_path, "external_id,name,parent_external_id\nA,Alpha,B\n")
            ),
        )


def test_a_cycle_made_by_an_edit_is_refused(session: Session) -> None:
    a_parent_of_b(session)
    with pytest.raises(InvalidInput, match="cycle: A → B → A"):
        upsert_accounts(session, [AccountCreate(external_id="A", name="A", parent_external_id="B")])


def test_a_tree_is_accepted(session: Session, tmp_path: Path) -> None:
    export = write(
        tmp_path,
        "external_id,name,parent_external_id\nC,Gamma,B\nB,Beta,A\nA,Alpha,\nD,Delta,A\n",
    )
    import_records(session, ImportRequest("accounts", export))
    parents = dict(
        session.execute(
            sa.select(Account.external_id, Account.parent_id).order_by(Account.external_id)
        ).all()
    )
    ids = dict(session.execute(sa.select(Account.external_id, Account.id)).all())
    assert parents == {"A": None, "B": ids["A"], "C": ids["B"], "D": ids["A"]}
