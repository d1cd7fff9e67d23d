"""The console's pages over HTTP (in-process): sign-in security, roles, forms, CSV export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from tenure.model import AuditLog, SavedView
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_pages_redirect_to_sign_in_and_back(console: Console) -> None:
    response = console.client.get("/portfolio?segment=SMB", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portfolio%3Fsegment%3DSMB"


def test_sign_in_sets_a_hardened_cookie_and_rotates_the_csrf_token(console: Console) -> None:
    before = csrf_of(console.client.get("/login").text)
    response = sign_in(console.client, "cleo@example.com")
    assert response.status_code == 303 and response.headers["location"] == "/today"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert csrf_of(console.client.get("/today").text) != before


@pytest.mark.slow
def test_wrong_password_then_rate_limit(console: Console) -> None:
    for _ in range(5):
        failed = sign_in(console.client, "cleo@example.com", "wrong-password")
        assert failed.status_code == 401 and "Wrong email or password" in failed.text
    limited = sign_in(console.client, "cleo@example.com")  # even the right password now
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.text
    assert int(limited.headers["retry-after"]) > 0


def test_sign_in_without_the_form_s_csrf_token_is_refused(console: Console) -> None:
    console.client.get("/login")
    response = console.client.post(
        "/login", data={"email": "cleo@example.com", "password": "correct-horse-9"}
    )
    assert response.status_code == 403 and "The form expired" in response.text


def test_sign_in_never_redirects_off_site(console: Console) -> None:
    token = csrf_of(console.client.get("/login").text)
    response = console.client.post(
        "/login",
        data={
            "email": "cleo@example.com",
            "password": "correct-horse-9",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/today"


@pytest.mark.slow
def test_every_page_renders_with_its_json_twin_and_freshness(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    book = console.book
    for path, twin in [
        ("/today", "/api/v1/today?scope=all"),
        ("/portfolio?segment=Enterprise", "/api/v1/accounts?segment=Enterprise"),
        (f"/accounts/{book.acme.id}", f"/api/v1/accounts/{book.acme.id}"),
        ("/renewals", "/api/v1/renewals?months=12"),
        ("/admin", "/api/v1/users"),
    ]:
        page = console.client.get(path)
        assert page.status_code == 200, path
        assert f'href="{twin}"' in page.text.replace("&amp;", "&"), path
        assert "Data as of" in page.text


def test_a_csm_is_refused_the_admin_page(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    response = console.client.get("/admin")
    assert response.status_code == 403
    assert "this needs the role admin; cleo@example.com is csm" in response.text
    assert 'href="/admin"' not in response.text  # not in the navigation either


def test_account_page_shows_relationships_contracts_and_timeline(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    page = console.client.get(f"/accounts/{console.book.acme.id}").text
    assert "120,000 USD" in page
    assert "Jane Champion" in page and ">Champion<" in page and ">champion<" not in page
    assert "Bob Sponsor" in page and "left " in page
    assert "Q3 business review" in page and "SSO login fails" in page and "NPS 9" in page
    assert "Log touchpoint" in page


def test_the_relationship_map_shows_whom_a_contact_reports_to(console: Console) -> None:
    """Salesforce's ReportsToId (contact.reports_to_id) is a line on the map; an opt-out and a
    phone number are shown beside the person."""
    from tenure.model import Contact

    with console.session() as session:
        jane = session.scalars(sa.select(Contact).where(Contact.name == "Jane Champion")).one()
        bob = session.scalars(sa.select(Contact).where(Contact.name == "Bob Sponsor")).one()
        jane.reports_to_id, jane.phone, jane.email_opt_out = bob.id, "+1 415 555 0101", True
        session.commit()
    sign_in(console.client, "cleo@example.com")
    page = console.client.get(f"/accounts/{console.book.acme.id}").text
    assert "reports to Bob Sponsor" in page
    assert "+1 415 555 0101" in page
    assert ">no e-mail<" in page
    assert page.count("reports to ") == 1


def test_the_account_page_says_who_the_account_is_in_each_system(console: Console) -> None:
    from tenure.model import IdentitySystem, SourceIdentity

    with console.session() as session:
        for system, value, given_by in (
            (IdentitySystem.hubspot, "9001", "hubspot"),
            (IdentitySystem.salesforce, "0015e00000AcmeAAAR", "hubspot"),
            (IdentitySystem.domain, "acme.example", "stripe"),
        ):
            session.add(
                SourceIdentity(
                    entity="account",
                    system=system,
                    value=value,
                    given_by=given_by,
                    account_id=console.book.acme.id,
                )
            )
        session.commit()
    sign_in(console.client, "cleo@example.com")
    page = console.client.get(f"/accounts/{console.book.acme.id}").text
    assert "HubSpot 9001</span> · " in page
    assert "Salesforce 0015e00000AcmeAAAR" in page and ", from HubSpot" in page
    assert "Web domain acme.example" in page and ", from Stripe" in page
    data = console.client.get(f"/api/v1/accounts/{console.book.acme.id}").json()
    assert [k["system"] for k in data["known_as"]] == ["HubSpot", "Salesforce", "Web domain"]


def test_risk_reasons_read_as_metric_names_not_slugs(console: Console) -> None:
    from tests.api.test_v1_signals import scored

    scored(console)
    sign_in(console.client, "cleo@example.com")
    account = console.client.get(f"/accounts/{console.book.acme.id}").text
    assert "Latest NPS answer: 2" in account and "nps_latest" not in account
    risk = console.client.get("/risk?owner=all").text
    # The list reads each reason as the account page does: with the value that pushed the risk.
    assert "Latest NPS answer: 2" in risk and "nps_latest" not in risk
    # An account the model has not scored has no reasons: it says so, not 'only calendar facts'.
    assert '<span class="muted">not scored</span>' in risk and "only calendar facts" not in risk
    # Days to renewal in words; the model's id is not in a CSM's page, and behind a toggle
    # in an admin's.
    assert " days</span>" in risk and " d</span>" not in risk
    assert "model details" not in risk
    sign_in(console.client, "ada@example.com")
    admin = console.client.get("/risk?owner=all").text
    assert '<summary>model details</summary><p class="small">Model ' in admin
    assert "by model " not in admin


def test_logging_a_touchpoint_from_the_page(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    url = f"/accounts/{console.book.acme.id}"
    token = csrf_of(console.client.get(url).text)
    refused = console.client.post(f"{url}/touchpoints", data={"subject": "No token"})
    assert refused.status_code == 403
    partial = console.client.post(
        f"{url}/touchpoints",
        data={"kind": "call", "subject": "Renewal call", "notes": "Budget ok", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<ol class="timeline"')
    assert "call: Renewal call" in partial.text


def test_viewer_sees_no_touchpoint_form_and_cannot_post(console: Console) -> None:
    sign_in(console.client, "vic@example.com")
    url = f"/accounts/{console.book.acme.id}"
    page = console.client.get(url).text
    assert "Log touchpoint" not in page
    response = console.client.post(
        f"{url}/touchpoints", data={"subject": "Hi", "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 403


def test_csv_export_is_exactly_the_filtered_rows(console: Console) -> None:
    sign_in(console.client, "vic@example.com")
    response = console.client.get("/portfolio.csv?segment=Mid-Market&sort=arr&direction=desc")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["arr"], r["owner_name"]) for r in rows] == [
        ("Initech", "80000.0", "Sam CSM"),
        ("Globex", "50000.0", "Cleo CSM"),
    ]
    assert list(rows[0])[:13] == [
        "external_id",
        "name",
        "segment",
        "owner_name",
        "arr",
        "currency",
        "arr_by_currency",
        "arr_in_reporting_currency",
        "reporting_currency",
        "rate_dates",
        "missing_rates",
        "renewal_on",
        "health_score",
    ]
    # A USD book reports in USD: no rate needed, none missing.
    assert [(r["arr_by_currency"], r["arr_in_reporting_currency"]) for r in rows] == [
        ("USD 80000.0", "80000.0"),
        ("USD 50000.0", "50000.0"),
    ]
    assert {(r["reporting_currency"], r["rate_dates"], r["missing_rates"]) for r in rows} == {
        ("USD", "", "")
    }


def test_saved_views_and_bulk_reassign_from_the_portfolio(console: Console) -> None:
    book = console.book
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/portfolio?owner=none")
    assert "Umbrella" in page.text and "Acme" not in page.text
    token = csrf_of(page.text)
    saved = console.client.post(
        "/portfolio/views", data={"name": "Unassigned", "query": "owner=none", "csrf_token": token}
    )
    assert saved.status_code == 200 and 'href="/portfolio?owner=none">Unassigned' in saved.text
    form = {
        "account_ids": [str(book.umbrella.id)],
        "owner_id": str(book.sam.id),
        "back": "/portfolio?owner=none",
        "csrf_token": token,
    }
    asked = console.client.post("/portfolio/reassign", data=form)
    assert asked.status_code == 200 and "Give 1 account to Sam CSM?" in asked.text
    moved = console.client.post("/portfolio/reassign", data={**form, "confirmed": "true"})
    assert moved.status_code == 200 and "No account matches these filters." in moved.text
    assert "1 account now owned by Sam CSM." in moved.text
    with console.session() as session:
        assert session.query(SavedView).count() == 1
        actions = [a.action for a in session.query(AuditLog).order_by(AuditLog.id)]
    assert actions[-2:] == ["saved_view.save", "account.reassign"]


def test_admin_creates_a_user_and_a_token_shown_once(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    admin = console.client.get("/admin").text
    token = csrf_of(admin)
    # Roles in words everywhere the page names them: the role menus, the token's user.
    assert '<option value="csm" selected>CSM</option>' in admin and ">csm<" not in admin
    assert "ada@example.com (Admin)</option>" in admin
    created = console.client.post(
        "/admin/users",
        data={
            "email": "nina@example.com",
            "name": "Nina",
            "role": "csm",
            "password": "long-enough-now",
            "csrf_token": token,
        },
    )
    assert created.status_code == 200 and "nina@example.com" in created.text
    bad = console.client.post(
        "/admin/users", data={"email": "nina", "name": "N", "role": "csm", "csrf_token": token}
    )
    assert bad.status_code == 422 and "not an email address" in bad.text
    issued = console.client.post(
        "/admin/tokens",
        data={"name": "BI export", "user_id": str(console.book.ada.id), "csrf_token": token},
    )
    assert issued.status_code == 201
    secret = issued.text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("tnr_")
    assert console.client.get("/admin").text.count(secret) == 0
    me = console.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["email"] == "ada@example.com"


def test_palette_finds_pages_and_accounts(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    found = console.client.get("/api/v1/search", params={"q": "re"}).json()
    labels = [(e["kind"], e["label"]) for e in found]
    assert ("page", "Renewals") in labels
    assert ("page", "Admin") not in labels
    accounts = console.client.get("/api/v1/search", params={"q": "ini"}).json()
    assert [(e["label"], e["url"]) for e in accounts] == [
        ("Initech", f"/accounts/{console.book.initech.id}")
    ]


def test_account_team_and_champion_list(console: Console) -> None:
    book = console.book
    sign_in(console.client, "cleo@example.com")
    url = f"/accounts/{book.acme.id}"
    token = csrf_of(console.client.get(url).text)
    added = console.client.post(
        f"{url}/team",
        data={"user_id": str(book.sam.id), "role": "support_lead", "csrf_token": token},
    )
    assert added.status_code == 200 and "support lead" in added.text
    again = console.client.post(
        f"{url}/team",
        data={"user_id": str(book.sam.id), "role": "support_lead", "csrf_token": token},
    )
    assert again.status_code == 409 and "already support_lead" in again.text
    # Sam sits on Acme's team now, so Sam may log touchpoints there.
    sign_in(console.client, "sam@example.com")
    token = csrf_of(console.client.get(url).text)
    logged = console.client.post(
        f"{url}/touchpoints", data={"subject": "Escalation review", "csrf_token": token}
    )
    assert logged.status_code == 200 and "Escalation review" in logged.text
    # Contact lists (names, e-mails in bulk) are for managers and admins (issue 16.4).
    assert console.client.get("/contacts.csv?role=champion").status_code == 403
    sign_in(console.client, "max@example.com")
    champions = console.client.get("/contacts.csv?role=champion").text.splitlines()
    # The level and the role in words, as Account 360 shows them.
    assert champions[1:] == ["acme,Acme,Jane Champion,,VP Ops,Director / VP,Champion"]


@pytest.mark.slow
def test_ebr_pack_opens_from_the_account(console: Console) -> None:
    sign_in(console.client, "vic@example.com")
    page = console.client.get(f"/accounts/{console.book.acme.id}")
    assert f'href="/accounts/{console.book.acme.id}/ebr"' in page.text
    pack = console.client.get(f"/accounts/{console.book.acme.id}/ebr")
    assert pack.status_code == 200 and "Acme" in pack.text
    pdf = console.client.get(f"/accounts/{console.book.acme.id}/ebr?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_kpis_explain_the_nps_scale(console: Console) -> None:
    sign_in(console.client, "max@example.com")
    page = console.client.get("/kpis").text
    assert "NPS (Net Promoter Score) = % of answers from promoters (9–10) minus % from" in page
    assert "on a scale from −100 to +100" in page
    # The figures are the stored ones, saying the day of the data they were computed on.
    assert 'id="computed-on">Figures computed on the data of' in page
    # The whole book's row named as the Per menu names it, not by its key 'all'.
    assert "<td>everyone</td>" in page and "<td>all</td>" not in page
    past = console.client.get("/kpis?by=segment&page=9").text
    assert "groups: page 9 is past the last." in past
    maturity = console.client.get("/maturity").text
    assert "The pillars from the data were measured on the data of" in maturity
    # Pillars by their names ('ROI', not the stored 'roi').
    assert "<strong>ROI</strong>" in maturity and "<th>ROI</th>" in maturity
    assert ">roi<" not in maturity
