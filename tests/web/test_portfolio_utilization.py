"""Portfolio by license utilization: sorted and filtered in the database (band and min–max),
paged by cursor, kept in saved views and in the CSV export — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest

from tenure.model import MetricSnapshot, SavedView
from tests.api.test_v1 import headers_for
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


@pytest.fixture
def measured(console: Console) -> Console:
    """Today's metrics: Acme 90 %, Initech 60 %, Globex 30 % of seats in use; Umbrella has a
    snapshot without utilization (no seats data); Hooli has no snapshot at all."""
    book = console.book
    with console.session() as session:
        for account, values in [
            (book.acme, {"license_utilization": 0.9}),
            (book.globex, {"license_utilization": 0.3}),
            (book.initech, {"license_utilization": 0.6}),
            (book.umbrella, {"active_users_28d": 4}),
        ]:
            session.add(MetricSnapshot(as_of=book.today, account_id=account.id, values=values))
        session.commit()
    return console


def _names(console: Console, query: str) -> list[str]:
    headers = headers_for(console, "ada@example.com")
    # churned=true: Hooli (churned, unmeasured) stays in, the low end's second example.
    response = console.client.get(f"/api/v1/accounts?{query}&churned=true", headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_sort_by_utilization_puts_the_unmeasured_at_the_low_end(measured: Console) -> None:
    assert _names(measured, "sort=utilization") == [
        "Umbrella",
        "Hooli",
        "Globex",
        "Initech",
        "Acme",
    ]
    assert _names(measured, "sort=utilization&direction=desc") == [
        "Acme",
        "Initech",
        "Globex",
        "Hooli",
        "Umbrella",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("utilization=low", ["Globex"]),
        ("utilization=medium", ["Initech"]),
        ("utilization=high", ["Acme"]),
        ("utilization=unknown", ["Hooli", "Umbrella"]),
        ("utilization_min=0.5&utilization_max=0.9", ["Acme", "Initech"]),  # both ends inclusive
        ("utilization_max=0.6&segment=Mid-Market", ["Globex", "Initech"]),
        ("utilization=high&utilization_max=0.85", []),  # band and range both apply
    ],
)
def test_filters(measured: Console, query: str, expected: list[str]) -> None:
    assert _names(measured, query) == expected


def test_cursor_pages_in_utilization_order(measured: Console) -> None:
    headers = headers_for(measured, "ada@example.com")
    url = "/api/v1/accounts?sort=utilization&direction=desc&limit=2&churned=true"
    seen: list[str] = []
    while url:
        body = measured.client.get(url, headers=headers).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        url = (
            f"/api/v1/accounts?sort=utilization&direction=desc&limit=2&churned=true&cursor={cursor}"
            if cursor
            else ""
        )
    assert seen == ["Acme", "Initech", "Globex", "Hooli", "Umbrella"]


def test_bad_utilization_parameters_are_422_naming_the_field(measured: Console) -> None:
    headers = headers_for(measured, "ada@example.com")
    for query, field in [
        ("utilization=most", "utilization"),
        ("utilization_min=-1", "utilization_min"),
    ]:
        response = measured.client.get(f"/api/v1/accounts?{query}", headers=headers)
        assert response.status_code == 422 and field in response.json()["message"]


def test_saved_view_and_csv_keep_the_utilization_filter(measured: Console) -> None:
    sign_in(measured.client, "cleo@example.com")
    page = measured.client.get("/portfolio?utilization=low&sort=utilization")
    assert page.status_code == 200 and 'value="low" selected' in page.text
    saved = measured.client.post(
        "/portfolio/views",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Low utilization",
            "query": "utilization=medium&sort=utilization&direction=desc",
        },
    )
    assert saved.status_code == 200
    assert "Initech" in saved.text and "Globex" not in saved.text  # the view opened
    with measured.session() as session:
        view = session.query(SavedView).one()
    assert view.query == "utilization=medium&sort=utilization&direction=desc"
    exported = measured.client.get("/portfolio.csv?utilization_min=0.5&sort=utilization")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["name"], r["license_utilization"]) for r in rows] == [
        ("Initech", "0.6"),
        ("Acme", "0.9"),
    ]
