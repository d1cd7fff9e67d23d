"""Cohort retention on the KPIs page and its /api/v1 twin, over the named book (the exact
curves are checked by hand in tests/success/test_cohort_retention.py)."""

from __future__ import annotations

import html
import json
import re

from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_cohorts_api_keeps_currencies_apart_and_starts_at_one(console: Console) -> None:
    headers = headers_for(console, "vic@example.com")  # a viewer reads KPIs
    body = console.client.get("/api/v1/kpis/cohorts?months=12", headers=headers).json()
    assert body["max_months"] == 12
    # Every account of the book has a contract: five accounts, Umbrella alone in EUR.
    assert sum(c["accounts"] for c in body["cohorts"]) == 5
    assert [c["accounts"] for c in body["cohorts"] if c["currency"] == "EUR"] == [1]
    for curve in body["cohorts"]:
        assert curve["logo_retention"][0] == 1.0 and curve["arr_retention"][0] == 1.0
        assert curve["months"] == list(range(len(curve["months"])))
        assert len(curve["months"]) <= 13
    refused = console.client.get("/api/v1/kpis/cohorts?months=0", headers=headers)
    assert refused.status_code == 422 and "months" in refused.json()["message"]


def test_kpis_page_draws_the_cohort_charts_and_table(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/kpis?months=12")
    assert page.status_code == 200
    assert 'id="cohort-logo-chart"' in page.text and 'id="cohort-arr-chart"' in page.text
    marks = re.findall(r'<th class="num">(M\d+) logo / ARR</th>', page.text)
    assert marks == ["M0", "M3", "M6", "M12"]  # the table's months up to the 12 asked


def test_cohort_charts_draw_a_line_per_start_year_unless_asked_for_quarters(
    console: Console,
) -> None:
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/kpis?months=12").text
    logo = json.loads(
        html.unescape(re.search(r"id=\"cohort-logo-chart\" data-cohorts='([^']*)'", page)[1])
    )
    years = {
        c["cohort"][:4]
        for c in console.client.get("/api/v1/kpis/cohorts?months=12").json()["cohorts"]
    }
    assert len(logo) == len(years) and all(c["label"].startswith("Started in ") for c in logo)
    quarters = console.client.get("/kpis?months=12&cohort_lines=quarter").text
    lines = json.loads(
        html.unescape(re.search(r"id=\"cohort-logo-chart\" data-cohorts='([^']*)'", quarters)[1])
    )
    assert len(lines) == len(console.client.get("/api/v1/kpis/cohorts?months=12").json()["cohorts"])
