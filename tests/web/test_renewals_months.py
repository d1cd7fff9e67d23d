"""The Renewals page lists a month's renewals when the month is opened (htmx fetches
/renewals/month; without JavaScript the month's link opens the same rows as a page): the page
itself renders the forecast and the folded months only — a team's 300 rows in folded months
were half its time at 10,000 accounts. The rows are exactly the API's (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re

from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def opened_months(console: Console, query: str = "") -> list[str]:
    """Each folded month of /renewals opened as htmx opens it (the signed-in client's)."""
    page = console.client.get(f"/renewals{query}").text
    urls = [html.unescape(u) for u in re.findall(r'hx-get="(/renewals/month\?[^"]+)"', page)]
    assert urls, "no folded month on the page"
    return [console.client.get(u, headers={"HX-Request": "true"}).text for u in urls]


def test_a_month_lists_its_renewals_when_opened(console: Console) -> None:
    """Max (manager) sees Acme (30 days), Initech (90), Umbrella (100) and Globex (200) due: the
    page holds no renewal row, each month opened holds the API's rows in its order; a month
    outside the window is refused with a message; without htmx the month is a page."""
    sign_in(console.client, "max@example.com")
    page = console.client.get("/renewals?owner=").text
    assert 'data-href="/accounts/' not in page
    api = console.client.get("/api/v1/renewals?months=12").json()
    expected = [[r["account_id"] for r in m["renewals"]] for m in api["months"] if m["accounts"]]
    opened = opened_months(console)
    assert [
        [int(i) for i in re.findall(r'<tr data-row data-href="/accounts/(\d+)"', part)]
        for part in opened
    ] == expected
    assert sum(len(ids) for ids in expected) == 4
    assert "<html" not in opened[0]
    first = api["months"][[m["accounts"] > 0 for m in api["months"]].index(True)]["month"]
    full = console.client.get(f"/renewals/month?month={first}")
    assert full.status_code == 200 and "<html" in full.text and "Back to the forecast" in full.text
    refused = console.client.get("/renewals/month?month=1999-01")
    assert refused.status_code == 404 and "1999-01 is not one of the next 12 months" in refused.text


def test_the_api_lists_one_month_when_asked(console: Console) -> None:
    """/api/v1/renewals?month= is the API's page of the listing: that month's renewals exactly
    as the whole listing has them, no other month's rows, every month's totals and forecast
    alike; a month outside the window is refused with a message."""
    sign_in(console.client, "max@example.com")
    whole = console.client.get("/api/v1/renewals?months=12").json()
    due = [m["month"] for m in whole["months"] if m["accounts"]]
    assert len(due) >= 3
    for month in due:
        one = console.client.get(f"/api/v1/renewals?months=12&month={month}").json()
        for got, expected in zip(one["months"], whole["months"], strict=True):
            listed = expected["renewals"] if got["month"] == month else []
            assert got == {**expected, "renewals": listed}, month
        assert one["quarters"] == whole["quarters"]
    refused = console.client.get("/api/v1/renewals?months=3&month=1999-01")
    assert refused.status_code == 404 and "1999-01 is not one of the next 3 months" in refused.text
    assert console.client.get("/api/v1/renewals?month=2026-1").status_code == 422
