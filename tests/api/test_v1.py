"""/api/v1: authentication, roles, validation and pagination, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.model import AccountOwnership, AuditLog, Touchpoint
from tenure.portfolio import today as today_module
from tenure.store.events import events_table_from_rows, open_event_store
from tests.web.factories import sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

READ_ENDPOINTS = [
    "/api/v1/me",
    "/api/v1/accounts",
    "/api/v1/accounts/1",
    "/api/v1/accounts/1/timeline",
    "/api/v1/accounts/1/health",
    "/api/v1/accounts/1/risk",
    "/api/v1/accounts/1/milestones",
    "/api/v1/risk",
    "/api/v1/kpis",
    "/api/v1/churn-review",
    "/api/v1/maturity",
    "/api/v1/today",
    "/api/v1/renewals",
    "/api/v1/search?q=ac",
    "/api/v1/contacts",
    "/api/v1/contracts",
    "/api/v1/features",
    "/api/v1/touchpoints",
    "/api/v1/surveys",
    "/api/v1/tickets",
    "/api/v1/events?account_id=1",
    "/api/v1/events/held",
    "/api/v1/users",
    "/api/v1/tokens",
    "/api/v1/audit",
    "/api/v1/imports",
]


def headers_for(console: Console, email: str) -> dict[str, str]:
    with console.session() as session:
        from tenure.auth.service import find_user

        user = find_user(session, email)
        assert user is not None
        headers = token_headers(session, user)
        session.commit()
    return headers


@pytest.mark.parametrize("path", READ_ENDPOINTS)
def test_every_endpoint_needs_authentication(console: Console, path: str) -> None:
    response = console.client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert "Bearer" in response.json()["message"]


def test_every_read_endpoint_answers_an_admin_token(console: Console) -> None:
    headers = headers_for(console, "ada@example.com")
    for path in READ_ENDPOINTS:
        response = console.client.get(
            path.replace("/1", f"/{console.book.acme.id}"), headers=headers
        )
        if path.endswith(("/health", "/risk", "/milestones")) and "accounts" in path:
            # The book holds no scores or plan: a 404 that says which job to run.
            assert response.status_code == 404 and "tenure" in response.json()["message"], path
        else:
            assert response.status_code == 200, (path, response.text)


def test_a_wrong_or_revoked_token_is_refused(console: Console) -> None:
    bad = console.client.get("/api/v1/me", headers={"Authorization": "Bearer tnr_nope"})
    assert bad.status_code == 401
    assert bad.json() == {"code": "unauthorized", "message": "invalid or revoked API token"}
    scheme = console.client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert scheme.status_code == 401
    headers = headers_for(console, "ada@example.com")
    tokens = console.client.get("/api/v1/tokens", headers=headers).json()
    revoked = console.client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert console.client.get("/api/v1/me", headers=headers).status_code == 401


def test_accounts_page_through_a_cursor_in_sort_order(console: Console) -> None:
    headers = headers_for(console, "vic@example.com")
    seen: list[tuple[str, float]] = []
    cursor = None
    for _ in range(5):
        params = {"sort": "arr", "direction": "desc", "limit": 2, "churned": True}
        if cursor:
            params["cursor"] = cursor
        body = console.client.get("/api/v1/accounts", params=params, headers=headers).json()
        assert body["total"] == 5
        seen += [(a["name"], a["arr"]) for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # ARR ranks in the reporting currency (USD, the book's most common): Hooli has no active
    # contract (0 USD); Umbrella's EUR 10,000 has no EUR rate, so it is not compared with
    # dollars and comes last.
    assert seen == [
        ("Acme", 120000.0),
        ("Initech", 80000.0),
        ("Globex", 50000.0),
        ("Hooli", 0.0),
        ("Umbrella", 10000.0),
    ]


def test_accounts_filters(console: Console) -> None:
    headers = headers_for(console, "cleo@example.com")
    get = console.client.get

    def names(**params: object) -> list[str]:
        body = get("/api/v1/accounts", params=params, headers=headers).json()
        return [a["name"] for a in body["items"]]

    assert names(owner="me") == ["Acme", "Globex"]
    assert names(owner="none") == ["Umbrella"]
    # Hooli churned (its only contract ended): left out unless asked for.
    assert names(segment="Enterprise") == ["Acme"]
    assert names(segment="Enterprise", churned=True) == ["Acme", "Hooli"]
    assert names(renewal_within_days=95, sort="renewal_on") == ["Acme", "Initech"]
    assert names(q="GLOB") == ["Globex"]


def test_cursor_of_another_sort_is_refused_with_a_reason(console: Console) -> None:
    headers = headers_for(console, "vic@example.com")
    first = console.client.get("/api/v1/accounts", params={"limit": 1}, headers=headers).json()
    response = console.client.get(
        "/api/v1/accounts",
        params={"limit": 1, "sort": "arr", "cursor": first["next_cursor"]},
        headers=headers,
    )
    assert response.status_code == 422
    assert "keep the sort unchanged" in response.json()["message"]
    garbage = console.client.get("/api/v1/contacts", params={"cursor": "!!"}, headers=headers)
    assert garbage.status_code == 422 and garbage.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/accounts?limit=0", "limit"),
        ("/api/v1/accounts?sort=nps", "sort"),
        ("/api/v1/accounts?owner=everyone", "owner"),
        ("/api/v1/contacts?limit=501", "limit"),
        ("/api/v1/renewals?months=99", "months"),
        ("/api/v1/events", "account_id"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(
    console: Console, path: str, field: str
) -> None:
    response = console.client.get(path, headers=headers_for(console, "vic@example.com"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert field in body["message"]
    assert body["details"][0]["field"].endswith(field)


def test_records_page_by_id_and_filter_by_account(console: Console) -> None:
    headers = headers_for(console, "vic@example.com")
    first = console.client.get("/api/v1/contracts", params={"limit": 4}, headers=headers).json()
    rest = console.client.get(
        "/api/v1/contracts", params={"limit": 4, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    ids = [c["id"] for c in first["items"] + rest["items"]]
    assert len(ids) == 6 and ids == sorted(set(ids))
    assert rest["next_cursor"] is None
    acme = console.client.get(
        "/api/v1/contacts", params={"account_id": console.book.acme.id}, headers=headers
    ).json()
    assert sorted(c["name"] for c in acme["items"]) == ["Bob Sponsor", "Jane Champion"]
    missing = console.client.get("/api/v1/contacts", params={"account_id": 999}, headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_account_360_merges_the_timeline(console: Console) -> None:
    headers = headers_for(console, "vic@example.com")
    body = console.client.get(f"/api/v1/accounts/{console.book.acme.id}", headers=headers).json()
    assert body["account"]["arr"] == 120000.0
    assert body["account"]["days_to_renewal"] == 30
    assert [i["kind"] for i in body["timeline"]] == ["survey", "ticket", "touchpoint"]
    assert body["contacts_by_level"]["executive"][0]["left_on"] is not None
    assert body["can_edit"] is False  # a viewer
    # Contracts of 100,000 then 120,000: the ARR history steps up and holds until today (the
    # term ends in 30 days: not a loss yet).
    assert [p["arr"] for p in body["arr_history"]] == [100000.0, 120000.0, 120000.0]
    assert body["arr_history"][-1]["on"] == str(console.book.today)


def test_touchpoints_obey_roles_and_are_audited(console: Console) -> None:
    book = console.book
    body = {"kind": "call", "subject": "Renewal call", "notes": "Budget approved"}
    url = f"/api/v1/accounts/{book.acme.id}/touchpoints"
    viewer = console.client.post(url, json=body, headers=headers_for(console, "vic@example.com"))
    assert viewer.status_code == 403 and viewer.json()["code"] == "forbidden"
    other_csm = console.client.post(url, json=body, headers=headers_for(console, "sam@example.com"))
    assert other_csm.status_code == 403
    assert "may not change 'Acme'" in other_csm.json()["message"]
    owner = console.client.post(url, json=body, headers=headers_for(console, "cleo@example.com"))
    assert owner.status_code == 201
    manager = console.client.post(url, json=body, headers=headers_for(console, "max@example.com"))
    assert manager.status_code == 201
    blank = console.client.post(
        url, json={"subject": ""}, headers=headers_for(console, "cleo@example.com")
    )
    assert blank.status_code == 422 and "subject" in blank.json()["message"]
    with console.session() as session:
        stored = session.get(Touchpoint, owner.json()["id"])
        assert stored is not None and stored.user_id == book.cleo.id
        entries = session.query(AuditLog).filter_by(action="touchpoint.create").all()
        assert len(entries) == 2
        assert entries[0].after is not None and entries[0].after["subject"] == "Renewal call"
        assert entries[0].via == "api"


def test_reassign_closes_ownership_and_is_limited_to_managers(console: Console) -> None:
    book = console.book
    body = {"account_ids": [book.acme.id, book.globex.id], "owner_id": book.max.id}
    csm = console.client.post(
        "/api/v1/accounts/reassign", json=body, headers=headers_for(console, "cleo@example.com")
    )
    assert csm.status_code == 403
    outside = console.client.post(
        "/api/v1/accounts/reassign",
        json={**body, "owner_id": book.sam.id},
        headers=headers_for(console, "max@example.com"),
    )
    assert outside.status_code == 422 and "not on your team" in outside.json()["message"]
    done = console.client.post(
        "/api/v1/accounts/reassign", json=body, headers=headers_for(console, "max@example.com")
    )
    assert done.status_code == 200
    assert done.json() == {
        "reassigned": sorted([book.acme.id, book.globex.id]),
        "unchanged": [],
        "owner_id": book.max.id,
    }
    with console.session() as session:
        spans = (
            session.query(AccountOwnership)
            .filter_by(account_id=book.acme.id)
            .order_by(AccountOwnership.started_at)
            .all()
        )
        assert [(s.user_id, s.ended_at is None) for s in spans] == [
            (book.cleo.id, False),
            (book.max.id, True),
        ]
        audit = session.query(AuditLog).filter_by(action="account.reassign").all()
        assert {
            (a.before["owner_id"], a.after["owner_id"])
            for a in audit  # type: ignore[index]
        } == {(book.cleo.id, book.max.id)}


@pytest.mark.slow
def test_users_admin_only_with_validation(console: Console) -> None:
    new = {
        "email": "nina@example.com",
        "name": "Nina",
        "role": "csm",
        "password": "long-enough-now",
    }
    csm = console.client.post(
        "/api/v1/users", json=new, headers=headers_for(console, "cleo@example.com")
    )
    assert csm.status_code == 403
    admin = headers_for(console, "ada@example.com")
    bad = console.client.post("/api/v1/users", json={**new, "email": "nina"}, headers=admin)
    assert bad.status_code == 422 and "not an email address" in bad.json()["message"]
    weak = console.client.post("/api/v1/users", json={**new, "password": "short"}, headers=admin)
    assert weak.status_code == 422 and "password" in weak.json()["message"]
    created = console.client.post("/api/v1/users", json=new, headers=admin)
    assert created.status_code == 201 and created.json()["role"] == "csm"
    again = console.client.post("/api/v1/users", json=new, headers=admin)
    assert again.status_code == 409
    promoted = console.client.patch(
        f"/api/v1/users/{created.json()['id']}", json={"role": "manager"}, headers=admin
    )
    assert promoted.json()["role"] == "manager"
    audit = console.client.get("/api/v1/audit", params={"entity": "user"}, headers=admin).json()
    assert audit[0]["action"] == "user.update"
    assert (audit[0]["before"]["role"], audit[0]["after"]["role"]) == ("csm", "manager")
    assert "password_hash" not in audit[0]["after"]
    assert (
        console.client.get(
            "/api/v1/audit", headers=headers_for(console, "max@example.com")
        ).status_code
        == 403
    )


def test_today_is_the_csm_s_renewals_in_120_days(console: Console) -> None:
    cleo = console.client.get("/api/v1/today", headers=headers_for(console, "cleo@example.com"))
    body = cleo.json()
    assert body["scope"] == "mine"
    assert [r["name"] for r in body["renewals"]] == ["Acme"]
    assert body["renewal_arr"] == [{"currency": "USD", "arr": 120000.0}]
    manager = console.client.get(
        "/api/v1/today", headers=headers_for(console, "max@example.com")
    ).json()
    assert manager["scope"] == "team" and [r["name"] for r in manager["renewals"]] == ["Acme"]
    everyone = console.client.get(
        "/api/v1/today", params={"scope": "all"}, headers=headers_for(console, "max@example.com")
    ).json()
    assert [r["name"] for r in everyone["renewals"]] == ["Acme", "Initech", "Umbrella"]
    assert everyone["renewal_arr"] == [
        {"currency": "EUR", "arr": 10000.0},
        {"currency": "USD", "arr": 200000.0},
    ]


def test_today_lists_the_soonest_renewals_and_adds_up_them_all(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today lists the soonest renewals (two here, fifty in use: a team's thousand rows were
    most of the page's time); the count and the ARR at stake are every renewal's (Umbrella's
    EUR, not listed, counted), and the page links to the Portfolio listing them all."""
    monkeypatch.setattr(today_module, "TODAY_RENEWALS_SHOWN", 2)
    max_ = headers_for(console, "max@example.com")
    everyone = console.client.get("/api/v1/today", params={"scope": "all"}, headers=max_).json()
    assert [r["name"] for r in everyone["renewals"]] == ["Acme", "Initech"]
    assert everyone["renewals_total"] == 3
    assert everyone["renewal_arr"] == [
        {"currency": "EUR", "arr": 10000.0},
        {"currency": "USD", "arr": 200000.0},
    ]
    sign_in(console.client, "max@example.com")
    page = console.client.get("/today", params={"scope": "all"}).text
    link = "/portfolio?renewal_within_days=120&amp;sort=renewal_on"
    assert (
        "3 account(s), ARR at stake" in page
        and f'<a href="{link}">all 3 on the Portfolio</a>' in page
    )
    listed = console.client.get(link.replace("&amp;", "&")).text
    assert all(name in listed for name in ("Acme", "Initech", "Umbrella"))
    mine = console.client.get("/today", params={"scope": "team"}).text
    assert "on the Portfolio" not in mine


def test_renewals_by_month_keep_currencies_apart(console: Console) -> None:
    body = console.client.get(
        "/api/v1/renewals", params={"months": 12}, headers=headers_for(console, "vic@example.com")
    ).json()
    assert len(body["months"]) == 12
    total = {(t["currency"]): 0.0 for m in body["months"] for t in m["arr"]}
    for month in body["months"]:
        for t in month["arr"]:
            total[t["currency"]] += t["arr"]
    # Acme, Initech and Globex (200 days) in USD; Umbrella in EUR.
    assert total == {"USD": 250000.0, "EUR": 10000.0}
    assert sum(m["accounts"] for m in body["months"]) == 4


def test_events_read_one_account_in_a_bounded_window(console: Console) -> None:
    store = open_event_store(console.settings)
    now = console.book.today
    from datetime import UTC, datetime

    rows = [
        {
            "message_id": f"m{i}",
            "source": "test",
            "type": "track",
            "account_id": account,
            "event": "report_viewed",
            "properties": f'{{"n": {i}}}',
            "timestamp": datetime(now.year, now.month, now.day, 12, tzinfo=UTC) - timedelta(days=i),
            "received_at": datetime.now(UTC),
        }
        for i, account in enumerate(["acme", "acme", "globex", "acme", "acme"])
    ]
    store.write_parquet(events_table_from_rows(rows))
    headers = headers_for(console, "vic@example.com")
    params = {"account_id": console.book.acme.id, "limit": 2}
    first = console.client.get("/api/v1/events", params=params, headers=headers).json()
    second = console.client.get(
        "/api/v1/events", params={**params, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [e["message_id"] for e in first["items"] + second["items"]] == ["m0", "m1", "m3", "m4"]
    assert first["items"][0]["properties"] == {"n": 0}
    wide = console.client.get(
        "/api/v1/events",
        headers=headers,
        params={"account_id": console.book.acme.id, "since": "2026-01-01", "until": "2026-03-01"},
    )
    assert wide.status_code == 422 and "at most 31 days" in wide.json()["message"]


def test_a_product_workspace_id_is_held_until_an_admin_links_it(console: Console) -> None:
    """The product sends its workspace id as groupId: held (listed, counted for no account)
    until an admin links it to the account, whose events then include it."""
    from datetime import UTC, datetime

    store = open_event_store(console.settings)
    moment = datetime.combine(console.book.today, datetime.min.time(), UTC)
    store.write_parquet(
        events_table_from_rows(
            {
                "message_id": f"ws{i}",
                "source": "test",
                "type": "track",
                "account_id": "ws_5e8a78ba",
                "user_id": "u-ws",
                "event": "report_viewed",
                "timestamp": moment,
                "received_at": moment,
            }
            for i in range(3)
        )
    )
    admin, csm = headers_for(console, "ada@example.com"), headers_for(console, "cleo@example.com")
    held = console.client.get("/api/v1/events/held", headers=csm).json()
    assert [(g["group_id"], g["events"]) for g in held["groups"]] == [("ws_5e8a78ba", 3)]
    body = {"group_id": "ws_5e8a78ba", "account_id": console.book.acme.id}
    refused = console.client.post("/api/v1/events/links", json=body, headers=csm)
    assert refused.status_code == 403
    linked = console.client.post("/api/v1/events/links", json=body, headers=admin)
    assert linked.status_code == 201, linked.text
    assert (linked.json()["events"], linked.json()["account"]["external_id"]) == (3, "acme")
    again = console.client.post("/api/v1/events/links", json=body, headers=admin)
    assert again.status_code == 409 and "already names" in again.json()["message"]
    assert console.client.get("/api/v1/events/held", headers=csm).json()["held_ids"] == 0
    params = {"account_id": console.book.acme.id}
    events = console.client.get("/api/v1/events", params=params, headers=csm).json()
    assert sorted(e["message_id"] for e in events["items"]) == ["ws0", "ws1", "ws2"]


def test_an_admin_makes_a_held_workspace_id_a_new_account(console: Console) -> None:
    """A customer that exists only in the product: its held id becomes an account of its own."""
    from datetime import UTC, datetime

    moment = datetime.combine(console.book.today, datetime.min.time(), UTC)
    row = {"source": "test", "account_id": "ws_77", "user_id": "u-77", "timestamp": moment}
    open_event_store(console.settings).write_parquet(
        events_table_from_rows(
            [
                row
                | {"message_id": "g", "type": "group", "event": "", "received_at": moment}
                | {"properties": '{"name": "Initech"}'},
                row | {"message_id": "t", "type": "track", "event": "e", "received_at": moment},
            ]
        )
    )
    admin, csm = headers_for(console, "ada@example.com"), headers_for(console, "cleo@example.com")
    body, url = {"group_id": "ws_77"}, "/api/v1/events/held/accounts"
    assert console.client.post(url, json=body, headers=csm).status_code == 403
    opened = console.client.post(url, json=body, headers=admin)
    assert opened.status_code == 201, opened.text
    assert (opened.json()["account"]["name"], opened.json()["events"]) == ("Initech", 1)
    assert console.client.post(url, json=body, headers=admin).status_code == 409


def test_cookie_session_writes_need_the_csrf_header(console: Console) -> None:
    from tests.web.factories import csrf_of, sign_in

    assert sign_in(console.client, "cleo@example.com").status_code == 303
    url = f"/api/v1/accounts/{console.book.acme.id}/touchpoints"
    refused = console.client.post(url, json={"subject": "No token"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    token = csrf_of(console.client.get("/today").text)
    accepted = console.client.post(
        url, json={"subject": "With token"}, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 201


@pytest.mark.slow
def test_openapi_is_published(console: Console) -> None:
    schema = console.client.get("/api/openapi.json").json()
    assert "/api/v1/accounts" in schema["paths"]
    assert console.client.get("/api/docs").status_code == 200
