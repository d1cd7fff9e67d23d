"""/api/v1 opportunities, pipeline forecast and advocacy: the same service as page and CLI."""

from __future__ import annotations

from tenure.auth.service import find_user
from tests.web.factories import token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def headers(console: Console, email: str) -> dict[str, str]:
    with console.session() as session:
        user = find_user(session, email)
        assert user is not None
        result = token_headers(session, user)
        session.commit()
    return result


def test_open_change_win_and_forecast(console: Console) -> None:
    cleo = headers(console, "cleo@example.com")
    acme = console.book.acme.id
    body = {
        "name": "Add 50 seats",
        "kind": "expansion",
        "amount": 10000,
        "currency": "eur",
        "probability": 40,
        "close_on": "2099-02-15",
    }
    created = console.client.post(f"/api/v1/accounts/{acme}/opportunities", json=body, headers=cleo)
    assert created.status_code == 201, created.text
    deal = created.json()
    assert (deal["currency"], deal["owner_name"], deal["status"]) == ("EUR", "Cleo CSM", "open")
    bad = console.client.post(
        f"/api/v1/accounts/{acme}/opportunities", json={**body, "kind": "upsell"}, headers=cleo
    )
    assert bad.status_code == 422 and "kind" in bad.json()["message"]
    viewer = headers(console, "vic@example.com")
    assert (
        console.client.post(
            f"/api/v1/accounts/{acme}/opportunities", json=body, headers=viewer
        ).status_code
        == 403
    )
    changed = console.client.patch(
        f"/api/v1/opportunities/{deal['id']}", json={"probability": 60}, headers=cleo
    ).json()
    assert (changed["probability"], changed["amount"]) == (60.0, 10000.0)
    forecast = console.client.get(
        "/api/v1/pipeline", params={"months": 36, "as_of": "2098-12-01"}, headers=viewer
    ).json()["forecast"]["rows"]
    assert [(r["bucket"], r["period"], r["currency"], r["expected"]) for r in forecast] == [
        ("month", "2099-02", "EUR", "6000.00"),
        ("quarter", "2099-Q1", "EUR", "6000.00"),
    ]
    won = console.client.post(
        f"/api/v1/opportunities/{deal['id']}/win", json={"reason": "Signed"}, headers=cleo
    )
    assert won.status_code == 200 and won.json()["status"] == "won"
    again = console.client.post(
        f"/api/v1/opportunities/{deal['id']}/lose", json={"reason": "x"}, headers=cleo
    )
    assert again.status_code == 409 and "already won" in again.json()["message"]
    listed = console.client.get(
        "/api/v1/opportunities", params={"status": "won", "account_id": acme}, headers=viewer
    ).json()
    assert [d["name"] for d in listed["items"]] == ["Add 50 seats"]
    assert listed["next_cursor"] is None
    assert console.client.get("/api/v1/opportunities/99999", headers=viewer).status_code == 404


def test_record_and_list_advocacy(console: Console) -> None:
    cleo = headers(console, "cleo@example.com")
    acme = console.book.acme.id
    globex = console.book.globex.id
    referral = console.client.post(
        f"/api/v1/accounts/{acme}/advocacy",
        json={"kind": "referral", "referred_account_id": globex, "occurred_on": "2026-01-10"},
        headers=cleo,
    )
    assert referral.status_code == 201, referral.text
    itself = console.client.post(
        f"/api/v1/accounts/{acme}/advocacy",
        json={"kind": "referral", "referred_account_id": acme},
        headers=cleo,
    )
    assert itself.status_code == 422 and "cannot refer itself" in itself.json()["message"]
    rows = console.client.get("/api/v1/advocacy", params={"kind": "referral"}, headers=cleo).json()
    assert [(r["account_name"], r["referred_account_id"]) for r in rows["items"]] == [
        ("Acme", globex)
    ]


def test_opportunities_and_advocacy_answer_a_page_with_the_way_to_the_next(
    console: Console,
) -> None:
    cleo = headers(console, "cleo@example.com")
    acme = console.book.acme.id
    for name, close_on in (
        ("B", "2099-02-01"),
        ("A", "2099-02-01"),
        ("C", None),
        ("D", "2099-01-01"),
    ):
        deal = {"name": name, "kind": "expansion", "close_on": close_on}
        created = console.client.post(
            f"/api/v1/accounts/{acme}/opportunities", json=deal, headers=cleo
        )
        assert created.status_code == 201, created.text
        story = {"kind": "success_story", "title": name, "occurred_on": "2026-01-10"}
        assert (
            console.client.post(
                f"/api/v1/accounts/{acme}/advocacy", json=story, headers=cleo
            ).status_code
            == 201
        )
    for path, expected in (
        ("/api/v1/opportunities", ["D", "B", "A", "C"]),  # same day: by account, then as opened
        ("/api/v1/advocacy", ["D", "C", "A", "B"]),  # same day: the newest record first
    ):
        names: list[str] = []
        params: dict[str, str | int] = {"limit": 3}
        while True:
            page = console.client.get(path, params=params, headers=cleo).json()
            names += [item.get("name") or item["title"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params = {"limit": 3, "cursor": page["next_cursor"]}
        assert names == expected
    bad = console.client.get("/api/v1/opportunities", params={"cursor": "x"}, headers=cleo)
    assert bad.status_code == 422 and "not a cursor this API returned" in bad.json()["message"]
