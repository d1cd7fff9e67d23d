"""The churn review a manager can work (issue 19): filtered by the accounts' owner, twenty
records a page (the demo's one page was ~16,000 px long), each confirmed as suggested in one
click or corrected in a folded form — the page, /api/v1/churn-review and the service agree."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tenure.model import ChurnRecord
from tests import factories as f
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

CARD = re.compile(r'<section class="card churn" id="churn-(\d+)"')


def lose_customers(console: Console) -> None:
    """23 lost customers of Cleo's, 4 of Sam's, 2 unassigned (plus the book's Hooli, Sam's),
    one a day, newest last."""
    book = console.book
    with console.session() as session:
        owners = [book.cleo] * 23 + [book.sam] * 4 + [None] * 2
        for n, owner in enumerate(owners):
            account = f.account(session, external_id=f"lost-{n:02d}", owner=owner)
            session.add(
                ChurnRecord(
                    account_id=account.id,
                    kind="churned",
                    churned_on=book.today - timedelta(days=100 - n),
                    cause_side="customer_change",
                    churn_class="foreseen_good_fit",
                    internal_reason="budget_cut",
                    suggestion={
                        "churn_class": "foreseen_good_fit",
                        "cause_side": "customer_change",
                    },
                )
            )
        session.commit()


def cards(page: str) -> list[str]:
    return CARD.findall(page)


def test_the_review_filters_by_owner_and_pages_twenty_at_a_time(console: Console) -> None:
    lose_customers(console)
    sign_in(console.client, "max@example.com")  # Max manages Cleo
    everyone = html.unescape(console.client.get("/churn-review").text)
    assert len(cards(everyone)) == 20 and "Page 1 of 2" in everyone
    assert "30 of 30 lost or downgraded customer(s) await confirmation" in everyone
    assert "Showing 1–20 of 30, newest first." in everyone
    second = html.unescape(console.client.get("/churn-review?page=2").text)
    assert len(cards(second)) == 10 and "← Newer" in second and "Older →" not in second
    assert not set(cards(everyone)) & set(cards(second))
    team = html.unescape(console.client.get("/churn-review?owner=team").text)
    assert "23 of 23 lost" in team and len(cards(team)) == 20
    sam = console.book.sam.id
    sams = html.unescape(console.client.get(f"/churn-review?owner={sam}").text)
    assert "5 of 5 lost" in sams and len(cards(sams)) == 5 and "Page 1" not in sams
    assert "Hooli" in sams and "Lost-24" in sams
    unassigned = html.unescape(console.client.get("/churn-review?owner=none").text)
    assert len(cards(unassigned)) == 2 and "Lost-27" in unassigned and "Lost-28" in unassigned
    # The filter keeps its status and owner on the status links and the pager.
    links = console.client.get(f"/churn-review?owner={sam}").text
    assert f"?status=confirmed&amp;owner={sam}" in links
    with console.session() as session:
        headers = token_headers(session, session.merge(console.book.max))
        session.commit()
    api = console.client.get(
        "/api/v1/churn-review?owner=team&page=2&limit=20", headers=headers
    ).json()
    assert (api["matching"], api["page"], api["pages"], len(api["items"])) == (23, 2, 2, 3)


def test_confirm_as_suggested_in_one_click_keeps_the_filter(console: Console) -> None:
    lose_customers(console)
    sign_in(console.client, "max@example.com")
    page = console.client.get("/churn-review?owner=team&page=2").text
    first = cards(page)[0]
    done = console.client.post(
        f"/churn-review/{first}/confirm",
        data={
            "cause_side": "customer_change",
            "back": "/churn-review?owner=team&page=2",
            "csrf_token": csrf_of(page),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/churn-review?owner=team&page=2"
    with console.session() as session:
        record = session.get_one(ChurnRecord, int(first))
        assert record.confirmed and record.cause_side == "customer_change"
    after = html.unescape(console.client.get("/churn-review?owner=team").text)
    assert "22 of 23 lost" in after


def test_only_those_who_may_confirm_see_the_buttons(console: Console) -> None:
    """A viewer reads the review without buttons that would answer 403; a CSM gets them on his
    own lost customers only; a manager on his team's."""
    lose_customers(console)
    refusal = "Its owner, their manager or an admin confirms it."
    sign_in(console.client, "vic@example.com")
    page = console.client.get("/churn-review").text
    assert len(cards(page)) == 20
    assert "Confirm as suggested" not in page and "/confirm" not in page
    assert page.count(refusal) == 20
    console.client.cookies.clear()
    sign_in(console.client, "sam@example.com")
    mine = console.client.get("/churn-review?owner=me").text
    assert cards(mine) and refusal not in mine and "Confirm as suggested" in mine
    everyone = console.client.get("/churn-review").text
    assert everyone.count(refusal) == 20 - len(cards(mine))  # the newest 20: Sam's 4 among them
    console.client.cookies.clear()
    sign_in(console.client, "max@example.com")
    team = console.client.get("/churn-review?owner=team").text
    assert cards(team) and refusal not in team
