"""/api/v1 over stored judgements: health, churn risk, Today's score changes, the Risk list."""

from __future__ import annotations

from datetime import timedelta

from tenure.auth.service import find_user
from tests import factories as f
from tests.web.factories import sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def scored(console: Console) -> None:
    """Yesterday and today scores for Acme (70 → 55, usage fell) and Initech; risk for both."""
    book = console.book
    today, yesterday = book.today, book.today - timedelta(days=1)
    with console.session() as session:
        f.health_score(session, book.acme, as_of=yesterday, score=70, usage_points=15)
        f.health_score(session, book.acme, as_of=today, score=55, previous=70, usage_points=0)
        f.health_score(session, book.initech, as_of=today, score=80, previous=80)
        f.churn_risk_score(session, book.acme, as_of=today, probability=0.7, arr_at_risk=42_000)
        f.churn_risk_score(session, book.initech, as_of=today, probability=0.2, arr_at_risk=8_000)
        session.commit()


def headers(console: Console, email: str) -> dict[str, str]:
    with console.session() as session:
        user = find_user(session, email)
        assert user is not None
        result = token_headers(session, user)
        session.commit()
    return result


def test_portfolio_sorts_and_filters_on_health_and_risk(console: Console) -> None:
    scored(console)
    get = console.client.get
    auth = headers(console, "vic@example.com")
    by_risk = get(
        "/api/v1/accounts", params={"sort": "risk", "direction": "desc"}, headers=auth
    ).json()["items"]
    assert [(a["name"], a["churn_probability"]) for a in by_risk[:3]] == [
        ("Acme", 0.7),
        ("Initech", 0.2),
        ("Umbrella", None),  # unscored accounts last; ties by id, newest first (Hooli churned)
    ]
    assert by_risk[0]["health_score"] == 55 and by_risk[0]["health_band"] == "yellow"
    assert by_risk[0]["health_trend"] == "down"
    red_or_yellow = get("/api/v1/accounts", params={"band": "yellow"}, headers=auth).json()
    assert [a["name"] for a in red_or_yellow["items"]] == ["Acme"]
    page_one = get(
        "/api/v1/accounts", params={"sort": "health", "direction": "desc", "limit": 1}, headers=auth
    ).json()
    page_two = get(
        "/api/v1/accounts",
        headers=auth,
        params={
            "sort": "health",
            "direction": "desc",
            "limit": 1,
            "cursor": page_one["next_cursor"],
        },
    ).json()
    assert [page_one["items"][0]["name"], page_two["items"][0]["name"]] == ["Initech", "Acme"]


def test_account_360_opens_the_health_breakdown_and_risk_reasons(console: Console) -> None:
    scored(console)
    body = console.client.get(
        f"/api/v1/accounts/{console.book.acme.id}", headers=headers(console, "vic@example.com")
    ).json()
    assert body["health"]["score"] == 55
    usage = body["health"]["measures"][0]
    assert (usage["points"], usage["max_points"], usage["next_shown"], usage["gain"]) == (
        0,
        20,
        "at least 80 %",
        20,
    )
    assert [p["value"] for p in body["health_history"]] == [70.0, 55.0]
    reason = body["churn_risk"]["reasons"][0]
    # Stored without a label (as scores were before labels existed); read with one.
    assert (reason["feature"], reason["label"]) == ("nps_latest", "Latest NPS answer")


def test_today_explains_the_scores_that_moved(console: Console) -> None:
    scored(console)
    body = console.client.get("/api/v1/today", headers=headers(console, "cleo@example.com")).json()
    [change] = body["score_changes"]  # Initech did not move and is not Cleo's
    assert (change["account_name"], change["previous_score"], change["score"]) == ("Acme", 70, 55)
    assert change["measures"] == [
        {"name": "License utilization", "before": "75 %", "after": "0 %", "points": -15}
    ]


def test_risk_list_defaults_to_the_signed_in_csm(console: Console) -> None:
    scored(console)
    sam = console.client.get("/api/v1/risk", headers=headers(console, "sam@example.com")).json()
    assert [r["name"] for r in sam["items"]] == ["Initech"]  # Hooli churned: left out
    assert sam["items"][0]["reasons"][0]["feature"] == "nps_latest"
    assert sam["model_version"] == "test-model"
    everyone = console.client.get(
        "/api/v1/risk", params={"owner": "all"}, headers=headers(console, "sam@example.com")
    ).json()
    assert everyone["items"][0]["name"] == "Acme" and everyone["items"][0]["in_alert_set"]
    unauthenticated = console.client.get("/api/v1/risk")
    assert unauthenticated.status_code == 401


def test_health_and_risk_endpoints_explain_each_number(console: Console) -> None:
    auth = headers(console, "vic@example.com")
    acme, globex = console.book.acme.id, console.book.globex.id
    assert console.client.get(f"/api/v1/accounts/{acme}/health", headers=auth).status_code == 404
    scored(console)
    health = console.client.get(f"/api/v1/accounts/{acme}/health", headers=auth).json()
    assert health["score"]["score"] == 55 and len(health["history"]) == 2
    assert health["score"]["measures"][0]["gain"] == 20
    risk = console.client.get(f"/api/v1/accounts/{acme}/risk", headers=auth).json()
    assert risk["probability"] == 0.7 and risk["model_version"] == "test-model"
    missing = console.client.get(f"/api/v1/accounts/{globex}/risk", headers=auth)
    assert missing.status_code == 404 and "tenure model score" in missing.json()["message"]
    no_plan = console.client.get(f"/api/v1/accounts/{acme}/milestones", headers=auth)
    assert no_plan.status_code == 404
    assert console.client.get(f"/api/v1/accounts/{acme}/health").status_code == 401


def test_one_churn_probability_on_every_surface(console: Console) -> None:
    """Issue 17: the portfolio read 21% (the model's 30–120 day window) and the CTA 0.534 (at
    the renewal) for one account. The one figure (tenure.risk.figures) is P(churn at the next
    renewal) when the model has it: every page, API answer and CTA fact reads 0.534, with its
    window in words."""
    from tenure.playbooks.facts import build_facts

    book = console.book
    renewal_on = book.today + timedelta(days=30)
    with console.session() as session:
        f.churn_risk_score(
            session,
            book.acme,
            as_of=book.today,
            probability=0.21,
            renewal_probability=0.534,
            next_renewal_on=renewal_on,
            arr_at_risk=64_080,
        )
        f.churn_risk_score(session, book.initech, as_of=book.today, probability=0.2)
        session.commit()
        facts = build_facts(session, book.today).facts
    auth = headers(console, "vic@example.com")
    get = console.client.get
    acme = book.acme.id
    portfolio = get("/api/v1/accounts", params={"sort": "risk"}, headers=auth).json()["items"]
    risk = get(f"/api/v1/accounts/{acme}/risk", headers=auth).json()
    listed = get("/api/v1/risk", params={"owner": "all"}, headers=auth).json()["items"]
    account_360 = get(f"/api/v1/accounts/{acme}", headers=auth).json()
    figures = {
        "portfolio": next(a["churn_probability"] for a in portfolio if a["id"] == acme),
        "risk endpoint": risk["churn_probability"],
        "risk list": next(a["churn_probability"] for a in listed if a["id"] == acme),
        "account 360": account_360["churn_risk"]["churn_probability"],
        "CTA fact": facts[acme]["churn_probability"],
    }
    assert figures == dict.fromkeys(figures, 0.534)
    assert risk["churn_window"] == f"at the renewal on {renewal_on}"
    # Without a renewal within the model's reach, the window probability, said as such.
    initech = next(a for a in listed if a["id"] == book.initech.id)
    assert (initech["churn_probability"], initech["churn_window"]) == (0.2, "30–180 days ahead")
    assert facts[book.initech.id]["churn_probability"] == 0.2
    sign_in(console.client, "vic@example.com")
    page = get(f"/accounts/{acme}").text
    assert "53 %" in page and f"chance of churn at the renewal on {renewal_on}" in page
    assert "21 %" not in page
