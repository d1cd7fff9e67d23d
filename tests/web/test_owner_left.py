"""An account whose owner left the team (inactive, e.g. IsActive false in the CRM's users) keeps
its owner and says it needs a new one: on the portfolio page and in its JSON twin."""

from __future__ import annotations

import sqlalchemy as sa

from tenure.model import Account, User
from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_an_account_of_an_owner_who_left_needs_a_new_owner(console: Console) -> None:
    with console.session() as session:
        sam = session.scalars(sa.select(User).where(User.email == "sam@example.com")).one()
        sam.is_active = False
        owned = set(session.scalars(sa.select(Account.name).where(Account.owner_id == sam.id)))
        session.commit()
    assert owned  # the named book gives Sam accounts
    headers = headers_for(console, "ada@example.com")
    # Hooli, one of Sam's, churned: asked for, so every account of his shows.
    url = "/api/v1/accounts?page_size=100&churned=true"
    rows = console.client.get(url, headers=headers).json()["items"]
    left = {r["name"] for r in rows if r["owner_left"]}
    assert left == owned
    assert {r["owner_name"] for r in rows if r["owner_left"]} == {"Sam CSM"}  # kept
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/portfolio?page_size=100&churned=true").text
    assert page.count("left — needs a new owner") == len(owned)
