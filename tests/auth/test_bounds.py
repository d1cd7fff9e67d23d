"""Input the database cannot hold is refused at the boundary (issue 16.6): ids above 2^63 in
paths and queries, explicit nulls in PATCH bodies, and timestamps come back with their zone."""

from __future__ import annotations

import pytest

from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

TOO_BIG = str(2**63)  # the schemathesis find: one past the largest 64-bit integer


def _admin(console: Console) -> dict[str, str]:
    sign_in(console.client, "ada@example.com")
    return {"X-CSRF-Token": csrf_of(console.client.get("/today").text)}


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/accounts/{TOO_BIG}",
        f"/api/v1/audit?before_id={TOO_BIG}",
        f"/api/v1/audit?before_id=-{TOO_BIG}0",
        f"/accounts/{TOO_BIG}",
        f"/portfolio?owner={TOO_BIG}&renewal_within_days=1",
    ],
)
def test_ids_beyond_64_bits_are_invalid_input_not_server_errors(console: Console, url: str) -> None:
    _admin(console)
    response = console.client.get(url)
    assert response.status_code in (404, 422), response.text
    if url.startswith("/api/"):
        assert response.json()["code"] in ("invalid_input", "not_found")


def test_ids_stop_at_postgresql_s_integer(console: Console) -> None:
    """Ids are integer columns: 2^31-1 is the largest PostgreSQL compares without an error."""
    _admin(console)
    assert console.client.get(f"/api/v1/accounts/{2**31 - 1}").status_code == 404
    assert console.client.get(f"/api/v1/accounts/{2**31}").status_code == 422
    assert console.client.get(f"/api/v1/audit?before_id={2**31}").status_code == 422


def test_writes_with_huge_ids_are_refused(console: Console) -> None:
    headers = _admin(console)
    patched = console.client.patch(f"/api/v1/users/{TOO_BIG}", json={}, headers=headers)
    assert patched.status_code == 422
    manager = console.client.patch(
        f"/api/v1/users/{console.book.cleo.id}", json={"manager_id": int(TOO_BIG)}, headers=headers
    )
    assert manager.status_code == 422
    token = console.client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": int(TOO_BIG)}, headers=headers
    )
    assert token.status_code == 422


@pytest.mark.parametrize("field", ["name", "role", "is_active"])
def test_explicit_nulls_in_a_user_patch_are_refused(console: Console, field: str) -> None:
    headers = _admin(console)
    url = f"/api/v1/users/{console.book.cleo.id}"
    refused = console.client.patch(url, json={field: None}, headers=headers)
    assert refused.status_code == 422 and "may not be null" in refused.json()["message"]


def test_a_null_manager_clears_it(console: Console) -> None:
    headers = _admin(console)
    url = f"/api/v1/users/{console.book.cleo.id}"
    cleared = console.client.patch(url, json={"manager_id": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["manager_id"] is None


def test_token_and_audit_times_carry_their_zone(console: Console) -> None:
    headers = _admin(console)
    made = console.client.post("/api/v1/tokens", json={"name": "BI"}, headers=headers).json()
    assert made["created_at"].endswith(("+00:00", "Z")) and made["expires_at"].endswith(
        ("+00:00", "Z")
    )
    listed = console.client.get("/api/v1/tokens", headers=headers).json()
    assert all(t["created_at"].endswith(("+00:00", "Z")) for t in listed)
    audit = console.client.get("/api/v1/audit", headers=headers).json()
    assert audit and all(e["at"].endswith(("+00:00", "Z")) for e in audit)
