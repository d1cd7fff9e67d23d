"""A call to action's page: its goal, why in words, the playbook steps with who ticked them off,
the history; closing with an outcome and a note, snoozing to a picked day judged against the
data's day (not the wall clock), and the buttons shown only to those the triage service lets
act. The API's detail and ``tenure ctas show`` read the same object."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from tenure.accounts import fx_service
from tenure.auth.permissions import Actor
from tenure.cli.main import app
from tenure.model import Cta, CtaEvent, CtaStep, User
from tests import factories as f
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def data_day(console: Console) -> date:
    """The book's data ends 60 days before the wall clock: Acme's last health score is then, so
    every page and form judges that day (tenure.as_of)."""
    return console.book.today - timedelta(days=60)


@pytest.fixture
def cta_id(console: Console) -> int:
    """Cleo's renewal CTA on Acme, raised on the data's day, with two playbook steps."""
    day = data_day(console)
    with console.session() as session:
        f.health_score(session, console.book.acme, as_of=day, score=35)
        cta = f.cta(
            session, console.book.acme, owner=console.book.cleo, title="Renewal on 2026", today=day
        )
        cta.kind = "renewal"
        cta.rule_key = "renewal_preparation"
        cta.facts = [
            {"fact": "days_to_renewal", "op": "<=", "threshold": 120, "value": 78, "passed": True},
            {"fact": "days_to_renewal", "op": ">=", "threshold": 0, "value": 78, "passed": True},
        ]
        cta.reason = "days_to_renewal = 78 (<= 120); days_to_renewal = 78 (>= 0)"
        cta.steps = [
            CtaStep(position=1, title="Confirm the decision maker", due_on=day),
            CtaStep(position=2, title="Send the order form", due_on=day + timedelta(days=14)),
        ]
        session.add(CtaEvent(cta_id=cta.id, kind="created", on_date=day, detail={}))
        session.commit()
        return cta.id


def post(console: Console, path: str, **data: str) -> tuple[int, str]:
    token = csrf_of(console.client.get("/today").text)
    response = console.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
    return response.status_code, html.unescape(response.text)


def test_the_page_leads_with_the_goal_and_why_in_words(console: Console, cta_id: int) -> None:
    sign_in(console.client, "cleo@example.com")
    page = html.unescape(console.client.get(f"/ctas/{cta_id}").text)
    assert "Renew on time at full ARR" in page  # the goal of a renewal CTA
    assert "Renewal in 78 days (between 0 and 120 days)" in page
    assert "(<= 120)" not in page  # the rule's own text only for admins
    assert "Confirm the decision maker" in page and "Send the order form" in page
    # The first step fell due on the data's day and is not overdue yet; nothing is done.
    assert "0 of 2 done" in page and "overdue" not in page
    assert "Raised by the daily run" in page
    for form in ("acknowledge", "snooze", "close", "steps/1/done", "steps/2/done"):
        assert f'action="/ctas/{cta_id}/{form}"' in page, form
    # The snooze picker starts the day after the data's day, not after the wall clock's.
    day = data_day(console)
    assert f'min="{day + timedelta(days=1)}"' in page
    assert f'value="{day + timedelta(days=7)}"' in page


@pytest.mark.parametrize("email", ["vic@example.com", "sam@example.com"])
def test_viewers_and_non_owners_see_no_buttons(console: Console, cta_id: int, email: str) -> None:
    """Vic is a viewer, Sam a CSM who neither owns Acme nor sits on its team: the service would
    refuse both, so the page offers neither a button and says who can act."""
    sign_in(console.client, email)
    page = html.unescape(console.client.get(f"/ctas/{cta_id}").text)
    assert "Confirm the decision maker" in page
    assert f'action="/ctas/{cta_id}/' not in page
    assert "Only its owner, the account's team, their manager or an admin" in page
    assert post(console, f"/ctas/{cta_id}/snooze", until=str(data_day(console) + timedelta(3)))[
        0
    ] == (403)


def test_snooze_to_a_picked_day_is_judged_against_the_data_day(
    console: Console, cta_id: int
) -> None:
    """The data's day is 60 days in the past: a day 3 days after it is a valid snooze (the old
    page, judged by the wall clock, refused every demo CTA with a 422)."""
    day = data_day(console)
    sign_in(console.client, "cleo@example.com")
    status, text = post(console, f"/ctas/{cta_id}/snooze", until=str(day))
    assert status == 422
    assert f"snooze to a day after {day} (the day the data is read as of)" in text
    status, text = post(console, f"/ctas/{cta_id}/snooze", until=str(day + timedelta(days=91)))
    assert status == 422 and "at most 90 days" in text
    picked = day + timedelta(days=3)
    assert post(console, f"/ctas/{cta_id}/snooze", until=str(picked), back=f"/ctas/{cta_id}")[
        0
    ] == (303)
    with console.session() as session:
        cta = session.get_one(Cta, cta_id)
        assert (cta.status, cta.snoozed_until) == ("snoozed", picked)
    page = html.unescape(console.client.get(f"/ctas/{cta_id}").text)
    assert f"Snoozed until {picked}" in page  # the status and the history both say it


def test_ticking_steps_off_and_closing_with_an_outcome_and_a_note(
    console: Console, cta_id: int
) -> None:
    sign_in(console.client, "cleo@example.com")
    assert post(console, f"/ctas/{cta_id}/steps/1/done")[0] == 303
    page = html.unescape(console.client.get(f"/ctas/{cta_id}").text)
    assert "1 of 2 done" in page
    assert f"Done on {data_day(console)} by Cleo CSM" in page
    assert f'action="/ctas/{cta_id}/steps/1/done"' not in page
    status, _ = post(
        console,
        f"/ctas/{cta_id}/close",
        outcome="no_action_needed",
        note="Renewal signed early by the CFO",
    )
    assert status == 303
    page = html.unescape(console.client.get(f"/ctas/{cta_id}").text)
    assert "No action needed</strong> — Renewal signed early by the CFO" in page
    assert "Closed: No action needed. Note: Renewal signed early by the CFO" in page
    assert f'action="/ctas/{cta_id}/' not in page  # nothing left to do on a closed CTA
    # The history, newest first: closed, step 1 done, raised.
    history = page[page.index('id="history"') :]
    positions = [history.index(t) for t in ("Closed:", "Step 1 done", "Raised by the daily run")]
    assert positions == sorted(positions)


def test_api_and_cli_read_the_same_detail(console: Console, cta_id: int, monkeypatch) -> None:
    with console.session() as session:
        headers = token_headers(session, console.book.cleo)
        session.commit()
    answer = console.client.get(f"/api/v1/ctas/{cta_id}/detail", headers=headers)
    assert answer.status_code == 200
    detail = answer.json()
    assert detail["may_act"] is True
    assert detail["why"] == "Renewal in 78 days (between 0 and 120 days)"
    assert [s["title"] for s in detail["steps"]] == [
        "Confirm the decision maker",
        "Send the order form",
    ]
    assert detail["snooze_from"] == str(data_day(console) + timedelta(days=1))
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(console.settings.data_dir))
    result = CliRunner().invoke(app, ["ctas", "show", str(cta_id)])
    assert result.exit_code == 0, result.output
    assert "Goal: Renew on time at full ARR" in result.output
    assert "Why: Renewal in 78 days (between 0 and 120 days)" in result.output
    assert "[ ] 1. Confirm the decision maker" in result.output


def test_arr_at_risk_says_its_currency_and_ranks_in_the_reporting_currency(
    console: Console,
) -> None:
    """Issue 19: ARR at risk on Today and the CTA page showed a bare number. Umbrella pays in
    EUR: its 10,000 EUR at risk reads "10,000 EUR" with "= 10,800 USD" at the rate of 1.08, and
    ranks above Acme's 10,500 USD (a bare-number ranking put Acme first)."""
    day = data_day(console)
    book = console.book
    with console.session() as session:
        ada = Actor(session.get_one(User, book.ada.id), "cli")
        fx_service.import_rates(session, f"date,currency,rate\n{day},EUR,1.08\n", ada)
        umbrella = f.cta(session, book.umbrella, owner=book.cleo, title="Usage fell", today=day)
        umbrella.arr_at_risk, umbrella.arr_at_risk_currency = 10_000.0, "EUR"
        acme = f.cta(session, book.acme, owner=book.cleo, title="NPS detractor", today=day)
        acme.open_key = "other:acme"
        acme.arr_at_risk, acme.arr_at_risk_currency = 10_500.0, "USD"
        session.commit()
        ids = umbrella.id, acme.id
    sign_in(console.client, "cleo@example.com")
    today = html.unescape(console.client.get("/today").text)
    assert "10,000 EUR" in today and f"= 10,800 USD at rates of {day}" in today
    assert "10,500 USD" in today
    assert today.index("Usage fell") < today.index("NPS detractor")
    page = html.unescape(console.client.get(f"/ctas/{ids[0]}").text)
    assert "10,000 EUR" in page and "= 10,800 USD" in page
    detail = console.client.get(f"/api/v1/ctas/{ids[0]}/detail").json()["cta"]
    assert (detail["arr_at_risk"], detail["arr_at_risk_currency"]) == (10_000.0, "EUR")
    assert detail["arr_at_risk_converted"]["amount"] == 10_800.0
    usd = html.unescape(console.client.get(f"/ctas/{ids[1]}").text)
    assert "10,500 USD" in usd and "= 10,500" not in usd  # already the reporting currency
