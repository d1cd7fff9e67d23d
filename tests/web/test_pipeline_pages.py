"""The growth side in the console (in-process): opening, editing, winning and losing a deal on
Account 360 and its page, recording advocacy, the pipeline page — in plain words."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tenure.model import AuditLog, Contact, Opportunity, OpportunityKind, Referral
from tenure.portfolio import pipeline
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_a_deal_from_account_360_to_won(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    acme = console.book.acme
    page = console.client.get(f"/accounts/{acme.id}").text
    assert "No opportunities on this account yet." in page and "Open an opportunity" in page
    assert "hunter (new business)" in page  # the team role, in words
    form = {
        "csrf_token": csrf_of(page),
        "name": "Add 50 seats",
        "kind": "expansion",
        "amount": "12000",
        "currency": "EUR",
        "probability": "40",
        "close_on": "",
        "stage": "Proposal",
        "forecast_category": "best_case",
        "owner_id": "",
    }
    opened = console.client.post(f"/accounts/{acme.id}/opportunities", data=form)
    assert opened.status_code == 200 and "Add 50 seats" in opened.text
    assert "Expansion" in opened.text and "12,000 EUR" in opened.text
    assert "expansion</td>" not in opened.text  # never the stored key
    with console.session() as session:
        deal = session.query(Opportunity).one()
        assert (deal.amount, deal.currency, deal.probability, deal.close_on) == (
            12000.0,
            "EUR",
            40.0,
            None,
        )
    deal_page = console.client.get(f"/opportunities/{deal.id}").text
    assert "Best case" in deal_page
    token = csrf_of(deal_page)
    edited = console.client.post(
        f"/opportunities/{deal.id}",
        data={
            "csrf_token": token,
            "name": "Add 60 seats",
            "kind": "expansion",
            "currency": "EUR",
            "amount": "14400",
            "probability": "",
            "stage": "Negotiation",
        },
    )
    assert edited.status_code == 200 and "Add 60 seats" in edited.text
    with console.session() as session:
        deal = session.get_one(Opportunity, deal.id)
        # Emptied inputs clear their field: the probability and the forecast category.
        assert (deal.amount, deal.probability, deal.forecast_category, deal.stage) == (
            14400.0,
            None,
            None,
            "Negotiation",
        )
    won = console.client.post(
        f"/opportunities/{deal.id}/win", data={"csrf_token": token, "reason": "EMEA roll-out"}
    )
    assert won.status_code == 200 and re.search(r'pill green">Won<', won.text)
    with console.session() as session:
        actions = [a for (a,) in session.query(AuditLog.action).filter_by(entity="opportunity")]
        assert actions == ["opportunity.create", "opportunity.update", "opportunity.won"]


def test_a_lost_deal_needs_its_reason_and_outsiders_cannot_change_deals(console: Console) -> None:
    sign_in(console.client, "sam@example.com")  # owns Initech, not Acme
    acme = console.book.acme
    page = console.client.get(f"/accounts/{acme.id}").text
    assert "Open an opportunity" not in page
    refused = console.client.post(
        f"/accounts/{acme.id}/opportunities",
        data={"csrf_token": csrf_of(page), "name": "X", "kind": "expansion"},
    )
    assert refused.status_code == 403
    initech = console.book.initech
    token = csrf_of(console.client.get(f"/accounts/{initech.id}").text)
    console.client.post(
        f"/accounts/{initech.id}/opportunities",
        data={"csrf_token": token, "name": "Initech Germany", "kind": "new_business"},
    )
    with console.session() as session:
        deal = session.query(Opportunity).one()
    no_reason = console.client.post(f"/opportunities/{deal.id}/lose", data={"csrf_token": token})
    assert no_reason.status_code == 422 and "say why the deal was lost" in no_reason.text
    lost = console.client.post(
        f"/opportunities/{deal.id}/lose", data={"csrf_token": token, "reason": "Chose a rival"}
    )
    assert lost.status_code == 200 and 'title="Chose a rival">Lost<' in lost.text


def test_recording_a_success_story(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    acme = console.book.acme
    page = console.client.get(f"/accounts/{acme.id}").text
    assert "No success stories, references, speaker slots or referrals recorded." in page
    with console.session() as session:
        jane = session.query(Contact).filter_by(external_id="acme-jane").one()
    recorded = console.client.post(
        f"/accounts/{acme.id}/advocacy",
        data={
            "csrf_token": csrf_of(page),
            "kind": "success_story",
            "contact_id": str(jane.id),
            "title": "Month-end close in 3 days",
            "occurred_on": "",
        },
    )
    assert recorded.status_code == 200
    assert "Success story</span> Month-end close in 3 days" in recorded.text
    assert "Jane Champion" in recorded.text
    with console.session() as session:
        story = session.query(Referral).one()
        assert (story.kind.value, story.recorded_by_id) == ("success_story", console.book.cleo.id)


def test_the_pipeline_page_forecasts_in_words(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    acme = console.book.acme
    token = csrf_of(console.client.get(f"/accounts/{acme.id}").text)
    for name, kind, amount, probability in (
        ("Add 50 seats", "expansion", "10000", "40"),
        ("Sister company", "new_business", "50000", "20"),
    ):
        console.client.post(
            f"/accounts/{acme.id}/opportunities",
            data={
                "csrf_token": token,
                "name": name,
                "kind": kind,
                "amount": amount,
                "currency": "USD",
                "probability": probability,
                "close_on": "2099-01-15",
            },
        )
    # An advocacy ask as the CRM export brings it (no name, no amount), and a renewal deal.
    with console.session() as session:
        session.add(
            Opportunity(
                account_id=acme.id, kind=OpportunityKind.advocacy, opened_on=date(2026, 10, 12)
            )
        )
        session.add(
            Opportunity(
                account_id=acme.id,
                kind=OpportunityKind.renewal,
                name="Acme 2027",
                opened_on=date(2026, 10, 1),
            )
        )
        session.commit()
    page = console.client.get("/pipeline?months=3").text
    assert 'href="/api/v1/pipeline?months=3"' in page
    # Probabilities as every percent on the console.
    assert ">40 %</td>" in page and ">20 %</td>" in page
    assert "Closing after the horizon: 1 expansion deal(s), 10,000 USD" in page
    assert "Closing after the horizon: 1 new business deal(s), 50,000 USD" in page
    # New business and expansion only: renewal deals and advocacy asks are their own lists.
    assert 'Open deals <span class="muted">(2)</span>' in page
    assert "Acme 2027" not in page and "Advocacy ask opened" not in page
    assert ">new business and expansion (2)</a>" in page
    assert 'href="/pipeline?months=3&amp;group=renewal">renewal deals (1)</a>' in page
    assert 'href="/pipeline?months=3&amp;group=advocacy">advocacy asks (1)</a>' in page
    renewals = console.client.get("/pipeline?months=3&group=renewal").text
    assert "Pipeline · renewal deals" in renewals and ">Acme 2027</a>" in renewals
    assert "Add 50 seats" not in renewals and 'id="forecast"' not in renewals
    assert 'href="/renewals"' in renewals
    # And the Renewals page leads to them.
    assert 'href="/pipeline?group=renewal"' in console.client.get("/renewals").text
    assert 'href="/api/v1/pipeline?months=3&amp;group=renewal"' in renewals
    asks = console.client.get("/pipeline?months=3&group=advocacy").text
    # A nameless deal by its kind and day.
    assert ">Advocacy ask opened 2026-10-12</a>" in asks and ">deal " not in asks
    assert 'Open advocacy asks <span class="muted">(1)</span>' in asks
    assert console.client.get("/pipeline?group=lunch").status_code == 422


def test_the_pipeline_page_shows_the_open_deals_a_page_at_a_time(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two open deals, one a page: the first page links the next (and its JSON twin the same
    page), the last one the previous; the forecast counts both on every page."""
    monkeypatch.setattr(pipeline, "OPEN_DEALS_PER_PAGE", 1)
    sign_in(console.client, "cleo@example.com")
    acme = console.book.acme
    token = csrf_of(console.client.get(f"/accounts/{acme.id}").text)
    for name, close_on in (("Later deal", "2099-03-01"), ("Sooner deal", "2099-01-15")):
        console.client.post(
            f"/accounts/{acme.id}/opportunities",
            data={"csrf_token": token, "name": name, "kind": "expansion", "close_on": close_on},
        )
    first = console.client.get("/pipeline?months=3").text
    assert "Sooner deal" in first and "Later deal" not in first
    assert "Page 1 of 2" in first and 'href="?months=3&amp;page=2" rel="next"' in first
    assert "Closing after the horizon: 2 expansion deal(s)" in first
    second = console.client.get("/pipeline?months=3&page=2").text
    assert "Later deal" in second and "Sooner deal" not in second
    assert 'href="/api/v1/pipeline?months=3&amp;page=2"' in second
    assert 'href="?months=3&amp;page=1" rel="prev"' in second
    past = console.client.get("/pipeline?months=3&page=3").text
    assert "There are 2 open deals: page 3 is past the last." in past
