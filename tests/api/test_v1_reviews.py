"""/api/v1 churn review and KPIs."""

from __future__ import annotations

from tenure.auth.service import find_user
from tenure.model import AuditLog
from tests import factories as f
from tests.web.factories import token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def headers(console: Console, email: str) -> dict[str, str]:
    with console.session() as session:
        user = find_user(session, email)
        assert user is not None
        result = token_headers(session, user)
        session.commit()
    return result


def test_churn_review_lists_suggestions_and_the_owner_confirms(console: Console) -> None:
    review = console.client.get(
        "/api/v1/churn-review", headers=headers(console, "vic@example.com")
    ).json()
    assert (review["total"], review["unconfirmed"]) == (1, 1)
    [row] = review["items"]
    assert (row["account_name"], row["suggested_class"], row["arr"]) == (
        "Hooli",
        "unforeseen_good_fit",
        30000.0,
    )
    assert row["reasons"] == ["license utilization 12 % in the last 90 days"]
    url = f"/api/v1/churn-review/{row['id']}/confirm"
    body = {"cause_side": "customer_change", "foreseen": True, "review": "Budget cut after merger"}
    other = console.client.post(url, json=body, headers=headers(console, "cleo@example.com"))
    assert other.status_code == 403
    bad = console.client.post(
        url, json={"cause_side": "weather"}, headers=headers(console, "sam@example.com")
    )
    assert bad.status_code == 422 and "cause_side" in bad.json()["message"]
    done = console.client.post(url, json=body, headers=headers(console, "sam@example.com"))
    assert done.status_code == 200
    confirmed = done.json()
    assert confirmed["confirmed"] and confirmed["cause_side"] == "customer_change"
    # Foreseen and good fit at signing: the class follows the CSM's correction.
    assert confirmed["churn_class"] == "foreseen_good_fit"
    assert confirmed["suggested_class"] == "unforeseen_good_fit"  # the suggestion is kept
    with console.session() as session:
        [entry] = session.query(AuditLog).filter_by(action="churn_record.confirm").all()
        assert entry.before is not None and entry.after is not None
        assert (entry.before["cause_side"], entry.after["cause_side"]) == (
            "product_or_service",
            "customer_change",
        )
    after = console.client.get("/api/v1/churn-review", headers=headers(console, "vic@example.com"))
    assert after.json()["unconfirmed"] == 0


def test_kpis_by_quarter_and_segment(console: Console) -> None:
    auth = headers(console, "vic@example.com")
    reports = console.client.get(
        "/api/v1/kpis", params={"quarters": 2, "by": "segment"}, headers=auth
    ).json()
    assert len(reports) == 2
    assert reports[0]["period"] < reports[1]["period"]
    groups = {row["group"] for row in reports[-1]["rows"]}
    assert groups <= {"Enterprise", "Mid-Market", "SMB", "all"}
    # Stored on the first read (no daily run on this base yet), saying the day of the data.
    assert all(r["computed_on"] for r in reports)
    names = [row["group"] for row in reports[-1]["rows"]]
    second = console.client.get(
        "/api/v1/kpis",
        params={"quarters": 2, "by": "segment", "offset": 1, "limit": 1},
        headers=auth,
    ).json()[-1]
    assert [row["group"] for row in second["rows"]] == names[1:2]
    assert second["groups"] == len(names) == reports[-1]["groups"]
    invalid = console.client.get("/api/v1/kpis", params={"quarters": 40}, headers=auth)
    assert invalid.status_code == 422 and "quarters" in invalid.json()["message"]


def test_ctas_rank_on_today_and_triage_is_limited_and_audited(console: Console) -> None:
    book = console.book
    with console.session() as session:
        small = f.cta(
            session,
            book.acme,
            owner=book.cleo,
            title="Small",
            arr_at_risk=1_000,
            priority="urgent",
            today=book.today,
        )
        f.cta(
            session, book.globex, owner=book.cleo, title="Big", arr_at_risk=9_000, today=book.today
        )
        session.commit()
        small_id = small.id
    cleo = headers(console, "cleo@example.com")
    today = console.client.get("/api/v1/today", headers=cleo).json()
    assert [c["title"] for c in today["ctas"]] == ["Big", "Small"]  # ARR at risk first
    url = f"/api/v1/ctas/{small_id}/triage"
    refused = console.client.post(
        url, json={"action": "acknowledge"}, headers=headers(console, "sam@example.com")
    )
    assert refused.status_code == 403
    snoozed = console.client.post(url, json={"action": "snooze"}, headers=cleo)
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"
    today = console.client.get("/api/v1/today", headers=cleo).json()
    assert [c["title"] for c in today["ctas"]] == ["Big"]  # snoozed work leaves the list
    unknown = console.client.post(url, json={"action": "forget"}, headers=cleo)
    assert unknown.status_code == 422
    with console.session() as session:
        [entry] = session.query(AuditLog).filter_by(action="cta.snooze").all()
        assert (entry.before["status"], entry.after["status"]) == ("open", "snoozed")  # type: ignore[index]


def test_maturity_self_assessment(console: Console) -> None:
    view = console.client.get("/api/v1/maturity", headers=headers(console, "vic@example.com"))
    assert view.status_code == 200
    prefilled = view.json()["prefill"]
    assert set(prefilled) == {"roi", "onboarding", "productivity"}  # measurable from data
    body = {
        "answers": {"playbooks": "expanding", "community": "emerging", "alignment": "emerging"},
        "note": "Q4 review",
    }
    viewer = console.client.post(
        "/api/v1/maturity", json=body, headers=headers(console, "vic@example.com")
    )
    assert viewer.status_code == 403
    wrong = console.client.post(
        "/api/v1/maturity",
        json={"answers": {"playbooks": "great"}},
        headers=headers(console, "max@example.com"),
    )
    assert wrong.status_code == 422 and "playbooks" in wrong.json()["message"]
    saved = console.client.post(
        "/api/v1/maturity", json=body, headers=headers(console, "max@example.com")
    )
    assert saved.status_code == 201
    stages = {p["pillar"]: (p["stage"], p["source"]) for p in saved.json()["pillars"]}
    assert stages["playbooks"] == ("expanding", "team")
    assert stages["roi"][1] == "data"
    history = console.client.get(
        "/api/v1/maturity", headers=headers(console, "vic@example.com")
    ).json()["history"]
    assert [h["note"] for h in history] == ["Q4 review"]
