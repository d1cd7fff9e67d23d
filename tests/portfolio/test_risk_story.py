"""One risk story per account: health, churn probability and renewal outlook reconciled in
words; actionable reasons ranked above calendar facts; no log-odds or model id for a CSM."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from tenure.portfolio.risk_story import RiskInputs, risk_story, split_reasons
from tests import factories as f
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

RENEWAL = date(2027, 5, 1)
REASONS = [
    {"feature": "days_to_renewal", "value": 200, "contribution": -0.9},
    {"feature": "tenure_days", "value": 892, "contribution": 0.6},
    {"feature": "billing_tickets_90d", "value": 3, "contribution": 0.4},
    {"feature": "license_utilization_change_12w", "value": -0.2, "contribution": 0.7},
    {"feature": "nps_latest", "value": 9, "contribution": -0.1},
]


def story(**changes: object):  # type: ignore[no-untyped-def]
    base = {
        "health_score": 28,
        "health_band": "red",
        "probability": 0.004,
        "window": "30–120 days ahead",
        "horizon_days": 120,
        "renewal_on": RENEWAL,
        "days_to_renewal": 200,
        "reasons": REASONS,
    }
    return risk_story(RiskInputs(**{**base, **changes}))  # type: ignore[arg-type]


def test_calendar_facts_are_context_and_the_strongest_actionable_reason_comes_first() -> None:
    raising, lowering, context = split_reasons(REASONS)
    assert [r.text for r in raising] == [
        "License utilization, change over 12 weeks: -20 pts",
        "Billing tickets (90 days): 3",
    ]
    assert [r.strength for r in raising] == ["strongly", ""]
    assert [(r.text, r.strength) for r in lowering] == [("Latest NPS answer: 9", "slightly")]
    assert [r.text for r in context] == ["Days to renewal: 200 days", "Tenure: 892 days"]


@pytest.mark.parametrize(
    ("changes", "headline", "why"),
    [
        # Red, low risk, renewal beyond the model's 120 days: the calendar explains it.
        (
            {},
            "Health is red, yet the churn model sees little risk 30–120 days ahead (under 1 %).",
            "The renewal on 2027-05-01 is 200 days away, outside the 120 days the model looks",
        ),
        # Red, low risk, renewal inside the window: the signals seldom preceded a loss.
        (
            {"days_to_renewal": 60},
            "Health is red, yet the churn model sees little risk 30–120 days ahead (under 1 %).",
            "What pulls the health down has seldom come before a loss in this book",
        ),
        ({"booked": True}, "Health is red, yet", "Its renewal is already booked"),
        (
            {"probability": 0.45, "health_band": "green", "health_score": 82},
            "Health is green, yet the churn model sees 45 % 30–120 days ahead: it weighs signals",
            "What raises it: License utilization, change over 12 weeks: -20 pts; Billing",
        ),
        (
            {"probability": 0.45},
            "At risk: health is red and the churn model sees 45 % 30–120 days ahead.",
            "",
        ),
        (
            {"probability": 0.02, "health_band": "green", "health_score": 90},
            "No sign of churn: health is green and 2 % 30–120 days ahead.",
            "",
        ),
        ({"probability": None}, "Health is red; the churn model has not scored", ""),
    ],
)
def test_the_headline_reconciles_the_three_figures(
    changes: dict[str, object], headline: str, why: str
) -> None:
    told = story(**changes)
    assert told.headline.startswith(headline)
    assert told.why.startswith(why)
    assert "0.9" not in told.model_dump_json()  # no log-odds anywhere in the story


def test_account_360_tells_the_story_without_log_odds_for_a_csm(console: Console) -> None:
    """Globex (Cleo's, renewing in 200 days) is red with a 0.2 % chance of churn 30–180 days
    ahead; the forecast calls its renewal at risk because health is red."""
    book = console.book
    with console.session() as session:
        f.health_score(session, book.globex, as_of=book.today, score=28)
        risk = f.churn_risk_score(session, book.globex, as_of=book.today, probability=0.002)
        risk.reasons = REASONS
        session.commit()
    sign_in(console.client, "cleo@example.com")
    page = html.unescape(console.client.get(f"/accounts/{book.globex.id}").text)
    assert (
        "Health is red, yet the churn model sees little risk 30–180 days ahead (under 1 %)." in page
    )
    renewal_on = book.today + timedelta(days=200)
    assert f"The renewal on {renewal_on} is 200 days away, outside the 180 days" in page
    assert "At risk</span> health is red" in page
    raising = page[page.index('id="risk-raising"') : page.index('id="risk-lowering"')]
    assert raising.index("License utilization, change over 12 weeks") < raising.index(
        "Billing tickets"
    )
    assert "Tenure" not in raising and "Days to renewal" not in raising
    context = page[page.index('id="risk-context"') :]
    assert "Days to renewal: 200 days · Tenure: 892 days" in context
    assert "test-model" not in page and "+0.700" not in page
    sign_in(console.client, "ada@example.com")
    admin = html.unescape(console.client.get(f"/accounts/{book.globex.id}").text)
    assert "Model test-model" in admin and "+0.700" in admin  # behind the admin's details
