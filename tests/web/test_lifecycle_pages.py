"""The lifecycle in the console (in-process): customers by stage of the model in force, an admin
choosing ClientSuccess on the Admin page, and the portfolio and account pages following."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tenure.model import AuditLog
from tenure.success.lifecycle_service import lifecycle_portfolio
from tests.web.factories import csrf_of, make_contract, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)
from tests.web.test_renewals_months import opened_months


def test_an_admin_chooses_clientsuccess_and_the_pages_show_its_stages(console: Console) -> None:
    with console.session() as session:  # what the daily run's lifecycle step saves
        lifecycle_portfolio(session, date.today(), save_history=True)
        session.commit()
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/lifecycle")
    assert page.status_code == 200
    assert "Lifecycle: LAER (Land, Adopt, Expand, Renew)" in page.text
    assert 'href="/portfolio?stage=renew">Renew</a>' in page.text
    assert "lifecycle-model-form" not in page.text  # a CSM does not choose the model
    refused = console.client.post(
        "/admin/lifecycle-model", data={"model": "esg", "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403

    console.client.cookies.clear()
    sign_in(console.client, "ada@example.com")
    admin = console.client.get("/admin").text
    assert (
        'id="lifecycle"' in admin
        and "ClientSuccess (ends in Renewal after value realization)" in admin
    )
    chosen = console.client.post(
        "/admin/lifecycle-model",
        data={"model": "clientsuccess", "csrf_token": csrf_of(admin)},
        follow_redirects=False,
    )
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/lifecycle")
    page = console.client.get("/lifecycle").text
    assert "Lifecycle: ClientSuccess (ends in Renewal after value realization)" in page
    # Acme renews in 30 days and no value was shown; Initech (90 days) and Umbrella (100) too.
    row = page.split('data-stage="renewal_no_value"')[1].split("</tr>")[0]
    assert 'Renewal due before value was realized</a></td>\n      <td class="num">3</td>' in row
    assert "Tenure (the model's source does not name it)" in row
    assert "Product usage alone does not count." in page
    twin = console.client.get("/api/v1/lifecycle/stages").json()  # the page's JSON twin
    assert {s["key"]: s["accounts"] for s in twin["stages"]}["renewal_no_value"] == 3
    with console.session() as session:
        [entry] = session.query(AuditLog).filter_by(action="lifecycle_model.set").all()
        assert entry.after == {
            "lifecycle model": "ClientSuccess (ends in Renewal after value realization)"
        }

    portfolio = console.client.get("/portfolio").text
    assert '<option value="renewal_no_value" >Renewal due before value was realized' in portfolio
    assert '<td data-label="Stage">Renewal due before value was realized</td>' in portfolio
    exported = console.client.get("/portfolio.csv?q=Acme").text  # the same words in the CSV
    assert exported.splitlines()[1].count(",Renewal due before value was realized,") == 1
    acme = console.client.get(f"/accounts/{console.book.acme.id}").text
    assert "Renewal due before value was realized" in acme
    assert "ClientSuccess (ends in Renewal after value realization)" in acme


def test_renewals_flag_a_renewal_before_value_was_realized(console: Console) -> None:
    """Whichever model is in force (LAER here), a renewal with no value shown in the last year
    says so on its row, in words; one beyond the renew window (Globex, 200 days) does not."""
    with console.session() as session:
        lifecycle_portfolio(session, date.today(), save_history=True)
        session.commit()
    book = console.book
    sign_in(console.client, "max@example.com")
    page = "".join(opened_months(console))

    def row(account_id: int) -> str:
        return page.split(f'data-href="/accounts/{account_id}"')[1].split("</tr>")[0]

    assert "Before value was realized" in row(book.acme.id)
    assert "Before value was realized" in row(book.initech.id)
    assert "Before value was realized" not in row(book.globex.id)
    twin = console.client.get("/api/v1/renewals?months=12").json()
    flags = {
        r["account_name"]: r["before_value_realized"] for m in twin["months"] for r in m["renewals"]
    }
    assert flags == {"Acme": True, "Initech": True, "Umbrella": True, "Globex": False}


def test_a_month_of_renewals_counts_each_category_once(console: Console) -> None:
    """A month with a euro and a dollar renewal: its summary says 'Upside 2' (renewals are
    counted across currencies), not one 'Upside 1' pill per currency side by side."""
    book = console.book
    with console.session() as session:
        hooli = session.merge(book.hooli)
        make_contract(
            session, hooli, arr=9_000, ends_on=book.today + timedelta(days=30), currency="EUR"
        )
        session.commit()
    sign_in(console.client, "max@example.com")
    page = console.client.get("/renewals").text
    month = (book.today + timedelta(days=30)).strftime("%Y-%m")
    summary = page.split(f'id="m-{month}"')[1].split("</summary>")[0]
    pills = re.findall(r'class="pill [a-z]+">([A-Za-z ]+) (\d+)</span>', summary)
    assert len({name for name, _ in pills}) == len(pills), pills
    assert sum(int(n) for _, n in pills) == 2, pills
